//! A `/v1` call from the upstream's answer to the client: the ledger entry it settles
//! however it ends, and the streamed relay (the upstream's own events, checked by the
//! `sse` scanner and passed on, not decoded). The non-streamed answer is `collect`'s.

use std::{
    convert::Infallible,
    future::Future,
    pin::Pin,
    time::{Duration, Instant},
};

use axum::{
    body::Body,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use bytes::{BufMut, Bytes, BytesMut};
use futures_util::stream;
use tokio::time::Sleep;

use super::{
    super::bodies::OpenAiError,
    sse::{Keys, rename_model},
};
use crate::{
    budget::{Meter, Reservation, count_tokens},
    domain::EntryStatus,
    drain::Held,
    error::AppError,
    llm::{Event, Events, RawEvents, UpstreamError},
};

/// The usage row of one call. It is settled when the call ends; a client that leaves
/// drops it mid-stream, and `Drop` settles it then.
pub(super) struct Ledger {
    pub(super) meter: Meter,
    pub(super) reservation: Reservation,
    pub(super) started: Instant,
    /// The text received (a collected answer's words, refusal and tool calls), for an
    /// estimate when no usage came.
    pub(super) text: String,
    /// Chunks of content or tool calls relayed (the streamed answer), one token each by
    /// OpenAI's and most servers' streaming, for an estimate when no usage came.
    pub(super) chunks: i64,
    /// The provider's prompt and completion tokens.
    pub(super) usage: Option<(i64, i64)>,
    pub(super) settled: bool,
}

impl Ledger {
    pub(super) async fn settle(&mut self, status: EntryStatus) {
        self.settled = true;
        let used = self.used();
        self.meter
            .settle(
                &self.reservation,
                used,
                status,
                self.started.elapsed().as_millis() as i64,
            )
            .await;
    }

    /// Waits for the upstream call to start; a call that could not start is settled as
    /// failed, one still waiting when a shutdown's grace period ends as interrupted.
    /// The call is pinned by the caller: taken by value, it was stored twice in this
    /// future (as the argument and inside `select!`), the largest part of a waiting call.
    pub(super) async fn started<T>(
        &mut self,
        held: &mut Held,
        call: Pin<&mut impl Future<Output = Result<T, UpstreamError>>>,
    ) -> Result<T, AppError> {
        tokio::select! {
            result = call => match result {
                Ok(started) => Ok(started),
                Err(error) => {
                    self.settle(EntryStatus::Failed).await;
                    Err(AppError::Upstream(error))
                }
            },
            () = held => {
                self.settle(EntryStatus::Interrupted).await;
                Err(AppError::ShuttingDown)
            }
        }
    }

    /// The provider's figures, or else the prompt estimate and the answer's estimate.
    fn used(&self) -> (i64, i64) {
        self.usage.unwrap_or_else(|| {
            let completion = if self.text.is_empty() {
                self.chunks
            } else {
                count_tokens(&self.text) as i64
            };
            (self.reservation.entry.prompt_tokens, completion)
        })
    }
}

impl Drop for Ledger {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        // The client went away mid-stream, or its connection was closed at shutdown: the
        // upstream call is being dropped with this relay; what it used so far is still
        // billed. Queued to the ledger's writer at once (no task that a stopping runtime
        // might never run), so shutdown's last flush writes it.
        self.meter.settle_now(
            &self.reservation,
            self.used(),
            EntryStatus::Interrupted,
            self.started.elapsed().as_millis() as i64,
        );
    }
}

/// A streamed answer on its way to the client: the upstream's events passed on as they
/// arrive (several to a write when they arrive together), then `[DONE]` once the ledger
/// has the call (the events before it never wait for the ledger). A failure mid-stream
/// ends with an in-band error event, never `[DONE]`.
pub(super) struct Relay {
    pub(super) events: RawEvents,
    /// The events the server had already sent when the response was made: sent with
    /// the headers, in one write.
    pub(super) first: Option<Events>,
    pub(super) ledger: Ledger,
    /// The model name the client asked for, as a JSON string, reported in every chunk.
    pub(super) exposed: String,
    pub(super) include_usage: bool,
    pub(super) timeout: Duration,
    /// Fires when no event has come for `timeout`.
    pub(super) idle: Pin<Box<Sleep>>,
    /// Open until the stream ends; cut off at the end of a shutdown's grace period.
    pub(super) held: Held,
    /// A chunk with a finish reason arrived: an end without `[DONE]` is still complete.
    pub(super) finished: bool,
    /// The upstream's `[DONE]` came with the answer's last events: those went out
    /// first, and `[DONE]` follows once the ledger has the call.
    pub(super) done: bool,
}

/// The last event of a stream cut off by a shutdown. `/v1` speaks English only (see
/// `render_errors`), so its stream's words are written here.
const SHUTTING_DOWN: &str = "The server is restarting: this answer was cut off. Please try again.";

/// What one upstream event means for the stream.
enum Flow {
    Continue,
    Done,
    Failed(UpstreamError),
}

/// The usage chunk's fields, read only from an event that carries usage.
#[derive(serde::Deserialize)]
struct UsageChunk {
    #[serde(default)]
    choices: Vec<serde::de::IgnoredAny>,
    usage: Option<Usage>,
}

#[derive(serde::Deserialize)]
struct Usage {
    prompt_tokens: i64,
    completion_tokens: i64,
}

impl Relay {
    pub(super) fn into_response(self) -> Response {
        let frames = stream::unfold(Some(self), |relay| async move {
            let mut relay = relay?;
            let (frame, next) = relay.next_frame().await;
            Some((Ok::<_, Infallible>(frame), next.then_some(relay)))
        });
        (
            [
                (header::CONTENT_TYPE, "text/event-stream"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            Body::from_stream(frames),
        )
            .into_response()
    }

    /// The next bytes for the client, and whether more will follow.
    async fn next_frame(&mut self) -> (Bytes, bool) {
        if self.done {
            return self.finish(BytesMut::new()).await;
        }
        loop {
            let next = if let Some(first) = self.first.take() {
                Some(Ok(first))
            } else {
                tokio::select! {
                    next = self.events.next() => next,
                    () = &mut self.idle => {
                        return self.fail(BytesMut::new(), &UpstreamError::Timeout.user_message().to_string()).await;
                    }
                    () = &mut self.held => {
                        return self.fail(BytesMut::new(), SHUTTING_DOWN).await;
                    }
                }
            };
            let batch = match next {
                Some(Ok(batch)) => batch,
                Some(Err(error)) => {
                    return self
                        .fail(BytesMut::new(), &error.user_message().to_string())
                        .await;
                }
                None if self.finished => return self.finish(BytesMut::new()).await,
                None => {
                    return self
                        .fail(
                            BytesMut::new(),
                            &UpstreamError::Broken.user_message().to_string(),
                        )
                        .await;
                }
            };
            // Moving a deadline later is an atomic store; a new timeout per read was a
            // timer registered and removed for every chunk of every stream.
            self.idle
                .as_mut()
                .reset(tokio::time::Instant::now() + self.timeout);
            let mut out = BytesMut::with_capacity(batch.bytes() + 8 * batch.count());
            for event in batch.iter() {
                match self.take(event, &mut out) {
                    Flow::Continue => {}
                    // The answer is not held back for the ledger write; only `[DONE]` is.
                    Flow::Done if !out.is_empty() => {
                        self.done = true;
                        return (out.freeze(), true);
                    }
                    Flow::Done => return self.finish(out).await,
                    Flow::Failed(error) => {
                        return self.fail(out, &error.user_message().to_string()).await;
                    }
                }
            }
            if !out.is_empty() {
                return (out.freeze(), true);
            }
        }
    }

    /// Checks one event, notes what the ledger needs from it and writes it to `out`.
    fn take(&mut self, data: &[u8], out: &mut BytesMut) -> Flow {
        let data = match self.events.classify(data) {
            Event::Chunk(data) => data,
            Event::Done => return Flow::Done,
            Event::Failed(error) => return Flow::Failed(error),
        };
        let keys = Keys::find(data);
        let mut usage_only = false;
        if keys.usage {
            match serde_json::from_slice::<UsageChunk>(data) {
                Ok(chunk) => {
                    if let Some(usage) = chunk.usage {
                        self.ledger.usage = Some((usage.prompt_tokens, usage.completion_tokens));
                    }
                    usage_only = chunk.choices.is_empty();
                }
                Err(_) => return Flow::Failed(UpstreamError::Malformed),
            }
        }
        if keys.content || keys.tool_calls {
            self.ledger.chunks += 1;
        }
        if keys.finish_reason {
            self.finished = true;
        }
        if usage_only && !self.include_usage {
            return Flow::Continue;
        }
        out.extend_from_slice(b"data: ");
        rename_model(data, keys.model, &self.exposed, out);
        out.extend_from_slice(b"\n\n");
        Flow::Continue
    }

    async fn finish(&mut self, mut out: BytesMut) -> (Bytes, bool) {
        self.ledger.settle(EntryStatus::Complete).await;
        out.extend_from_slice(b"data: [DONE]\n\n");
        (out.freeze(), false)
    }

    async fn fail(&mut self, mut out: BytesMut, message: &str) -> (Bytes, bool) {
        self.ledger.settle(EntryStatus::Interrupted).await;
        error_event(message, &mut out);
        (out.freeze(), false)
    }
}

/// Writes the event that ends a failed stream: OpenAI's error body, as the model server
/// failing would have it (502's).
fn error_event(message: &str, out: &mut BytesMut) {
    let body = OpenAiError::new(StatusCode::BAD_GATEWAY, message);
    out.extend_from_slice(b"data: ");
    serde_json::to_writer((&mut *out).writer(), &body).expect("an error body serializes");
    out.extend_from_slice(b"\n\n");
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    #[test]
    fn a_failed_stream_ends_with_an_event_holding_the_v1_error_body() {
        let mut out = BytesMut::new();
        error_event("The model server failed.", &mut out);
        let event = std::str::from_utf8(&out).unwrap();
        let data = event
            .strip_prefix("data: ")
            .and_then(|rest| rest.strip_suffix("\n\n"))
            .unwrap();
        let expected = OpenAiError::new(StatusCode::BAD_GATEWAY, "The model server failed.");
        assert_eq!(data, serde_json::to_string(&expected).unwrap());
        let body: Value = serde_json::from_str(data).unwrap();
        assert_eq!(
            body,
            json!({ "error": {
                "message": "The model server failed.",
                "type": "server_error",
                "param": null,
                "code": "upstream_error",
            } })
        );
    }
}
