//! Checkpoints of answers being written: each turn hands its text so far to one writer
//! task about once a second, and the writer saves all it has been given in one
//! transaction. A crash (kill -9, power cut) then loses at most the last second or so of
//! an answer, at the cost of one row update per answer per second, never one per chunk.

use std::{collections::HashMap, time::Duration};

use sqlx::SqlitePool;
use tokio::sync::{mpsc, oneshot};

use crate::db::messages::update_streaming_contents;

/// How often a turn hands its text to the writer.
pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// Checkpoints queued at most; past it a turn skips one (the next comes a second later).
const QUEUE: usize = 4096;

#[derive(Clone, Debug)]
pub struct Checkpoints {
    sender: mpsc::Sender<Command>,
}

#[derive(Debug)]
enum Command {
    /// The text of an answer so far, replacing any not yet written.
    Save(i64, String),
    /// The answer has ended: drop its checkpoint, and say so once no write of it can
    /// still be on its way (the final save must be the last write of the row).
    Forget(i64, oneshot::Sender<()>),
}

impl Checkpoints {
    /// Starts the writer; it ends when the last `Checkpoints` is dropped.
    pub fn spawn(db: SqlitePool) -> Self {
        let (sender, receiver) = mpsc::channel(QUEUE);
        tokio::spawn(run(db, receiver));
        Self { sender }
    }

    /// Hands over an answer's text so far. Never waits: a checkpoint that finds the
    /// queue full is skipped, and the answer goes on.
    pub fn save(&self, answer_id: i64, text: &str) {
        let _ = self
            .sender
            .try_send(Command::Save(answer_id, text.to_string()));
    }

    /// Drops the answer's checkpoint; returns once no checkpoint of it can be written any
    /// more.
    pub async fn forget(&self, answer_id: i64) {
        let (ack, done) = oneshot::channel();
        if self
            .sender
            .send(Command::Forget(answer_id, ack))
            .await
            .is_ok()
        {
            let _ = done.await;
        }
    }
}

async fn run(db: SqlitePool, mut receiver: mpsc::Receiver<Command>) {
    let mut commands = Vec::new();
    let mut pending: HashMap<i64, String> = HashMap::new();
    // Whatever arrived while the last transaction ran goes into the next: under load the
    // batches grow, and the transactions per second do not.
    while receiver.recv_many(&mut commands, QUEUE).await > 0 {
        for command in commands.drain(..) {
            match command {
                Command::Save(id, text) => {
                    pending.insert(id, text);
                }
                // Commands are taken in order and written one batch at a time, so once a
                // `Forget` is read no earlier write of its answer is still running.
                Command::Forget(id, ack) => {
                    pending.remove(&id);
                    let _ = ack.send(());
                }
            }
        }
        if pending.is_empty() {
            continue;
        }
        let batch: Vec<(i64, String)> = pending.drain().collect();
        let written = async {
            let mut conn = db.acquire().await?;
            update_streaming_contents(&mut conn, &batch).await
        };
        match written.await {
            Ok(()) => {
                metrics::counter!("answer_checkpoints_total").increment(batch.len() as u64);
                metrics::counter!("answer_checkpoint_writes_total").increment(1);
            }
            // The next checkpoint of each answer comes a second later.
            Err(error) => tracing::warn!(%error, answers = batch.len(), "checkpoint failed"),
        }
    }
}
