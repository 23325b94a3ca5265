//! The OpenAI-compatible API: `POST /v1/chat/completions` and `GET /v1/models`, for the
//! official SDKs and tools, authenticated with the project's own keys and spending the
//! key owner's budgets like the pages do. Errors take OpenAI's shape (see `middleware`).

mod collect;
mod relay;
mod request;
mod sse;

use std::time::Instant;

use async_openai::types::chat::{
    ChatCompletionRequestAssistantMessage, ChatCompletionRequestAssistantMessageContent,
    ChatCompletionRequestMessage, ChatCompletionRequestSystemMessage,
    ChatCompletionRequestToolMessage, ChatCompletionRequestToolMessageContent,
    ChatCompletionRequestUserMessage, CreateChatCompletionRequest, StopConfiguration,
};
use axum::{
    Extension, Json,
    extract::State,
    response::{IntoResponse, Response},
};
use serde::Serialize;
use serde_json::Value;

use self::{
    collect::Collected,
    relay::{Ledger, Relay},
    request::{Message, Role, Stop},
};
use super::{
    bodies::{ChatCompletion, ModelList, OpenAiError},
    extract::AppJson,
};
use crate::{
    AppState,
    auth::{ClientIp, api_key::ApiVisitor},
    budget::{self, Estimate, Spender},
    error::AppError,
    i18n::Text,
};

/// The model names this deployment offers, each with its provider model, sorted (never
/// empty).
pub(super) fn models(state: &AppState) -> Vec<(String, String)> {
    if state.site.models.is_empty() {
        let model = state.llm.model().to_string();
        return vec![(model.clone(), model)];
    }
    let mut models: Vec<_> = state
        .site
        .models
        .iter()
        .map(|(name, upstream)| (name.clone(), upstream.clone()))
        .collect();
    models.sort();
    models
}

/// The models this deployment offers.
#[utoipa::path(get, path = "/v1/models", tag = "openai",
    responses(
        (status = 200, body = ModelList),
        (status = 401, body = OpenAiError),
    ),
    security(("api_key" = [])))]
pub async fn list_models(State(state): State<AppState>, _visitor: ApiVisitor) -> Json<ModelList> {
    Json(ModelList::new(models(&state).into_iter().map(|(id, _)| id)))
}

/// Create a chat completion, streamed (`"stream": true`) or not. The key owner's budgets
/// apply; parameters outside the documented list are refused. `response_format`,
/// `tools` and tool messages are relayed as they are: the client runs its tools, this
/// server runs none.
#[utoipa::path(post, path = "/v1/chat/completions", tag = "openai",
    request_body = request::ChatRequest,
    responses(
        (status = 200, body = ChatCompletion, description = "The completion (or, when streamed, `text/event-stream` chunks)"),
        (status = 400, body = OpenAiError, description = "Invalid request or a parameter this deployment does not allow"),
        (status = 401, body = OpenAiError, description = "Invalid API key"),
        (status = 404, body = OpenAiError, description = "Unknown model"),
        (status = 408, body = OpenAiError, description = "The body took too long to arrive"),
        (status = 413, body = OpenAiError, description = "Request too large"),
        (status = 415, body = OpenAiError),
        (status = 422, body = OpenAiError),
        (status = 429, body = OpenAiError, description = "A budget or rate is spent; see Retry-After"),
        (status = 502, body = OpenAiError, description = "The model server failed"),
        (status = 503, body = OpenAiError, description = "Model calls are paused, the provider is unavailable, or the server is restarting"),
    ),
    security(("api_key" = [])))]
pub async fn create_chat_completion(
    State(state): State<AppState>,
    visitor: ApiVisitor,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    AppJson(body): AppJson<Value>,
) -> Result<Response, AppError> {
    let Call {
        request,
        exposed,
        upstream,
        prompt_tokens,
        max_tokens,
        stream,
        include_usage,
    } = Call::new(&state, body)?;
    let reservation = state.meter.reserve(
        &Spender::user(&visitor.user, ip),
        &Estimate {
            model: &upstream,
            app: None,
            prompt_tokens,
            completion_tokens: i64::from(max_tokens),
        },
        None,
    )?;
    // Not awaited to disk: the writer commits it with others, before the settlement.
    state.meter.record(&reservation).await;
    let mut held = state.drain.hold();
    let mut ledger = Ledger {
        meter: state.meter.clone(),
        reservation,
        started: Instant::now(),
        text: String::new(),
        chunks: 0,
        usage: None,
        settled: false,
    };

    if stream {
        let call = std::pin::pin!(state.llm.stream_raw(request, max_tokens));
        let mut events = ledger.started(&mut held, call).await?;
        // Whatever the server has already sent goes out with the headers.
        let first = events.ready().await;
        let relay = Relay {
            events,
            first,
            ledger,
            exposed: Value::from(exposed).to_string(),
            include_usage,
            timeout: state.config.upstream_timeout,
            idle: Box::pin(tokio::time::sleep(state.config.upstream_timeout)),
            held,
            finished: false,
            done: false,
        };
        return Ok(relay.into_response());
    }
    let call = std::pin::pin!(state.llm.stream(request, max_tokens));
    let chunks = ledger.started(&mut held, call).await?;
    let collected = Collected {
        chunks,
        held,
        ledger,
        exposed,
        timeout: state.config.upstream_timeout,
        answer: Default::default(),
    };
    // Boxed: inline, this rarer path's state would size every call's future.
    Box::pin(collected.collect())
        .await
        .map(|body| Json(body).into_response())
}

/// A checked call, ready for the model server. Built in one synchronous step, so that
/// the parsed body and its pieces are not part of the handler's future, which every
/// call waiting for the model server's first byte holds in memory.
struct Call {
    request: CreateChatCompletionRequest,
    /// The model name as the client asked for it, and as the model server knows it.
    exposed: String,
    upstream: String,
    prompt_tokens: i64,
    max_tokens: u32,
    stream: bool,
    include_usage: bool,
}

impl Call {
    fn new(state: &AppState, body: Value) -> Result<Self, AppError> {
        let (request, messages) = request::parse(body)?;
        let Some((exposed, upstream)) = models(state)
            .into_iter()
            .find(|(name, _)| *name == request.model)
        else {
            return Err(AppError::UnknownModel(request.model));
        };
        let cap = state.site.max_output_tokens;
        let max_tokens = request
            .max_completion_tokens
            .or(request.max_tokens)
            .unwrap_or(cap)
            .clamp(1, cap);
        let mut upstream_request = CreateChatCompletionRequest {
            model: upstream.clone(),
            temperature: request.temperature,
            top_p: request.top_p,
            stop: request.stop.map(|stop| match stop {
                Stop::One(text) => StopConfiguration::String(text),
                Stop::Many(list) => StopConfiguration::StringArray(list),
            }),
            presence_penalty: request.presence_penalty,
            frequency_penalty: request.frequency_penalty,
            response_format: request.response_format.map(Into::into),
            tools: request
                .tools
                .map(|tools| tools.into_iter().map(Into::into).collect()),
            tool_choice: request.tool_choice.map(Into::into),
            parallel_tool_calls: request.parallel_tool_calls,
            ..Default::default()
        };
        // Deprecated by OpenAI but still honoured by it and by most compatible servers.
        #[allow(deprecated)]
        {
            upstream_request.seed = request.seed;
        }
        let prompt_tokens = prompt_tokens(&messages, &upstream_request);
        if prompt_tokens > state.config.max_context_tokens {
            return Err(AppError::TooLarge(
                Text::new("v1-too-many-tokens")
                    .arg("tokens", prompt_tokens)
                    .arg("max", state.config.max_context_tokens),
            ));
        }
        upstream_request.messages = messages.into_iter().map(to_upstream).collect();
        Ok(Self {
            request: upstream_request,
            exposed,
            upstream,
            prompt_tokens: prompt_tokens as i64,
            max_tokens,
            stream: request.stream,
            include_usage: request.stream_options.is_some_and(|o| o.include_usage),
        })
    }
}

/// The prompt's tokens, from above: each message's text and tool calls, and the tools
/// and response format as the JSON they are sent as.
fn prompt_tokens(messages: &[Message], request: &CreateChatCompletionRequest) -> usize {
    let messages: usize = messages
        .iter()
        .map(|m| {
            let calls: usize = m
                .tool_calls
                .iter()
                .map(|call| {
                    budget::count_tokens(&call.id)
                        + budget::count_tokens(&call.function.name)
                        + budget::count_tokens(&call.function.arguments)
                })
                .sum();
            m.text.as_deref().map_or(0, budget::count_tokens)
                + m.tool_call_id.as_deref().map_or(0, budget::count_tokens)
                + calls
                + budget::TOKENS_PER_MESSAGE
        })
        .sum();
    messages
        + request.tools.as_ref().map_or(0, json_tokens)
        + request.response_format.as_ref().map_or(0, json_tokens)
}

fn json_tokens(value: &impl Serialize) -> usize {
    serde_json::to_string(value).map_or(0, |json| budget::count_tokens(&json))
}

fn to_upstream(message: Message) -> ChatCompletionRequestMessage {
    let text = message.text.unwrap_or_default();
    match message.role {
        Role::System => ChatCompletionRequestSystemMessage::from(text).into(),
        Role::User => ChatCompletionRequestUserMessage::from(text).into(),
        Role::Assistant if message.tool_calls.is_empty() => {
            ChatCompletionRequestAssistantMessage::from(text).into()
        }
        Role::Assistant => ChatCompletionRequestAssistantMessage {
            content: (!text.is_empty())
                .then_some(ChatCompletionRequestAssistantMessageContent::Text(text)),
            tool_calls: Some(message.tool_calls.into_iter().map(Into::into).collect()),
            ..Default::default()
        }
        .into(),
        Role::Tool => ChatCompletionRequestToolMessage {
            content: ChatCompletionRequestToolMessageContent::Text(text),
            tool_call_id: message.tool_call_id.unwrap_or_default(),
        }
        .into(),
    }
}
