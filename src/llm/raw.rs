//! Every path to the model: a streamed chat completion (with retries and timeouts) whose
//! answer comes back as the server's own server-sent events, split and not decoded. The
//! `/v1` relay passes them on as they are (decoding and encoding again was most of what a
//! relayed stream cost); `Chunks` decodes them for the paths that keep the text.

use std::{ops::Range, pin::Pin, task::Poll, time::Duration};

use async_openai::{
    error::{ApiError, ApiErrorResponse, OpenAIError, WrappedError},
    middleware::HttpRequestFactory,
    types::chat::CreateChatCompletionRequest,
};
use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use http::StatusCode;

use super::{
    LlmClient, Scrub, UpstreamError,
    in_band::in_band_error,
    retry::names_quota,
    upstream::{Answer, Failure},
};

impl LlmClient {
    /// Starts a streamed chat completion and returns its events undecoded.
    ///
    /// The request is encoded at once, not at the first poll: the waiting future then
    /// holds its bytes instead of the request (which took most of a waiting call's
    /// memory, kept until the answer began).
    pub fn stream_raw(
        &self,
        mut request: CreateChatCompletionRequest,
        max_output_tokens: u32,
    ) -> impl Future<Output = Result<RawEvents, UpstreamError>> + Send + '_ {
        self.prepare(&mut request, max_output_tokens);
        let body = serde_json::to_vec(&request).map(Bytes::from);
        async move {
            let body = body.map_err(|_| UpstreamError::Malformed)?;
            let answer = self
                .retry
                .run(|attempt| self.try_post(&body, attempt))
                .await;
            let answer = answer.map_err(|failed| failed.report(&self.scrub))?;
            Ok(RawEvents::new(Box::pin(answer), self.scrub.clone()))
        }
    }

    /// One try at a completion: its answer, or why not and whether to try again.
    async fn try_post(
        &self,
        body: &Bytes,
        attempt: u32,
    ) -> (Result<Answer, Failed>, Option<Duration>) {
        let authorization = self.authorization.as_ref();
        match self.upstream.post(body.clone(), authorization).await {
            Ok((status, _, answer)) if status.is_success() => (Ok(answer), None),
            Ok((status, headers, answer)) => match answer.read(MAX_REFUSAL_BYTES).await {
                Ok(text) => {
                    let quota = names_quota(&text);
                    let wait = self.retry.wait_after(status, &headers, quota, attempt);
                    (Err(Failed::Refused(status, text)), wait)
                }
                Err(error) => (
                    Err(Failed::Lost(UpstreamError::Broken, error.to_string())),
                    None,
                ),
            },
            Err(Failure::Connect(cause)) => (
                Err(Failed::Lost(UpstreamError::Unreachable, cause)),
                Some(self.retry.backoff(attempt)),
            ),
            Err(Failure::Timeout) => (
                Err(Failed::Lost(
                    UpstreamError::Timeout,
                    "no response headers in time".into(),
                )),
                None,
            ),
            Err(Failure::Broken(error)) => (
                Err(Failed::Lost(UpstreamError::Broken, error.to_string())),
                None,
            ),
        }
    }

    /// A JSON POST with our credentials, rebuilt for each try as async-openai's own
    /// requests are.
    pub(super) fn post_json(
        &self,
        http: &reqwest::Client,
        url: &reqwest::Url,
        body: Bytes,
    ) -> HttpRequestFactory {
        let http = http.clone();
        let url = url.clone();
        let authorization = self.authorization.clone();
        HttpRequestFactory::new(move || {
            let mut request = http
                .post(url.clone())
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone());
            if let Some(authorization) = &authorization {
                request = request.header(reqwest::header::AUTHORIZATION, authorization.clone());
            }
            let built = request.build().map_err(OpenAIError::Reqwest);
            async move { built }
        })
    }
}

/// A non-success response, read and classified the way async-openai's are. Its body is
/// logged, without our key (some servers quote the key they were sent).
pub(super) async fn refusal(response: reqwest::Response, scrub: &Scrub) -> UpstreamError {
    let status = response.status();
    match response.bytes().await {
        Ok(bytes) => refused(status, &bytes, scrub),
        Err(error) => OpenAIError::Reqwest(error).into(),
    }
}

/// Why a try at a completion got no answer; only the last try's is reported.
enum Failed {
    /// The server answered with this status and explanation.
    Refused(StatusCode, Bytes),
    /// No response, or none whole: what it means, and the cause for the log.
    Lost(UpstreamError, String),
}

impl Failed {
    fn report(self, scrub: &Scrub) -> UpstreamError {
        match self {
            Failed::Refused(status, text) => refused(status, &text, scrub),
            Failed::Lost(error, cause) => error.report(&cause),
        }
    }
}

/// The most of a refusal's body that is read: an explanation, not an answer.
const MAX_REFUSAL_BYTES: usize = 64 * 1024;

/// What a server's refusal with `status` and `body` means.
fn refused(status: StatusCode, body: &[u8], scrub: &Scrub) -> UpstreamError {
    let body = scrub.clean(&String::from_utf8_lossy(body));
    let api_error = serde_json::from_str::<WrappedError>(&body)
        .map(|wrapped| wrapped.error)
        .unwrap_or_else(|_| ApiError {
            message: body,
            ..ApiError::default()
        });
    OpenAIError::ApiError(ApiErrorResponse {
        status_code: status,
        api_error,
    })
    .into()
}

/// An answer's body: the connection's (`upstream::Answer`), or any stream in tests.
type Body = Pin<Box<dyn Stream<Item = Result<Bytes, hyper::Error>> + Send>>;

/// A streamed answer's events, each the text of its `data:` field(s).
///
/// Events are found by offsets into what was read, not split off line by line: a read
/// of fifty events is one buffer and fifty ranges, where splitting took and dropped a
/// reference count per line.
pub struct RawEvents {
    body: Body,
    /// Takes our key out of what the server says, before it is logged.
    scrub: Scrub,
    /// What came after the last complete event: the start of one cut off by a read.
    rest: BytesMut,
    /// How far `rest` is read into lines, and its event's `data:` lines so far.
    scan: Scan,
    /// An error or the end met while gathering, returned after the events before it.
    after: Option<After>,
}

#[derive(Default)]
struct Scan {
    read: usize,
    lines: Vec<Range<usize>>,
}

/// What one event of a streamed answer is: the one reading of events that both the
/// page path and the `/v1` relay use.
pub enum Event<'a> {
    /// A chunk of the answer (a JSON object, passed on or decoded by the caller).
    Chunk(&'a [u8]),
    /// `[DONE]`: the server finished.
    Done,
    /// The server reported an error in the stream, or sent something that is no chunk.
    Failed(UpstreamError),
}

/// The events finished by one read from the server.
pub struct Events {
    text: Bytes,
    /// Each event's `data:` lines as ranges of `text`, the last line of each marked.
    lines: Vec<(Range<usize>, bool)>,
}

impl Events {
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.lines
            .iter()
            .map(|(range, _)| &self.text[range.clone()])
    }

    /// How many events.
    pub fn count(&self) -> usize {
        self.lines.len()
    }

    /// The bytes of every event together.
    pub fn bytes(&self) -> usize {
        self.lines.iter().map(|(range, _)| range.len()).sum()
    }

    /// One range per event: an event of several `data:` lines is joined with `\n`
    /// into text of its own (rare: servers write one JSON object per line).
    fn joined(self) -> Self {
        if self.lines.iter().all(|&(_, last)| last) {
            return self;
        }
        let mut text = BytesMut::with_capacity(self.bytes() + self.lines.len());
        let mut lines = Vec::new();
        let mut start = 0;
        for (range, last) in &self.lines {
            text.extend_from_slice(&self.text[range.clone()]);
            if *last {
                lines.push((start..text.len(), true));
                start = text.len();
            } else {
                text.extend_from_slice(b"\n");
            }
        }
        Self {
            text: text.freeze(),
            lines,
        }
    }
}

impl RawEvents {
    fn new(body: Body, scrub: Scrub) -> Self {
        Self {
            body,
            scrub,
            rest: BytesMut::new(),
            scan: Scan::default(),
            after: None,
        }
    }

    /// Reads one event: the end, an error the server reported in the stream (in any of
    /// the shapes of `in_band`), something that is not a JSON object, or a chunk.
    pub fn classify<'a>(&self, data: &'a [u8]) -> Event<'a> {
        if data == b"[DONE]" {
            return Event::Done;
        }
        let data = data.trim_ascii();
        // A cut-off or garbled event rarely still ends with a brace.
        let error = if !(data.starts_with(b"{") && data.ends_with(b"}")) {
            UpstreamError::Malformed
        } else {
            let Some(reported) = in_band_error(data) else {
                return Event::Chunk(data);
            };
            tracing::warn!(
                kind = reported.kind.as_deref().unwrap_or_default(),
                message = %self.scrub.clean(&reported.message),
                "the model server reported an error in the stream"
            );
            UpstreamError::InBand
        };
        metrics::counter!("model_errors_total", "kind" => error.kind()).increment(1);
        Event::Failed(error)
    }

    /// The events completed by what the server has sent (at least one), or `None` at the
    /// end of the body. An event cut off by the end is dropped, as a browser's
    /// `EventSource` drops it.
    ///
    /// Servers send each event as an HTTP chunk of its own, and hyper hands a body over
    /// one chunk at a time. So after a chunk, what the connection already has is taken
    /// too (see `gather`), and the events read together go on together: one write to
    /// the client instead of one per event.
    pub async fn next(&mut self) -> Option<Result<Events, UpstreamError>> {
        loop {
            match self.after.take() {
                Some(After::Failed(error)) => return Some(Err(error)),
                Some(After::End) => {
                    self.after = Some(After::End);
                    return None;
                }
                None => {}
            }
            let chunk = match self.body.next().await? {
                Ok(chunk) => chunk,
                Err(error) => return Some(Err(UpstreamError::Broken.report(&error))),
            };
            let more = self.gather().await;
            let events = self.split(chunk, &more);
            if events.count() > 0 {
                return Some(Ok(events.joined()));
            }
        }
    }

    /// The events the server has already sent, without waiting for any: `None` when
    /// none is complete yet. A relay takes them before its response goes out, so that
    /// the headers and the first events reach the client in one write.
    pub async fn ready(&mut self) -> Option<Events> {
        // The connection reads none of the body before it is asked for it: this asks.
        let first = match self.poll_body().await {
            Poll::Ready(Some(Ok(chunk))) => Some(chunk),
            Poll::Ready(Some(Err(error))) => {
                self.after = Some(After::Failed(UpstreamError::Broken.report(&error)));
                return None;
            }
            Poll::Ready(None) => {
                self.after = Some(After::End);
                return None;
            }
            Poll::Pending => None,
        };
        let more = self.gather().await;
        let (first, more) = match first {
            Some(first) => (first, &more[..]),
            None => {
                let (first, more) = more.split_first()?;
                (first.clone(), more)
            }
        };
        let events = self.split(first, more);
        (events.count() > 0).then(|| events.joined())
    }

    /// The body's next chunk if it is there, without waiting.
    async fn poll_body(&mut self) -> Poll<Option<Result<Bytes, hyper::Error>>> {
        std::future::poll_fn(|cx| Poll::Ready(self.body.poll_next_unpin(cx))).await
    }

    /// The events completed by `chunk` and `more` after it; the rest is kept.
    fn split(&mut self, chunk: Bytes, more: &[Bytes]) -> Events {
        if self.rest.is_empty() && more.is_empty() {
            // Most reads start at an event and end with one: nothing is copied.
            let (lines, complete) = self.scan.lines(&chunk);
            self.rest.extend_from_slice(&chunk[complete..]);
            self.scan.forget(complete);
            return Events { text: chunk, lines };
        }
        self.rest.extend_from_slice(&chunk);
        for chunk in more {
            self.rest.extend_from_slice(chunk);
        }
        let (lines, complete) = self.scan.lines(&self.rest);
        self.scan.forget(complete);
        Events {
            text: self.rest.split_to(complete).freeze(),
            lines,
        }
    }

    /// The chunks the connection already has or can read without waiting for the
    /// server (each poll of the body lets it decode one more): an error or the end of
    /// the body is kept for the next call.
    async fn gather(&mut self) -> Vec<Bytes> {
        let mut more = Vec::new();
        let mut bytes = 0;
        while bytes < GATHER_LIMIT {
            match self.poll_body().await {
                Poll::Ready(Some(Ok(chunk))) => {
                    bytes += chunk.len();
                    more.push(chunk);
                }
                Poll::Ready(Some(Err(error))) => {
                    self.after = Some(After::Failed(UpstreamError::Broken.report(&error)));
                    break;
                }
                Poll::Ready(None) => {
                    self.after = Some(After::End);
                    break;
                }
                Poll::Pending => break,
            }
        }
        more
    }
}

/// Most bytes gathered into one batch: a client waits for none of them longer than it
/// takes to take this much from memory.
const GATHER_LIMIT: usize = 64 * 1024;

/// What a gather met after its chunks, for the next call.
enum After {
    Failed(UpstreamError),
    End,
}

impl Scan {
    /// Reads `text`'s lines from where the last call stopped. Returns the `data:` lines
    /// of the events they complete, and how much of `text` those events take: the rest
    /// is kept for the next read.
    fn lines(&mut self, text: &[u8]) -> (Vec<(Range<usize>, bool)>, usize) {
        // About one event per 128 bytes (OpenAI's chunks are 150 to 250): rarely grown.
        let mut events = Vec::with_capacity((text.len() - self.read) / 128);
        let mut complete = 0;
        while let Some(at) = memchr::memchr(b'\n', &text[self.read..]) {
            let start = self.read;
            let mut end = start + at;
            self.read = end + 1;
            if end > start && text[end - 1] == b'\r' {
                end -= 1;
            }
            let line = &text[start..end];
            if line.is_empty() {
                // A blank line ends an event; one without `data:` lines is none.
                let count = self.lines.len();
                events.extend(
                    self.lines
                        .drain(..)
                        .enumerate()
                        .map(|(i, range)| (range, i + 1 == count)),
                );
                complete = self.read;
            } else if line.starts_with(b"data:") {
                let skip = if line.get(5) == Some(&b' ') { 6 } else { 5 };
                self.lines.push(start + skip..end);
            }
            // Other fields (`event:`, `id:`, `retry:`) and `:` comments (keep-alives)
            // carry nothing a chat completion uses.
        }
        (events, complete)
    }

    /// Moves the offsets back by the `complete` bytes taken from the front.
    fn forget(&mut self, complete: usize) {
        self.read -= complete;
        for line in &mut self.lines {
            *line = line.start - complete..line.end - complete;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(pieces: &[&str]) -> Vec<String> {
        let body = futures_util::stream::iter(
            pieces
                .iter()
                .map(|p| Ok(Bytes::copy_from_slice(p.as_bytes())))
                .collect::<Vec<Result<Bytes, hyper::Error>>>(),
        );
        let mut raw = RawEvents::new(Box::pin(body), Scrub::default());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(async {
            let mut all = Vec::new();
            while let Some(batch) = raw.next().await {
                for event in batch.unwrap().iter() {
                    all.push(String::from_utf8(event.to_vec()).unwrap());
                }
            }
            all
        })
    }

    #[test]
    fn chunks_already_there_come_as_one_batch_and_later_ones_are_not_waited_for() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        runtime.block_on(async {
            let (send, receive) =
                tokio::sync::mpsc::unbounded_channel::<Result<Bytes, hyper::Error>>();
            let body = futures_util::stream::unfold(receive, |mut receive| async move {
                receive.recv().await.map(|chunk| (chunk, receive))
            });
            let mut raw = RawEvents::new(Box::pin(body), Scrub::default());
            let chunk = |n: usize| Ok(Bytes::from(format!("data: {{\"n\":{n}}}\n\n")));
            for n in 1..=3 {
                send.send(chunk(n)).unwrap();
            }
            // The fourth comes only after the first batch is taken, as a server's next
            // write would.
            let later = send.clone();
            let batch = tokio::time::timeout(std::time::Duration::from_secs(5), raw.next())
                .await
                .expect("the batch waited for a chunk that was not there")
                .unwrap()
                .unwrap();
            let first: Vec<&[u8]> = batch.iter().collect();
            assert_eq!(first, [&b"{\"n\":1}"[..], b"{\"n\":2}", b"{\"n\":3}"]);
            later.send(chunk(4)).unwrap();
            drop((send, later));
            let batch = raw.next().await.unwrap().unwrap();
            assert_eq!(batch.iter().collect::<Vec<_>>(), [&b"{\"n\":4}"[..]]);
            assert!(raw.next().await.is_none());
            assert!(raw.next().await.is_none(), "the end stays the end");
        });
    }

    #[test]
    fn events_split_across_reads_and_line_endings_come_out_whole() {
        assert_eq!(
            events(&[
                "data: {\"a\":1}\n\nda",
                "ta: {\"b\":",
                "2}\r\n\r\n: keep-alive\n\nevent: x\ndata:{\"c\":3}\n",
                "\ndata: [DONE]\n\n",
            ]),
            ["{\"a\":1}", "{\"b\":2}", "{\"c\":3}", "[DONE]"]
        );
    }

    #[test]
    fn multi_line_data_is_joined_and_a_cut_off_event_is_dropped() {
        assert_eq!(
            events(&["data: line one\ndata: line two\n\ndata: {\"cut\":"]),
            ["line one\nline two"]
        );
        assert_eq!(
            events(&[
                "data: {\"a\":1}\n\ndata: {\"b\":\ndata: 2}\n",
                "data: x\n\ndata: {\"c\":3}\n\n",
                "data: [DONE]\n\n"
            ]),
            ["{\"a\":1}", "{\"b\":\n2}\nx", "{\"c\":3}", "[DONE]"]
        );
    }
}
