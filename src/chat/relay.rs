//! The task that writes one answer: it calls the model, forwards each chunk to the
//! request that started the turn, and saves the answer however it ends.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use async_openai::types::chat::CreateChatCompletionRequest;

use sqlx::SqlitePool;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{TurnEvent, Turns, checkpoint::CHECKPOINT_EVERY};
use crate::{
    budget::{Meter, Reservation, count_tokens},
    db::{
        Message,
        messages::{Outcome, update_message_outcome},
    },
    domain::{MessageStatus, now_ms},
    drain::Drain,
    i18n::Text,
    llm::{LlmClient, UpstreamError},
};

/// Why an answer ended.
enum Ending {
    Complete,
    /// The user pressed stop.
    Stopped,
    /// The reader went away (tab closed, connection lost).
    ReaderLeft,
    /// The server is shutting down and the drain deadline passed.
    ShuttingDown,
    Upstream(UpstreamError),
}

/// Checks a whole answer; the error says what does not match.
pub(super) type OutputCheck = Arc<dyn Fn(&str) -> Result<(), Text> + Send + Sync>;

pub(super) struct RunningTurn {
    /// The ledger entry reserved for this call, settled when it ends.
    pub(super) reservation: Reservation,
    pub(super) meter: Meter,
    pub(super) db: SqlitePool,
    pub(super) llm: LlmClient,
    /// The call: a chat's history, or an app's rendered prompt and settings.
    pub(super) request: CreateChatCompletionRequest,
    pub(super) max_output_tokens: u32,
    /// A structured app's check of the whole answer against its output schema.
    pub(super) check: Option<OutputCheck>,
    pub(super) answer: Message,
    pub(super) timeout: Duration,
    /// Cancelled by `stop` or at the end of a shutdown's grace period.
    pub(super) cancel: CancellationToken,
    pub(super) drain: Drain,
    pub(super) events: mpsc::Sender<TurnEvent>,
    pub(super) turns: Turns,
}

impl RunningTurn {
    pub(super) async fn run(mut self) {
        let started = Instant::now();
        metrics::gauge!("model_streams_open").increment(1.0);
        let mut text = String::new();
        let mut checkpointed = started;
        let mut first_token_ms = None;
        let mut usage = None;
        let mut finished = false;
        // Whether the model server accepted the call: a failure after that cuts an answer
        // off (interrupted), a failure before it refuses one (failed).
        let mut accepted = false;
        // Text not yet passed on: the deltas of chunks read together go to the reader as
        // one (one wake-up and one write to the client, not one each).
        let mut unsent = String::new();

        let ending = 'turn: {
            let request = std::mem::take(&mut self.request);
            let call = self.llm.stream(request, self.max_output_tokens);
            let mut stream = tokio::select! {
                biased;
                _ = self.cancel.cancelled() => break 'turn self.cancelled(),
                _ = self.events.closed() => break 'turn Ending::ReaderLeft,
                result = call => match result {
                    Ok(stream) => stream,
                    Err(error) => break 'turn Ending::Upstream(error),
                },
            };
            accepted = true;
            loop {
                if !unsent.is_empty() && !stream.has_ready() {
                    let delta = std::mem::take(&mut unsent);
                    tokio::select! {
                        biased;
                        _ = self.cancel.cancelled() => break 'turn self.cancelled(),
                        // A reader that takes nothing for as long as the model may stall
                        // is gone too: it must not hold the model's connection open forever.
                        sent = tokio::time::timeout(self.timeout, self.events.send(TurnEvent::Delta(delta))) => {
                            if !matches!(sent, Ok(Ok(()))) {
                                break 'turn Ending::ReaderLeft;
                            }
                        }
                    }
                }
                let next = tokio::select! {
                    biased;
                    _ = self.cancel.cancelled() => break 'turn self.cancelled(),
                    _ = self.events.closed() => break 'turn Ending::ReaderLeft,
                    next = tokio::time::timeout(self.timeout, stream.next()) => next,
                };
                let chunk = match next {
                    Ok(Some(Ok(chunk))) => chunk,
                    // A stream that ends, breaks or stalls after the model said it was
                    // done still delivered the whole answer.
                    _ if finished => break 'turn Ending::Complete,
                    Ok(Some(Err(error))) => break 'turn Ending::Upstream(error),
                    // The end of the stream without a finish reason is a cut-off, never a
                    // normal stop.
                    Ok(None) => {
                        tracing::warn!("the model's stream ended without a finish reason");
                        break 'turn Ending::Upstream(UpstreamError::Broken);
                    }
                    Err(_) => {
                        tracing::warn!(timeout = ?self.timeout, "the model's stream stalled");
                        break 'turn Ending::Upstream(UpstreamError::Timeout);
                    }
                };
                if let Some(reported) = chunk.usage {
                    usage = Some(reported);
                }
                // Usage arrives in a last chunk with no choices; only choice 0 is asked for.
                let Some(choice) = chunk.choices.into_iter().find(|c| c.index == 0) else {
                    continue;
                };
                finished |= choice.finish_reason.is_some();
                let Some(delta) = choice.delta.content.filter(|d| !d.is_empty()) else {
                    continue;
                };
                if first_token_ms.is_none() {
                    first_token_ms = Some(started.elapsed().as_millis() as i64);
                    metrics::histogram!("model_first_token_seconds")
                        .record(started.elapsed().as_secs_f64());
                }
                text.push_str(&delta);
                unsent.push_str(&delta);
                if checkpointed.elapsed() >= CHECKPOINT_EVERY {
                    self.turns.checkpoints.save(self.answer.id, &text);
                    checkpointed = Instant::now();
                }
            }
        };

        // What came with the end (as when `[DONE]` was read with the last words) is
        // passed on before the saved answer. A reader that left gets nothing.
        if !unsent.is_empty() {
            let _ = self.events.send(TurnEvent::Delta(unsent)).await;
        }
        let (status, error) = match &ending {
            Ending::Complete => match self.check.as_ref().and_then(|check| check(&text).err()) {
                Some(problem) => {
                    tracing::warn!(%problem, "the answer broke the app's output schema");
                    (MessageStatus::InvalidOutput, Some(problem))
                }
                None => (MessageStatus::Complete, None),
            },
            Ending::Stopped => (
                MessageStatus::Interrupted,
                Some(Text::new("answer-stopped")),
            ),
            Ending::ReaderLeft => (
                MessageStatus::Interrupted,
                Some(Text::new("answer-reader-left")),
            ),
            Ending::ShuttingDown => (
                MessageStatus::Interrupted,
                Some(Text::new("answer-restarted")),
            ),
            Ending::Upstream(e) if accepted && e.is_cut_off() => {
                (MessageStatus::Interrupted, Some(e.user_message()))
            }
            Ending::Upstream(e) => (MessageStatus::Failed, Some(e.user_message())),
        };
        let outcome = Outcome {
            content: text,
            status,
            // By id, in no language: each reader sees it in theirs.
            error: error.map(|text| text.stored()),
            prompt_tokens: usage.as_ref().map(|u| i64::from(u.prompt_tokens)),
            completion_tokens: usage.as_ref().map(|u| i64::from(u.completion_tokens)),
            first_token_ms,
            duration_ms: started.elapsed().as_millis() as i64,
            image: None,
        };
        // No checkpoint may land after the final save (nor, SQLite reusing ids, on a
        // regenerated answer's row).
        self.turns.checkpoints.forget(self.answer.id).await;
        self.turns.forget(&self.answer.conversation_id);
        // A row left `streaming` would block the conversation until the next restart, so a
        // failed save is tried again before giving up.
        for attempt in 1..=3 {
            match update_message_outcome(&self.db, self.answer.id, &outcome).await {
                Ok(()) => break,
                Err(error) => {
                    tracing::error!(%error, attempt, "could not save the answer");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
        tracing::info!(
            status = status.as_str(),
            first_token_ms,
            duration_ms = outcome.duration_ms,
            "answer ended"
        );
        metrics::gauge!("model_streams_open").decrement(1.0);
        metrics::counter!("model_answers_total", "status" => outcome.status.as_str()).increment(1);
        self.settle_usage(&outcome).await;
        let saved = Message {
            content: outcome.content,
            status: outcome.status,
            error: outcome.error,
            prompt_tokens: outcome.prompt_tokens,
            completion_tokens: outcome.completion_tokens,
            first_token_ms: outcome.first_token_ms,
            duration_ms: Some(outcome.duration_ms),
            updated_at: now_ms(),
            ..self.answer
        };
        // The reader may have left; the answer is saved either way.
        let _ = self.events.send(TurnEvent::Done(Box::new(saved))).await;
    }

    /// Replaces the reservation with the real usage; when the server sent none (the
    /// stream broke off), the prompt estimate and a count of the text received.
    async fn settle_usage(&self, outcome: &Outcome) {
        let used = outcome
            .prompt_tokens
            .zip(outcome.completion_tokens)
            .unwrap_or_else(|| {
                (
                    self.reservation.entry.prompt_tokens,
                    count_tokens(&outcome.content) as i64,
                )
            });
        self.meter
            .settle(
                &self.reservation,
                used,
                outcome.status.into(),
                outcome.duration_ms,
            )
            .await;
    }

    fn cancelled(&self) -> Ending {
        if self.drain.is_cut_off() {
            Ending::ShuttingDown
        } else {
            Ending::Stopped
        }
    }
}
