//! The mock OpenAI-compatible upstream, run as a child process of the harness (the bench
//! executable re-executed with `RELAY_BENCH_ROLE=mock`) so that its CPU use shows up as
//! a separate process, as a real provider's would.
//!
//! Every answer is the same 50 tokens of Markdown, a finish chunk, a usage chunk and
//! `[DONE]`. With `MOCK_PACED=0` the body is built once and sent at once; with
//! `MOCK_PACED=1` the first token comes after 200 ms and the rest 20 ms apart.

use std::{
    convert::Infallible,
    io::{Read, Write},
    process::ExitCode,
    sync::Arc,
    time::Duration,
};

use axum::{
    Json, Router,
    body::{Body, Bytes},
    http::header,
    response::{IntoResponse, Response},
    routing::{get, post},
    serve::ListenerExt,
};
use futures_util::stream;
use serde_json::{Value, json};
use tokio::time::Instant;

/// The environment variable that makes the bench executable act as the mock.
pub const ROLE_VAR: &str = "RELAY_BENCH_ROLE";
pub const ROLE_MOCK: &str = "mock";
/// `1` for the paced upstream, anything else for zero delay.
pub const PACED_VAR: &str = "MOCK_PACED";

/// Until the first token, as a model thinks.
const FIRST_TOKEN_DELAY: Duration = Duration::from_millis(200);
/// Between tokens.
const TOKEN_GAP: Duration = Duration::from_millis(20);
const PROMPT_TOKENS: u32 = 31;
const MODEL: &str = "gpt-4o-mini";

/// The answer, token by token: the chat-page benchmark renders it, so it holds the
/// Markdown a real answer has (bold, inline code, a list, a fenced block).
const TOKENS: [&str; 50] = [
    "A reverse ",
    "proxy keeps ",
    "**one connection** ",
    "open to ",
    "the client ",
    "and forwards ",
    "each `data:` ",
    "event as ",
    "soon as ",
    "it arrives.\n\n",
    "- **Buffering** ",
    "is off, ",
    "so bytes ",
    "flow through ",
    "at once.\n",
    "- Every event ",
    "ends with ",
    "a blank line.\n",
    "- The stream ",
    "ends with ",
    "a final ",
    "`DONE` event.\n\n",
    "```rust\n",
    "let mut ",
    "body = ",
    "upstream",
    ".bytes_stream();\n",
    "while let ",
    "Some(chunk) ",
    "= body",
    ".next()",
    ".await {\n",
    "    client",
    ".send(chunk?)",
    ".await?;\n",
    "}\n",
    "```\n\n",
    "That is ",
    "all it ",
    "takes: ",
    "no buffering, ",
    "no rewriting, ",
    "just bytes ",
    "passed on ",
    "in order, ",
    "flushed as ",
    "they come, ",
    "until the ",
    "model is ",
    "done.",
];

/// Runs the mock until the harness closes its stdin (so it never outlives the harness).
pub fn main() -> ExitCode {
    let paced = std::env::var(PACED_VAR).is_ok_and(|v| v == "1");
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("mock: cannot start a runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    std::thread::spawn(|| {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        std::process::exit(0);
    });
    match runtime.block_on(serve(paced)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("mock: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(paced: bool) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    // The harness reads the port from the first line.
    let mut stdout = std::io::stdout();
    writeln!(stdout, "{port}")?;
    stdout.flush()?;
    let pieces = Arc::new(if paced {
        paced_pieces()
    } else {
        vec![whole_body()]
    });
    let app = Router::new()
        .route(
            "/v1/chat/completions",
            post(move |_body: Bytes| answer(pieces.clone(), paced)),
        )
        .route("/v1/models", get(models));
    // Without TCP_NODELAY, small SSE writes meet delayed ACKs: a 40 ms step.
    let listener = listener.tap_io(|socket| {
        let _ = socket.set_nodelay(true);
    });
    axum::serve(listener, app).await?;
    Ok(())
}

async fn models() -> Json<Value> {
    Json(json!({
        "object": "list",
        "data": [{ "id": MODEL, "object": "model", "created": 0, "owned_by": "bench" }],
    }))
}

async fn answer(pieces: Arc<Vec<Bytes>>, paced: bool) -> Response {
    let body = if paced {
        paced_body(pieces)
    } else {
        Body::from(pieces[0].clone())
    };
    ([(header::CONTENT_TYPE, "text/event-stream")], body).into_response()
}

/// Sends piece `i` at 200 ms + i × 20 ms after the request, on absolute deadlines so
/// timer lateness does not add up over 50 tokens.
fn paced_body(pieces: Arc<Vec<Bytes>>) -> Body {
    let start = Instant::now();
    let events = stream::unfold(0usize, move |i| {
        let pieces = pieces.clone();
        async move {
            let piece = pieces.get(i)?.clone();
            tokio::time::sleep_until(start + FIRST_TOKEN_DELAY + TOKEN_GAP * i as u32).await;
            Some((Ok::<_, Infallible>(piece), i + 1))
        }
    });
    Body::from_stream(events)
}

/// One event per token, the role chunk with the first and the end with the last.
fn paced_pieces() -> Vec<Bytes> {
    let last = TOKENS.len() - 1;
    TOKENS
        .iter()
        .enumerate()
        .map(|(i, token)| {
            let mut piece = String::new();
            if i == 0 {
                piece.push_str(&role_event());
            }
            piece.push_str(&content_event(token));
            if i == last {
                piece.push_str(&end_events());
            }
            Bytes::from(piece)
        })
        .collect()
}

fn whole_body() -> Bytes {
    let mut body = role_event();
    for token in TOKENS {
        body.push_str(&content_event(token));
    }
    body.push_str(&end_events());
    Bytes::from(body)
}

fn role_event() -> String {
    chunk_event(json!({ "role": "assistant", "content": "" }), Value::Null)
}

fn content_event(token: &str) -> String {
    chunk_event(json!({ "content": token }), Value::Null)
}

/// The finish chunk, the usage chunk (always sent, as with `include_usage`) and `[DONE]`.
fn end_events() -> String {
    let completion = TOKENS.len() as u32;
    let usage = json!({
        "id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1_700_000_000,
        "model": MODEL, "choices": [],
        "usage": { "prompt_tokens": PROMPT_TOKENS, "completion_tokens": completion,
                   "total_tokens": PROMPT_TOKENS + completion },
    });
    format!(
        "{}data: {usage}\n\ndata: [DONE]\n\n",
        chunk_event(json!({}), json!("stop"))
    )
}

fn chunk_event(delta: Value, finish_reason: Value) -> String {
    let chunk = json!({
        "id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1_700_000_000,
        "model": MODEL,
        "choices": [{ "index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": null }],
    });
    format!("data: {chunk}\n\n")
}
