//! A mixed soak against the real binary (RELIABILITY.md check 5): pages, logins, chat
//! turns and `/v1` calls from 16 workers for `SOAK_SECS`, with the server's memory, open
//! files, live tasks and WAL sampled every 5 s.
//!
//! `.ci/run` runs it for 2 minutes. The documented run is 10 minutes with the release
//! binary:
//!
//! ```text
//! cargo build --release --locked --features jemalloc
//! PROMPTSHIP_BIN=target/release/promptship SOAK_SECS=600 \
//!     cargo test --locked --test soak -- --ignored --nocapture
//! ```
//!
//! The samples and the summary are printed and written to `target/soak.md`.

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    fs::File,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use serde_json::{Value, json};

// The spawned-binary helpers of the API tests (this is a test crate of its own).
#[path = "api/helpers/spawned.rs"]
mod spawned;

use spawned::{UNLIMITED, find_key, free_port, wait_until_up};

/// Clients sending requests at once.
const WORKERS: usize = 16;

/// Seconds between samples.
const SAMPLE_SECS: u64 = 5;

/// A worker's pause between requests: a steady load, short of saturating two cores.
const THINK_TIME: Duration = Duration::from_millis(50);

/// Turns a worker takes in one conversation before it starts another.
const TURNS_PER_CONVERSATION: usize = 10;

/// Questions asked to fill the conversation whose page is viewed (50 messages).
const QUESTIONS: usize = 25;

/// Largest WAL file accepted. SQLite checkpoints when a commit leaves the WAL at 1,000
/// pages or more (4 MiB of 4 KiB pages) and then writes it again from its start; it
/// never shrinks the file (no `journal_size_limit`), so its size is its high-water mark:
/// 1,000 pages plus what is committed while a checkpoint cannot finish because readers
/// still use older pages. Four times the threshold leaves room for that; a WAL that keeps
/// growing means checkpoints never finish.
const WAL_LIMIT: u64 = 16 * 1024 * 1024;

/// Password hashes running at once at most, and the memory each holds while it runs
/// (argon2id with m = 19 MiB, src/auth/password.rs). Whether a sample catches one is
/// chance, so the highest RSS may differ by this much between two thirds of the run.
const HASHES_AT_ONCE: u64 = 2;
const HASH_KIB: u64 = 19 * 1024;

/// Connections the SQLite pool opens at most (src/db/mod.rs), each holding the database
/// and its WAL open: the pool keeps them for 10 minutes after a burst.
const DB_CONNECTIONS: u64 = 8;

const EMAIL: &str = "soak@example.com";
const PASSWORD: &str = "q7Vt-Lm2x-Rp9k-Wz4c";
const METRICS_TOKEN: &str = "soak-metrics-token";

/// What a worker does, in turn; workers start at different places in the list.
const MIX: [Op; 20] = [
    Op::Home,
    Op::ChatPage,
    Op::Turn,
    Op::Completion,
    Op::LoginPage,
    Op::ChatPage,
    Op::StreamedCompletion,
    Op::Turn,
    Op::Home,
    Op::Login,
    Op::ChatPage,
    Op::Turn,
    Op::Completion,
    Op::Home,
    Op::ChatPage,
    Op::StreamedCompletion,
    Op::Turn,
    Op::LoginPage,
    Op::ChatPage,
    Op::Completion,
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Op {
    /// `GET /`
    Home,
    /// `GET /login`
    LoginPage,
    /// `GET /conversations/{id}` of the conversation with 50 messages.
    ChatPage,
    /// `POST /login` with the right password.
    Login,
    /// `POST /api/v1/conversations`, every [`TURNS_PER_CONVERSATION`] turns.
    NewConversation,
    /// A chat turn through the JSON API, streamed, read to its `done` event.
    Turn,
    /// `POST /v1/chat/completions`, not streamed.
    Completion,
    /// `POST /v1/chat/completions` streamed, read to `[DONE]`.
    StreamedCompletion,
}

/// A mixed load keeps every resource flat and every answer sound, where:
///
/// - **no errors**: every response has the status its request expects (so no 5xx), no
///   request fails to connect or times out (30 s), every streamed turn ends with a
///   `done` event and a complete answer, every `/v1` stream with `[DONE]`; and no log
///   line mentions `SQLITE_BUSY` or `database is locked`.
/// - **flat memory**: the first third of the run is warm-up (caches, connection pools,
///   SQLite's page caches and the allocator's arenas fill); the middle third is the
///   reference for the last. The *lowest* RSS of the last third is at most the lowest of
///   the middle third plus 10 % plus 4 MiB: passing requests, hashes and memory the
///   allocator has yet to return only ever add to a sample, so a rising floor is
///   memory kept. The *highest* RSS of the last third is at most the highest of the
///   middle third plus 10 % plus 4 MiB plus two password hashes (2 × 19 MiB, whether a
///   sample catches one is chance).
/// - **no leaked files or tasks**: while the load runs, the highest count of open files
///   and of live tasks in the last third is at most the middle third's plus
///   2 × `WORKERS` (requests in flight at a sample, model connections warmed since).
///   Five seconds after the load stops and its clients are gone, no client connection is
///   left open, and open files and tasks are back at the idle baseline taken before the
///   load plus what the server keeps warm on purpose: the extra idle connections to the
///   model server, counted from `/proc/<pid>/net/tcp` (two sockets and two tasks each),
///   and up to `DB_CONNECTIONS` pooled SQLite connections (two files each), plus 4.
/// - **bounded WAL**: the `-wal` file never exceeds [`WAL_LIMIT`].
#[tokio::test(flavor = "multi_thread")]
#[ignore = "run by .ci/run: SOAK_SECS=120 cargo test --features jemalloc --test soak -- --ignored"]
async fn a_mixed_load_leaves_memory_files_tasks_and_the_wal_flat_without_errors() {
    let duration = Duration::from_secs(
        std::env::var("SOAK_SECS")
            .ok()
            .map_or(120, |secs| secs.parse().expect("SOAK_SECS: whole seconds")),
    );
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("soak.db");
    let log = dir.path().join("server.log");
    let server = Server::start(&database, &log);
    wait_until_up(&server.metrics, &server.base).await;

    let setup = Account::sign_up(&server).await;
    let chat_page = setup.fill_conversation().await;
    let (key, model) = (setup.key.clone(), setup.model.clone());
    drop(setup);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = server.sample(Duration::ZERO, 0).await;

    let requests = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let sampler = {
        let (server, requests) = (server.clone(), requests.clone());
        tokio::spawn(async move {
            let mut samples = Vec::new();
            let mut next = started;
            while next <= deadline {
                tokio::time::sleep_until(next.into()).await;
                let done = requests.load(Ordering::Relaxed);
                samples.push(server.sample(started.elapsed(), done).await);
                next += Duration::from_secs(SAMPLE_SECS);
            }
            samples
        })
    };
    let mut workers = tokio::task::JoinSet::new();
    for worker in 0..WORKERS {
        let context = Worker {
            server: server.clone(),
            key: key.clone(),
            model: model.clone(),
            chat_page: chat_page.clone(),
            requests: requests.clone(),
        };
        workers.spawn(context.run(worker, deadline));
    }
    let mut tally = Tally::default();
    for worker in workers.join_all().await {
        tally.merge(worker);
    }
    let mut samples = sampler.await.unwrap();
    let loaded = started.elapsed();
    // The workers' clients are gone with them; the server closes their connections.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let end = server
        .sample(started.elapsed(), requests.load(Ordering::Relaxed))
        .await;
    samples.push(end);
    let logs = std::fs::read_to_string(&log).unwrap();
    let report = Report::new(idle, &samples, &tally, &logs, loaded);
    println!("{}", report.markdown);
    let written = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("soak.md");
    std::fs::write(&written, &report.markdown).unwrap();
    println!("written to {}", written.display());
    assert!(report.failures.is_empty(), "{}", report.failures.join("\n"));
}

/// The binary (`PROMPTSHIP_BIN`, or the one cargo built) on a free loopback port with its
/// demo model and every rate and budget out of the way. Killed when the last clone goes.
#[derive(Clone)]
struct Server {
    base: String,
    pid: u32,
    wal: PathBuf,
    metrics: reqwest::Client,
    _child: Arc<ChildGuard>,
}

struct ChildGuard(std::sync::Mutex<Child>);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let mut child = self.0.lock().unwrap();
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Server {
    fn start(database: &Path, log: &Path) -> Self {
        let port = free_port();
        let binary = std::env::var("PROMPTSHIP_BIN")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_promptship").to_string());
        let output = File::create(log).unwrap();
        let child = Command::new(&binary)
            .env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .env("DATABASE_URL", format!("sqlite://{}", database.display()))
            // Blank rather than unset: dotenvy never overrides a variable that is set,
            // so a developer's `.env` cannot point the soak at a real provider.
            .env("OPENAI_API_KEY", "")
            .env("OPENAI_BASE_URL", "")
            // About 0.4 s per answer, as a fast model streams.
            .env("DEMO_WORD_DELAY_MS", "5")
            .env("LOG_FORMAT", "json")
            .env("METRICS_TOKEN", METRICS_TOKEN)
            .env_remove("RUST_LOG")
            .env_remove("METRICS_ADDR")
            // The load comes from one address and one account: no rate or budget may
            // stop it.
            .envs(UNLIMITED)
            .stdin(Stdio::null())
            .stdout(output.try_clone().unwrap())
            .stderr(output)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {binary}: {e}"));
        let _ = rustls::crypto::ring::default_provider().install_default();
        Self {
            base: format!("http://127.0.0.1:{port}"),
            pid: child.id(),
            wal: PathBuf::from(format!("{}-wal", database.display())),
            // Keeps no connection, so every sample sees the same one open: its own.
            metrics: reqwest::Client::builder()
                .pool_max_idle_per_host(0)
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap(),
            _child: Arc::new(ChildGuard(std::sync::Mutex::new(child))),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    async fn sample(&self, at: Duration, requests: u64) -> Sample {
        // Files first: the `/metrics` request below is then closed by the next sample.
        let files = self.open_files();
        let sockets = self.sockets(&files);
        let port = self.port();
        let listeners: Vec<u16> = sockets
            .iter()
            .filter(|s| s.listening)
            .map(|s| s.local)
            .collect();
        let client_connections = sockets
            .iter()
            .filter(|s| !s.listening && s.local == port)
            .count() as u64;
        // The demo model listens on a port of its own in the same process; a connection to
        // it has both ends here, and this counts the client's.
        let model_connections = sockets
            .iter()
            .filter(|s| !s.listening && s.remote != port && listeners.contains(&s.remote))
            .count() as u64;
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).unwrap();
        let rss_kib = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .unwrap();
        let metrics = self
            .metrics
            .get(self.url("/metrics"))
            .bearer_auth(METRICS_TOKEN)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let tasks = metrics
            .lines()
            .find_map(|line| line.strip_prefix("tokio_tasks_alive "))
            .and_then(|value| value.trim().parse().ok())
            .unwrap_or_else(|| panic!("no tokio_tasks_alive in /metrics:\n{metrics}"));
        let wal_bytes = std::fs::metadata(&self.wal).map_or(0, |m| m.len());
        Sample {
            at,
            requests,
            rss_kib,
            open_files: files.len() as u64,
            client_connections,
            model_connections,
            tasks,
            wal_bytes,
        }
    }

    fn port(&self) -> u16 {
        self.base.rsplit(':').next().unwrap().parse().unwrap()
    }

    /// What each open file descriptor of the server points to.
    fn open_files(&self) -> Vec<String> {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid))
            .unwrap()
            .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
            .map(|target| target.display().to_string())
            .collect()
    }

    /// The server's TCP sockets (all on 127.0.0.1, so IPv4), from `/proc/<pid>/net/tcp`.
    fn sockets(&self, files: &[String]) -> Vec<Socket> {
        let inodes: Vec<&str> = files
            .iter()
            .filter_map(|f| f.strip_prefix("socket:[")?.strip_suffix(']'))
            .collect();
        let table = std::fs::read_to_string(format!("/proc/{}/net/tcp", self.pid)).unwrap();
        let port = |address: &str| u16::from_str_radix(address.rsplit(':').next()?, 16).ok();
        table
            .lines()
            .skip(1)
            .filter_map(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                inodes.contains(fields.get(9)?).then_some(())?;
                Some(Socket {
                    local: port(fields[1])?,
                    remote: port(fields[2])?,
                    // 0A is LISTEN.
                    listening: fields[3] == "0A",
                })
            })
            .collect()
    }
}

struct Socket {
    local: u16,
    remote: u16,
    listening: bool,
}

/// A browser: keeps its session cookie, shows redirects instead of following them.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// The account the load uses, signed up with an API key (made on the keys page, as a
/// person makes one).
struct Account {
    server: Server,
    browser: reqwest::Client,
    key: String,
    model: String,
}

impl Account {
    async fn sign_up(server: &Server) -> Self {
        let browser = browser();
        let response = browser
            .post(server.url("/signup"))
            .form(&[("email", EMAIL), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303, "sign-up failed");
        let response = browser
            .post(server.url("/settings/keys"))
            .form(&[("name", "soak")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let key = find_key(&response.text().await.unwrap()).expect("no key in the keys page");
        let models: Value = browser
            .get(server.url("/v1/models"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let model = models["data"][0]["id"].as_str().unwrap().to_string();
        Self {
            server: server.clone(),
            browser,
            key,
            model,
        }
    }

    /// A conversation of 50 messages (25 questions, 25 answers); returns its id.
    async fn fill_conversation(&self) -> String {
        let created: Value = self
            .browser
            .post(self.server.url("/api/v1/conversations"))
            .json(&json!({ "title": "Fifty messages" }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = created["id"].as_str().unwrap().to_string();
        for n in 1..=QUESTIONS {
            let response = self
                .browser
                .post(
                    self.server
                        .url(&format!("/api/v1/conversations/{id}/messages")),
                )
                .json(&json!({ "content": format!("Question {n}: how do streams end?") }))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
        }
        id
    }
}

/// What one worker needs.
struct Worker {
    server: Server,
    key: String,
    model: String,
    chat_page: String,
    requests: Arc<AtomicU64>,
}

/// How one request went: its status (none when the request itself failed), and whether
/// that status and the body are the ones expected.
struct Outcome {
    status: Option<u16>,
    expected: bool,
    problem: Option<String>,
}

impl Worker {
    async fn run(self, worker: usize, deadline: Instant) -> Tally {
        let mut tally = Tally::default();
        let browser = browser();
        let login = self.log_in(&browser).await;
        tally.record(Op::Login, login.0, login.1);
        let mut conversation = None;
        let mut turns = 0;
        for step in (worker * 7).. {
            if Instant::now() >= deadline {
                break;
            }
            let op = MIX[step % MIX.len()];
            if op == Op::Turn && (conversation.is_none() || turns == TURNS_PER_CONVERSATION) {
                let (outcome, took, id) = self.new_conversation(&browser).await;
                tally.record(Op::NewConversation, outcome, took);
                conversation = id;
                turns = 0;
            }
            let (outcome, took) = match op {
                Op::Home => self.page(&browser, "/").await,
                Op::LoginPage => self.page(&browser, "/login").await,
                Op::ChatPage => {
                    self.page(&browser, &format!("/conversations/{}", self.chat_page))
                        .await
                }
                Op::Login => self.log_in(&browser).await,
                Op::Turn => match &conversation {
                    Some(id) => {
                        turns += 1;
                        self.turn(&browser, id, worker, step).await
                    }
                    None => continue,
                },
                Op::Completion => self.completion(&browser, false).await,
                Op::StreamedCompletion => self.completion(&browser, true).await,
                Op::NewConversation => unreachable!("not in the mix"),
            };
            tally.record(op, outcome, took);
            tokio::time::sleep(THINK_TIME).await;
        }
        tally
    }

    /// Times a request and counts it.
    async fn timed<F: Future<Output = Outcome>>(&self, request: F) -> (Outcome, Duration) {
        let started = Instant::now();
        let outcome = request.await;
        self.requests.fetch_add(1, Ordering::Relaxed);
        (outcome, started.elapsed())
    }

    async fn page(&self, browser: &reqwest::Client, path: &str) -> (Outcome, Duration) {
        self.timed(async {
            let response = match browser.get(self.server.url(path)).send().await {
                Ok(response) => response,
                Err(error) => return failed(error),
            };
            let status = response.status().as_u16();
            match response.bytes().await {
                Ok(_) => checked(status, 200, None),
                Err(error) => failed(error),
            }
        })
        .await
    }

    async fn log_in(&self, browser: &reqwest::Client) -> (Outcome, Duration) {
        self.timed(async {
            match browser
                .post(self.server.url("/login"))
                .form(&[("email", EMAIL), ("password", PASSWORD)])
                .send()
                .await
            {
                Ok(response) => checked(response.status().as_u16(), 303, None),
                Err(error) => failed(error),
            }
        })
        .await
    }

    async fn new_conversation(
        &self,
        browser: &reqwest::Client,
    ) -> (Outcome, Duration, Option<String>) {
        let mut id = None;
        let (outcome, took) = self
            .timed(async {
                let response = match browser
                    .post(self.server.url("/api/v1/conversations"))
                    .json(&json!({ "title": "Soak" }))
                    .send()
                    .await
                {
                    Ok(response) => response,
                    Err(error) => return failed(error),
                };
                let status = response.status().as_u16();
                match response.json::<Value>().await {
                    Ok(body) => {
                        id = body["id"].as_str().map(str::to_string);
                        checked(status, 201, None)
                    }
                    Err(error) => failed(error),
                }
            })
            .await;
        (outcome, took, id)
    }

    async fn turn(
        &self,
        browser: &reqwest::Client,
        conversation: &str,
        worker: usize,
        step: usize,
    ) -> (Outcome, Duration) {
        self.timed(async {
            let response = match browser
                .post(
                    self.server
                        .url(&format!("/api/v1/conversations/{conversation}/messages")),
                )
                .header("accept", "text/event-stream")
                .json(&json!({ "content": format!("Worker {worker}, step {step}: hello") }))
                .send()
                .await
            {
                Ok(response) => response,
                Err(error) => return failed(error),
            };
            let status = response.status().as_u16();
            if status != 200 {
                return checked(status, 200, None);
            }
            let mut events = response.bytes_stream().eventsource();
            let mut last = None;
            while let Some(event) = events.next().await {
                match event {
                    Ok(event) => last = Some(event),
                    Err(error) => return failed(error),
                }
            }
            let problem = match last {
                Some(event) if event.event == "done" => {
                    let answer = &serde_json::from_str::<Value>(&event.data).unwrap()["answer"];
                    (answer["status"] != "complete").then(|| format!("answer {answer}"))
                }
                other => Some(format!("the stream ended with {other:?}")),
            };
            checked(status, 200, problem)
        })
        .await
    }

    async fn completion(&self, client: &reqwest::Client, stream: bool) -> (Outcome, Duration) {
        self.timed(async {
            let response = match client
                .post(self.server.url("/v1/chat/completions"))
                .bearer_auth(&self.key)
                .json(&json!({
                    "model": self.model,
                    "stream": stream,
                    "messages": [{ "role": "user", "content": "How does a soak test work?" }],
                }))
                .send()
                .await
            {
                Ok(response) => response,
                Err(error) => return failed(error),
            };
            let status = response.status().as_u16();
            let body = match response.text().await {
                Ok(body) => body,
                Err(error) => return failed(error),
            };
            let problem = if stream {
                (!body.trim_end().ends_with("data: [DONE]") || body.contains("\"error\""))
                    .then(|| format!("stream: {}", tail(&body)))
            } else {
                let finish = serde_json::from_str::<Value>(&body)
                    .map(|body| body["choices"][0]["finish_reason"].clone())
                    .unwrap_or_default();
                (finish != "stop").then(|| format!("body: {}", tail(&body)))
            };
            checked(status, 200, problem)
        })
        .await
    }
}

fn tail(text: &str) -> &str {
    let start = text.len().saturating_sub(300);
    text.get(start..).unwrap_or(text)
}

fn failed(error: impl std::fmt::Display) -> Outcome {
    Outcome {
        status: None,
        expected: false,
        problem: Some(error.to_string()),
    }
}

fn checked(status: u16, expected: u16, problem: Option<String>) -> Outcome {
    Outcome {
        status: Some(status),
        expected: status == expected && problem.is_none(),
        problem: problem.or_else(|| (status != expected).then(|| format!("status {status}"))),
    }
}

/// Counts and times per kind of request.
#[derive(Default)]
struct Tally {
    kinds: BTreeMap<Op, Kind>,
}

#[derive(Default)]
struct Kind {
    times: Vec<Duration>,
    server_errors: usize,
    transport_errors: usize,
    unexpected: usize,
    /// The first few problems, to show.
    examples: Vec<String>,
}

impl Tally {
    fn record(&mut self, op: Op, outcome: Outcome, took: Duration) {
        let kind = self.kinds.entry(op).or_default();
        kind.times.push(took);
        match outcome.status {
            None => kind.transport_errors += 1,
            Some(status) if status >= 500 => kind.server_errors += 1,
            Some(_) => {}
        }
        if !outcome.expected {
            kind.unexpected += 1;
            if kind.examples.len() < 3 {
                kind.examples
                    .push(outcome.problem.unwrap_or_else(|| "unexpected".into()));
            }
        }
    }

    fn merge(&mut self, other: Tally) {
        for (op, theirs) in other.kinds {
            let ours = self.kinds.entry(op).or_default();
            ours.times.extend(theirs.times);
            ours.server_errors += theirs.server_errors;
            ours.transport_errors += theirs.transport_errors;
            ours.unexpected += theirs.unexpected;
            for example in theirs.examples {
                if ours.examples.len() < 3 {
                    ours.examples.push(example);
                }
            }
        }
    }
}

/// One look at the server.
#[derive(Clone, Copy, Debug)]
struct Sample {
    /// Since the load started.
    at: Duration,
    /// Requests answered so far.
    requests: u64,
    rss_kib: u64,
    open_files: u64,
    /// Connections from clients still open.
    client_connections: u64,
    /// Idle or busy connections to the model server (the demo, in the same process).
    model_connections: u64,
    tasks: u64,
    wal_bytes: u64,
}

/// The Markdown report and every failed condition.
struct Report {
    markdown: String,
    failures: Vec<String>,
}

impl Report {
    fn new(idle: Sample, samples: &[Sample], tally: &Tally, logs: &str, loaded: Duration) -> Self {
        let (end, during) = samples.split_last().unwrap();
        let third = loaded / 3;
        let middle: Vec<&Sample> = during
            .iter()
            .filter(|s| s.at >= third && s.at < 2 * third)
            .collect();
        let last: Vec<&Sample> = during.iter().filter(|s| s.at >= 2 * third).collect();
        assert!(
            !middle.is_empty() && !last.is_empty(),
            "too short a run for thirds: SOAK_SECS of 30 or more"
        );
        let highest = |samples: &[&Sample], field: fn(&Sample) -> u64| {
            samples.iter().map(|s| field(s)).max().unwrap()
        };
        let lowest = |samples: &[&Sample], field: fn(&Sample) -> u64| {
            samples.iter().map(|s| field(s)).min().unwrap()
        };
        let mut failures = Vec::new();
        let mut summary = String::new();

        let rss = |s: &Sample| s.rss_kib;
        let grown = |kib: u64| kib + kib / 10 + 4 * 1024;
        let (floor_middle, floor_last) = (lowest(&middle, rss), lowest(&last, rss));
        let (peak_middle, peak_last) = (highest(&middle, rss), highest(&last, rss));
        let floor_limit = grown(floor_middle);
        let peak_limit = grown(peak_middle) + HASHES_AT_ONCE * HASH_KIB;
        let _ = writeln!(
            summary,
            "- RSS: idle {} KiB; lowest {floor_middle} KiB in the middle third, {floor_last} in \
             the last (limit {floor_limit}); highest {peak_middle} KiB in the middle third, \
             {peak_last} in the last (limit {peak_limit}); {} KiB at the end",
            idle.rss_kib, end.rss_kib
        );
        if floor_last > floor_limit {
            failures.push(format!(
                "RSS grew: its lowest in the last third is {floor_last} KiB, limit {floor_limit}"
            ));
        }
        if peak_last > peak_limit {
            failures.push(format!(
                "RSS grew: its highest in the last third is {peak_last} KiB, limit {peak_limit}"
            ));
        }

        let warmed = end.model_connections.saturating_sub(idle.model_connections);
        let settled_files = idle.open_files + 2 * warmed + 2 * DB_CONNECTIONS + 4;
        let settled_tasks = idle.tasks + 2 * warmed + 4;
        for (name, field, idle_value, end_value, settled) in [
            (
                "open files",
                (|s: &Sample| s.open_files) as fn(&Sample) -> u64,
                idle.open_files,
                end.open_files,
                settled_files,
            ),
            (
                "tasks",
                |s: &Sample| s.tasks,
                idle.tasks,
                end.tasks,
                settled_tasks,
            ),
        ] {
            let (in_middle, in_last) = (highest(&middle, field), highest(&last, field));
            let limit = in_middle + 2 * WORKERS as u64;
            let _ = writeln!(
                summary,
                "- {name}: idle {idle_value}; highest {in_middle} in the middle third, \
                 {in_last} in the last (limit {limit}); {end_value} at the end (limit {settled})"
            );
            if in_last > limit {
                failures.push(format!(
                    "{name} grew under load: {in_last} in the last third, limit {limit}"
                ));
            }
            if end_value > settled {
                failures.push(format!(
                    "{name} not released: {end_value} after the load, limit {settled}"
                ));
            }
        }
        let _ = writeln!(
            summary,
            "- connections at the end: {} from clients, {} kept warm to the model server \
             ({} when idle)",
            end.client_connections, end.model_connections, idle.model_connections
        );
        if end.client_connections > 0 {
            failures.push(format!(
                "{} client connections still open after the clients left",
                end.client_connections
            ));
        }

        let wal_max = samples.iter().map(|s| s.wal_bytes).max().unwrap();
        let _ = writeln!(
            summary,
            "- WAL: at most {:.1} MiB (limit {:.0} MiB)",
            mib(wal_max),
            mib(WAL_LIMIT)
        );
        if wal_max > WAL_LIMIT {
            failures.push(format!("the WAL reached {wal_max} bytes"));
        }

        let busy: Vec<&str> = logs
            .lines()
            .filter(|line| {
                let line = line.to_ascii_lowercase();
                line.contains("sqlite_busy") || line.contains("database is locked")
            })
            .collect();
        let errors = logs.lines().filter(|l| l.contains("\"ERROR\"")).count();
        let warnings = logs.lines().filter(|l| l.contains("\"WARN\"")).count();
        let _ = writeln!(
            summary,
            "- logs: {} lines, {errors} errors, {warnings} warnings, {} SQLITE_BUSY",
            logs.lines().count(),
            busy.len()
        );
        if !busy.is_empty() {
            failures.push(format!("SQLITE_BUSY in the logs: {}", busy[0]));
        }

        let mut requests = String::from(
            "| request | count | p50 ms | p99 ms | max ms | 5xx | failed | unexpected |\n\
             | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
        );
        let mut total = 0;
        for (op, kind) in &tally.kinds {
            let mut times = kind.times.clone();
            times.sort();
            let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
            let ms = |d: Duration| d.as_secs_f64() * 1000.0;
            total += times.len();
            let _ = writeln!(
                requests,
                "| {op:?} | {} | {:.1} | {:.1} | {:.1} | {} | {} | {} |",
                times.len(),
                ms(at(0.5)),
                ms(at(0.99)),
                ms(at(1.0)),
                kind.server_errors,
                kind.transport_errors,
                kind.unexpected
            );
            if kind.unexpected > 0 {
                failures.push(format!(
                    "{op:?}: {} of {} not as expected ({} 5xx, {} failed), e.g. {:?}",
                    kind.unexpected,
                    times.len(),
                    kind.server_errors,
                    kind.transport_errors,
                    kind.examples
                ));
            }
        }

        let mut table = String::from(
            "| t (s) | requests | RSS (KiB) | open files | client conns | model conns | tasks | WAL (KiB) |\n\
             | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
        );
        let row = |table: &mut String, label: String, s: &Sample| {
            let _ = writeln!(
                table,
                "| {label} | {} | {} | {} | {} | {} | {} | {} |",
                s.requests,
                s.rss_kib,
                s.open_files,
                s.client_connections,
                s.model_connections,
                s.tasks,
                s.wal_bytes / 1024
            );
        };
        row(&mut table, "idle".into(), &idle);
        for sample in during {
            row(&mut table, format!("{}", sample.at.as_secs()), sample);
        }
        row(&mut table, format!("end ({})", end.at.as_secs()), end);

        let markdown = format!(
            "# Soak: {WORKERS} workers for {:.0} s, {total} requests ({:.0}/s)\n\n\
             Binary: {}\n\n## Summary\n\n{summary}\n## Requests\n\n{requests}\n\
             ## Samples (every {SAMPLE_SECS} s)\n\n{table}\n{}\n",
            loaded.as_secs_f64(),
            total as f64 / loaded.as_secs_f64(),
            std::env::var("PROMPTSHIP_BIN")
                .unwrap_or_else(|_| env!("CARGO_BIN_EXE_promptship").to_string()),
            if failures.is_empty() {
                "Result: every check passed.".to_string()
            } else {
                format!("Result: FAILED\n\n- {}", failures.join("\n- "))
            }
        );
        Self { markdown, failures }
    }
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
