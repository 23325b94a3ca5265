//! The binary itself: start-up errors, and SIGTERM with an answer streaming.

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use crate::helpers::{done_answer, http_client, read_events};

pub(crate) fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_promptship"));
    command
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_BASE_URL")
        .env_remove("DATABASE_URL")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null());
    command
}

#[test]
fn invalid_settings_stop_the_start_with_every_problem_listed() {
    let output = binary()
        .env("BIND_ADDR", "nowhere")
        .env("LOG_FORMAT", "yaml")
        .env("PROMPTSHIP_SITE", "/nonexistent/site.toml")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("3 problem(s)"), "{stderr}");
    assert!(stderr.contains("BIND_ADDR=\"nowhere\""), "{stderr}");
    assert!(stderr.contains("LOG_FORMAT"), "{stderr}");
    assert!(stderr.contains("/nonexistent/site.toml"), "{stderr}");
}

#[tokio::test]
async fn sigterm_lets_the_open_answer_finish_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = binary()
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/app.db", dir.path().display()),
        )
        .env("LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = http_client();
    wait_until_up(&client, &base).await;
    let conversation: serde_json::Value = client
        .post(format!("{base}/api/v1/conversations"))
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = conversation["id"].as_str().unwrap();
    // The demo model takes about three seconds to stream its answer.
    let response = client
        .post(format!("{base}/api/v1/conversations/{id}/messages"))
        .header("accept", "text/event-stream")
        .json(&serde_json::json!({ "content": "hello" }))
        .send()
        .await
        .unwrap();
    let reader = tokio::spawn(read_events(response));
    tokio::time::sleep(Duration::from_millis(300)).await;

    let terminated = Instant::now();
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(0), "exit status {status:?}");
    assert!(
        terminated.elapsed() < Duration::from_secs(8),
        "took {:?}",
        terminated.elapsed()
    );

    let events = reader.await.unwrap();
    let answer = done_answer(&events);
    assert_eq!(
        answer["status"], "complete",
        "the open answer was allowed to finish"
    );
}

/// Waits (at most 10 s) for a server started by a test to answer.
pub(crate) async fn wait_until_up(client: &reqwest::Client, base: &str) {
    let started = Instant::now();
    while client.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the server did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn healthcheck_exits_zero_only_when_the_server_answers() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let nothing = binary()
        .env("BIND_ADDR", &bind)
        .arg("healthcheck")
        .output()
        .unwrap();
    assert!(!nothing.status.success(), "nothing listens yet");

    let mut server = binary()
        .env("BIND_ADDR", &bind)
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/app.db", dir.path().display()),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let healthy = loop {
        let status = binary()
            .env("BIND_ADDR", &bind)
            .arg("healthcheck")
            .output()
            .unwrap()
            .status;
        if status.success() || started.elapsed() > Duration::from_secs(10) {
            break status.success();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let _ = server.kill();
    let _ = server.wait();
    assert!(healthy);
}

#[tokio::test]
async fn doctor_passes_a_good_deployment_and_redacts_the_key() {
    let mock = crate::mock_upstream::MockUpstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}/app.db", dir.path().display());
    let migrated = binary()
        .env("DATABASE_URL", &database)
        .arg("migrate")
        .status()
        .unwrap();
    assert!(migrated.success());
    let output = tokio::task::spawn_blocking(move || {
        binary()
            .env("DATABASE_URL", &database)
            .env("OPENAI_BASE_URL", &mock.base_url)
            .env("OPENAI_API_KEY", "sk-doctor-secret")
            .arg("doctor")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("REDACTED"), "{stdout}");
    assert!(
        !stdout.contains("sk-doctor-secret"),
        "the key is never printed"
    );
    assert!(stdout.contains("migrations: all"), "{stdout}");
}

#[test]
fn doctor_fails_with_the_variable_and_the_fix_for_each_kind_of_problem() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}/app.db", dir.path().display());
    let closed = format!("http://127.0.0.1:{}/v1", free_port());
    let cases: Vec<(Vec<(&str, String)>, &str)> = vec![
        (vec![("LOG_FORMAT", "xml".into())], "LOG_FORMAT"),
        (
            vec![("DATABASE_URL", "sqlite:///proc/no/such/dir/app.db".into())],
            "DATABASE_URL",
        ),
        (
            vec![
                ("DATABASE_URL", database.clone()),
                ("OPENAI_BASE_URL", closed),
            ],
            "OPENAI_BASE_URL",
        ),
        (vec![("DATABASE_URL", database.clone())], "migrations"),
        (
            vec![
                ("BACKUP_DIR", "backups".into()),
                ("BACKUP_KEEP", "0".into()),
            ],
            "BACKUP_KEEP",
        ),
        (
            vec![
                ("DATABASE_URL", database.clone()),
                ("BACKUP_DIR", "/proc/no/such/dir".into()),
            ],
            "BACKUP_DIR",
        ),
    ];
    for (vars, expected) in cases {
        let mut command = binary();
        for (name, value) in &vars {
            command.env(name, value);
        }
        let output = command.arg("doctor").output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(!output.status.success(), "{vars:?} passed:\n{text}");
        assert!(
            text.contains(expected),
            "{vars:?} does not name {expected}:\n{text}"
        );
    }
}

#[tokio::test]
async fn sigterm_with_several_long_streams_exits_zero_within_the_drain_deadline_and_saves_each() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let database = format!("sqlite://{}/app.db", dir.path().display());
    let mut child = binary()
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env("DATABASE_URL", &database)
        // Each demo answer would take about 20 s: longer than the drain deadline.
        .env("DEMO_WORD_DELAY_MS", "200")
        .env("SHUTDOWN_GRACE_SECS", "3")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = http_client();
    wait_until_up(&client, &base).await;
    let mut readers = Vec::new();
    for i in 0..3 {
        let id = client
            .post(format!("{base}/api/v1/conversations"))
            .json(&serde_json::json!({}))
            .send()
            .await
            .unwrap()
            .json::<serde_json::Value>()
            .await
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let response = client
            .post(format!("{base}/api/v1/conversations/{id}/messages"))
            .header("accept", "text/event-stream")
            .json(&serde_json::json!({ "content": format!("stream {i}") }))
            .send()
            .await
            .unwrap();
        readers.push(tokio::spawn(read_events(response)));
    }
    tokio::time::sleep(Duration::from_millis(800)).await;

    let terminated = Instant::now();
    assert!(
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(
        terminated.elapsed() < Duration::from_secs(4),
        "took {:?}",
        terminated.elapsed()
    );
    for reader in readers {
        let events = reader.await.unwrap();
        let answer = done_answer(&events);
        assert_eq!(
            answer["status"], "interrupted",
            "each stream got its final event"
        );
    }
    let reopened = promptship::db::connect(&database).await.unwrap();
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT status, content FROM messages WHERE role = 'assistant'")
            .fetch_all(&reopened)
            .await
            .unwrap();
    assert_eq!(rows.len(), 3);
    for (status, content) in rows {
        assert_eq!(status, "interrupted");
        assert!(
            content.starts_with("**This"),
            "the partial answer is saved: {content:?}"
        );
    }
}
