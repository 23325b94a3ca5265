//! Dataset batches: one prompt app (or the chat prompt) run over many inputs in the
//! background, for the review queue and the exports. The batches and their items live
//! in the database, so a restart picks up where the last process stopped: an item whose
//! answer was saved is done, one cut off runs again, and nothing completed runs twice.
//!
//! - `upload.rs` — a CSV or JSONL file read into checked inputs, every bad row listed.
//! - `generate.rs` — inputs proposed by the model from a seed, near-duplicates dropped.
//! - `runner.rs` — a task started with the server that claims pending items, each batch
//!   at its own concurrency, and runs each as an ordinary app run or chat turn of the
//!   batch's creator.
//! - this file — what a batch runs ([`Target`]), and pause, resume, cancel, progress.

pub mod generate;
mod runner;
pub mod upload;

pub use runner::{Runner, run};

use serde_json::{Value, json};

use crate::{
    AppState,
    apps::{App, validate_input},
    chat,
    db::batches::{self, Batch, BatchSource, BatchState},
    i18n::Text,
};

/// The window an ETA's rate is measured over.
const RATE_WINDOW_MS: i64 = 5 * 60 * 1000;

/// The field a chat batch's inputs carry.
pub const CHAT_FIELD: &str = "message";

/// What a batch runs each input through.
pub enum Target<'a> {
    App(&'a App),
    /// The site's chat prompt: each input is `{"message": "..."}`.
    Chat {
        max_chars: usize,
    },
}

impl Target<'_> {
    /// "the app `summarize`", "the chat prompt".
    pub fn label(&self) -> Text {
        match self {
            Target::App(app) => Text::new("batch-target-app").arg("app", app.name.as_str()),
            Target::Chat { .. } => Text::new("batch-target-chat"),
        }
    }

    pub fn app_name(&self) -> Option<&str> {
        match self {
            Target::App(app) => Some(&app.name),
            Target::Chat { .. } => None,
        }
    }

    /// The fields an input may have.
    pub fn fields(&self) -> Vec<String> {
        match self {
            Target::App(app) => app
                .input_schema
                .as_ref()
                .and_then(|s| s.get("properties"))
                .and_then(Value::as_object)
                .map(|p| p.keys().cloned().collect())
                .unwrap_or_default(),
            Target::Chat { .. } => vec![CHAT_FIELD.into()],
        }
    }

    /// A CSV cell of field `name`, typed as the schema says.
    pub fn typed(&self, name: &str, cell: &str) -> Result<Value, Text> {
        match self {
            Target::App(app) => upload::typed_cell(
                app.input_schema
                    .as_ref()
                    .and_then(|s| s.pointer(&format!("/properties/{name}"))),
                cell,
            ),
            Target::Chat { .. } => Ok(Value::String(cell.to_string())),
        }
    }

    /// Checks one input: against the app's input schema (`apps::validate_input`), or as
    /// a chat message; each problem in plain words.
    pub fn check(&self, input: &Value) -> Result<(), Vec<Text>> {
        match self {
            Target::App(app) => validate_input(app, input).map(|_| ()).map_err(|errors| {
                errors
                    .into_iter()
                    .map(|e| {
                        if e.field.is_empty() {
                            e.message
                        } else {
                            Text::new("field-problem")
                                .arg("field", e.field)
                                .arg("problem", e.message)
                        }
                    })
                    .collect()
            }),
            Target::Chat { max_chars } => {
                let Some(Value::String(message)) = input.get(CHAT_FIELD) else {
                    return Err(vec![
                        Text::new("batch-chat-no-message").arg("field", CHAT_FIELD),
                    ]);
                };
                if input.as_object().is_some_and(|o| o.len() > 1) {
                    return Err(vec![
                        Text::new("batch-chat-other-fields").arg("field", CHAT_FIELD),
                    ]);
                }
                chat::validate_message(message, *max_chars).map_err(|e| vec![e.message()])
            }
        }
    }

    /// The JSON Schema of one input, for the model to propose them.
    pub fn item_schema(&self) -> Value {
        match self {
            Target::App(app) => app
                .input_schema
                .clone()
                .unwrap_or_else(|| json!({"type": "object"})),
            Target::Chat { .. } => json!({
                "type": "object",
                "properties": { CHAT_FIELD: { "type": "string" } },
                "required": [CHAT_FIELD],
                "additionalProperties": false,
            }),
        }
    }
}

/// Resumes a paused batch: back to proposing inputs if that had not finished, else to
/// running its items. Returns whether it was paused.
pub async fn resume(state: &AppState, batch: &Batch) -> sqlx::Result<bool> {
    let to = if batch.source == BatchSource::Generate && !generate::Seed::parse(batch).finished {
        BatchState::Generating
    } else {
        BatchState::Running
    };
    let resumed =
        batches::update_batch_state(&state.db, batch.id, BatchState::Paused, to, None, None)
            .await?;
    if resumed {
        tracing::info!(batch = batch.id, "batch resumed");
        state.batches.wake();
    }
    Ok(resumed)
}

/// Pauses a running or generating batch by an admin's hand: no new item starts until it
/// is resumed (the items running now finish). Returns whether it was running.
pub async fn pause(state: &AppState, batch: &Batch) -> sqlx::Result<bool> {
    let reason = Text::new("batch-paused-by-admin").stored();
    for from in [BatchState::Running, BatchState::Generating] {
        if batches::update_batch_state(
            &state.db,
            batch.id,
            from,
            BatchState::Paused,
            Some(&reason),
            None,
        )
        .await?
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Cancels a batch for good: no new item starts (the items running now finish).
pub async fn cancel(state: &AppState, batch: &Batch) -> sqlx::Result<bool> {
    for from in [
        BatchState::Running,
        BatchState::Generating,
        BatchState::Paused,
    ] {
        if batches::update_batch_state(&state.db, batch.id, from, BatchState::Cancelled, None, None)
            .await?
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// What the batch page shows of its progress.
#[derive(Clone, Debug)]
pub struct Progress {
    pub counts: batches::ItemCounts,
    /// Seconds left at the recent rate, while it runs and the rate is known.
    pub eta_secs: Option<i64>,
}

pub async fn progress(state: &AppState, batch: &Batch) -> sqlx::Result<Progress> {
    let counts = batches::count_items(&state.db, batch.id).await?;
    let now = crate::domain::now_ms();
    let (recent, first) =
        batches::count_finished_since(&state.db, batch.id, now - RATE_WINDOW_MS).await?;
    let left = counts.pending + counts.running;
    let eta_secs = match first {
        Some(first) if batch.state == BatchState::Running && recent > 0 && left > 0 => {
            // The rate since the first item of the window finished, counting that one as
            // having taken as long as the average.
            let elapsed_ms =
                (now - first).max(1) as f64 * (recent as f64 / (recent - 1).max(1) as f64);
            let per_item_ms = elapsed_ms / recent as f64;
            Some(((left as f64 * per_item_ms) / 1000.0).ceil() as i64)
        }
        _ => None,
    };
    Ok(Progress { counts, eta_secs })
}
