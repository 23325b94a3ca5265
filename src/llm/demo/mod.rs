//! The demo model: an OpenAI-compatible endpoint inside this binary that streams a
//! clearly labelled canned answer, so `cargo run` works with no key and demo mode goes
//! through exactly the same client and HTTP path as a real provider. Asked for JSON it
//! answers a value valid against the schema given (`schema`); asked for an image, a
//! picture made from the prompt (`picture`). Asked to sample (`temperature` ≥ 1, as
//! the calls proposing a dataset batch's inputs are), its JSON strings take their words
//! pseudo-randomly, seeded by a hash of the prompt, so different prompts get different
//! values as a sampling model's would; the same prompt still gets the same answer.

mod picture;
mod schema;

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
use base64::Engine;
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
        .route("/v1/images/generations", post(generate_image))
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
    #[serde(default)]
    response_format: Option<Value>,
    #[serde(default)]
    temperature: Option<f64>,
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
    let (answer, split_after): (String, &[char]) = match structured(&request) {
        // JSON has few spaces: it streams in pieces ending at a comma too.
        Some(json) => (json, &[' ', ',']),
        None => (answer(&request.messages), &[' ']),
    };
    let prompt_tokens = request
        .messages
        .iter()
        .map(|m| text_of(&m.content).len().div_ceil(4) + 4)
        .sum::<usize>();
    let words: Vec<String> = answer
        .split_inclusive(split_after)
        .map(str::to_string)
        .collect();
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

/// The JSON answer to a request for structured output: a value valid against its
/// `json_schema`, or a small object for `json_object`; `None` for text.
fn structured(request: &ChatRequest) -> Option<String> {
    let format = request.response_format.as_ref()?;
    let question = last_question(&request.messages);
    let schema = match format.get("type").and_then(Value::as_str)? {
        "json_schema" => format.pointer("/json_schema/schema"),
        "json_object" => None,
        _ => return None,
    };
    let sampled = request.temperature.is_some_and(|t| t >= 1.0);
    let value = match schema {
        Some(schema) if sampled => schema::sampled_example(schema, &question, fnv1a(&question)),
        Some(schema) => schema::example(schema, &question),
        None => json!({
            "demo": true,
            "answer": "This is the demo model: set OPENAI_API_KEY or OPENAI_BASE_URL for real answers.",
            "you_asked": question.chars().take(200).collect::<String>(),
        }),
    };
    Some(value.to_string())
}

/// FNV-1a: a stable hash (std's `DefaultHasher` may change between releases).
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The text of the last message from the user.
fn last_question(messages: &[ChatMessage]) -> String {
    messages
        .iter()
        .rev()
        .find(|m| m.role == "user")
        .map(|m| text_of(&m.content))
        .unwrap_or_default()
}

#[derive(Deserialize)]
struct ImageRequest {
    prompt: String,
    #[serde(default)]
    size: Option<String>,
}

/// One picture of the prompt, in base64 as OpenAI's GPT image models answer (whatever
/// `response_format` asked), with usage in their shape.
async fn generate_image(Json(request): Json<ImageRequest>) -> Response {
    let (width, height) = picture::size(request.size.as_deref());
    let prompt = request.prompt;
    let input_tokens = prompt.len().div_ceil(4);
    let drawn = tokio::task::spawn_blocking(move || picture::draw(&prompt, width, height)).await;
    let Ok(Ok(png)) = drawn else {
        tracing::error!("the demo model could not draw a picture");
        return axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let output_tokens = (width * height).div_ceil(4096) as usize;
    Json(json!({
        "created": 0,
        "data": [{
            "b64_json": base64::engine::general_purpose::STANDARD.encode(png),
            "revised_prompt": null,
        }],
        "output_format": "png",
        "size": format!("{width}x{height}"),
        "usage": {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "total_tokens": input_tokens + output_tokens,
            "input_tokens_details": { "text_tokens": input_tokens, "image_tokens": 0 },
        },
    }))
    .into_response()
}

/// The canned answer: says it is a demo, echoes the question, explains the set-up.
fn answer(messages: &[ChatMessage]) -> String {
    let question = last_question(messages);
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
