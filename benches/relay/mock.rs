//! The mock OpenAI-compatible upstream, run as a child process of the harness (the bench
//! executable re-executed with `RELAY_BENCH_ROLE=mock`) so that its CPU use shows up as
//! a separate process, as a real provider's would.
//!
//! Every answer is the same 50 tokens of Markdown, a finish chunk, a usage chunk and
//! `[DONE]`; a request with a `response_format` (a structured app's run) gets 50 tokens
//! of JSON instead, valid against the `extract` app's output schema. Its shape
//! (`MOCK_SHAPE`):
//!
//! - `whole`: zero delay, the whole answer in one HTTP chunk;
//! - `events`: zero delay, one HTTP chunk per event, as real providers send them, with
//!   `MOCK_CHUNKS` content chunks (the text answer's first tokens; a structured answer
//!   keeps all 50, so that it stays valid);
//! - `paced`: the first token after 200 ms and the rest 20 ms apart, one chunk each.

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
/// The answer's shape: a [`Shape`]'s name.
pub const SHAPE_VAR: &str = "MOCK_SHAPE";
/// Content chunks of a text answer in the `events` shape, 1 to 50.
pub const CHUNKS_VAR: &str = "MOCK_CHUNKS";

/// How the mock sends an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Zero delay, the whole answer in one HTTP chunk.
    Whole,
    /// Zero delay, one HTTP chunk per event, with this many content chunks.
    Events(usize),
    /// 200 ms to the first token, then 20 ms per token, one HTTP chunk each.
    Paced,
}

impl Shape {
    /// The environment a mock of this shape is started with.
    pub fn env(self) -> [(&'static str, String); 2] {
        let (name, chunks) = match self {
            Shape::Whole => ("whole", TOKENS.len()),
            Shape::Events(chunks) => ("events", chunks),
            Shape::Paced => ("paced", TOKENS.len()),
        };
        [(SHAPE_VAR, name.into()), (CHUNKS_VAR, chunks.to_string())]
    }

    fn from_env() -> Self {
        let chunks = std::env::var(CHUNKS_VAR)
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(TOKENS.len())
            .clamp(1, TOKENS.len());
        match std::env::var(SHAPE_VAR).as_deref() {
            Ok("paced") => Shape::Paced,
            Ok("events") => Shape::Events(chunks),
            _ => Shape::Whole,
        }
    }

    /// A short name for logs and file names.
    pub fn name(self) -> String {
        match self {
            Shape::Whole => "whole".into(),
            Shape::Events(chunks) => format!("events-{chunks}"),
            Shape::Paced => "paced".into(),
        }
    }
}

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

/// A structured answer, token by token: `apps/extract.prompt`'s output schema (a list of
/// fields, each a name, a value and whether it was found), which promptship checks the
/// whole answer against before it calls the run complete.
const JSON_TOKENS: [&str; 50] = [
    "{\"fields\":",
    "[{\"name\":",
    "\"name\",",
    "\"value\":",
    "\"Mina ",
    "Park\",",
    "\"found\":",
    "true},",
    "{\"name\":",
    "\"email\",",
    "\"value\":",
    "\"mina",
    ".park",
    "@example",
    ".com\",",
    "\"found\":",
    "true},",
    "{\"name\":",
    "\"phone\",",
    "\"value\":",
    "\"+82 ",
    "10-",
    "1234-",
    "5678\",",
    "\"found\":",
    "true},",
    "{\"name\":",
    "\"company\",",
    "\"value\":",
    "\"Hanbit ",
    "Labs\",",
    "\"found\":",
    "true},",
    "{\"name\":",
    "\"title\",",
    "\"value\":",
    "\"Research ",
    "lead\",",
    "\"found\":",
    "true},",
    "{\"name\":",
    "\"address\",",
    "\"value\":",
    "\"\",",
    "\"found\":",
    "false",
    "}",
    "]",
    "}",
    "\n",
];

/// What marks a request for a structured answer.
const RESPONSE_FORMAT: &[u8] = b"\"response_format\"";

/// Runs the mock until the harness closes its stdin (so it never outlives the harness).
pub fn main() -> ExitCode {
    let shape = Shape::from_env();
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
    match runtime.block_on(serve(shape)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("mock: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(shape: Shape) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    // The harness reads the port from the first line.
    let mut stdout = std::io::stdout();
    writeln!(stdout, "{port}")?;
    stdout.flush()?;
    let text_tokens = match shape {
        Shape::Events(chunks) => &TOKENS[..chunks],
        Shape::Whole | Shape::Paced => &TOKENS[..],
    };
    let answers = Arc::new(Answers {
        text: pieces(text_tokens, shape),
        json: pieces(&JSON_TOKENS, shape),
    });
    let app = Router::new()
        .route(
            "/v1/chat/completions",
            post(move |body: Bytes| {
                let answers = answers.clone();
                async move {
                    let structured = body
                        .windows(RESPONSE_FORMAT.len())
                        .any(|w| w == RESPONSE_FORMAT);
                    let pieces = if structured {
                        &answers.json
                    } else {
                        &answers.text
                    };
                    answer(pieces, shape)
                }
            }),
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

/// The two answers, each as the HTTP chunks it is sent in.
struct Answers {
    text: Arc<Vec<Bytes>>,
    json: Arc<Vec<Bytes>>,
}

fn answer(pieces: &Arc<Vec<Bytes>>, shape: Shape) -> Response {
    let body = match shape {
        Shape::Whole => Body::from(pieces[0].clone()),
        // Every piece is ready at once: hyper writes them together, each its own chunk.
        Shape::Events(_) => Body::from_stream(stream::iter(
            pieces
                .iter()
                .cloned()
                .map(Ok::<_, Infallible>)
                .collect::<Vec<_>>(),
        )),
        Shape::Paced => paced_body(pieces.clone()),
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

fn pieces(tokens: &[&str], shape: Shape) -> Arc<Vec<Bytes>> {
    Arc::new(match shape {
        Shape::Whole => vec![whole_body(tokens)],
        Shape::Events(_) => event_pieces(tokens),
        Shape::Paced => paced_pieces(tokens),
    })
}

/// Every event its own piece: the role chunk, one per token, the finish chunk, the
/// usage chunk and `[DONE]`.
fn event_pieces(tokens: &[&str]) -> Vec<Bytes> {
    let mut pieces = vec![Bytes::from(role_event())];
    pieces.extend(tokens.iter().map(|token| Bytes::from(content_event(token))));
    pieces.extend(
        end_events(tokens.len())
            .split_inclusive("\n\n")
            .map(|event| Bytes::from(event.to_string())),
    );
    pieces
}

/// One event per token, the role chunk with the first and the end with the last.
fn paced_pieces(tokens: &[&str]) -> Vec<Bytes> {
    let last = tokens.len() - 1;
    tokens
        .iter()
        .enumerate()
        .map(|(i, token)| {
            let mut piece = String::new();
            if i == 0 {
                piece.push_str(&role_event());
            }
            piece.push_str(&content_event(token));
            if i == last {
                piece.push_str(&end_events(tokens.len()));
            }
            Bytes::from(piece)
        })
        .collect()
}

fn whole_body(tokens: &[&str]) -> Bytes {
    let mut body = role_event();
    for token in tokens {
        body.push_str(&content_event(token));
    }
    body.push_str(&end_events(tokens.len()));
    Bytes::from(body)
}

fn role_event() -> String {
    chunk_event(json!({ "role": "assistant", "content": "" }), Value::Null)
}

fn content_event(token: &str) -> String {
    chunk_event(json!({ "content": token }), Value::Null)
}

/// The finish chunk, the usage chunk (always sent, as with `include_usage`) and `[DONE]`.
fn end_events(tokens: usize) -> String {
    let completion = tokens as u32;
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
