//! kill -9 while writes are being acknowledged, round after round on one SQLite file: the
//! file stays intact and every write the server acknowledged is there after a restart.
//! Also the spawned-binary helpers that `load.rs` shares.

use std::{
    fs::File,
    os::unix::process::ExitStatusExt,
    path::{Path, PathBuf},
    process::Child,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use tokio::sync::Notify;

use crate::{
    helpers::{
        http_client,
        spawned::{UNLIMITED, free_port},
    },
    process::{api_key, binary, first_model},
};

/// The real binary on a free loopback port, answering with its built-in demo model,
/// its logs written to a file. Killed when dropped.
pub(crate) struct Server {
    /// `http://127.0.0.1:port`
    pub(crate) base: String,
    child: Option<Child>,
    log: PathBuf,
}

impl Server {
    /// Starts the binary on `database` with [`UNLIMITED`] and `vars`, and waits (at most
    /// 10 s) until `/healthz` answers.
    pub(crate) async fn start(database: &str, log: &Path, vars: &[(&str, &str)]) -> Self {
        let port = free_port();
        let output = File::create(log).unwrap();
        let child = binary()
            .env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .env("DATABASE_URL", database)
            // Blank rather than unset: dotenvy never overrides a variable that is set,
            // so a developer's `.env` cannot point these servers at a real provider.
            .env("OPENAI_API_KEY", "")
            .env("OPENAI_BASE_URL", "")
            .env("LOG_FORMAT", "json")
            .envs(UNLIMITED)
            .envs(vars.iter().copied())
            .stdout(output.try_clone().unwrap())
            .stderr(output)
            .spawn()
            .unwrap();
        let mut server = Self {
            base: format!("http://127.0.0.1:{port}"),
            child: Some(child),
            log: log.to_path_buf(),
        };
        let client = http_client();
        let started = Instant::now();
        loop {
            if let Ok(response) = client.get(server.url("/healthz")).send().await
                && response.status() == 200
            {
                return server;
            }
            if let Some(status) = server.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("the server exited with {status}:\n{}", server.log_text());
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the server did not answer within 10 s:\n{}",
                server.log_text()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// Everything the server has logged so far.
    pub(crate) fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL (no shutdown code runs), then waits until the process is gone.
    pub(crate) async fn kill_9(mut self) {
        let mut child = self.child.take().unwrap();
        // `Child::kill` is SIGKILL on Unix.
        child.kill().unwrap();
        let status = tokio::task::spawn_blocking(move || child.wait())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(status.signal(), Some(9), "not killed by SIGKILL: {status}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Rounds of start, writes and kill -9 on the same file.
const ROUNDS: u64 = 20;

/// Writers of each kind (conversations, chat turns, `/v1` calls) running at once.
const WRITERS: usize = 2;

/// Seeds the kill delays, so a failing round can be run again exactly.
const SEED: u64 = 0x5eed_0036;

const EMAIL: &str = "crash@example.com";

/// The writes the server acknowledged in one round.
#[derive(Default)]
struct Acks {
    /// Ids of conversations created (201).
    conversations: Vec<String>,
    /// `(id, content)` of the question and the answer of each turn that answered 200
    /// with a complete answer.
    messages: Vec<(i64, String)>,
    /// Ids of those answers: each has its settled ledger row.
    answers: Vec<i64>,
    /// `/v1/chat/completions` calls that answered 200.
    completions: i64,
}

impl Acks {
    fn of_each_kind(&self) -> bool {
        !self.conversations.is_empty() && !self.messages.is_empty() && self.completions > 0
    }
}

/// The kinds of write, in the order rounds take turns killing the server right after one.
#[derive(Clone, Copy, Debug)]
enum Write {
    Conversation,
    Turn,
    Completion,
}

/// The round's acknowledgements, shared by its writers.
#[derive(Default)]
struct Recorder {
    acks: Mutex<Acks>,
    /// Woken at each acknowledgement, by kind of write.
    acked: [Notify; 3],
}

impl Recorder {
    fn record(&self, kind: Write, write: impl FnOnce(&mut Acks)) {
        write(&mut self.acks.lock().unwrap());
        self.acked[kind as usize].notify_waiters();
    }
}

type Shared = Arc<Recorder>;

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_during_writes_twenty_times_keeps_the_file_intact_and_every_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}/crash.db", dir.path().display());
    let mut random = SEED;
    let mut account = None;
    let mut settled_before = 0;
    let (mut conversations, mut messages, mut completions) = (0, 0, 0);
    for round in 0..ROUNDS {
        let log = dir.path().join(format!("round-{round}.log"));
        // The demo model without pauses: many turns and calls end in each round, and the
        // kill still lands in the middle of some.
        let server = Server::start(&database, &log, &[("DEMO_WORD_DELAY_MS", "0")]).await;
        if account.is_none() {
            let key = api_key(&server.base, EMAIL).await;
            let model = first_model(&server.base, &key).await;
            account = Some((key, model));
        }
        let (key, model) = account.clone().unwrap();
        let acks = Shared::default();
        let mut writers = tokio::task::JoinSet::new();
        let base = &server.base;
        for writer in 0..WRITERS {
            writers.spawn(create_conversations(
                base.clone(),
                key.clone(),
                acks.clone(),
            ));
            writers.spawn(take_turns(
                base.clone(),
                key.clone(),
                acks.clone(),
                format!("r{round}w{writer}"),
            ));
            writers.spawn(complete_chats(
                base.clone(),
                key.clone(),
                model.clone(),
                acks.clone(),
            ));
        }
        // The kill comes at a random moment once every kind of write is going, so each
        // round has acknowledged writes of each kind and others in flight...
        let going = Instant::now();
        while !acks.acks.lock().unwrap().of_each_kind() {
            assert!(
                going.elapsed() < Duration::from_secs(10),
                "round {round}: not every kind of write was acknowledged within 10 s"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        random = random
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let delay = Duration::from_millis(100 + (random >> 33) % 601);
        tokio::time::sleep(delay).await;
        // Then the moment the next write of this round's kind is acknowledged: one that
        // raced ahead of its commit would be lost now.
        let kind = [Write::Conversation, Write::Turn, Write::Completion][round as usize % 3];
        tokio::time::timeout(
            Duration::from_secs(10),
            acks.acked[kind as usize].notified(),
        )
        .await
        .unwrap_or_else(|_| panic!("no {kind:?} was acknowledged for 10 s"));
        server.kill_9().await;
        // Each writer stops at its first failed connection.
        tokio::time::timeout(Duration::from_secs(10), writers.join_all())
            .await
            .expect("the writers did not stop after the kill");

        let acks = std::mem::take(&mut *acks.acks.lock().unwrap());
        let context = format!(
            "round {round} (killed at a {kind:?} {delay:?} after the first writes, seed {SEED:#x})"
        );
        let db = promptship::db::connect(&database).await.unwrap();
        let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!(integrity, "ok", "{context}");
        for id in &acks.conversations {
            let found: Option<String> =
                sqlx::query_scalar("SELECT id FROM conversations WHERE id = ?")
                    .bind(id)
                    .fetch_optional(&db)
                    .await
                    .unwrap();
            assert!(found.is_some(), "{context}: conversation {id} was lost");
        }
        for (id, content) in &acks.messages {
            let found: Option<(String, String)> =
                sqlx::query_as("SELECT status, content FROM messages WHERE id = ?")
                    .bind(id)
                    .fetch_optional(&db)
                    .await
                    .unwrap();
            assert_eq!(
                found,
                Some(("complete".to_string(), content.clone())),
                "{context}: message {id} was lost or changed"
            );
        }
        for id in &acks.answers {
            let status: Option<String> =
                sqlx::query_scalar("SELECT status FROM usage WHERE message_id = ?")
                    .bind(id)
                    .fetch_optional(&db)
                    .await
                    .unwrap();
            assert_eq!(
                status.as_deref(),
                Some("complete"),
                "{context}: the ledger row of answer {id}"
            );
        }
        // `/v1` calls have no message; a chat turn's ledger row has its answer's id.
        let settled: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM usage JOIN users ON users.id = usage.user_id
             WHERE users.email = ? AND usage.message_id IS NULL AND usage.status = 'complete'",
        )
        .bind(EMAIL)
        .fetch_one(&db)
        .await
        .unwrap();
        assert!(
            settled - settled_before >= acks.completions,
            "{context}: {} /v1 calls answered 200 but {} ledger rows were settled",
            acks.completions,
            settled - settled_before
        );
        settled_before = settled;
        db.close().await;
        conversations += acks.conversations.len();
        messages += acks.messages.len();
        completions += acks.completions;
    }
    println!(
        "{ROUNDS} rounds: {conversations} conversations, {} turns and {completions} /v1 calls acknowledged, none lost",
        messages / 2
    );
}

/// A client for one writer: requests bounded in time, authenticated by the key alone.
fn writer_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// Creates conversations until the server is gone.
async fn create_conversations(base: String, key: String, acks: Shared) {
    let client = writer_client();
    while let Ok(id) = create_conversation(&client, &base, &key).await {
        acks.record(Write::Conversation, |acks| acks.conversations.push(id));
        // Paced, or these cheap writes crowd out the turns on two cores.
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A new conversation's id; `Err` once the server is gone.
async fn create_conversation(
    client: &reqwest::Client,
    base: &str,
    key: &str,
) -> Result<String, reqwest::Error> {
    let response = client
        .post(format!("{base}/api/v1/conversations"))
        .bearer_auth(key)
        .json(&json!({ "title": "Crash" }))
        .send()
        .await?;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await?;
    Ok(body["id"].as_str().unwrap().to_string())
}

/// Chat turns (JSON, not streamed) in a conversation of its own until the server is gone.
async fn take_turns(base: String, key: String, acks: Shared, name: String) {
    let client = writer_client();
    let Ok(id) = create_conversation(&client, &base, &key).await else {
        return;
    };
    acks.record(Write::Conversation, |acks| {
        acks.conversations.push(id.clone())
    });
    for turn in 0.. {
        let sent = client
            .post(format!("{base}/api/v1/conversations/{id}/messages"))
            .bearer_auth(&key)
            .json(&json!({ "content": format!("{name} turn {turn}") }))
            .send()
            .await;
        let Ok(response) = sent else { return };
        assert_eq!(response.status(), 200);
        let Ok(exchange) = response.json::<Value>().await else {
            return;
        };
        let (question, answer) = (&exchange["question"], &exchange["answer"]);
        assert_eq!(answer["status"], "complete", "{exchange}");
        acks.record(Write::Turn, |acks| {
            acks.answers.push(answer["id"].as_i64().unwrap());
            for message in [question, answer] {
                acks.messages.push((
                    message["id"].as_i64().unwrap(),
                    message["content"].as_str().unwrap().to_string(),
                ));
            }
        });
    }
}

/// `/v1/chat/completions` calls (not streamed) until the server is gone.
async fn complete_chats(base: String, key: String, model: String, acks: Shared) {
    let client = writer_client();
    loop {
        let sent = client
            .post(format!("{base}/v1/chat/completions"))
            .bearer_auth(&key)
            .json(&json!({
                "model": model,
                "messages": [{ "role": "user", "content": "hello" }],
            }))
            .send()
            .await;
        let Ok(response) = sent else { return };
        assert_eq!(response.status(), 200);
        let Ok(body) = response.json::<Value>().await else {
            return;
        };
        assert_eq!(body["choices"][0]["finish_reason"], "stop", "{body}");
        acks.record(Write::Completion, |acks| acks.completions += 1);
    }
}
