//! A mock OpenAI-compatible upstream that the tests control: it counts the POSTs it
//! receives (chat completions and image generations alike) and the connections they
//! came on, records each request,
//! notices when a client hangs up, and can fail in every way a real provider does.

mod images;

use std::{
    collections::VecDeque,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{
    Json, Router,
    body::{Body, Bytes},
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::post,
    serve::ListenerExt,
};
use futures_util::{StreamExt, stream};
use serde_json::{Value, json};

pub use images::{IMAGE_INPUT_TOKENS, IMAGE_OUTPUT_TOKENS, png};

/// What the mock does with one request.
#[derive(Clone, Debug)]
pub enum Scenario {
    /// Streams `words` with `delay` between chunks, a finish reason, usage and `[DONE]`.
    Answer { words: Vec<String>, delay: Duration },
    /// A whole answer of `words`, after which the server closes the connection
    /// (`Connection: close`, as a server whose keep-alive ran out).
    AnswerAndClose(Vec<String>),
    /// Answers with an HTTP error.
    Status {
        status: u16,
        body: String,
        retry_after: Option<&'static str>,
    },
    /// Never sends headers.
    HangBeforeHeaders,
    /// Sends `words`, then nothing more while keeping the connection open.
    StallAfter(Vec<String>),
    /// Sends `words`, then only `: keep-alive` comments, a tenth of a second apart, for
    /// 100 s.
    KeepAliveAfter(Vec<String>),
    /// Sends `words`, then breaks the connection.
    ResetAfter(Vec<String>),
    /// Sends `words`, then ends the body cleanly with no finish reason and no `[DONE]`.
    EofWithoutDone(Vec<String>),
    /// Sends `words`, then a chunk that is not JSON.
    MalformedAfter(Vec<String>),
    /// Sends `words`, then an in-band `{"error": …}` event.
    InBandErrorAfter(Vec<String>),
    /// Sends `words`, then an event with this data, then `[DONE]`.
    EventAfter(Vec<String>, String),
    /// `chunks` content chunks of `bytes` bytes each, as fast as they can be sent, then
    /// the end of an answer: a flood for a reader that stops reading.
    Flood { chunks: usize, bytes: usize },
    /// A whole answer written to the socket in pieces of `piece` bytes, splitting events.
    Fragmented { words: Vec<String>, piece: usize },
    // The Images API (`/v1/images/generations`); `Status` and `HangBeforeHeaders` serve
    // it too, and an empty queue answers `Scenario::image()`.
    /// One image in base64, as GPT image models answer, with their usage: `png` holds
    /// the image's bytes (a PNG, or any bytes a test sends as an image).
    Image { png: Vec<u8> },
    /// A URL on the mock, which then serves `body` as `image/png` whatever it is.
    ImageUrl { body: Vec<u8> },
    /// The base64 of an HTML page where the image should be.
    NotAnImage,
    /// An image of `bytes` bytes in base64, its body streamed without a length.
    ImageTooLarge { bytes: usize },
    /// `Scenario::image()` after this long.
    ImageSlow(Duration),
    /// Streams these chunk objects as they are, each an event, then `[DONE]`: an answer
    /// of any shape (tool calls, refusals) for the relay to pass on.
    Chunks(Vec<Value>),
}

impl Scenario {
    pub fn answer(text: &str) -> Self {
        Scenario::Answer {
            words: words(text),
            delay: Duration::from_millis(5),
        }
    }

    /// A structured answer: `value`'s JSON text, streamed.
    pub fn json(value: &Value) -> Self {
        Scenario::answer(&value.to_string())
    }

    /// A small PNG in base64.
    pub fn image() -> Self {
        Scenario::Image { png: png(8, 8) }
    }
}

/// Splits text into chunks that keep their spaces, like a model's tokens.
pub fn words(text: &str) -> Vec<String> {
    text.split_inclusive(' ').map(str::to_string).collect()
}

pub const PROMPT_TOKENS: u32 = 17;

/// How the common OpenAI-compatible servers report an error inside a stream that began
/// with `200 OK` (from their sources and issue trackers).
pub const IN_BAND_ERRORS: [(&str, &str); 6] = [
    (
        "OpenAI",
        r#"{"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}"#,
    ),
    (
        "vLLM",
        r#"{"object":"error","message":"The engine ran out of KV cache.","type":"InternalServerError","param":null,"code":500}"#,
    ),
    (
        "llama.cpp",
        r#"{"error":{"code":500,"message":"the context is full","type":"server_error"}}"#,
    ),
    (
        "Ollama",
        r#"{"error":{"message":"model runner has unexpectedly stopped","type":"api_error","param":null,"code":null}}"#,
    ),
    (
        "OpenRouter",
        r#"{"id":"gen-1","object":"chat.completion.chunk","created":1,"model":"mock-model","provider":"X","error":{"code":502,"message":"Provider disconnected"},"choices":[{"index":0,"delta":{"content":""},"finish_reason":"error","native_finish_reason":"error"}]}"#,
    ),
    (
        "LiteLLM",
        r#"{"error":{"message":"litellm.APIConnectionError: connection reset","type":null,"param":null,"code":"500"}}"#,
    ),
];

#[derive(Default)]
struct MockState {
    /// `http://127.0.0.1:port`, for the URLs of images.
    origin: String,
    scenarios: Mutex<VecDeque<Scenario>>,
    posts: AtomicUsize,
    /// Connections accepted.
    connections: AtomicUsize,
    requests: Mutex<Vec<Value>>,
    /// When each response body was dropped before it was complete (the client hung up).
    hangups: Mutex<Vec<Instant>>,
    /// Bytes of response bodies handed to the connection so far.
    bytes_sent: AtomicUsize,
    /// What `ImageUrl` serves, at `/files/{index}`.
    files: Mutex<Vec<Vec<u8>>>,
    /// The `Authorization` header of each download of a file.
    downloads: Mutex<Vec<Option<String>>>,
}

#[derive(Clone)]
pub struct MockUpstream {
    /// Base URL including `/v1`.
    pub base_url: String,
    state: Arc<MockState>,
}

impl MockUpstream {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(MockState {
            origin: format!("http://{addr}"),
            ..MockState::default()
        });
        let app = Router::new()
            .route("/v1/chat/completions", post(chat_completions))
            .route("/v1/images/generations", post(images::generate_image))
            .route("/files/{index}", axum::routing::get(images::download))
            .route(
                "/v1/models",
                axum::routing::get(|| async { Json(json!({ "object": "list", "data": [] })) }),
            )
            .with_state(state.clone());
        let counted = state.clone();
        let listener = listener.tap_io(move |_| {
            counted.connections.fetch_add(1, Ordering::SeqCst);
        });
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self {
            base_url: format!("http://{addr}/v1"),
            state,
        }
    }

    /// Queues what the next requests get; when the queue is empty a short answer is sent.
    pub fn push(&self, scenario: Scenario) {
        self.state.scenarios.lock().unwrap().push_back(scenario);
    }

    pub fn posts(&self) -> usize {
        self.state.posts.load(Ordering::SeqCst)
    }

    /// Connections the mock has accepted.
    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }

    pub fn requests(&self) -> Vec<Value> {
        self.state.requests.lock().unwrap().clone()
    }

    /// Bytes of answers handed to the connection so far: a reader that stops reading
    /// stops this growing once the buffers between are full, unless something on the
    /// way keeps reading into memory.
    pub fn bytes_sent(&self) -> usize {
        self.state.bytes_sent.load(Ordering::SeqCst)
    }

    /// The `Authorization` header each download of an `ImageUrl` image came with.
    pub fn downloads(&self) -> Vec<Option<String>> {
        self.state.downloads.lock().unwrap().clone()
    }

    pub fn hangups(&self) -> Vec<Instant> {
        self.state.hangups.lock().unwrap().clone()
    }

    /// How long after `since` the client hung up; panics if it has not within 3 s.
    pub async fn wait_for_hangup(&self, since: Instant) -> Duration {
        let deadline = Instant::now() + Duration::from_secs(3);
        while self.hangups().is_empty() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let hangup = *self
            .hangups()
            .first()
            .expect("the upstream was never closed");
        hangup.duration_since(since)
    }
}

async fn chat_completions(
    State(state): State<Arc<MockState>>,
    Json(request): Json<Value>,
) -> Response {
    state.posts.fetch_add(1, Ordering::SeqCst);
    state.requests.lock().unwrap().push(request);
    let scenario = state
        .scenarios
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or_else(|| Scenario::answer("Hello from the mock."));
    let guard = HangupGuard {
        state: state.clone(),
        complete: false,
    };
    match scenario {
        Scenario::Status {
            status,
            body,
            retry_after,
        } => status_response(status, body, retry_after),
        Scenario::HangBeforeHeaders => hang(guard).await,
        Scenario::Answer { words, delay } => sse(stream_with_delay(
            complete_answer(&words),
            delay,
            guard,
            End::Clean,
        )),
        Scenario::AnswerAndClose(words) => {
            let mut response = sse(stream_with_delay(
                complete_answer(&words),
                Duration::ZERO,
                guard,
                End::Clean,
            ));
            response
                .headers_mut()
                .insert("connection", "close".parse().unwrap());
            response
        }
        Scenario::StallAfter(words) => sse(stream_with_delay(
            content_chunks(&words),
            Duration::from_millis(5),
            guard,
            End::Stall,
        )),
        Scenario::KeepAliveAfter(words) => {
            let mut chunks = content_chunks(&words);
            chunks.extend(std::iter::repeat_n(": keep-alive\n\n".to_string(), 1000));
            sse(stream_with_delay(
                chunks,
                Duration::from_millis(100),
                guard,
                End::Stall,
            ))
        }
        Scenario::ResetAfter(words) => sse(stream_with_delay(
            content_chunks(&words),
            Duration::from_millis(5),
            guard,
            End::Reset,
        )),
        Scenario::EofWithoutDone(words) => sse(stream_with_delay(
            content_chunks(&words),
            Duration::from_millis(5),
            guard,
            End::Clean,
        )),
        Scenario::MalformedAfter(words) => {
            let mut chunks = content_chunks(&words);
            chunks.push("data: {\"id\": \"x\", \"choices\": [ this is not json\n\n".into());
            chunks.extend(content_chunks(&["never shown".to_string()]));
            chunks.push(finish_chunk());
            chunks.push("data: [DONE]\n\n".into());
            sse(stream_with_delay(
                chunks,
                Duration::from_millis(5),
                guard,
                End::Clean,
            ))
        }
        Scenario::InBandErrorAfter(words) => {
            let mut chunks = content_chunks(&words);
            chunks.push(format!(
                "data: {}\n\n",
                json!({"error": {"message": "The server had an error while processing your request.", "type": "server_error"}})
            ));
            chunks.push("data: [DONE]\n\n".into());
            sse(stream_with_delay(
                chunks,
                Duration::from_millis(5),
                guard,
                End::Clean,
            ))
        }
        Scenario::Flood { chunks, bytes } => {
            let content = chunk(json!({ "content": "x".repeat(bytes) }), Value::Null);
            let end = complete_answer(&[]).into_iter().skip(1).collect::<Vec<_>>();
            sse(stream_with_delay(
                std::iter::repeat_n(content, chunks).chain(end),
                Duration::ZERO,
                guard,
                End::Clean,
            ))
        }
        Scenario::EventAfter(words, data) => {
            let mut chunks = content_chunks(&words);
            chunks.push(format!("data: {data}\n\n"));
            chunks.push("data: [DONE]\n\n".into());
            sse(stream_with_delay(
                chunks,
                Duration::from_millis(5),
                guard,
                End::Clean,
            ))
        }
        Scenario::Fragmented { words, piece } => {
            let bytes = complete_answer(&words).concat().into_bytes();
            let pieces: Vec<String> = bytes.chunks(piece).map(ascii).collect();
            sse(stream_with_delay(
                pieces,
                Duration::from_millis(2),
                guard,
                End::Clean,
            ))
        }
        Scenario::Image { .. }
        | Scenario::ImageUrl { .. }
        | Scenario::NotAnImage
        | Scenario::ImageTooLarge { .. }
        | Scenario::ImageSlow(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "mock: an Images API scenario was queued for a chat completion",
        )
            .into_response(),
        Scenario::Chunks(chunks) => {
            let events = chunks
                .iter()
                .map(|chunk| format!("data: {chunk}\n\n"))
                .chain(["data: [DONE]\n\n".to_string()])
                .collect::<Vec<_>>();
            sse(stream_with_delay(
                events,
                Duration::from_millis(2),
                guard,
                End::Clean,
            ))
        }
    }
}

fn status_response(status: u16, body: String, retry_after: Option<&'static str>) -> Response {
    let mut response = (StatusCode::from_u16(status).unwrap(), body).into_response();
    if let Some(value) = retry_after {
        response
            .headers_mut()
            .insert("retry-after", value.parse().unwrap());
    }
    response
}

async fn hang(guard: HangupGuard) -> Response {
    let _guard = guard;
    tokio::time::sleep(Duration::from_secs(3600)).await;
    StatusCode::OK.into_response()
}

/// Pieces of a byte string may split a UTF-8 character; the tests only split ASCII.
fn ascii(piece: &[u8]) -> String {
    String::from_utf8(piece.to_vec()).expect("fragmented answers are ASCII")
}

fn chunk(delta: Value, finish: Value) -> String {
    let body = json!({
        "id": "chatcmpl-mock", "object": "chat.completion.chunk", "created": 1, "model": "mock-model",
        "choices": [{ "index": 0, "delta": delta, "finish_reason": finish }],
    });
    format!("data: {body}\n\n")
}

fn content_chunks(words: &[String]) -> Vec<String> {
    let mut chunks = vec![chunk(
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    )];
    chunks.extend(
        words
            .iter()
            .map(|w| chunk(json!({ "content": w }), Value::Null)),
    );
    chunks
}

/// Every event of a successful answer: content, finish reason, usage, `[DONE]`.
fn complete_answer(words: &[String]) -> Vec<String> {
    let mut chunks = content_chunks(words);
    chunks.push(finish_chunk());
    chunks.push(usage_chunk(words.len() as u32));
    chunks.push("data: [DONE]\n\n".into());
    chunks
}

fn finish_chunk() -> String {
    chunk(json!({}), json!("stop"))
}

fn usage_chunk(completion_tokens: u32) -> String {
    let body = json!({
        "id": "chatcmpl-mock", "object": "chat.completion.chunk", "created": 1, "model": "mock-model",
        "choices": [],
        "usage": { "prompt_tokens": PROMPT_TOKENS, "completion_tokens": completion_tokens,
                   "total_tokens": PROMPT_TOKENS + completion_tokens },
    });
    format!("data: {body}\n\n")
}

enum End {
    Clean,
    Stall,
    Reset,
}

/// Records a hang-up if the body is dropped before it was sent in full.
struct HangupGuard {
    state: Arc<MockState>,
    complete: bool,
}

impl HangupGuard {
    fn finish(&mut self) {
        self.complete = true;
    }
}

impl Drop for HangupGuard {
    fn drop(&mut self) {
        if !self.complete {
            self.state.hangups.lock().unwrap().push(Instant::now());
        }
    }
}

fn stream_with_delay<C>(
    chunks: C,
    delay: Duration,
    guard: HangupGuard,
    end: End,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send
where
    C: IntoIterator<Item = String>,
    C::IntoIter: Send + 'static,
{
    let body = stream::unfold(
        (chunks.into_iter(), guard, end),
        move |(mut chunks, mut guard, end)| async move {
            // A zero sleep would still wait for the timer's next millisecond.
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            match chunks.next() {
                Some(chunk) => {
                    guard
                        .state
                        .bytes_sent
                        .fetch_add(chunk.len(), Ordering::SeqCst);
                    Some((Ok(Bytes::from(chunk)), (chunks, guard, end)))
                }
                None => match end {
                    End::Clean => {
                        guard.finish();
                        None
                    }
                    End::Stall => {
                        let _guard = guard;
                        std::future::pending::<()>().await;
                        None
                    }
                    End::Reset => {
                        guard.finish();
                        Some((
                            Err(std::io::Error::new(
                                std::io::ErrorKind::ConnectionReset,
                                "reset",
                            )),
                            (chunks, guard, End::Clean),
                        ))
                    }
                },
            }
        },
    );
    // Stop after an error so the connection is aborted rather than continued.
    body.scan(false, |failed, item: Result<Bytes, std::io::Error>| {
        let stop = *failed;
        *failed |= item.is_err();
        std::future::ready((!stop).then_some(item))
    })
}

fn sse(
    body: impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
) -> Response {
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from_stream(body))
        .unwrap()
}
