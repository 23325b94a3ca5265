//! Every JSON body a client receives, one type each: the handlers and the error renderer
//! serialize these, and the OpenAPI document (`docs`) describes the same types.

use async_openai::types::chat::FinishReason;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    db::{Conversation, Message},
    domain::MessageStatus,
};

/// The error body of `/api/v1`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiError {
    error: ApiErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiErrorDetail {
    status: u16,
    /// What went wrong and what to do about it.
    message: String,
    /// Quote it when reporting a server error.
    request_id: Option<String>,
    /// For an input that breaks its app's schema (422): each field's problem.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fields: Vec<ApiFieldProblem>,
}

/// What is wrong with one field of an input, in the client's language.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = FieldProblem)]
pub struct ApiFieldProblem {
    /// The field's name; empty for the input as a whole.
    field: String,
    /// What is wrong and how to fix it; after the field's name in the error's message.
    message: String,
}

impl ApiFieldProblem {
    pub fn new(field: &str, message: String) -> Self {
        Self {
            field: field.to_string(),
            message,
        }
    }
}

impl ApiError {
    pub fn new(status: StatusCode, message: String, request_id: Option<String>) -> Self {
        Self {
            error: ApiErrorDetail {
                status: status.as_u16(),
                message,
                request_id,
                fields: Vec::new(),
            },
        }
    }

    pub fn with_fields(mut self, fields: Vec<ApiFieldProblem>) -> Self {
        self.error.fields = fields;
        self
    }
}

/// The error body of `/v1`, in OpenAI's shape; also the event that ends a stream that
/// failed.
#[derive(Debug, Serialize, ToSchema)]
pub struct OpenAiError {
    error: OpenAiErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OpenAiErrorDetail {
    message: String,
    /// e.g. `invalid_request_error`, `rate_limit_error`, `server_error`.
    r#type: &'static str,
    /// Always `null`: messages name the parameter at fault themselves.
    param: Option<String>,
    /// e.g. `invalid_api_key`, `model_not_found`, `rate_limit_exceeded`.
    code: Option<&'static str>,
}

impl OpenAiError {
    /// The error of a response with `status`, with the `type` and `code` the official
    /// SDKs read for it.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        let (kind, code) = match status.as_u16() {
            401 => ("invalid_request_error", Some("invalid_api_key")),
            404 => ("invalid_request_error", Some("model_not_found")),
            413 => ("invalid_request_error", Some("request_too_large")),
            429 => ("rate_limit_error", Some("rate_limit_exceeded")),
            502 => ("server_error", Some("upstream_error")),
            503 => ("server_error", Some("service_unavailable")),
            500..=599 => ("server_error", None),
            _ => ("invalid_request_error", None),
        };
        Self {
            error: OpenAiErrorDetail {
                message: message.into(),
                r#type: kind,
                param: None,
                code,
            },
        }
    }
}

/// `GET /v1/models`'s body.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelList {
    object: &'static str,
    data: Vec<ModelEntry>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ModelEntry {
    id: String,
    object: &'static str,
    created: i64,
    owned_by: &'static str,
}

impl ModelList {
    pub fn new(names: impl IntoIterator<Item = String>) -> Self {
        let data = names
            .into_iter()
            .map(|id| ModelEntry {
                id,
                object: "model",
                created: 0,
                owned_by: "promptship",
            })
            .collect();
        Self {
            object: "list",
            data,
        }
    }
}

/// A non-streamed `chat.completion` (a stream sends `chat.completion.chunk` events and
/// `[DONE]`, as OpenAI does).
#[derive(Debug, Serialize, ToSchema)]
pub struct ChatCompletion {
    id: String,
    object: &'static str,
    created: i64,
    model: String,
    choices: Vec<ChatCompletionChoice>,
    usage: Option<ChatCompletionUsage>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChatCompletionChoice {
    index: u32,
    message: ChatCompletionMessage,
    #[schema(value_type = String)]
    finish_reason: FinishReason,
    logprobs: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChatCompletionMessage {
    role: &'static str,
    /// `null` when the answer only calls tools or refuses.
    content: Option<String>,
    /// The model's refusal (with structured output), else `null`.
    refusal: Option<String>,
    /// The tools the model calls, if any: the client runs them (this server runs none)
    /// and sends their results back in `tool` messages.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<ToolCall>,
}

impl ChatCompletionMessage {
    pub fn assistant(
        content: Option<String>,
        refusal: Option<String>,
        tool_calls: Vec<ToolCall>,
    ) -> Self {
        Self {
            role: "assistant",
            content,
            refusal,
            tool_calls,
        }
    }
}

/// A call of a client's tool, as an answer makes it and as the client sends it back in
/// the assistant message of its next request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ToolCall {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: ToolType,
    pub function: FunctionCall,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FunctionCall {
    pub name: String,
    /// The arguments as the model wrote them: a string of JSON, passed on unread.
    pub arguments: String,
}

/// The kind of tool: only functions are relayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ToolType {
    Function,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChatCompletionUsage {
    prompt_tokens: u32,
    completion_tokens: u32,
    total_tokens: u32,
}

impl ChatCompletion {
    /// One assistant answer, reported under the model name the client asked for.
    pub fn new(
        id: String,
        created: i64,
        model: String,
        message: ChatCompletionMessage,
        finish_reason: FinishReason,
        usage: Option<ChatCompletionUsage>,
    ) -> Self {
        Self {
            id,
            object: "chat.completion",
            created,
            model,
            choices: vec![ChatCompletionChoice {
                index: 0,
                message,
                finish_reason,
                logprobs: None,
            }],
            usage,
        }
    }
}

impl ChatCompletionUsage {
    pub fn new(prompt_tokens: u32, completion_tokens: u32) -> Self {
        Self {
            prompt_tokens,
            completion_tokens,
            total_tokens: prompt_tokens.saturating_add(completion_tokens),
        }
    }
}

/// A page of `GET /api/v1/conversations`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationPage {
    pub data: Vec<Conversation>,
    /// Whether more conversations follow this page.
    pub has_more: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationWithMessages {
    #[serde(flatten)]
    pub conversation: Conversation,
    /// Oldest first.
    pub messages: Vec<Message>,
}

/// A question and its answer; also the `start` event of a streamed answer, whose
/// answer is still empty.
#[derive(Debug, Serialize, ToSchema)]
pub struct Exchange {
    /// The saved question.
    pub question: Option<Message>,
    /// The answer as saved: its `status` and `error` say how it ended.
    pub answer: Message,
}

/// The `delta` event of a streamed answer: text as it arrives.
#[derive(Debug, Serialize)]
pub struct Delta {
    pub content: String,
}

/// The `done` event of a streamed answer: the answer as saved.
#[derive(Debug, Serialize)]
pub struct Done {
    pub answer: Message,
}

/// What the probes `/healthz` and `/readyz` answer.
#[derive(Debug, Serialize)]
pub struct Health {
    /// `ok`, `ready` or `unavailable`.
    pub status: &'static str,
    /// What is unavailable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn serialized(body: &impl Serialize) -> Value {
        serde_json::to_value(body).unwrap()
    }

    #[test]
    fn a_v1_error_has_openais_four_fields_with_the_type_and_code_of_its_status() {
        assert_eq!(
            serialized(&OpenAiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "Slow down."
            )),
            json!({ "error": {
                "message": "Slow down.",
                "type": "rate_limit_error",
                "param": null,
                "code": "rate_limit_exceeded",
            } })
        );
        let unlisted = serialized(&OpenAiError::new(StatusCode::UNPROCESSABLE_ENTITY, "x"));
        assert_eq!(unlisted["error"]["type"], "invalid_request_error");
        assert_eq!(unlisted["error"]["code"], Value::Null);
        let server = serialized(&OpenAiError::new(StatusCode::INTERNAL_SERVER_ERROR, "x"));
        assert_eq!(server["error"]["type"], "server_error");
    }

    #[test]
    fn an_api_error_keeps_its_request_id_field_even_without_one() {
        assert_eq!(
            serialized(&ApiError::new(StatusCode::NOT_FOUND, "Gone.".into(), None)),
            json!({ "error": { "status": 404, "message": "Gone.", "request_id": null } })
        );
    }

    #[test]
    fn a_chat_completion_totals_its_usage_and_reports_a_finish_reason_as_openai_does() {
        let completion = ChatCompletion::new(
            "chatcmpl-1".into(),
            7,
            "house-model".into(),
            ChatCompletionMessage::assistant(Some("Hi".into()), None, Vec::new()),
            FinishReason::Length,
            Some(ChatCompletionUsage::new(3, 2)),
        );
        assert_eq!(
            serialized(&completion),
            json!({
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "created": 7,
                "model": "house-model",
                "choices": [{
                    "index": 0,
                    "message": { "role": "assistant", "content": "Hi", "refusal": null },
                    "finish_reason": "length",
                    "logprobs": null,
                }],
                "usage": { "prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5 },
            })
        );
    }

    #[test]
    fn an_answer_that_calls_tools_has_null_content_and_its_calls_as_openai_sends_them() {
        let call = ToolCall {
            id: "call_1".into(),
            kind: ToolType::Function,
            function: FunctionCall {
                name: "get_weather".into(),
                arguments: r#"{"city":"Seoul"}"#.into(),
            },
        };
        let message = ChatCompletionMessage::assistant(None, None, vec![call]);
        assert_eq!(
            serialized(&message),
            json!({
                "role": "assistant",
                "content": null,
                "refusal": null,
                "tool_calls": [{
                    "id": "call_1",
                    "type": "function",
                    "function": { "name": "get_weather", "arguments": "{\"city\":\"Seoul\"}" },
                }],
            })
        );
    }

    #[test]
    fn a_probe_names_a_reason_only_when_unavailable() {
        let ok = Health {
            status: "ok",
            reason: None,
        };
        assert_eq!(serde_json::to_string(&ok).unwrap(), r#"{"status":"ok"}"#);
    }
}

/// `GET /api/v1/apps`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppList {
    pub data: Vec<AppSummary>,
}

/// A prompt app, as clients see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppSummary {
    /// Its name in URLs: `/apps/{name}`, `/api/v1/apps/{name}/runs`.
    pub name: String,
    pub title: String,
    /// The title in Korean, when the app gives one.
    pub title_ko: Option<String>,
    pub description: Option<String>,
    /// The description in Korean, when the app gives one.
    pub description_ko: Option<String>,
    /// `text`, `json` or `image`.
    pub output_format: &'static str,
    /// The JSON Schema of a run's body.
    #[schema(value_type = Object)]
    pub input_schema: serde_json::Value,
    /// The JSON Schema of a JSON app's `output`; null for text and image apps.
    #[schema(value_type = Option<Object>)]
    pub output_schema: Option<serde_json::Value>,
    /// The SHA-256 of the app's file: the prompt version runs are tagged with.
    pub version: String,
}

impl AppSummary {
    pub fn of(app: &crate::apps::App) -> Self {
        Self {
            name: app.name.clone(),
            title: app.title.clone(),
            title_ko: app.title_ko.clone(),
            description: app.description.clone(),
            description_ko: app.description_ko.clone(),
            output_format: app.output_format.as_str(),
            input_schema: app.input_schema.clone().unwrap_or_else(
                || serde_json::json!({"type": "object", "properties": {}, "additionalProperties": false}),
            ),
            output_schema: app.output_schema.clone(),
            version: app.version.to_string(),
        }
    }
}

/// The end of an app run.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunResult {
    /// The run's conversation: `GET /api/v1/conversations/{run_id}`, or go on in chat at
    /// `/conversations/{run_id}`.
    pub run_id: String,
    /// `complete`; otherwise the run failed and `error` says why.
    pub status: MessageStatus,
    /// The answer: text for a text app, a value following `output_schema` for a JSON app,
    /// the picture's path on this server for an image app; null unless `complete`.
    pub output: serde_json::Value,
    pub error: Option<String>,
    pub usage: RunUsage,
}

/// The `start` event of a streamed run.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunStarted {
    pub run_id: String,
}

/// Tokens a run used, as the model server reported them.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunUsage {
    pub prompt_tokens: Option<i64>,
    pub completion_tokens: Option<i64>,
}
