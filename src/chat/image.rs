//! The task that makes an image app's picture: one call to the Images API, the picture
//! stored by its hash with the answer, and the call settled in the ledger like a chat
//! answer. A picture is not streamed: the reader gets the saved answer at the end.

use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use sqlx::SqlitePool;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{TurnEvent, Turns};
use crate::{
    budget::{Meter, Reservation},
    db::{
        Message,
        images::insert_image,
        messages::{Outcome, update_message_outcome},
    },
    domain::{MessageStatus, now_ms},
    drain::Drain,
    i18n::Text,
    llm::{GeneratedImage, LlmClient, UpstreamError},
};

pub(super) struct ImageTurn {
    pub(super) reservation: Reservation,
    pub(super) meter: Meter,
    pub(super) db: SqlitePool,
    pub(super) llm: LlmClient,
    pub(super) model: String,
    /// The rendered prompt, as one text.
    pub(super) prompt: String,
    pub(super) size: Option<String>,
    pub(super) answer: Message,
    /// Cancelled by `stop` or at the end of a shutdown's grace period. A reader who
    /// leaves does not cancel a picture: it is saved for the run's page.
    pub(super) cancel: CancellationToken,
    pub(super) drain: Drain,
    pub(super) events: mpsc::Sender<TurnEvent>,
    pub(super) turns: Turns,
}

impl ImageTurn {
    pub(super) async fn run(self) {
        let started = Instant::now();
        let call = self
            .llm
            .generate_image(&self.model, &self.prompt, self.size.as_deref());
        let result = tokio::select! {
            biased;
            _ = self.cancel.cancelled() => Err(if self.drain.is_cut_off() {
                Text::new("picture-restarted")
            } else {
                Text::new("answer-stopped")
            }),
            result = call => result.map_err(|e: UpstreamError| e.user_message()),
        };
        let duration_ms = started.elapsed().as_millis() as i64;
        let (image, outcome) = match result {
            Ok(GeneratedImage {
                bytes, mime, usage, ..
            }) => {
                let hash: String = Sha256::digest(&bytes)
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                let outcome = Outcome {
                    content: format!("A picture of: {}", self.prompt.trim()),
                    status: MessageStatus::Complete,
                    error: None,
                    prompt_tokens: usage.map(|(input, _)| i64::from(input)),
                    completion_tokens: usage.map(|(_, output)| i64::from(output)),
                    first_token_ms: Some(duration_ms),
                    duration_ms,
                    image: Some(hash.clone()),
                };
                (Some((hash, mime, bytes)), outcome)
            }
            Err(error) => (
                None,
                Outcome {
                    content: String::new(),
                    status: MessageStatus::Failed,
                    error: Some(error.stored()),
                    prompt_tokens: None,
                    completion_tokens: None,
                    first_token_ms: None,
                    duration_ms,
                    image: None,
                },
            ),
        };
        self.turns.forget(&self.answer.conversation_id);
        for attempt in 1..=3 {
            match self.save(&outcome, image.as_ref()).await {
                Ok(()) => break,
                Err(error) => {
                    tracing::error!(%error, attempt, "could not save the picture's answer");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
        tracing::info!(
            status = outcome.status.as_str(),
            duration_ms,
            "picture ended"
        );
        metrics::counter!("model_answers_total", "status" => outcome.status.as_str()).increment(1);
        // A picture's tokens, when the server does not count them: what the reservation
        // assumed.
        let used = outcome
            .prompt_tokens
            .zip(outcome.completion_tokens)
            .unwrap_or((
                self.reservation.entry.prompt_tokens,
                if outcome.status == MessageStatus::Complete {
                    self.reservation.entry.completion_tokens
                } else {
                    0
                },
            ));
        self.meter
            .settle(&self.reservation, used, outcome.status.into(), duration_ms)
            .await;
        let saved = Message {
            content: outcome.content,
            status: outcome.status,
            error: outcome.error,
            prompt_tokens: outcome.prompt_tokens,
            completion_tokens: outcome.completion_tokens,
            first_token_ms: outcome.first_token_ms,
            duration_ms: Some(outcome.duration_ms),
            updated_at: now_ms(),
            image: outcome.image,
            ..self.answer
        };
        let _ = self.events.send(TurnEvent::Done(Box::new(saved))).await;
    }

    /// The picture and the answer that points at it, in one transaction.
    async fn save(
        &self,
        outcome: &Outcome,
        image: Option<&(String, &'static str, bytes::Bytes)>,
    ) -> sqlx::Result<()> {
        let mut tx = self.db.begin_with("BEGIN IMMEDIATE").await?;
        if let Some((hash, mime, bytes)) = image {
            insert_image(&mut tx, hash, self.answer.id, mime, bytes).await?;
        }
        update_message_outcome(&mut *tx, self.answer.id, outcome).await?;
        tx.commit().await
    }
}
