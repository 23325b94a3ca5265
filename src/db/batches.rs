//! SQL for dataset batches (`batches`) and their inputs (`batch_items`). A batch's state
//! moves `generating → running → done`, or to `paused` and back, or to `cancelled`; an
//! item's `pending → running → done | failed`, claimed by one `UPDATE … RETURNING`, so
//! two workers never run the same item.

use serde::Serialize;
use sqlx::{SqliteConnection, SqlitePool};

use crate::domain::now_ms;

/// Where a batch stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, sqlx::Type)]
#[serde(rename_all = "lowercase")]
#[sqlx(rename_all = "lowercase")]
pub enum BatchState {
    /// The model is proposing its inputs.
    Generating,
    /// Its items are being run.
    Running,
    /// Stopped by an admin, or by a budget until `resume_at`.
    Paused,
    /// Stopped for good; items already running finished.
    Cancelled,
    /// Every item has run.
    Done,
}

impl BatchState {
    pub fn as_str(self) -> &'static str {
        match self {
            BatchState::Generating => "generating",
            BatchState::Running => "running",
            BatchState::Paused => "paused",
            BatchState::Cancelled => "cancelled",
            BatchState::Done => "done",
        }
    }

    /// Whether it may still change by itself (the page keeps polling).
    pub fn is_active(self) -> bool {
        matches!(self, BatchState::Generating | BatchState::Running)
    }
}

/// Where one input of a batch stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, sqlx::Type)]
#[serde(rename_all = "lowercase")]
#[sqlx(rename_all = "lowercase")]
pub enum ItemState {
    Pending,
    Running,
    Done,
    Failed,
}

impl ItemState {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemState::Pending => "pending",
            ItemState::Running => "running",
            ItemState::Done => "done",
            ItemState::Failed => "failed",
        }
    }
}

/// Where the inputs came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::Type)]
#[sqlx(rename_all = "lowercase")]
pub enum BatchSource {
    Upload,
    Generate,
}

#[derive(Clone, Debug)]
pub struct Batch {
    pub id: i64,
    pub name: String,
    /// The prompt app it runs; `None` for the chat prompt.
    pub app: Option<String>,
    pub source: BatchSource,
    /// What the model proposes inputs from (`batches::Seed` as JSON).
    pub seed: Option<String>,
    pub state: BatchState,
    /// Why it is paused.
    pub reason: Option<String>,
    /// When a budget's pause ends by itself (Unix ms).
    pub resume_at: Option<i64>,
    pub concurrency: i64,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// How many items are in each state.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct ItemCounts {
    pub pending: i64,
    pub running: i64,
    pub done: i64,
    pub failed: i64,
}

impl ItemCounts {
    pub fn total(&self) -> i64 {
        self.pending + self.running + self.done + self.failed
    }

    pub fn finished(&self) -> i64 {
        self.done + self.failed
    }
}

/// A batch with its items' counts, for the list.
#[derive(Clone, Debug)]
pub struct BatchSummary {
    pub batch: Batch,
    pub counts: ItemCounts,
}

#[derive(Clone, Debug)]
pub struct BatchItem {
    pub id: i64,
    pub position: i64,
    /// The input, as JSON: an app's object, or `{"message": …}` for the chat prompt.
    pub input: String,
    pub state: ItemState,
    pub conversation_id: Option<String>,
    pub error: Option<String>,
    pub updated_at: i64,
}

/// A new batch and its settings.
pub struct NewBatch<'a> {
    pub name: &'a str,
    pub app: Option<&'a str>,
    pub source: BatchSource,
    pub seed: Option<&'a str>,
    pub state: BatchState,
    pub concurrency: i64,
    pub created_by: i64,
}

pub async fn insert_batch(conn: &mut SqliteConnection, new: &NewBatch<'_>) -> sqlx::Result<i64> {
    let now = now_ms();
    sqlx::query_scalar!(
        r#"INSERT INTO batches (name, app, source, seed, state, concurrency, created_by,
                                created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           RETURNING id AS "id!""#,
        new.name,
        new.app,
        new.source,
        new.seed,
        new.state,
        new.concurrency,
        new.created_by,
        now,
        now
    )
    .fetch_one(conn)
    .await
}

/// A pending item; `false` when the batch already has one at this position.
pub async fn insert_item(
    conn: &mut SqliteConnection,
    batch_id: i64,
    position: i64,
    input: &str,
) -> sqlx::Result<bool> {
    let now = now_ms();
    let result = sqlx::query!(
        "INSERT INTO batch_items (batch_id, position, input, state, updated_at)
         VALUES (?, ?, ?, 'pending', ?)
         ON CONFLICT (batch_id, position) DO NOTHING",
        batch_id,
        position,
        input,
        now
    )
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

pub async fn find_batch(db: &SqlitePool, id: i64) -> sqlx::Result<Option<Batch>> {
    sqlx::query_as!(
        Batch,
        r#"SELECT id, name, app, source AS "source: BatchSource", seed,
                  state AS "state: BatchState", reason, resume_at, concurrency, created_by,
                  created_at, updated_at
           FROM batches WHERE id = ?"#,
        id
    )
    .fetch_optional(db)
    .await
}

/// Every batch, newest first, with its items' counts.
pub async fn list_batches(db: &SqlitePool, limit: i64) -> sqlx::Result<Vec<BatchSummary>> {
    let rows = sqlx::query!(
        r#"SELECT b.id, b.name, b.app, b.source AS "source: BatchSource", b.seed,
                  b.state AS "state: BatchState", b.reason, b.resume_at, b.concurrency,
                  b.created_by, b.created_at, b.updated_at,
                  coalesce(sum(i.state = 'pending'), 0) AS "pending!: i64",
                  coalesce(sum(i.state = 'running'), 0) AS "running!: i64",
                  coalesce(sum(i.state = 'done'), 0) AS "done!: i64",
                  coalesce(sum(i.state = 'failed'), 0) AS "failed!: i64"
           FROM batches b LEFT JOIN batch_items i ON i.batch_id = b.id
           GROUP BY b.id ORDER BY b.id DESC LIMIT ?"#,
        limit
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| BatchSummary {
            batch: Batch {
                id: row.id,
                name: row.name,
                app: row.app,
                source: row.source,
                seed: row.seed,
                state: row.state,
                reason: row.reason,
                resume_at: row.resume_at,
                concurrency: row.concurrency,
                created_by: row.created_by,
                created_at: row.created_at,
                updated_at: row.updated_at,
            },
            counts: ItemCounts {
                pending: row.pending,
                running: row.running,
                done: row.done,
                failed: row.failed,
            },
        })
        .collect())
}

/// The batches in `state`, oldest first.
pub async fn list_batches_in_state(db: &SqlitePool, state: BatchState) -> sqlx::Result<Vec<Batch>> {
    sqlx::query_as!(
        Batch,
        r#"SELECT id, name, app, source AS "source: BatchSource", seed,
                  state AS "state: BatchState", reason, resume_at, concurrency, created_by,
                  created_at, updated_at
           FROM batches WHERE state = ? ORDER BY id"#,
        state
    )
    .fetch_all(db)
    .await
}

pub async fn count_items(db: &SqlitePool, batch_id: i64) -> sqlx::Result<ItemCounts> {
    let row = sqlx::query!(
        r#"SELECT coalesce(sum(state = 'pending'), 0) AS "pending!: i64",
                  coalesce(sum(state = 'running'), 0) AS "running!: i64",
                  coalesce(sum(state = 'done'), 0) AS "done!: i64",
                  coalesce(sum(state = 'failed'), 0) AS "failed!: i64"
           FROM batch_items WHERE batch_id = ?"#,
        batch_id
    )
    .fetch_one(db)
    .await?;
    Ok(ItemCounts {
        pending: row.pending,
        running: row.running,
        done: row.done,
        failed: row.failed,
    })
}

/// Items finished since `since` (Unix ms) and the time the first of them finished: the
/// recent rate an ETA is made from.
pub async fn count_finished_since(
    db: &SqlitePool,
    batch_id: i64,
    since: i64,
) -> sqlx::Result<(i64, Option<i64>)> {
    let row = sqlx::query!(
        r#"SELECT count(*) AS "count!: i64", min(updated_at) AS "first: i64"
           FROM batch_items
           WHERE batch_id = ? AND state IN ('done', 'failed') AND updated_at >= ?"#,
        batch_id,
        since
    )
    .fetch_one(db)
    .await?;
    Ok((row.count, row.first))
}

/// The batch's items in order, `limit` of them from `offset`.
pub async fn list_items(
    db: &SqlitePool,
    batch_id: i64,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<BatchItem>> {
    sqlx::query_as!(
        BatchItem,
        r#"SELECT id, position, input, state AS "state: ItemState", conversation_id, error,
                  updated_at
           FROM batch_items WHERE batch_id = ? ORDER BY position LIMIT ? OFFSET ?"#,
        batch_id,
        limit,
        offset
    )
    .fetch_all(db)
    .await
}

/// Every input of the batch, in order (what new proposals must not repeat).
pub async fn list_item_inputs(db: &SqlitePool, batch_id: i64) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!(
        "SELECT input FROM batch_items WHERE batch_id = ? ORDER BY position",
        batch_id
    )
    .fetch_all(db)
    .await
}

/// Takes the batch's next pending item for running; `None` when none is left.
pub async fn claim_item(db: &SqlitePool, batch_id: i64) -> sqlx::Result<Option<BatchItem>> {
    let now = now_ms();
    sqlx::query_as!(
        BatchItem,
        r#"UPDATE batch_items SET state = 'running', error = NULL, updated_at = ?
           WHERE id = (SELECT id FROM batch_items
                       WHERE batch_id = ? AND state = 'pending'
                       ORDER BY position LIMIT 1)
           RETURNING id AS "id!", position, input, state AS "state: ItemState",
                     conversation_id, error, updated_at"#,
        now,
        batch_id
    )
    .fetch_optional(db)
    .await
}

/// Ties a batch item to the conversation that runs it, in the transaction that creates
/// the conversation: a call never exists without its item knowing it.
pub async fn link_item(
    conn: &mut SqliteConnection,
    batch_id: i64,
    item_id: i64,
    conversation_id: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE conversations SET batch_id = ? WHERE id = ?",
        batch_id,
        conversation_id
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE batch_items SET conversation_id = ? WHERE id = ? AND batch_id = ?",
        conversation_id,
        item_id,
        batch_id
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Ends a running item: `done`, or `failed` with the reason, or back to `pending` (its
/// call was refused before it was made, or cut off by a shutdown).
pub async fn update_item_state(
    db: &SqlitePool,
    item_id: i64,
    state: ItemState,
    error: Option<&str>,
) -> sqlx::Result<()> {
    let now = now_ms();
    sqlx::query!(
        "UPDATE batch_items SET state = ?, error = ?, updated_at = ?
         WHERE id = ? AND state = 'running'",
        state,
        error,
        now,
        item_id
    )
    .execute(db)
    .await?;
    Ok(())
}

/// After a restart, the items left `running`: one whose answer was saved complete is
/// done, one whose answer failed is failed, and one whose answer was cut off or never
/// started goes back to `pending` to run again. Returns how many went back.
/// (Run after `interrupt_streaming_messages`, so no answer is still `streaming`.)
pub async fn recover_items(db: &SqlitePool) -> sqlx::Result<u64> {
    let now = now_ms();
    let mut tx = db.begin_with("BEGIN IMMEDIATE").await?;
    sqlx::query!(
        r#"UPDATE batch_items
           SET state = CASE a.status WHEN 'complete' THEN 'done' ELSE 'failed' END,
               error = CASE a.status WHEN 'complete' THEN NULL ELSE a.error END,
               updated_at = ?
           FROM (SELECT conversation_id, status, error FROM messages
                 WHERE role = 'assistant' AND status IN ('complete', 'failed', 'invalid_output')) AS a
           WHERE batch_items.state = 'running'
             AND a.conversation_id = batch_items.conversation_id"#,
        now
    )
    .execute(&mut *tx)
    .await?;
    let result = sqlx::query!(
        "UPDATE batch_items SET state = 'pending', conversation_id = NULL, updated_at = ?
         WHERE state = 'running'",
        now
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(result.rows_affected())
}

/// Moves a batch from `from` to `to`, with a reason and a time to resume by itself (both
/// cleared when `None`); returns whether it was in `from`.
pub async fn update_batch_state(
    db: &SqlitePool,
    id: i64,
    from: BatchState,
    to: BatchState,
    reason: Option<&str>,
    resume_at: Option<i64>,
) -> sqlx::Result<bool> {
    let now = now_ms();
    let result = sqlx::query!(
        "UPDATE batches SET state = ?, reason = ?, resume_at = ?, updated_at = ?
         WHERE id = ? AND state = ?",
        to,
        reason,
        resume_at,
        now,
        id,
        from
    )
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Saves what generation has used so far (`batches::Seed` as JSON).
pub async fn update_batch_seed(db: &SqlitePool, id: i64, seed: &str) -> sqlx::Result<()> {
    let now = now_ms();
    sqlx::query!(
        "UPDATE batches SET seed = ?, updated_at = ? WHERE id = ?",
        seed,
        now,
        id
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Marks a running batch done once none of its items is pending or running; returns
/// whether it was.
pub async fn update_batch_done_if_finished(db: &SqlitePool, id: i64) -> sqlx::Result<bool> {
    let now = now_ms();
    let result = sqlx::query!(
        "UPDATE batches SET state = 'done', reason = NULL, resume_at = NULL, updated_at = ?
         WHERE id = ? AND state = 'running'
           AND NOT EXISTS (SELECT 1 FROM batch_items
                           WHERE batch_id = ? AND state IN ('pending', 'running'))",
        now,
        id,
        id
    )
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Paused batches whose budget pause has run out by `now` (Unix ms, the budgets' clock).
pub async fn list_batches_due(db: &SqlitePool, now: i64) -> sqlx::Result<Vec<Batch>> {
    sqlx::query_as!(
        Batch,
        r#"SELECT id, name, app, source AS "source: BatchSource", seed,
                  state AS "state: BatchState", reason, resume_at, concurrency, created_by,
                  created_at, updated_at
           FROM batches WHERE state = 'paused' AND resume_at IS NOT NULL AND resume_at <= ?
           ORDER BY id"#,
        now
    )
    .fetch_all(db)
    .await
}
