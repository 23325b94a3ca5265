//! What `/v1/chat/completions` accepts: a documented allowlist of OpenAI's parameters.
//! Anything else is refused by name, so a client never believes a setting took effect
//! when the deployment ignored it. Structured output and client tools are checked for
//! shape (`shapes`) and relayed as they are (`tools`): the client runs its tools.

mod shapes;
mod tools;

use std::collections::HashSet;

use serde::Deserialize;
use serde_json::{Map, Value};

pub use self::tools::{ResponseFormat, Tool, ToolChoice};
use crate::{error::AppError, i18n::Text, routes::bodies::ToolCall};

/// Parameters a request may carry. The server caps `max_tokens` and always asks the
/// provider for usage; `n` must be 1. Tools are the client's: the server runs none.
pub const ALLOWED: &[&str] = &[
    "model",
    "messages",
    "stream",
    "stream_options",
    "max_tokens",
    "max_completion_tokens",
    "temperature",
    "top_p",
    "stop",
    "n",
    "presence_penalty",
    "frequency_penalty",
    "seed",
    "user",
    "response_format",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
];

/// The body of `POST /v1/chat/completions`. Parameters not listed here are refused.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ChatRequest {
    /// A model from `GET /v1/models`.
    pub model: String,
    pub messages: Vec<RequestMessage>,
    #[serde(default)]
    pub stream: bool,
    #[serde(default)]
    pub stream_options: Option<StreamOptions>,
    /// Capped at the deployment's `max_output_tokens`.
    pub max_tokens: Option<u32>,
    /// Same as `max_tokens`.
    pub max_completion_tokens: Option<u32>,
    pub temperature: Option<f32>,
    pub top_p: Option<f32>,
    pub stop: Option<Stop>,
    /// Must be 1.
    pub n: Option<u32>,
    pub presence_penalty: Option<f32>,
    pub frequency_penalty: Option<f32>,
    pub seed: Option<i64>,
    /// Accepted for compatibility and not forwarded: the deployment knows its users.
    #[serde(rename = "user")]
    pub _user: Option<String>,
    /// Plain text, any JSON object, or JSON valid against a schema (structured output).
    pub response_format: Option<ResponseFormat>,
    /// Functions the model may call. The client runs them; this server runs none.
    #[schema(max_items = 128)]
    pub tools: Option<Vec<Tool>>,
    pub tool_choice: Option<ToolChoice>,
    pub parallel_tool_calls: Option<bool>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StreamOptions {
    #[serde(default)]
    pub include_usage: bool,
    /// Accepted and ignored: the relay never adds obfuscation.
    #[serde(default, rename = "include_obfuscation")]
    pub _include_obfuscation: Option<bool>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Stop {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RequestMessage {
    /// `system`, `developer`, `user`, `assistant` or `tool`.
    pub role: String,
    /// A string, or a list of `{"type": "text", "text": …}` parts; `null` only on an
    /// assistant message with `tool_calls`.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub content: Value,
    /// Accepted and not forwarded.
    #[serde(default, rename = "name")]
    pub _name: Option<String>,
    /// The tools an earlier answer called (assistant messages).
    #[serde(default)]
    pub tool_calls: Option<Vec<ToolCall>>,
    /// The call a `tool` message answers: the id of one of an earlier assistant
    /// message's `tool_calls`.
    #[serde(default)]
    pub tool_call_id: Option<String>,
}

/// A message reduced to what is sent on: a role, its text, and the calls of an
/// assistant message or the call a tool message answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub role: Role,
    /// `None` only for an assistant message that calls tools and says nothing.
    pub text: Option<String>,
    pub tool_calls: Vec<ToolCall>,
    /// The call a tool message answers (tool messages only).
    pub tool_call_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    System,
    User,
    Assistant,
    Tool,
}

/// Parses a request body, refusing unknown parameters and unsupported content by name.
pub fn parse(body: Value) -> Result<(ChatRequest, Vec<Message>), AppError> {
    let Value::Object(map) = body else {
        return Err(invalid("The request body must be a JSON object."));
    };
    check_allowed(&map)?;
    shapes::check_shapes(&map).map_err(|message| invalid(&message))?;
    let request: ChatRequest = serde_json::from_value(Value::Object(map))
        .map_err(|e| invalid(&format!("Invalid request: {e}.")))?;
    if request.n.is_some_and(|n| n != 1) {
        return Err(invalid("`n` must be 1 on this deployment."));
    }
    if request.messages.is_empty() {
        return Err(invalid("`messages` must contain at least one message."));
    }
    if request
        .temperature
        .is_some_and(|t| !(0.0..=2.0).contains(&t))
    {
        return Err(invalid("`temperature` must be between 0 and 2."));
    }
    if request.top_p.is_some_and(|p| !(0.0..=1.0).contains(&p)) {
        return Err(invalid("`top_p` must be between 0 and 1."));
    }
    tools::check_choice(request.tools.as_deref(), request.tool_choice.as_ref())
        .map_err(|message| invalid(&message))?;
    // The ids of the tool calls made so far: a tool message answers one of them.
    let mut calls = HashSet::new();
    let messages = request
        .messages
        .iter()
        .enumerate()
        .map(|(i, m)| message(i, m, &mut calls))
        .collect::<Result<_, _>>()?;
    Ok((request, messages))
}

fn check_allowed(map: &Map<String, Value>) -> Result<(), AppError> {
    for key in map.keys() {
        if !ALLOWED.contains(&key.as_str()) {
            return Err(invalid(&format!(
                "Unsupported parameter: '{key}' is not allowed by this deployment. Allowed: {}.",
                ALLOWED.join(", ")
            )));
        }
    }
    Ok(())
}

/// One message, checked: its role, that only an assistant message carries tool calls
/// and a tool message answers one of them, and its text.
fn message<'a>(
    index: usize,
    message: &'a RequestMessage,
    calls: &mut HashSet<&'a str>,
) -> Result<Message, AppError> {
    let role = match message.role.as_str() {
        "system" | "developer" => Role::System,
        "user" => Role::User,
        "assistant" => Role::Assistant,
        "tool" => Role::Tool,
        other => {
            return Err(invalid(&format!(
                "messages[{index}].role '{other}' is not supported: use system, developer, user, assistant or tool."
            )));
        }
    };
    let tool_calls = message.tool_calls.clone().unwrap_or_default();
    if !tool_calls.is_empty() && role != Role::Assistant {
        return Err(invalid(&format!(
            "messages[{index}].tool_calls: only assistant messages carry tool calls."
        )));
    }
    match (role, &message.tool_call_id) {
        (Role::Tool, None) => {
            return Err(invalid(&format!(
                "messages[{index}] is a tool message without `tool_call_id`: give the id of the tool call it answers."
            )));
        }
        (Role::Tool, Some(id)) if !calls.contains(id.as_str()) => {
            return Err(invalid(&format!(
                "messages[{index}].tool_call_id '{id}' answers no tool call of an earlier assistant message."
            )));
        }
        (Role::Tool, Some(_)) | (_, None) => {}
        (_, Some(_)) => {
            return Err(invalid(&format!(
                "messages[{index}].tool_call_id belongs on tool messages only."
            )));
        }
    }
    if let Some(made) = &message.tool_calls {
        calls.extend(made.iter().map(|call| call.id.as_str()));
    }
    let text = if message.content.is_null() && !tool_calls.is_empty() {
        None
    } else {
        Some(text(index, &message.content)?)
    };
    Ok(Message {
        role,
        text,
        tool_calls,
        tool_call_id: message.tool_call_id.clone(),
    })
}

/// A message's content as text: a string, or text parts joined.
fn text(index: usize, content: &Value) -> Result<String, AppError> {
    let text = match content {
        Value::String(text) => text.clone(),
        Value::Array(parts) => {
            let mut text = String::new();
            for part in parts {
                match (
                    part.get("type").and_then(Value::as_str),
                    part.get("text").and_then(Value::as_str),
                ) {
                    (Some("text"), Some(part_text)) => text.push_str(part_text),
                    _ => {
                        return Err(invalid(&format!(
                            "messages[{index}].content: only text parts are supported on this deployment."
                        )));
                    }
                }
            }
            text
        }
        _ => {
            return Err(invalid(&format!(
                "messages[{index}].content must be a string or a list of text parts (null only on an assistant message with tool_calls)."
            )));
        }
    };
    Ok(text)
}

/// A request `/v1` cannot take. Its checks write their sentences in English here, since
/// `/v1` only ever answers in English (see `render_errors`).
fn invalid(message: &str) -> AppError {
    AppError::BadRequest(Text::new("v1-request-problem").arg("problem", message))
}

#[cfg(test)]
mod tests;
