//! The binary itself: start-up errors, and SIGTERM with an answer streaming.

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use eventsource_stream::Eventsource;
use futures_util::StreamExt;

use crate::helpers::{
    PASSWORD, done_answer, http_client, read_events,
    spawned::{find_key, free_port, wait_until_up},
};

pub(crate) fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_promptship"));
    command
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_BASE_URL")
        .env_remove("DATABASE_URL")
        .env_remove("RUST_LOG")
        .env_remove("LOG_FORMAT")
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
    assert!(
        stdout.contains("ok   apps: extract, image, interview, summarize, translate in apps load"),
        "{stdout}"
    );
}

#[test]
fn doctor_fails_with_the_variable_and_the_fix_for_each_kind_of_problem() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}/app.db", dir.path().display());
    let closed = format!("http://127.0.0.1:{}/v1", free_port());
    let apps = dir.path().join("apps");
    std::fs::create_dir(&apps).unwrap();
    std::fs::write(
        apps.join("broken.prompt"),
        "---\nconfig:\n  temperature: 9\n---\nHi",
    )
    .unwrap();
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
        (
            vec![
                ("DATABASE_URL", database.clone()),
                ("APPS_DIR", apps.display().to_string()),
            ],
            "broken.prompt:2: config: temperature is 9",
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

/// Signs up `email` on a running server and returns the browser, logged in.
pub(crate) async fn sign_up(base: &str, email: &str) -> reqwest::Client {
    let browser = http_client();
    let response = browser
        .post(format!("{base}/signup"))
        .form(&[("email", email), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303, "sign-up failed");
    browser
}

/// Signs up `email` and makes an API key as a person does, on the keys page (which shows
/// it once); returns the key.
pub(crate) async fn api_key(base: &str, email: &str) -> String {
    let browser = sign_up(base, email).await;
    let response = browser
        .post(format!("{base}/settings/keys"))
        .form(&[("name", "crash")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let page = response.text().await.unwrap();
    find_key(&page).expect("no API key in the keys page")
}

/// The first model `GET /v1/models` lists.
pub(crate) async fn first_model(base: &str, key: &str) -> String {
    let models: serde_json::Value = http_client()
        .get(format!("{base}/v1/models"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    models["data"][0]["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn sigterm_refuses_new_connections_cuts_off_v1_streams_and_checkpoints_the_wal() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let database = dir.path().join("app.db");
    let mut child = binary()
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env("DATABASE_URL", format!("sqlite://{}", database.display()))
        // The demo answer takes about 20 s: longer than the grace period.
        .env("DEMO_WORD_DELAY_MS", "200")
        .env("SHUTDOWN_GRACE_SECS", "3")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = http_client();
    wait_until_up(&client, &base).await;
    let key = api_key(&base, "drain@example.com").await;
    let stream = reqwest::Client::new()
        .post(format!("{base}/v1/chat/completions"))
        .bearer_auth(&key)
        .json(&serde_json::json!({
            "model": "promptship-demo",
            "messages": [{ "role": "user", "content": "a long answer" }],
            "stream": true,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let reader = tokio::spawn(read_events(stream));
    tokio::time::sleep(Duration::from_millis(600)).await;

    let terminated = Instant::now();
    assert!(
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err(),
        "a new connection was accepted after SIGTERM"
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

    let events = reader.await.unwrap();
    assert!(events.len() > 2, "the answer was streaming: {events:?}");
    let last = events.last().unwrap();
    assert!(
        last.json()["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("restarting")),
        "the stream got a final error event: {:?}",
        last.data
    );
    // Checkpointed and closed: the database file holds everything on its own.
    let wal = dir.path().join("app.db-wal");
    assert!(
        std::fs::metadata(&wal).map_or(true, |m| m.len() == 0),
        "the WAL was left with {} bytes",
        std::fs::metadata(&wal).unwrap().len()
    );
    let reopened = promptship::db::connect(&format!("sqlite://{}", database.display()))
        .await
        .unwrap();
    let statuses: Vec<String> = sqlx::query_scalar("SELECT status FROM usage")
        .fetch_all(&reopened)
        .await
        .unwrap();
    assert_eq!(statuses, ["interrupted"], "its usage was settled");
}

#[tokio::test]
async fn kill_9_mid_stream_keeps_the_question_and_the_answer_up_to_its_last_second() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let start = || {
        binary()
            .env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .env(
                "DATABASE_URL",
                format!("sqlite://{}/app.db", dir.path().display()),
            )
            // About ten seconds of answer.
            .env("DEMO_WORD_DELAY_MS", "100")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut child = start();
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
    let id = conversation["id"].as_str().unwrap().to_string();
    let response = client
        .post(format!("{base}/api/v1/conversations/{id}/messages"))
        .header("accept", "text/event-stream")
        .json(&serde_json::json!({ "content": "tell me everything" }))
        .send()
        .await
        .unwrap();
    // The text as it arrived, and when.
    let mut streamed: Vec<(Instant, String)> = Vec::new();
    let mut text = String::new();
    let mut events = response.bytes_stream().eventsource();
    let until = Instant::now() + Duration::from_millis(3500);
    while Instant::now() < until {
        let Ok(Some(event)) = tokio::time::timeout_at(until.into(), events.next()).await else {
            break;
        };
        let event = event.unwrap();
        if event.event == "delta" {
            let delta: serde_json::Value = serde_json::from_str(&event.data).unwrap();
            text.push_str(delta["content"].as_str().unwrap());
            streamed.push((Instant::now(), text.clone()));
        }
    }
    let killed = Instant::now();
    assert!(
        Command::new("kill")
            .args(["-KILL", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let _ = child.wait();
    drop(events);

    let mut child = start();
    wait_until_up(&client, &base).await;
    let saved: serde_json::Value = client
        .get(format!("{base}/api/v1/conversations/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let messages = saved["messages"].as_array().unwrap();
    assert_eq!(messages[0]["content"], "tell me everything");
    let answer = &messages[1];
    assert_eq!(answer["status"], "interrupted");
    assert!(
        answer["error"].as_str().unwrap().contains("restarted"),
        "{answer}"
    );
    let content = answer["content"].as_str().unwrap();
    assert!(
        text.starts_with(content),
        "the saved answer is what was streamed: {content:?}"
    );
    // Checkpoints come about once a second; allow half a second more for the write.
    let a_second_before = streamed
        .iter()
        .rev()
        .find(|(at, _)| killed.duration_since(*at) >= Duration::from_millis(1500))
        .map(|(_, text)| text.as_str())
        .expect("more than 1.5 s of answer was streamed");
    assert!(
        content.len() >= a_second_before.len(),
        "lost more than the last second: saved {} of {} bytes streamed, {} by a second before the kill",
        content.len(),
        text.len(),
        a_second_before.len()
    );
}
