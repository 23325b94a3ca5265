//! What `/v1/chat/completions` accepts: a documented allowlist of OpenAI's parameters.
//! Anything else is refused by name, so a client never believes a setting took effect
//! when the deployment ignored it.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::AppError;

/// Parameters a request may carry. The server caps `max_tokens` and always asks the
/// provider for usage; `n` must be 1.
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
    /// `system`, `developer`, `user` or `assistant`.
    pub role: String,
    /// A string, or a list of `{"type": "text", "text": …}` parts.
    #[schema(value_type = String)]
    pub content: Value,
    /// Accepted and not forwarded.
    #[serde(default, rename = "name")]
    pub _name: Option<String>,
}

/// A message reduced to what is sent on: a role and its text.
#[derive(Debug, Clone, PartialEq)]
pub struct TextMessage {
    pub role: Role,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    System,
    User,
    Assistant,
}

/// Parses a request body, refusing unknown parameters and unsupported content by name.
pub fn parse(body: Value) -> Result<(ChatRequest, Vec<TextMessage>), AppError> {
    let Value::Object(map) = body else {
        return Err(invalid("The request body must be a JSON object."));
    };
    check_allowed(&map)?;
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
    let messages = request
        .messages
        .iter()
        .enumerate()
        .map(|(i, m)| text_message(i, m))
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

fn text_message(index: usize, message: &RequestMessage) -> Result<TextMessage, AppError> {
    let role = match message.role.as_str() {
        "system" | "developer" => Role::System,
        "user" => Role::User,
        "assistant" => Role::Assistant,
        other => {
            return Err(invalid(&format!(
                "messages[{index}].role '{other}' is not supported: use system, developer, user or assistant (this deployment has no tools)."
            )));
        }
    };
    let text = match &message.content {
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
                "messages[{index}].content must be a string or a list of text parts."
            )));
        }
    };
    Ok(TextMessage { role, text })
}

fn invalid(message: &str) -> AppError {
    AppError::BadRequest(message.to_string())
}

#[cfg(test)]
mod tests;
