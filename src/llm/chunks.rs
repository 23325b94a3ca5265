//! A streamed answer decoded into typed chunks, for the paths that keep its text (a turn
//! of the pages and the JSON API, a collected `/v1` answer).
//!
//! The chunks are decoded here, as they are read: nothing is read from the server ahead
//! of the caller (async-openai's stream read on in a task of its own into an unbounded
//! queue, so a slow reader let a fast server fill memory), and dropping `Chunks` closes
//! the connection at once.

use std::collections::VecDeque;

use async_openai::types::chat::CreateChatCompletionStreamResponse;

use super::{Event, RawEvents, UpstreamError};

pub type Chunk = CreateChatCompletionStreamResponse;

pub struct Chunks {
    events: RawEvents,
    /// Decoded from the last read and not yet taken; ends with an error if one came.
    decoded: VecDeque<Result<Chunk, UpstreamError>>,
    /// `[DONE]` or an error came: nothing more is read.
    ended: bool,
}

impl Chunks {
    pub(super) fn new(events: RawEvents) -> Self {
        Self {
            events,
            decoded: VecDeque::new(),
            ended: false,
        }
    }

    /// Whether chunks already read are waiting: `next` returns one without a read.
    pub fn has_ready(&self) -> bool {
        !self.decoded.is_empty()
    }

    /// The next chunk; `None` after `[DONE]` or at the end of the body (the caller tells a
    /// finished answer from a cut-off one by its finish reason); an error once, then `None`.
    pub async fn next(&mut self) -> Option<Result<Chunk, UpstreamError>> {
        loop {
            if let Some(next) = self.decoded.pop_front() {
                return Some(next);
            }
            if self.ended {
                return None;
            }
            let batch = match self.events.next().await {
                Some(Ok(batch)) => batch,
                Some(Err(error)) => {
                    self.ended = true;
                    return Some(Err(error));
                }
                None => {
                    self.ended = true;
                    return None;
                }
            };
            for data in batch.iter() {
                let decoded = match self.events.classify(data) {
                    Event::Chunk(data) => serde_json::from_slice::<Chunk>(data).map_err(|error| {
                        tracing::warn!(%error, "the model server sent a chunk that is not one");
                        metrics::counter!("model_errors_total", "kind" => UpstreamError::Malformed.kind())
                            .increment(1);
                        UpstreamError::Malformed
                    }),
                    Event::Done => {
                        self.ended = true;
                        break;
                    }
                    Event::Failed(error) => Err(error),
                };
                let failed = decoded.is_err();
                self.decoded.push_back(decoded);
                if failed {
                    self.ended = true;
                    break;
                }
            }
        }
    }
}
