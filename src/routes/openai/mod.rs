//! The OpenAI-compatible API: `POST /v1/chat/completions` and `GET /v1/models`, for the
//! official SDKs and tools, authenticated with the project's own keys and spending the
//! key owner's budgets like the pages do. Errors take OpenAI's shape (see `middleware`).

mod relay;
mod request;
mod sse;

use std::time::Instant;

use async_openai::types::chat::{
    ChatCompletionRequestAssistantMessage, ChatCompletionRequestMessage,
    ChatCompletionRequestSystemMessage, ChatCompletionRequestUserMessage,
    CreateChatCompletionRequest, StopConfiguration,
};
use axum::{
    Extension, Json,
    extract::State,
    response::{IntoResponse, Response},
};
use serde_json::Value;

use self::{
    relay::{Collected, Ledger, Relay},
    request::{Role, Stop, TextMessage},
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
};

/// Tokens each message costs beyond its text, as OpenAI counts them.
const TOKENS_PER_MESSAGE: usize = 4;

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
/// apply; parameters outside the documented list are refused.
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
    let (request, messages) = request::parse(body)?;
    let Some((exposed, upstream)) = models(&state)
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
    let prompt_tokens: usize = messages
        .iter()
        .map(|m| budget::count_tokens(&m.text) + TOKENS_PER_MESSAGE)
        .sum();
    if prompt_tokens > state.config.max_context_tokens {
        return Err(AppError::TooLarge(format!(
            "The messages are {prompt_tokens} tokens long; this deployment accepts at most {}.",
            state.config.max_context_tokens
        )));
    }

    let reservation = state.meter.reserve(
        &Spender::user(&visitor.user, ip),
        &Estimate {
            model: &upstream,
            app: None,
            prompt_tokens: prompt_tokens as i64,
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

    let mut upstream_request = CreateChatCompletionRequest {
        model: upstream,
        messages: messages.into_iter().map(to_upstream).collect(),
        temperature: request.temperature,
        top_p: request.top_p,
        stop: request.stop.map(|stop| match stop {
            Stop::One(text) => StopConfiguration::String(text),
            Stop::Many(list) => StopConfiguration::StringArray(list),
        }),
        presence_penalty: request.presence_penalty,
        frequency_penalty: request.frequency_penalty,
        ..Default::default()
    };
    // Deprecated by OpenAI but still honoured by it and by most compatible servers.
    #[allow(deprecated)]
    {
        upstream_request.seed = request.seed;
    }
    if request.stream {
        let events = ledger
            .started(
                &mut held,
                state.llm.stream_raw(upstream_request, max_tokens),
            )
            .await?;
        let relay = Relay {
            events,
            ledger,
            exposed: Value::from(exposed).to_string(),
            include_usage: request.stream_options.is_some_and(|o| o.include_usage),
            timeout: state.config.upstream_timeout,
            idle: Box::pin(tokio::time::sleep(state.config.upstream_timeout)),
            held,
            finished: false,
            done: false,
        };
        return Ok(relay.into_response());
    }
    let chunks = ledger
        .started(&mut held, state.llm.stream(upstream_request, max_tokens))
        .await?;
    let collected = Collected {
        chunks,
        held,
        ledger,
        exposed,
        timeout: state.config.upstream_timeout,
    };
    collected
        .collect()
        .await
        .map(|body| Json(body).into_response())
}

fn to_upstream(message: TextMessage) -> ChatCompletionRequestMessage {
    match message.role {
        Role::System => ChatCompletionRequestSystemMessage::from(message.text).into(),
        Role::User => ChatCompletionRequestUserMessage::from(message.text).into(),
        Role::Assistant => ChatCompletionRequestAssistantMessage::from(message.text).into(),
    }
}
