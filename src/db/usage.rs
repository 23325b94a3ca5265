//! SQL for the `usage` ledger: one row per model call, reserved before it and settled
//! after; and the writer task that writes it in batches. Budgets are checked against
//! today's totals in memory (`budget::Meter`), loaded from here at start.

use std::{
    collections::{HashMap, VecDeque},
    time::{Duration, Instant},
};

use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool, pool::PoolConnection};
use tokio::sync::{mpsc, oneshot};

use crate::domain::EntryStatus;

/// One ledger row: as reserved (status `reserved`, the most the call may use) and then
/// as settled (what it used, how it ended).
#[derive(Clone, Debug)]
pub struct UsageRow {
    pub id: i64,
    pub day: String,
    pub user_id: Option<i64>,
    pub guest_id: Option<String>,
    pub ip: String,
    pub message_id: Option<i64>,
    pub model: String,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub cost_microusd: i64,
    pub status: EntryStatus,
    pub duration_ms: Option<i64>,
    pub created_at: i64,
}

/// Writes a reservation in the caller's transaction (a turn's, with its messages).
pub async fn insert_usage(conn: &mut SqliteConnection, r: &UsageRow) -> sqlx::Result<()> {
    sqlx::query!(
        r#"INSERT INTO usage (id, day, user_id, guest_id, ip, message_id, model, prompt_tokens,
                              completion_tokens, cost_microusd, status, duration_ms, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"#,
        r.id,
        r.day,
        r.user_id,
        r.guest_id,
        r.ip,
        r.message_id,
        r.model,
        r.prompt_tokens,
        r.completion_tokens,
        r.cost_microusd,
        r.status,
        r.duration_ms,
        r.created_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Batches up to this many rows keep their statement prepared, one per length.
const PREPARED_ROWS: usize = 32;

/// Writes many rows in one statement: new ones are inserted, known ones (a reservation
/// being settled) get their usage, status and duration replaced; whether a row is
/// counted is never changed here (an admin's reset stays). Built at run time, as a
/// statement's length depends on the batch; its columns are those `insert_usage`'s
/// checked query names.
pub async fn upsert_usage(conn: &mut SqliteConnection, rows: &[Box<UsageRow>]) -> sqlx::Result<()> {
    let mut query = QueryBuilder::<Sqlite>::new(
        "INSERT INTO usage (id, day, user_id, guest_id, ip, message_id, model, prompt_tokens, \
         completion_tokens, cost_microusd, status, duration_ms, created_at) ",
    );
    query.push_values(rows, |mut values, r| {
        values
            .push_bind(r.id)
            .push_bind(&r.day)
            .push_bind(r.user_id)
            .push_bind(&r.guest_id)
            .push_bind(&r.ip)
            .push_bind(r.message_id)
            .push_bind(&r.model)
            .push_bind(r.prompt_tokens)
            .push_bind(r.completion_tokens)
            .push_bind(r.cost_microusd)
            .push_bind(r.status)
            .push_bind(r.duration_ms)
            .push_bind(r.created_at);
    });
    query.push(
        " ON CONFLICT (id) DO UPDATE SET prompt_tokens = excluded.prompt_tokens, \
         completion_tokens = excluded.completion_tokens, cost_microusd = excluded.cost_microusd, \
         status = excluded.status, duration_ms = excluded.duration_ms",
    );
    // Kept prepared for the small batches that come again and again (parsing the
    // statement was a fifth of a write); a rare long one is not worth the memory.
    let persistent = rows.len() <= PREPARED_ROWS;
    query.build().persistent(persistent).execute(conn).await?;
    Ok(())
}

/// One day's calls, tokens and cost, by spender and whether they count.
pub struct DaySum {
    pub user_id: Option<i64>,
    pub guest_id: Option<String>,
    pub ip: String,
    pub counted: bool,
    pub calls: i64,
    pub tokens: i64,
    pub cost_microusd: i64,
}

pub async fn sum_usage_of_day(db: &SqlitePool, day: &str) -> sqlx::Result<Vec<DaySum>> {
    sqlx::query_as!(
        DaySum,
        r#"SELECT user_id, guest_id, ip, counted AS "counted: bool",
                  count(*) AS "calls!: i64",
                  coalesce(sum(prompt_tokens + completion_tokens), 0) AS "tokens!: i64",
                  coalesce(sum(cost_microusd), 0) AS "cost_microusd!: i64"
           FROM usage WHERE day = ?
           GROUP BY user_id, guest_id, ip, counted"#,
        day
    )
    .fetch_all(db)
    .await
}

/// The id the next ledger row gets.
pub async fn find_next_usage_id(db: &SqlitePool) -> sqlx::Result<i64> {
    sqlx::query_scalar!(r#"SELECT coalesce(max(id), 0) + 1 AS "id!: i64" FROM usage"#)
        .fetch_one(db)
        .await
}

/// Stops counting a user's usage of `day` against their budget (kept for the books).
pub async fn update_usage_uncounted(db: &SqlitePool, user_id: i64, day: &str) -> sqlx::Result<u64> {
    let result = sqlx::query!(
        "UPDATE usage SET counted = 0 WHERE user_id = ? AND day = ?",
        user_id,
        day
    )
    .execute(db)
    .await?;
    Ok(result.rows_affected())
}

/// Ledger rows, written by one task, many to a statement. A reservation waits
/// [`RESERVATION_DELAY`] before it is written: most calls end sooner, and then only
/// their settled row is written.
#[derive(Clone, Debug)]
pub struct LedgerWriter {
    sender: mpsc::Sender<Write>,
}

#[derive(Debug)]
enum Write {
    Reservation(Box<UsageRow>),
    /// A settled row, with whom to tell once it is committed.
    Settlement(Box<UsageRow>, oneshot::Sender<()>),
    Flush(oneshot::Sender<()>),
}

/// Rows per statement at most: enough to absorb a burst, short enough to keep the
/// write lock brief.
const BATCH: usize = 512;

/// How long a reservation waits to be written. A crash loses the reservations of calls
/// younger than this (their tokens may go uncounted); settled calls are written before
/// their clients hear the end, so nothing acknowledged is lost.
pub const RESERVATION_DELAY: Duration = Duration::from_millis(500);

/// Times the writer yields to other tasks before taking a batch, when the last one had
/// more than one write.
const GATHER_YIELDS: usize = 2;

impl LedgerWriter {
    pub fn spawn(db: SqlitePool) -> (Self, tokio::task::JoinHandle<()>) {
        let (sender, receiver) = mpsc::channel(4 * BATCH);
        (Self { sender }, tokio::spawn(run(db, receiver)))
    }

    /// Queues a reservation without waiting for it to be written.
    pub async fn reserve(&self, row: UsageRow) {
        let _ = self.sender.send(Write::Reservation(Box::new(row))).await;
    }

    /// Writes a settled row and waits until it is committed.
    pub async fn settle(&self, row: UsageRow) {
        let (ack, done) = oneshot::channel();
        if self
            .sender
            .send(Write::Settlement(Box::new(row), ack))
            .await
            .is_ok()
        {
            let _ = done.await;
        }
    }

    /// Queues a settled row without waiting (from a `Drop`). When the queue is full,
    /// a task waits for room instead.
    pub fn settle_now(&self, row: UsageRow) {
        let (ack, _) = oneshot::channel();
        if let Err(mpsc::error::TrySendError::Full(write)) =
            self.sender.try_send(Write::Settlement(Box::new(row), ack))
        {
            let sender = self.sender.clone();
            tokio::spawn(async move {
                let _ = sender.send(write).await;
            });
        }
    }

    /// Waits until everything sent so far, reservations too, is committed.
    pub async fn flush(&self) {
        let (ack, done) = oneshot::channel();
        if self.sender.send(Write::Flush(ack)).await.is_ok() {
            let _ = done.await;
        }
    }
}

async fn run(db: SqlitePool, mut receiver: mpsc::Receiver<Write>) {
    let mut batch = Vec::with_capacity(BATCH);
    // Reservations not yet written, and when each arrived (oldest first).
    let mut waiting: HashMap<i64, Box<UsageRow>> = HashMap::new();
    let mut arrivals: VecDeque<(Instant, i64)> = VecDeque::new();
    // Kept while writes keep coming: a connection that made the last change keeps its
    // page cache, where any other would read the changed pages again.
    let mut conn = None;
    let mut busy = false;
    loop {
        if busy {
            // Under load, let the tasks already running send theirs first: one statement
            // then carries more rows (a commit per row is most of what a row costs). Idle,
            // nothing else is running and a yield returns at once.
            for _ in 0..GATHER_YIELDS {
                tokio::task::yield_now().await;
            }
        }
        let tick = RESERVATION_DELAY / 4;
        let open = match tokio::time::timeout(tick, receiver.recv_many(&mut batch, BATCH)).await {
            Ok(received) => received > 0,
            Err(_) => true,
        };
        busy = batch.len() > 1;
        let now = Instant::now();
        let mut rows = Vec::new();
        let mut acks = Vec::new();
        let mut flush = !open;
        for write in batch.drain(..) {
            match write {
                Write::Reservation(row) => {
                    arrivals.push_back((now, row.id));
                    waiting.insert(row.id, row);
                }
                // Supersedes its reservation if that is still waiting.
                Write::Settlement(row, ack) => {
                    waiting.remove(&row.id);
                    rows.push(row);
                    acks.push(ack);
                }
                Write::Flush(ack) => {
                    flush = true;
                    acks.push(ack);
                }
            }
        }
        while let Some(&(at, id)) = arrivals.front() {
            if !flush && now.duration_since(at) < RESERVATION_DELAY {
                break;
            }
            arrivals.pop_front();
            rows.extend(waiting.remove(&id));
        }
        for chunk in rows.chunks(BATCH) {
            write_with_retries(&db, &mut conn, chunk).await;
        }
        if rows.is_empty() || flush {
            // Idle, or the pool may be closing: give the connection back.
            conn = None;
        }
        for ack in acks {
            let _ = ack.send(());
        }
        if !open {
            return;
        }
    }
}

async fn write_with_retries(
    db: &SqlitePool,
    conn: &mut Option<PoolConnection<Sqlite>>,
    rows: &[Box<UsageRow>],
) {
    let mut attempt = 1;
    while let Err(error) = write(db, conn, rows).await {
        // The next try starts on a fresh connection.
        *conn = None;
        if attempt == 3 || db.is_closed() {
            tracing::error!(%error, rows = rows.len(), "usage ledger rows lost");
            return;
        }
        tracing::warn!(%error, attempt, "usage ledger write failed; trying again");
        tokio::time::sleep(Duration::from_millis(100 * attempt)).await;
        attempt += 1;
    }
}

async fn write(
    db: &SqlitePool,
    conn: &mut Option<PoolConnection<Sqlite>>,
    rows: &[Box<UsageRow>],
) -> sqlx::Result<()> {
    let conn = match conn {
        Some(conn) => conn,
        None => conn.insert(db.acquire().await?),
    };
    upsert_usage(conn, rows).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64) -> UsageRow {
        UsageRow {
            id,
            day: "2026-11-28".into(),
            user_id: None,
            guest_id: Some(format!("guest-{}", id % 7)),
            ip: "192.0.2.1".into(),
            message_id: None,
            model: "gpt-4o-mini".into(),
            prompt_tokens: 100,
            completion_tokens: 512,
            cost_microusd: 300,
            status: EntryStatus::Reserved,
            duration_ms: None,
            created_at: id,
        }
    }

    #[tokio::test]
    async fn the_writer_writes_every_row_settles_reservations_and_keeps_resets() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::db::connect(&format!("sqlite://{}/ledger.db", dir.path().display()))
            .await
            .unwrap();
        crate::db::migrate(&db).await.unwrap();
        let (writer, _task) = LedgerWriter::spawn(db.clone());
        for id in 1..=1000 {
            writer.reserve(row(id)).await;
        }
        // Half are settled, some in the same batch as their reservation.
        for id in (1..=1000).step_by(2) {
            writer
                .settle(UsageRow {
                    completion_tokens: 7,
                    status: EntryStatus::Complete,
                    duration_ms: Some(20),
                    ..row(id)
                })
                .await;
        }
        writer.flush().await;
        let counts: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT status, count(*), sum(completion_tokens) FROM usage GROUP BY status ORDER BY status",
        )
        .fetch_all(&db)
        .await
        .unwrap();
        assert_eq!(
            counts,
            [
                ("complete".into(), 500, 3500),
                ("reserved".into(), 500, 256_000)
            ]
        );

        // An admin's reset uncounts a row; a late settlement does not count it again.
        sqlx::query("UPDATE usage SET counted = 0 WHERE id = 2")
            .execute(&db)
            .await
            .unwrap();
        writer
            .settle(UsageRow {
                status: EntryStatus::Interrupted,
                ..row(2)
            })
            .await;
        let (status, counted): (String, i64) =
            sqlx::query_as("SELECT status, counted FROM usage WHERE id = 2")
                .fetch_one(&db)
                .await
                .unwrap();
        assert_eq!((status.as_str(), counted), ("interrupted", 0));
    }
}
