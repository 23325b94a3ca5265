//! Dataset batches: one prompt app (or the chat prompt) run over many inputs in the
//! background, for the review queue and the exports. The batches and their items live
//! in the database, so a restart picks up where the last process stopped: an item whose
//! answer was saved is done, one cut off runs again, and nothing completed runs twice.
//!
//! - `upload.rs` — a CSV or JSONL file read into checked inputs, every bad row listed.
//! - `generate.rs` — inputs proposed by the model from a seed, near-duplicates dropped.
//! - this file — what a batch runs ([`Target`]) and the runner: a task started with the
//!   server that claims pending items, each batch at its own concurrency, and runs each
//!   as an ordinary app run or chat turn of the batch's creator.

pub mod generate;
pub mod upload;

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use serde_json::{Map, Value, json};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::{
    AppState,
    apps::{App, validate_input},
    budget::Spender,
    chat::{self, Ask},
    db::batches::{self, Batch, BatchSource, BatchState, ItemState},
    domain::MessageStatus,
    error::AppError,
};

/// How often the runner looks for work when nothing wakes it (a budget's pause running
/// out).
const POLL: Duration = Duration::from_secs(1);

/// The window an ETA's rate is measured over.
const RATE_WINDOW_MS: i64 = 5 * 60 * 1000;

/// The field a chat batch's inputs carry.
pub const CHAT_FIELD: &str = "message";

/// What a batch runs each input through.
pub enum Target<'a> {
    App(&'a App),
    /// The site's chat prompt: each input is `{"message": "..."}`.
    Chat { max_chars: usize },
}

impl Target<'_> {
    /// "the app `summarize`", "the chat prompt".
    pub fn label(&self) -> String {
        match self {
            Target::App(app) => format!("the app `{}`", app.name),
            Target::Chat { .. } => "the chat prompt".into(),
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
    pub fn typed(&self, name: &str, cell: &str) -> Result<Value, String> {
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
    pub fn check(&self, input: &Value) -> Result<(), Vec<String>> {
        match self {
            Target::App(app) => validate_input(app, input).map(|_| ()).map_err(|errors| {
                errors
                    .into_iter()
                    .map(|e| {
                        if e.field.is_empty() {
                            e.message
                        } else {
                            format!("`{}` {}", e.field, e.message)
                        }
                    })
                    .collect()
            }),
            Target::Chat { max_chars } => {
                let Some(Value::String(message)) = input.get(CHAT_FIELD) else {
                    return Err(vec![format!(
                        "needs a `{CHAT_FIELD}` field holding the text to send"
                    )]);
                };
                if input.as_object().is_some_and(|o| o.len() > 1) {
                    return Err(vec![format!(
                        "has fields other than `{CHAT_FIELD}`, which the chat prompt does not take"
                    )]);
                }
                chat::validate_message(message, *max_chars).map_err(|e| vec![e.to_string()])
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

/// The runner's handle in `AppState`: wakes it when there is new work, and remembers
/// which batches are being generated now.
#[derive(Clone, Debug, Default)]
pub struct Runner {
    wake: Arc<Notify>,
    generating: Arc<Mutex<HashSet<i64>>>,
}

impl Runner {
    /// Tells the runner to look for work now (a new, resumed or finished item's batch).
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// Runs the batches until `stop`: first puts back the items a crash left running, then
/// claims pending items as each batch's concurrency allows. Each item runs as a task of
/// `drain`, so a shutdown waits for it to be saved.
pub async fn run(state: AppState, stop: CancellationToken) {
    match batches::recover_items(&state.db).await {
        Ok(0) => {}
        Ok(again) => tracing::warn!(again, "batch items cut off by the last shutdown run again"),
        Err(error) => tracing::error!(%error, "cannot recover the batch items left running"),
    }
    loop {
        if let Err(error) = tick(&state).await {
            tracing::warn!(%error, "the batch runner could not look for work");
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = state.batches.wake.notified() => {}
            () = tokio::time::sleep(POLL) => {}
        }
    }
}

/// One look for work: resumes the batches whose budget pause is over, starts generating
/// the ones that need inputs, and fills each running batch's free slots.
async fn tick(state: &AppState) -> sqlx::Result<()> {
    for batch in batches::list_batches_due(&state.db, state.clock.now_ms()).await? {
        resume(state, &batch).await?;
    }
    for batch in batches::list_batches_in_state(&state.db, BatchState::Generating).await? {
        let fresh = state
            .batches
            .generating
            .lock()
            .expect("runner poisoned")
            .insert(batch.id);
        if fresh {
            let state = state.clone();
            tokio::spawn(async move { generate_inputs(state, batch).await });
        }
    }
    for batch in batches::list_batches_in_state(&state.db, BatchState::Running).await? {
        let counts = batches::count_items(&state.db, batch.id).await?;
        if counts.pending == 0 {
            if counts.running == 0 && batches::update_batch_done_if_finished(&state.db, batch.id).await? {
                tracing::info!(batch = batch.id, done = counts.done, failed = counts.failed, "batch done");
            }
            continue;
        }
        for _ in counts.running..batch.concurrency {
            let Some(item) = batches::claim_item(&state.db, batch.id).await? else {
                break;
            };
            let (state, batch) = (state.clone(), batch.clone());
            state.drain.clone().spawn(async move {
                let id = item.id;
                if let Err(error) = run_item(&state, &batch, item).await {
                    tracing::error!(%error, item = id, "a batch item could not be saved");
                }
                state.batches.wake();
            });
        }
    }
    Ok(())
}

/// Runs one claimed item to its end and saves how it ended.
async fn run_item(state: &AppState, batch: &Batch, item: batches::BatchItem) -> sqlx::Result<()> {
    let end = |item_state: ItemState, error: Option<String>| async move {
        metrics::counter!("batch_items_total", "state" => item_state.as_str()).increment(1);
        batches::update_item_state(&state.db, item.id, item_state, error.as_deref()).await
    };
    let Some(creator) = batch.created_by else {
        return end(ItemState::Failed, Some("The account that made this batch is gone.".into())).await;
    };
    let spender = Spender::batch(creator, batch.id, Some(item.id));
    let input: Value = serde_json::from_str(&item.input).unwrap_or(Value::Null);
    let started = match &batch.app {
        Some(name) => {
            let apps = state.apps.current();
            let Some(app) = apps.get(name) else {
                return end(ItemState::Failed, Some(format!("The app `{name}` is no longer served."))).await;
            };
            match validate_input(app, &input) {
                Ok(input) => chat::start_run(state, &spender, &apps, app, input).await,
                Err(_) => {
                    return end(ItemState::Failed, Some(format!("The input no longer fits the app `{name}`'s schema."))).await;
                }
            }
        }
        None => {
            let message = input.get(CHAT_FIELD).and_then(Value::as_str).unwrap_or_default();
            chat::start_turn(state, &spender, None, Ask::Message(message.to_string())).await
        }
    };
    let turn = match started {
        Ok(turn) => turn,
        // The global budget or the kill switch: the batch waits for the reset.
        Err(AppError::Paused { message, retry_after }) => {
            batches::update_item_state(&state.db, item.id, ItemState::Pending, None).await?;
            let resume_at = state.clock.now_ms() + retry_after.as_millis() as i64;
            if batches::update_batch_state(&state.db, batch.id, BatchState::Running, BatchState::Paused, Some(&message), Some(resume_at)).await? {
                tracing::warn!(batch = batch.id, reason = %message, "batch paused by the budget");
            }
            return Ok(());
        }
        Err(AppError::ShuttingDown) => return end(ItemState::Pending, None).await,
        Err(AppError::Database(error)) => {
            tracing::error!(%error, item = item.id, "a batch item could not start");
            return end(ItemState::Pending, None).await;
        }
        Err(error) => return end(ItemState::Failed, Some(error.to_string())).await,
    };
    let answer = turn.finish().await;
    match answer.status {
        MessageStatus::Complete => end(ItemState::Done, None).await,
        // Cut off by a shutdown: it runs again after the restart.
        MessageStatus::Interrupted | MessageStatus::Streaming if state.drain.is_cut_off() => {
            end(ItemState::Pending, None).await
        }
        status => {
            let error = answer.error.unwrap_or_else(|| format!("The answer ended {}.", status.as_str()));
            end(ItemState::Failed, Some(error)).await
        }
    }
}

/// Generates a batch's inputs, then lets it run (or pauses it on a refusal).
async fn generate_inputs(state: AppState, batch: Batch) {
    let result = async {
        let apps = state.apps.current();
        let target = match &batch.app {
            Some(name) => Target::App(apps.get(name).ok_or(AppError::Invalid(format!(
                "The app `{name}` is no longer served."
            )))?),
            None => Target::Chat {
                max_chars: state.config.max_message_chars,
            },
        };
        generate::generate(&state, &batch, &target).await
    }
    .await;
    let outcome = match result {
        Ok(()) => batches::update_batch_state(&state.db, batch.id, BatchState::Generating, BatchState::Running, None, None).await,
        Err(AppError::Paused { message, retry_after }) => {
            let resume_at = state.clock.now_ms() + retry_after.as_millis() as i64;
            batches::update_batch_state(&state.db, batch.id, BatchState::Generating, BatchState::Paused, Some(&message), Some(resume_at)).await
        }
        Err(error) => {
            tracing::warn!(batch = batch.id, %error, "batch generation stopped");
            let reason = format!("Proposing inputs stopped: {error} Resume to try again.");
            batches::update_batch_state(&state.db, batch.id, BatchState::Generating, BatchState::Paused, Some(&reason), None).await
        }
    };
    if let Err(error) = outcome {
        tracing::error!(%error, batch = batch.id, "cannot save the end of a batch's generation");
    }
    state.batches.generating.lock().expect("runner poisoned").remove(&batch.id);
    state.batches.wake();
}

/// Resumes a paused batch: back to proposing inputs if that had not finished, else to
/// running its items. Returns whether it was paused.
pub async fn resume(state: &AppState, batch: &Batch) -> sqlx::Result<bool> {
    let to = if batch.source == BatchSource::Generate && !generate::Seed::parse(batch).finished {
        BatchState::Generating
    } else {
        BatchState::Running
    };
    let resumed = batches::update_batch_state(&state.db, batch.id, BatchState::Paused, to, None, None).await?;
    if resumed {
        tracing::info!(batch = batch.id, "batch resumed");
        state.batches.wake();
    }
    Ok(resumed)
}

/// Pauses a running or generating batch by an admin's hand: no new item starts until it
/// is resumed (the items running now finish). Returns whether it was running.
pub async fn pause(state: &AppState, batch: &Batch) -> sqlx::Result<bool> {
    let reason = "Paused by an admin.";
    for from in [BatchState::Running, BatchState::Generating] {
        if batches::update_batch_state(&state.db, batch.id, from, BatchState::Paused, Some(reason), None).await? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Cancels a batch for good: no new item starts (the items running now finish).
pub async fn cancel(state: &AppState, batch: &Batch) -> sqlx::Result<bool> {
    for from in [BatchState::Running, BatchState::Generating, BatchState::Paused] {
        if batches::update_batch_state(&state.db, batch.id, from, BatchState::Cancelled, None, None).await? {
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
    let (recent, first) = batches::count_finished_since(&state.db, batch.id, now - RATE_WINDOW_MS).await?;
    let left = counts.pending + counts.running;
    let eta_secs = match first {
        Some(first) if batch.state == BatchState::Running && recent > 0 && left > 0 => {
            // The rate since the first item of the window finished, counting that one as
            // having taken as long as the average.
            let elapsed_ms = (now - first).max(1) as f64 * (recent as f64 / (recent - 1).max(1) as f64);
            let per_item_ms = elapsed_ms / recent as f64;
            Some(((left as f64 * per_item_ms) / 1000.0).ceil() as i64)
        }
        _ => None,
    };
    Ok(Progress { counts, eta_secs })
}

/// Inputs as the chat prompt's: `{"message": text}`.
pub fn chat_input(message: &str) -> Value {
    let mut input = Map::new();
    input.insert(CHAT_FIELD.into(), Value::String(message.to_string()));
    Value::Object(input)
}
