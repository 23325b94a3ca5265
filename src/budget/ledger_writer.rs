//! The ledger writer: the task that writes ledger entries, many to a statement, so that
//! model calls never queue for SQLite's write lock. The SQL it runs is `db::ledger`'s.

use std::{
    collections::{HashMap, VecDeque},
    time::{Duration, Instant},
};

use sqlx::{Sqlite, SqlitePool, pool::PoolConnection};
use tokio::sync::{mpsc, oneshot};

use crate::db::ledger::{Entry, upsert_entries};

/// A handle to the writer task. A reservation waits [`RESERVATION_DELAY`] before it is
/// written: most calls end sooner, and then only their settled entry is written.
#[derive(Clone, Debug)]
pub struct LedgerWriter {
    sender: mpsc::Sender<Write>,
}

#[derive(Debug)]
enum Write {
    Reservation(Box<Entry>),
    /// A settled entry, with whom to tell once it is committed.
    Settlement(Box<Entry>, oneshot::Sender<()>),
    Flush(oneshot::Sender<()>),
}

/// Entries per statement at most: enough to absorb a burst, short enough to keep the
/// write lock brief.
const BATCH: usize = 512;

/// How long a reservation waits to be written. A crash loses the reservations of calls
/// younger than this (their tokens may go uncounted); settled calls are written before
/// their clients hear the end, so nothing acknowledged is lost.
pub const RESERVATION_DELAY: Duration = Duration::from_millis(500);

/// How long the writer lets settlements gather before taking a batch, when the last one
/// had more than one write. Each batch is a hand-off to the connection's thread and a
/// commit: on one core at 64 streams, batches of a few entries cost a tenth of the
/// server's time. Only a busy server's `[DONE]`s wait for it (a millisecond or two);
/// an idle one writes each settlement at once.
const GATHER: Duration = Duration::from_millis(1);

impl LedgerWriter {
    pub fn spawn(db: SqlitePool) -> (Self, tokio::task::JoinHandle<()>) {
        let (sender, receiver) = mpsc::channel(4 * BATCH);
        (Self { sender }, tokio::spawn(run(db, receiver)))
    }

    /// Queues a reservation without waiting for it to be written.
    pub async fn reserve(&self, entry: Entry) {
        let _ = self.sender.send(Write::Reservation(Box::new(entry))).await;
    }

    /// Writes a settled entry and waits until it is committed.
    pub async fn settle(&self, entry: Entry) {
        let (ack, done) = oneshot::channel();
        if self
            .sender
            .send(Write::Settlement(Box::new(entry), ack))
            .await
            .is_ok()
        {
            let _ = done.await;
        }
    }

    /// Queues a settled entry without waiting (from a `Drop`). When the queue is full,
    /// a task waits for room instead.
    pub fn settle_now(&self, entry: Entry) {
        let (ack, _) = oneshot::channel();
        if let Err(mpsc::error::TrySendError::Full(write)) = self
            .sender
            .try_send(Write::Settlement(Box::new(entry), ack))
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
    let mut waiting: HashMap<i64, Box<Entry>> = HashMap::new();
    let mut arrivals: VecDeque<(Instant, i64)> = VecDeque::new();
    // Kept while writes keep coming: a connection that made the last change keeps its
    // page cache, where any other would read the changed pages again.
    let mut conn = None;
    let mut busy = false;
    loop {
        if busy {
            // Under load, let the calls ending now send theirs first: one statement then
            // carries more entries (a hand-off and a commit per batch are most of what
            // an entry costs).
            tokio::time::sleep(GATHER).await;
        }
        let tick = RESERVATION_DELAY / 4;
        let (open, idle) =
            match tokio::time::timeout(tick, receiver.recv_many(&mut batch, BATCH)).await {
                Ok(received) => (received > 0, false),
                Err(_) => (true, true),
            };
        busy = batch.len() > 1;
        let now = Instant::now();
        let mut entries = Vec::new();
        let mut acks = Vec::new();
        let mut flush = !open;
        for write in batch.drain(..) {
            match write {
                Write::Reservation(entry) => {
                    arrivals.push_back((now, entry.id));
                    waiting.insert(entry.id, entry);
                }
                // Supersedes its reservation if that is still waiting.
                Write::Settlement(entry, ack) => {
                    waiting.remove(&entry.id);
                    entries.push(entry);
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
            entries.extend(waiting.remove(&id));
        }
        for chunk in entries.chunks(BATCH) {
            write_with_retries(&db, &mut conn, chunk).await;
        }
        if idle || flush {
            // Nothing came for a tick, or the pool may be closing: give the connection
            // back. Kept between a call's reservation (not written yet) and its
            // settlement, taking it again would cost a hand-off to a connection's thread.
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
    entries: &[Box<Entry>],
) {
    let mut attempt = 1;
    while let Err(error) = write(db, conn, entries).await {
        // The next try starts on a fresh connection.
        *conn = None;
        if attempt == 3 || db.is_closed() {
            tracing::error!(%error, entries = entries.len(), "ledger entries lost");
            return;
        }
        tracing::warn!(%error, attempt, "ledger write failed; trying again");
        tokio::time::sleep(Duration::from_millis(100 * attempt)).await;
        attempt += 1;
    }
}

async fn write(
    db: &SqlitePool,
    conn: &mut Option<PoolConnection<Sqlite>>,
    entries: &[Box<Entry>],
) -> sqlx::Result<()> {
    let conn = match conn {
        Some(conn) => conn,
        None => conn.insert(db.acquire().await?),
    };
    upsert_entries(conn, entries).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::EntryStatus;

    fn entry(id: i64) -> Entry {
        Entry {
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
            app: None,
        }
    }

    /// A new database with every migration, in a folder removed when dropped.
    async fn migrated_db() -> (tempfile::TempDir, sqlx::SqlitePool) {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::db::connect(&format!("sqlite://{}/ledger.db", dir.path().display()))
            .await
            .unwrap();
        crate::db::migrate(&db).await.unwrap();
        (dir, db)
    }

    #[tokio::test]
    async fn the_writer_writes_every_entry_settles_reservations_and_keeps_resets() {
        let (_dir, db) = migrated_db().await;
        let (writer, _task) = LedgerWriter::spawn(db.clone());
        for id in 1..=1000 {
            writer.reserve(entry(id)).await;
        }
        // Half are settled, some in the same batch as their reservation.
        for id in (1..=1000).step_by(2) {
            writer
                .settle(Entry {
                    completion_tokens: 7,
                    status: EntryStatus::Complete,
                    duration_ms: Some(20),
                    ..entry(id)
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

        // An admin's reset uncounts an entry; a late settlement does not count it again.
        sqlx::query("UPDATE usage SET counted = 0 WHERE id = 2")
            .execute(&db)
            .await
            .unwrap();
        writer
            .settle(Entry {
                status: EntryStatus::Interrupted,
                ..entry(2)
            })
            .await;
        let (status, counted): (String, i64) =
            sqlx::query_as("SELECT status, counted FROM usage WHERE id = 2")
                .fetch_one(&db)
                .await
                .unwrap();
        assert_eq!((status.as_str(), counted), ("interrupted", 0));
    }

    #[tokio::test]
    async fn an_entry_of_a_user_deleted_since_its_call_began_is_kept_without_them() {
        let (_dir, db) = migrated_db().await;
        for id in [1, 2] {
            sqlx::query(
                "INSERT INTO users (id, email, password_hash, role, created_at)
                 VALUES (?, ?, 'x', 'user', 0)",
            )
            .bind(id)
            .bind(format!("user{id}@example.com"))
            .execute(&db)
            .await
            .unwrap();
        }
        let (writer, _task) = LedgerWriter::spawn(db.clone());
        // Both users' calls begin; user 1 deletes their account before the batch is
        // written; the batch holds the two entries and a guest's.
        let of = |id: i64, user_id: Option<i64>| Entry {
            user_id,
            ..entry(id)
        };
        writer.reserve(of(1, Some(1))).await;
        writer.reserve(of(2, Some(2))).await;
        writer.reserve(of(3, None)).await;
        sqlx::query("DELETE FROM users WHERE id = 1")
            .execute(&db)
            .await
            .unwrap();
        writer.flush().await;
        let rows: Vec<(i64, Option<i64>, String, i64)> =
            sqlx::query_as("SELECT id, user_id, ip, counted FROM usage ORDER BY id")
                .fetch_all(&db)
                .await
                .unwrap();
        assert_eq!(
            rows,
            [
                (1, None, String::new(), 0),
                (2, Some(2), "192.0.2.1".into(), 1),
                (3, None, "192.0.2.1".into(), 1),
            ],
            "every entry written; the deleted user's as the deletion leaves theirs"
        );
    }
}
