//! The runner: one task, started with the server, that looks for work when woken (a new,
//! resumed or finished item's batch), every second while a batch runs, and when a
//! budget's pause runs out, and starts each batch's pending items up to its concurrency.
//! With no batch at work it waits without a query. An item is claimed in
//! the database before it starts, and linked to its conversation in the transaction that
//! creates it, so a restart knows what each item got to.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use serde_json::Value;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::{CHAT_FIELD, Target, generate, resume};
use crate::{
    AppState,
    apps::validate_input,
    budget::Spender,
    chat::{self, Ask},
    db::batches::{self, Batch, BatchState, ItemState},
    domain::MessageStatus,
    error::AppError,
    i18n::Text,
};

/// How often the runner looks for work while a batch runs or proposes inputs, beside
/// being woken.
const POLL: Duration = Duration::from_secs(1);

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
        let next = tick(&state).await.unwrap_or_else(|error| {
            tracing::warn!(%error, "the batch runner could not look for work");
            Some(POLL)
        });
        let timer = async {
            match next {
                Some(after) => tokio::time::sleep(after).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = stop.cancelled() => return,
            () = state.batches.wake.notified() => {}
            () = timer => {}
        }
    }
}

/// One look for work: resumes the batches whose budget pause is over, starts generating
/// the ones that need inputs, and fills each running batch's free slots. Returns when to
/// look again unless woken: soon while a batch is at work, at the end of the nearest
/// budget pause, or never (`None`).
async fn tick(state: &AppState) -> sqlx::Result<Option<Duration>> {
    for batch in batches::list_batches_due(&state.db, state.clock.now_ms()).await? {
        resume(state, &batch).await?;
    }
    let generating = batches::list_batches_in_state(&state.db, BatchState::Generating).await?;
    let running = batches::list_batches_in_state(&state.db, BatchState::Running).await?;
    let next = if !generating.is_empty() || !running.is_empty() {
        Some(POLL)
    } else {
        let now = state.clock.now_ms();
        batches::list_batches_in_state(&state.db, BatchState::Paused)
            .await?
            .iter()
            .filter_map(|b| b.resume_at)
            .min()
            // Not sooner than POLL/20: a pause whose end has just passed is resumed
            // above, and must not spin the loop if that fails.
            .map(|at| Duration::from_millis(at.saturating_sub(now).max(50) as u64))
    };
    for batch in generating {
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
    for batch in running {
        let counts = batches::count_items(&state.db, batch.id).await?;
        if counts.pending == 0 {
            if counts.running == 0
                && batches::update_batch_done_if_finished(&state.db, batch.id).await?
            {
                tracing::info!(
                    batch = batch.id,
                    done = counts.done,
                    failed = counts.failed,
                    "batch done"
                );
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
    Ok(next)
}

/// Runs one claimed item to its end and saves how it ended.
async fn run_item(state: &AppState, batch: &Batch, item: batches::BatchItem) -> sqlx::Result<()> {
    // Stored by id, like an answer's error: the batch's page words it for its reader.
    let end = |item_state: ItemState, error: Option<String>| async move {
        metrics::counter!("batch_items_total", "state" => item_state.as_str()).increment(1);
        batches::update_item_state(&state.db, item.id, item_state, error.as_deref()).await
    };
    let Some(creator) = batch.created_by else {
        return end(
            ItemState::Failed,
            Some(Text::new("batch-creator-gone").stored()),
        )
        .await;
    };
    let spender = Spender::batch(creator, batch.id, Some(item.id));
    let input: Value = serde_json::from_str(&item.input).unwrap_or(Value::Null);
    let started = match &batch.app {
        Some(name) => {
            let apps = state.apps.current();
            let Some(app) = apps.get(name) else {
                return end(ItemState::Failed, Some(app_gone(name).stored())).await;
            };
            match validate_input(app, &input) {
                Ok(input) => chat::start_run(state, &spender, &apps, app, input).await,
                Err(_) => {
                    return end(
                        ItemState::Failed,
                        Some(
                            Text::new("batch-input-unfit")
                                .arg("app", name.as_str())
                                .stored(),
                        ),
                    )
                    .await;
                }
            }
        }
        None => {
            let message = input
                .get(CHAT_FIELD)
                .and_then(Value::as_str)
                .unwrap_or_default();
            chat::start_turn(state, &spender, None, Ask::Message(message.to_string())).await
        }
    };
    let turn = match started {
        Ok(turn) => turn,
        // The global budget or the kill switch: the batch waits for the reset.
        Err(AppError::Paused {
            message,
            retry_after,
        }) => {
            batches::update_item_state(&state.db, item.id, ItemState::Pending, None).await?;
            let resume_at = state.clock.now_ms() + retry_after.as_millis() as i64;
            if batches::update_batch_state(
                &state.db,
                batch.id,
                BatchState::Running,
                BatchState::Paused,
                Some(&message.stored()),
                Some(resume_at),
            )
            .await?
            {
                tracing::warn!(batch = batch.id, reason = %message, "batch paused by the budget");
            }
            return Ok(());
        }
        Err(AppError::ShuttingDown) => return end(ItemState::Pending, None).await,
        Err(AppError::Database(error)) => {
            tracing::error!(%error, item = item.id, "a batch item could not start");
            return end(ItemState::Pending, None).await;
        }
        Err(error) => {
            if error.status().is_server_error() {
                tracing::error!(%error, item = item.id, "a batch item failed");
            }
            return end(ItemState::Failed, Some(error.message().stored())).await;
        }
    };
    let answer = turn.finish().await;
    match answer.status {
        MessageStatus::Complete => end(ItemState::Done, None).await,
        // Cut off by a shutdown: it runs again after the restart.
        MessageStatus::Interrupted | MessageStatus::Streaming if state.drain.is_cut_off() => {
            end(ItemState::Pending, None).await
        }
        status => {
            let error = answer.error.unwrap_or_else(|| {
                Text::new("batch-answer-ended")
                    .arg("status", status.as_str())
                    .stored()
            });
            end(ItemState::Failed, Some(error)).await
        }
    }
}

/// Why a batch of an app that was removed cannot go on.
fn app_gone(name: &str) -> Text {
    Text::new("batch-app-gone").arg("app", name)
}

/// Generates a batch's inputs, then lets it run (or pauses it on a refusal).
async fn generate_inputs(state: AppState, batch: Batch) {
    let result = async {
        let apps = state.apps.current();
        let target = match &batch.app {
            Some(name) => Target::App(
                apps.get(name)
                    .ok_or_else(|| AppError::Invalid(app_gone(name)))?,
            ),
            None => Target::Chat {
                max_chars: state.config.max_message_chars,
            },
        };
        generate::generate(&state, &batch, &target).await
    }
    .await;
    let outcome = match result {
        Ok(()) => {
            batches::update_batch_state(
                &state.db,
                batch.id,
                BatchState::Generating,
                BatchState::Running,
                None,
                None,
            )
            .await
        }
        Err(AppError::Paused {
            message,
            retry_after,
        }) => {
            let resume_at = state.clock.now_ms() + retry_after.as_millis() as i64;
            batches::update_batch_state(
                &state.db,
                batch.id,
                BatchState::Generating,
                BatchState::Paused,
                Some(&message.stored()),
                Some(resume_at),
            )
            .await
        }
        Err(error) => {
            tracing::warn!(batch = batch.id, %error, "batch generation stopped");
            let reason = Text::new("batch-proposing-stopped")
                .arg("error", error.message())
                .stored();
            batches::update_batch_state(
                &state.db,
                batch.id,
                BatchState::Generating,
                BatchState::Paused,
                Some(&reason),
                None,
            )
            .await
        }
    };
    if let Err(error) = outcome {
        tracing::error!(%error, batch = batch.id, "cannot save the end of a batch's generation");
    }
    state
        .batches
        .generating
        .lock()
        .expect("runner poisoned")
        .remove(&batch.id);
    state.batches.wake();
}
