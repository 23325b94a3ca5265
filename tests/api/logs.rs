//! Reading what the service logs: a capture of this test's own log lines, and the real
//! binary with its output in files. Also the operator's log lines of checks 4 and 7: a
//! model call refused by the global budget or the kill switch, and a provider account out
//! of credit, each say why in the log.

use std::{
    io::Write,
    process::{Child, Command},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use tracing_subscriber::{EnvFilter, fmt, layer::SubscriberExt};

use crate::{
    helpers::{
        ADMIN_EMAIL, TestApp, error_message, http_client, read_events,
        spawned::{UNLIMITED, free_port},
    },
    mock_upstream::Scenario,
    process::binary,
};

/// The log lines written on this test's thread, formatted as `LOG_FORMAT=json` formats
/// them and filtered as the binary filters them by default.
///
/// `#[tokio::test]` runs a current-thread runtime, so the app's requests and turns run on
/// the test's own thread: a subscriber set for that thread sees every line they write,
/// and none of the tests running beside it.
pub struct LogCapture {
    lines: Arc<Mutex<Vec<u8>>>,
    _guard: tracing::subscriber::DefaultGuard,
}

impl LogCapture {
    pub fn start() -> Self {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        // The same layer and default filter as `telemetry::init`.
        let subscriber = tracing_subscriber::registry()
            .with(EnvFilter::new(promptship::telemetry::DEFAULT_FILTER))
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_span_list(true)
                    .with_writer(move || Sink(sink.clone())),
            );
        Self {
            lines,
            _guard: tracing::subscriber::set_default(subscriber),
        }
    }

    /// Every line so far, each of which must be one JSON object.
    pub fn lines(&self) -> Vec<Value> {
        let bytes = self.lines.lock().unwrap().clone();
        json_lines(&String::from_utf8(bytes).expect("log lines are UTF-8"))
    }

    /// The lines whose message contains `text`.
    pub fn saying(&self, text: &str) -> Vec<Value> {
        self.lines()
            .into_iter()
            .filter(|line| line["message"].as_str().is_some_and(|m| m.contains(text)))
            .collect()
    }
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Parses a log, failing on (and naming) any line that is not one JSON object.
pub fn json_lines(log: &str) -> Vec<Value> {
    log.lines()
        .enumerate()
        .map(|(number, line)| match serde_json::from_str::<Value>(line) {
            Ok(value) if value.is_object() => value,
            _ => panic!("log line {} is not one JSON object: {line:?}", number + 1),
        })
        .collect()
}

/// The real binary, serving on a free port, its stdout and stderr written to files.
pub struct Server {
    /// `http://127.0.0.1:port`
    pub base: String,
    /// `sqlite://…` in `dir`.
    pub database: String,
    /// Holds the database and the output files.
    pub dir: tempfile::TempDir,
    child: Option<Child>,
}

/// What a stopped server wrote.
pub struct Output {
    pub stdout: String,
    pub stderr: String,
}

impl Server {
    /// Starts the binary with JSON logs, every per-address rate and budget out of the way
    /// (the tests here send many requests from 127.0.0.1), and `vars` on top; waits until
    /// it answers.
    pub async fn start(vars: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let database = format!("sqlite://{}/app.db", dir.path().display());
        let port = free_port();
        let child = binary()
            .env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .env("DATABASE_URL", &database)
            .env("LOG_FORMAT", "json")
            .envs(UNLIMITED)
            .envs(vars.iter().copied())
            .stdout(std::fs::File::create(dir.path().join("stdout.log")).unwrap())
            .stderr(std::fs::File::create(dir.path().join("stderr.log")).unwrap())
            .spawn()
            .unwrap();
        let server = Self {
            base: format!("http://127.0.0.1:{port}"),
            database,
            dir,
            child: Some(child),
        };
        let client = http_client();
        let started = Instant::now();
        while client
            .get(format!("{}/healthz", server.base))
            .send()
            .await
            .is_err()
        {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the server did not start: {}",
                server.read_output().stdout
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        server
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends SIGTERM, waits (at most 15 s) for the exit, and returns what it wrote.
    pub async fn stop(&mut self) -> Output {
        let mut child = self.child.take().expect("stopped twice");
        let terminated = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(terminated.success());
        let status = tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            loop {
                if let Some(status) = child.try_wait().unwrap() {
                    return Some(status);
                }
                if started.elapsed() > Duration::from_secs(15) {
                    let _ = child.kill();
                    let _ = child.wait();
                    return None;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
        .await
        .unwrap();
        let output = self.read_output();
        assert_eq!(
            status.and_then(|s| s.code()),
            Some(0),
            "the server did not exit cleanly:\n{}\n{}",
            output.stdout,
            output.stderr
        );
        output
    }

    fn read_output(&self) -> Output {
        let read = |name: &str| {
            String::from_utf8(std::fs::read(self.dir.path().join(name)).unwrap())
                .unwrap_or_else(|e| panic!("{name} is not UTF-8: {e}"))
        };
        Output {
            stdout: read("stdout.log"),
            stderr: read("stderr.log"),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Asks for a model call three ways (JSON API, page form, `/v1`) and returns the statuses.
async fn ask_every_way(app: &TestApp, key: &str) -> Vec<u16> {
    let conversation = app.create_conversation().await;
    let api = app.send_streaming(&conversation, "hello").await;
    let page = app
        .post_form("/conversations", &[("content", "from the page")])
        .await;
    let v1 = app
        .client
        .post(app.url("/v1/chat/completions"))
        .bearer_auth(key)
        .json(&json!({ "model": "gpt-4o-mini", "messages": [{ "role": "user", "content": "hi" }] }))
        .send()
        .await
        .unwrap();
    vec![
        api.status().as_u16(),
        page.status().as_u16(),
        v1.status().as_u16(),
    ]
}

#[tokio::test]
async fn a_spent_global_budget_refuses_each_call_with_an_operator_log_line_saying_why() {
    let logs = LogCapture::start();
    let app = TestApp::spawn_with(&[("GLOBAL_DAILY_TOKENS", "100000")]).await;
    let key = app.api_key("budget@example.com").await;
    app.record_usage(None, 99_900, 0).await;

    assert_eq!(ask_every_way(&app, &key).await, [503, 503, 503]);
    assert_eq!(app.mock.posts(), 0, "no call reached the provider");
    let lines = logs.saying("model call refused: the global daily budget is spent");
    assert_eq!(lines.len(), 3, "one line per refused call: {lines:?}");
    for line in &lines {
        assert_eq!(line["level"], "WARN", "{line}");
        assert_eq!(line["token_limit"], 100_000, "{line}");
        assert_eq!(line["global_tokens"], 99_900, "{line}");
    }

    // The money budget says so the same way, with its figures.
    let logs = LogCapture::start();
    let app = TestApp::spawn_with(&[("GLOBAL_DAILY_USD", "0.01")]).await;
    let key = app.api_key("money@example.com").await;
    app.record_usage(None, 20, 10_000).await;
    assert_eq!(ask_every_way(&app, &key).await, [503, 503, 503]);
    assert_eq!(app.mock.posts(), 0);
    let lines = logs.saying("model call refused: the global daily budget is spent");
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[0]["money_limit_microusd"], 10_000);
    assert_eq!(lines[0]["global_cost_microusd"], 10_000);
}

#[tokio::test]
async fn the_kill_switch_refuses_each_call_with_an_operator_log_line_saying_why() {
    let logs = LogCapture::start();
    let app = TestApp::spawn().await;
    let key = app.api_key("paused@example.com").await;
    let admin = app.admin().await;
    let paused = admin
        .post(app.url("/admin/pause"))
        .form(&[("paused", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(paused.status(), 303);

    assert_eq!(ask_every_way(&app, &key).await, [503, 503, 503]);
    assert_eq!(app.mock.posts(), 0, "no call reached the provider");
    let admin_id = app.user_id(ADMIN_EMAIL).await;
    let switched = logs.saying("admin paused all model calls");
    assert_eq!(switched.len(), 1, "who turned it on is logged");
    assert_eq!(switched[0]["admin"], admin_id);
    let lines = logs.saying("model call refused: the kill switch is on");
    assert_eq!(lines.len(), 3, "one line per refused call: {lines:?}");
    assert!(lines.iter().all(|line| line["level"] == "WARN"));
}

#[tokio::test]
async fn insufficient_quota_is_one_post_and_an_error_line_naming_billing() {
    let logs = LogCapture::start();
    let app = TestApp::spawn().await;
    let key = app.api_key("quota@example.com").await;
    let quota = || {
        Scenario::Status {
        status: 429,
        body: json!({ "error": {
            "message": "You exceeded your current quota, please check your plan and billing details.",
            "type": "insufficient_quota",
            "code": "insufficient_quota",
        } })
        .to_string(),
        retry_after: Some("1"),
    }
    };

    app.mock.push(quota());
    let conversation = app.create_conversation().await;
    let events = app.chat(&conversation, "hello").await;
    let done = events.last().unwrap().json();
    assert!(
        done["answer"]["error"]
            .as_str()
            .unwrap()
            .contains("unavailable")
    );
    assert_eq!(app.mock.posts(), 1, "not retried, even with a Retry-After");

    app.mock.push(quota());
    let v1 = app
        .client
        .post(app.url("/v1/chat/completions"))
        .bearer_auth(&key)
        .json(&json!({
            "model": "gpt-4o-mini",
            "stream": true,
            "messages": [{ "role": "user", "content": "hi" }],
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(v1.status(), 503);
    assert!(error_message(v1).await.contains("unavailable"));
    assert_eq!(app.mock.posts(), 2, "one POST for each call");

    let lines = logs.saying("billing");
    assert_eq!(lines.len(), 2, "one line per refused call: {lines:?}");
    for line in &lines {
        assert_eq!(line["level"], "ERROR", "{line}");
        assert!(
            line["message"]
                .as_str()
                .unwrap()
                .contains("insufficient_quota"),
            "{line}"
        );
    }
    // The page's stream ends the same way.
    app.mock.push(quota());
    let page = app
        .post_htmx("/conversations", &[("content", "from the page")])
        .await;
    assert_eq!(page.status(), 200);
    let events = read_events(page).await;
    assert!(events.last().unwrap().data.contains("unavailable"));
    assert_eq!(app.mock.posts(), 3);
    assert_eq!(logs.saying("billing").len(), 3);
}
