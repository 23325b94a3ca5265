//! The OpenAI-compatible API: `POST /v1/chat/completions` and `GET /v1/models`, for the
//! official SDKs and tools, authenticated with the project's own keys and spending the
//! key owner's budgets like the pages do. Errors take OpenAI's shape (see `middleware`).

mod request;

use std::{
    convert::Infallible,
    sync::Arc,
    time::{Duration, Instant},
};

use async_openai::types::chat::{
    ChatCompletionRequestAssistantMessage, ChatCompletionRequestMessage,
    ChatCompletionRequestSystemMessage, ChatCompletionRequestUserMessage, CompletionUsage,
    CreateChatCompletionRequest, CreateChatCompletionStreamResponse, FinishReason,
    StopConfiguration,
};
use axum::{
    Extension, Json,
    extract::{State, rejection::JsonRejection},
    response::{
        IntoResponse, Response,
        sse::{Event, Sse},
    },
};
use futures_util::{Stream, StreamExt, stream};
use serde_json::{Value, json};
use sqlx::SqlitePool;

use self::request::{Role, Stop, TextMessage};
use super::{docs::OpenAiError, middleware::ClientIp};
use crate::{
    AppState,
    auth::{Owner, api_key::ApiCaller},
    budget::{self, Estimate},
    config::Site,
    error::AppError,
    llm::{ChunkStream, UpstreamError},
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

/// `GET /v1/models`'s body.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ModelList {
    object: String,
    data: Vec<ModelEntry>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ModelEntry {
    id: String,
    object: String,
    created: i64,
    owned_by: String,
}

/// A non-streamed `chat.completion` (a stream sends `chat.completion.chunk` events and
/// `[DONE]`, as OpenAI does).
#[derive(serde::Serialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ChatCompletion {
    id: String,
    object: String,
    created: i64,
    model: String,
    choices: Vec<ChatCompletionChoice>,
    usage: Option<ChatCompletionUsage>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ChatCompletionChoice {
    index: u32,
    message: ChatCompletionMessage,
    finish_reason: String,
    logprobs: Option<String>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ChatCompletionMessage {
    role: String,
    content: String,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ChatCompletionUsage {
    prompt_tokens: u32,
    completion_tokens: u32,
    total_tokens: u32,
}

/// The models this deployment offers.
#[utoipa::path(get, path = "/v1/models", tag = "openai",
    responses(
        (status = 200, body = ModelList),
        (status = 401, body = OpenAiError),
    ),
    security(("api_key" = [])))]
pub async fn list_models(State(state): State<AppState>, _caller: ApiCaller) -> Json<Value> {
    let data: Vec<Value> = models(&state)
        .into_iter()
        .map(|(id, _)| json!({ "id": id, "object": "model", "created": 0, "owned_by": "promptship" }))
        .collect();
    Json(json!({ "object": "list", "data": data }))
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
        (status = 413, body = OpenAiError, description = "Request too large"),
        (status = 415, body = OpenAiError),
        (status = 422, body = OpenAiError),
        (status = 429, body = OpenAiError, description = "A budget or rate is spent; see Retry-After"),
        (status = 502, body = OpenAiError, description = "The model server failed"),
        (status = 503, body = OpenAiError, description = "Model calls are paused or the provider is unavailable"),
    ),
    security(("api_key" = [])))]
pub async fn create_chat_completion(
    State(state): State<AppState>,
    caller: ApiCaller,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<Response, AppError> {
    let Json(body) = body?;
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

    let owner = Owner::User(caller.user.id);
    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    let usage_id = budget::reserve(
        &mut tx,
        &state.config.budgets,
        &state.site,
        &state.clock,
        &owner,
        caller.user.daily_token_budget,
        &ip.to_string(),
        &Estimate {
            model: &upstream,
            prompt_tokens: prompt_tokens as i64,
            completion_tokens: i64::from(max_tokens),
        },
        None,
    )
    .await?;
    tx.commit().await?;
    let mut ledger = Ledger {
        db: state.db.clone(),
        site: state.site.clone(),
        usage_id,
        model: upstream.clone(),
        estimated_prompt_tokens: prompt_tokens as i64,
        started: Instant::now(),
        text: String::new(),
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
    let chunks = match state.llm.stream(upstream_request, max_tokens).await {
        Ok(chunks) => chunks,
        Err(error) => {
            ledger.settle("failed").await;
            return Err(AppError::Upstream(error));
        }
    };
    let relay = Relay {
        chunks,
        ledger,
        exposed,
        include_usage: request.stream_options.is_some_and(|o| o.include_usage),
        timeout: state.config.upstream_timeout,
    };
    if request.stream {
        Ok(Sse::new(relay.events()).into_response())
    } else {
        relay.collect().await.map(|body| Json(body).into_response())
    }
}

fn to_upstream(message: TextMessage) -> ChatCompletionRequestMessage {
    match message.role {
        Role::System => ChatCompletionRequestSystemMessage::from(message.text).into(),
        Role::User => ChatCompletionRequestUserMessage::from(message.text).into(),
        Role::Assistant => ChatCompletionRequestAssistantMessage::from(message.text).into(),
    }
}

/// The usage row of one call. It is settled when the call ends; a client that leaves
/// drops it mid-stream, and `Drop` settles it then.
struct Ledger {
    db: SqlitePool,
    site: Arc<Site>,
    usage_id: i64,
    /// The provider's model, which prices the call.
    model: String,
    estimated_prompt_tokens: i64,
    started: Instant,
    text: String,
    usage: Option<CompletionUsage>,
    settled: bool,
}

impl Ledger {
    async fn settle(&mut self, status: &'static str) {
        self.settled = true;
        self.settlement(status).save(&self.db).await;
    }

    fn settlement(&self, status: &'static str) -> budget::Settlement {
        let reported = self
            .usage
            .as_ref()
            .map(|u| (i64::from(u.prompt_tokens), i64::from(u.completion_tokens)));
        budget::Settlement::new(
            &self.site,
            &self.model,
            self.usage_id,
            reported,
            self.estimated_prompt_tokens,
            &self.text,
            status,
            self.started.elapsed().as_millis() as i64,
        )
    }
}

impl Drop for Ledger {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        // The client went away mid-stream: the upstream call is being dropped with this
        // relay; what it used so far is still billed.
        let settlement = self.settlement("interrupted");
        let db = self.db.clone();
        tokio::spawn(async move { settlement.save(&db).await });
    }
}

/// One upstream stream on its way to the client.
struct Relay {
    chunks: ChunkStream,
    ledger: Ledger,
    /// The model name the client asked for, reported back in every chunk.
    exposed: String,
    include_usage: bool,
    timeout: Duration,
}

enum Next {
    Chunk(Box<CreateChatCompletionStreamResponse>),
    Done,
    Failed(UpstreamError),
}

impl Relay {
    async fn next(&mut self) -> Next {
        match tokio::time::timeout(self.timeout, self.chunks.next()).await {
            Ok(Some(Ok(mut chunk))) => {
                chunk.model = self.exposed.clone();
                if let Some(usage) = &chunk.usage {
                    self.ledger.usage = Some(usage.clone());
                }
                for choice in &chunk.choices {
                    if let Some(text) = &choice.delta.content {
                        self.ledger.text.push_str(text);
                    }
                }
                Next::Chunk(Box::new(chunk))
            }
            Ok(Some(Err(error))) => Next::Failed(error.into()),
            Ok(None) => Next::Done,
            Err(_) => Next::Failed(UpstreamError::Timeout),
        }
    }

    /// Server-sent events, each upstream chunk forwarded as it arrives, then `[DONE]`.
    /// An upstream failure mid-stream becomes an in-band error event, never a `[DONE]`.
    fn events(self) -> impl Stream<Item = Result<Event, Infallible>> {
        stream::unfold(Some(self), |relay| async move {
            let mut relay = relay?;
            loop {
                match relay.next().await {
                    Next::Chunk(mut chunk) => {
                        if chunk.choices.is_empty() && chunk.usage.is_some() && !relay.include_usage
                        {
                            continue;
                        }
                        if !relay.include_usage {
                            chunk.usage = None;
                        }
                        let data = serde_json::to_string(&chunk).unwrap_or_default();
                        return Some((Ok(Event::default().data(data)), Some(relay)));
                    }
                    Next::Done => {
                        relay.ledger.settle("complete").await;
                        return Some((Ok(Event::default().data("[DONE]")), None));
                    }
                    Next::Failed(error) => {
                        relay.ledger.settle("interrupted").await;
                        let body = json!({ "error": {
                            "message": error.user_message(), "type": "server_error", "code": "upstream_error"
                        }});
                        return Some((Ok(Event::default().data(body.to_string())), None));
                    }
                }
            }
        })
    }

    /// The whole answer as one `chat.completion` object.
    async fn collect(mut self) -> Result<Value, AppError> {
        let mut id = String::new();
        let mut created = 0;
        let mut finish: Option<FinishReason> = None;
        loop {
            match self.next().await {
                Next::Chunk(chunk) => {
                    id = chunk.id;
                    created = chunk.created;
                    if let Some(reason) = chunk.choices.iter().find_map(|c| c.finish_reason) {
                        finish = Some(reason);
                    }
                }
                Next::Done => break,
                Next::Failed(error) => {
                    self.ledger.settle("interrupted").await;
                    return Err(AppError::Upstream(error));
                }
            }
        }
        self.ledger.settle("complete").await;
        let usage = self.ledger.usage.clone().map(|u| {
            json!({ "prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens, "total_tokens": u.total_tokens })
        });
        Ok(json!({
            "id": id,
            "object": "chat.completion",
            "created": created,
            "model": self.exposed,
            "choices": [{
                "index": 0,
                "message": { "role": "assistant", "content": self.ledger.text },
                "finish_reason": finish.unwrap_or(FinishReason::Stop),
                "logprobs": null,
            }],
            "usage": usage,
        }))
    }
}
