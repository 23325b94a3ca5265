//! The demo model: an OpenAI-compatible endpoint inside this binary that streams a
//! clearly labelled canned answer, so `cargo run` works with no key and demo mode goes
//! through exactly the same client and HTTP path as a real provider.

use std::{convert::Infallible, time::Duration};

use axum::{
    Json, Router,
    extract::State,
    response::{
        IntoResponse, Response,
        sse::{Event, Sse},
    },
    routing::{get, post},
    serve::ListenerExt,
};
use futures_util::{StreamExt, stream};
use serde::Deserialize;
use serde_json::{Value, json};

/// The model name the demo reports.
pub const MODEL: &str = "promptship-demo";

/// Starts the demo model on a loopback port of its own (never reachable from outside)
/// and returns its base URL, including `/v1`. `word_delay` paces the streamed words.
pub async fn spawn(word_delay: Duration) -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, router(word_delay)).await {
            tracing::error!(%error, "the demo model stopped");
        }
    });
    Ok(format!("http://{addr}/v1"))
}

pub fn router(word_delay: Duration) -> Router {
    Router::new()
        .route("/v1/chat/completions", post(chat_completions))
        .route("/v1/models", get(list_models))
        .with_state(word_delay)
}

#[derive(Deserialize)]
struct ChatRequest {
    messages: Vec<ChatMessage>,
    #[serde(default)]
    stream: bool,
    #[serde(default)]
    stream_options: Option<StreamOptions>,
}

#[derive(Deserialize)]
struct ChatMessage {
    role: String,
    #[serde(default)]
    content: Value,
}

#[derive(Deserialize)]
struct StreamOptions {
    #[serde(default)]
    include_usage: bool,
}

async fn list_models() -> Json<Value> {
    Json(json!({
        "object": "list",
        "data": [{ "id": MODEL, "object": "model", "created": 0, "owned_by": "promptship" }]
    }))
}

async fn chat_completions(
    State(word_delay): State<Duration>,
    Json(request): Json<ChatRequest>,
) -> Response {
    let answer = answer(&request.messages);
    let prompt_tokens = request
        .messages
        .iter()
        .map(|m| text_of(&m.content).len().div_ceil(4) + 4)
        .sum::<usize>();
    let words: Vec<String> = answer.split_inclusive(' ').map(str::to_string).collect();
    let usage = json!({
        "prompt_tokens": prompt_tokens,
        "completion_tokens": words.len(),
        "total_tokens": prompt_tokens + words.len(),
    });
    let id = format!("chatcmpl-demo-{}", uuid::Uuid::new_v4().simple());
    let created = crate::domain::now_ms() / 1000;

    if !request.stream {
        return Json(json!({
            "id": id, "object": "chat.completion", "created": created, "model": MODEL,
            "choices": [{
                "index": 0,
                "message": { "role": "assistant", "content": answer },
                "finish_reason": "stop",
            }],
            "usage": usage,
        }))
        .into_response();
    }

    let chunk = move |delta: Value, finish: Value| {
        json!({
            "id": id, "object": "chat.completion.chunk", "created": created, "model": MODEL,
            "choices": [{ "index": 0, "delta": delta, "finish_reason": finish }],
        })
    };
    let mut events = vec![chunk(
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    )];
    events.extend(
        words
            .into_iter()
            .map(|word| chunk(json!({ "content": word }), Value::Null)),
    );
    events.push(chunk(json!({}), json!("stop")));
    if request.stream_options.is_some_and(|o| o.include_usage) {
        let mut last = chunk(json!({}), Value::Null);
        last["choices"] = json!([]);
        last["usage"] = usage;
        events.push(last);
    }
    let body = stream::iter(events.into_iter().map(|e| e.to_string()))
        .chain(stream::once(async { "[DONE]".to_string() }))
        .then(move |data| async move {
            tokio::time::sleep(word_delay).await;
            Ok::<_, Infallible>(Event::default().data(data))
        });
    Sse::new(body).into_response()
}

/// The canned answer: says it is a demo, echoes the question, explains the set-up.
fn answer(messages: &[ChatMessage]) -> String {
    let question = messages
        .iter()
        .rev()
        .find(|m| m.role == "user")
        .map(|m| text_of(&m.content))
        .unwrap_or_default();
    let quoted: String = question
        .lines()
        .take(12)
        .map(|line| format!("> {line}\n"))
        .collect();
    let turns = messages.iter().filter(|m| m.role == "user").count();
    format!(
        "**This is the demo model**, built into promptship: it does not think, it only \
         shows that the whole path works (your message was saved, sent to an \
         OpenAI-compatible endpoint, and this answer is streaming back word by word).\n\n\
         You asked:\n\n{quoted}\n\
         This conversation has {turns} message(s) from you so far.\n\n\
         To get real answers, set `OPENAI_API_KEY` for OpenAI, or `OPENAI_BASE_URL` for \
         any OpenAI-compatible server (Ollama, vLLM, llama.cpp server, OpenRouter, \
         Gemini), set `model` in `promptship.toml`, and restart. The README's \
         \"Using a real model\" section has examples."
    )
}

/// The text of a message whose `content` is a string or a list of text parts.
fn text_of(content: &Value) -> String {
    match content {
        Value::String(text) => text.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|part| part.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}
