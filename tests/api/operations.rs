//! Probes, request ids, error pages, static files, start-up recovery and shutdown.

use std::time::{Duration, Instant};

use crate::{
    helpers::{TestApp, done_answer, read_events},
    mock_upstream::{Scenario, words},
};

#[tokio::test]
async fn health_and_readiness_probes_answer() {
    let app = TestApp::spawn().await;
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), 200);
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);

    app.db.close().await;
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 503, "not ready without a database");
    assert_eq!(app.get("/healthz").await.status(), 200, "but still alive");
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = TestApp::spawn().await;
    for path in ["/", "/healthz", "/nowhere", "/api/v1/conversations/nope"] {
        let response = app.get(path).await;
        let id = response
            .headers()
            .get("x-request-id")
            .unwrap_or_else(|| panic!("{path} has no request id"));
        assert_eq!(id.len(), 36, "a UUID");
    }
}

#[tokio::test]
async fn a_server_error_shows_a_generic_message_and_the_request_id_but_not_the_cause() {
    let app = TestApp::spawn().await;
    let conversation = app.create_conversation().await;
    sqlx::query("DROP TABLE messages")
        .execute(&app.db)
        .await
        .unwrap();

    let page = app.get(&format!("/conversations/{conversation}")).await;
    assert_eq!(page.status(), 500);
    let id = page.headers()["x-request-id"].to_str().unwrap().to_string();
    let html = page.text().await.unwrap();
    assert!(html.contains("Something went wrong"));
    assert!(html.contains(&id), "the page quotes the request id");
    assert!(
        !html.contains("no such table"),
        "the cause stays in the log"
    );

    let api = app
        .get(&format!("/api/v1/conversations/{conversation}"))
        .await;
    assert_eq!(api.status(), 500);
    let body: serde_json::Value = api.json().await.unwrap();
    assert!(!body.to_string().contains("no such table"));
    assert_eq!(body["error"]["request_id"].as_str().unwrap().len(), 36);
}

#[tokio::test]
async fn static_files_are_served_from_the_binary_with_their_types() {
    let app = TestApp::spawn().await;
    let htmx = app.get("/static/vendor/htmx.min.js").await;
    assert_eq!(htmx.status(), 200);
    assert!(
        htmx.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("javascript")
    );
    assert!(htmx.text().await.unwrap().contains("htmx"));
    let css = app.get("/static/vendor/pico.min.css").await;
    assert_eq!(css.headers()["content-type"], "text/css");
    assert_eq!(app.get("/static/../Cargo.toml").await.status(), 404);
}

#[tokio::test]
async fn the_landing_page_comes_from_the_site_file_and_shows_no_demo_badge_with_a_real_model() {
    let app = TestApp::spawn().await;
    let html = app.get("/").await.text().await.unwrap();
    assert!(
        html.contains("A small, fast, self-hosted chat"),
        "tagline from promptship.toml"
    );
    assert!(
        html.contains("Write a haiku about SQLite"),
        "suggestions from promptship.toml"
    );
    assert!(!html.contains("demo model</span>"));
    assert!(!html.contains("<script>"), "no inline scripts");
}

#[tokio::test]
async fn the_demo_model_answers_through_the_same_http_path_when_nothing_is_configured() {
    let app = TestApp::spawn_with(&[("OPENAI_BASE_URL", ""), ("OPENAI_API_KEY", "")]).await;
    assert!(
        app.get("/")
            .await
            .text()
            .await
            .unwrap()
            .contains("demo model</span>")
    );
    let conversation = app.create_conversation().await;
    let events = app.chat(&conversation, "What are you?").await;
    let answer = done_answer(&events);
    assert_eq!(answer["status"], "complete");
    assert_eq!(answer["model"], "promptship-demo");
    let content = answer["content"].as_str().unwrap();
    assert!(content.contains("This is the demo model"));
    assert!(
        content.contains("> What are you?"),
        "it echoes the question"
    );
    assert!(content.contains("OPENAI_API_KEY"), "it explains the set-up");
    assert!(
        events.iter().filter(|e| e.event == "delta").count() > 10,
        "word by word"
    );
    assert!(answer["completion_tokens"].as_i64().unwrap() > 0);
    assert_eq!(app.mock.posts(), 0);
}

#[tokio::test]
async fn the_api_key_never_reaches_pages_responses_or_the_database() {
    let app = TestApp::spawn().await;
    let conversation = app.create_conversation().await;
    let events = app.chat(&conversation, "what is your key?").await;
    assert!(
        events
            .iter()
            .all(|e| !e.data.contains("sk-test-secret-key"))
    );
    let page = app
        .get(&format!("/conversations/{conversation}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!page.contains("sk-test-secret-key"));
    let dump: Vec<String> =
        sqlx::query_scalar("SELECT content || coalesce(error, '') FROM messages")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert!(dump.iter().all(|row| !row.contains("sk-test-secret-key")));
    assert!(
        !format!("{:?}", app.state.config).contains("sk-test-secret-key"),
        "Debug redacts it"
    );
}

#[tokio::test]
async fn answers_left_streaming_by_a_crash_are_marked_interrupted_at_start() {
    let app = TestApp::spawn().await;
    let conversation = app.create_conversation().await;
    sqlx::query(
        "INSERT INTO messages (conversation_id, role, content, status, created_at, updated_at)
         VALUES (?, 'assistant', 'half', 'streaming', 0, 0)",
    )
    .bind(&conversation)
    .execute(&app.db)
    .await
    .unwrap();

    // A second start on the same database file, as after `kill -9`; migrations re-run
    // as a no-op.
    let config = app.state.config.as_ref().clone();
    let restarted = promptship::AppState::build(config, app.state.site.as_ref().clone())
        .await
        .unwrap();
    let (status, error): (String, String) =
        sqlx::query_as("SELECT status, error FROM messages WHERE content = 'half'")
            .fetch_one(&restarted.db)
            .await
            .unwrap();
    assert_eq!(status, "interrupted");
    assert!(error.contains("restarted"));
}

#[tokio::test]
async fn shutdown_lets_an_open_stream_end_with_a_final_event_and_saves_it() {
    let mut app = TestApp::spawn_with(&[
        ("SHUTDOWN_GRACE_SECS", "2"),
        ("UPSTREAM_TIMEOUT_SECS", "30"),
    ])
    .await;
    app.mock
        .push(Scenario::StallAfter(words("partial before shutdown ")));
    let conversation = app.create_conversation().await;
    let response = app.send_streaming(&conversation, "hello").await;
    let reader = tokio::spawn(read_events(response));
    tokio::time::sleep(Duration::from_millis(300)).await;

    let started = Instant::now();
    app.shut_down().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );

    let events = reader.await.unwrap();
    let done = done_answer(&events);
    assert_eq!(done["status"], "interrupted");
    assert!(done["error"].as_str().unwrap().contains("restarted"));
    let reopened = promptship::db::connect(&app.state.config.database_url)
        .await
        .unwrap();
    let (status, content): (String, String) =
        sqlx::query_as("SELECT status, content FROM messages WHERE role = 'assistant'")
            .fetch_one(&reopened)
            .await
            .unwrap();
    assert_eq!(status, "interrupted");
    assert_eq!(content, "partial before shutdown ");
}

#[tokio::test]
async fn shutdown_lets_a_healthy_stream_finish_within_the_grace_period() {
    let mut app = TestApp::spawn_with(&[("SHUTDOWN_GRACE_SECS", "5")]).await;
    app.mock.push(Scenario::Answer {
        words: words("a short answer that finishes in time"),
        delay: Duration::from_millis(50),
    });
    let conversation = app.create_conversation().await;
    let response = app.send_streaming(&conversation, "hello").await;
    let reader = tokio::spawn(read_events(response));
    tokio::time::sleep(Duration::from_millis(100)).await;
    app.shut_down().await.unwrap();
    let events = reader.await.unwrap();
    assert_eq!(done_answer(&events)["status"], "complete");
}

#[tokio::test]
async fn a_backup_taken_during_writes_is_intact_restores_and_holds_every_acknowledged_write() {
    let app = TestApp::spawn().await;
    let (first_write, written) = tokio::sync::oneshot::channel();
    let writer = {
        let app_db = app.db.clone();
        let mut first_write = Some(first_write);
        tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for i in 0..400 {
                let id = format!("conversation-{i}");
                sqlx::query(
                    "INSERT INTO conversations (id, title, created_at, updated_at) VALUES (?, 't', 0, 0)",
                )
                .bind(&id)
                .execute(&app_db)
                .await
                .unwrap();
                acknowledged.push((Instant::now(), id));
                if let Some(first) = first_write.take() {
                    let _ = first.send(());
                }
                tokio::task::yield_now().await;
            }
            acknowledged
        })
    };
    // The backup starts once writes are under way, however slow the machine is.
    written.await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("backup.db");
    let started = Instant::now();
    let bytes = promptship::db::backup::backup(&app.db, &file)
        .await
        .unwrap();
    assert!(bytes > 0);
    let acknowledged = writer.await.unwrap();
    promptship::db::backup::check(&file).await.unwrap();

    // Restore: start on the copy.
    let mut config = app.state.config.as_ref().clone();
    config.database_url = format!("sqlite://{}", file.display());
    let restored = promptship::AppState::build(config, app.state.site.as_ref().clone())
        .await
        .unwrap();
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM conversations")
        .fetch_all(&restored.db)
        .await
        .unwrap();
    let before: Vec<&String> = acknowledged
        .iter()
        .filter(|(at, _)| *at < started)
        .map(|(_, id)| id)
        .collect();
    assert!(
        !before.is_empty(),
        "writes were running when the backup began"
    );
    for id in before {
        assert!(
            ids.contains(id),
            "{id} was acknowledged before the backup but is missing"
        );
    }
    assert!(
        promptship::db::backup::backup(&app.db, &file)
            .await
            .is_err(),
        "never overwrites"
    );
}

#[tokio::test]
async fn scheduled_backups_run_on_their_interval_keep_the_newest_and_stop_at_shutdown() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let stop = tokio_util::sync::CancellationToken::new();
    let schedule = tokio::spawn(promptship::db::backup::run_scheduled(
        app.db.clone(),
        promptship::config::Backups {
            dir: dir.path().join("backups"),
            interval: Duration::from_millis(150),
            keep: 2,
        },
        stop.clone(),
    ));
    let conversation = app.create_conversation().await;
    let backups = || -> Vec<std::path::PathBuf> {
        // Whole backups only: one being written is `….db.partial` until it is checked.
        let mut files: Vec<_> = std::fs::read_dir(dir.path().join("backups"))
            .map(|entries| {
                entries
                    .map(|e| e.unwrap().path())
                    .filter(|p| p.extension().is_some_and(|e| e == "db"))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
    };
    assert!(backups().is_empty(), "the first backup waits an interval");
    tokio::time::sleep(Duration::from_millis(700)).await;
    // A new backup is renamed into place a moment before the oldest is pruned: on a busy
    // machine a look can fall between the two, so look until the folder settles.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut files = backups();
    while files.len() != 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
        files = backups();
    }
    assert_eq!(files.len(), 2, "only the newest two are kept: {files:?}");
    for file in &files {
        promptship::db::backup::check(file).await.unwrap();
        let mut copy = <sqlx::SqliteConnection as sqlx::Connection>::connect(&format!(
            "sqlite://{}",
            file.display()
        ))
        .await
        .unwrap();
        let found: Option<String> = sqlx::query_scalar("SELECT id FROM conversations WHERE id = ?")
            .bind(&conversation)
            .fetch_optional(&mut copy)
            .await
            .unwrap();
        assert_eq!(found.as_deref(), Some(conversation.as_str()));
    }

    stop.cancel();
    tokio::time::timeout(Duration::from_secs(1), schedule)
        .await
        .expect("the schedule stops when the service does")
        .unwrap();
    let last = backups();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(backups(), last, "no backup after the stop");
}

#[tokio::test]
async fn metrics_are_served_only_with_the_token() {
    let closed = TestApp::spawn().await;
    assert_eq!(
        closed.get("/metrics").await.status(),
        404,
        "not public by default"
    );

    let app = TestApp::spawn_with(&[("METRICS_TOKEN", "metrics-secret")]).await;
    let conversation = app.create_conversation().await;
    app.chat(&conversation, "count me").await;
    assert_eq!(
        app.get("/metrics").await.status(),
        404,
        "no token, no metrics"
    );
    let wrong = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("guess")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 404);
    // A made-up method is counted, under `other`: it makes no label set of its own.
    let brewed = app
        .client
        .request(
            reqwest::Method::from_bytes(b"BREW").unwrap(),
            app.url("/v1/models"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(brewed.status(), 405);
    let body = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("metrics-secret")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for metric in [
        "http_requests_total",
        "http_request_duration_seconds",
        "model_first_token_seconds",
        "model_tokens_total",
        "model_streams_open",
    ] {
        assert!(body.contains(metric), "{metric} missing from:\n{body}");
    }
    assert!(
        body.contains("route=\"/api/v1/conversations/{id}/messages\""),
        "routes, not ids"
    );
    let brewed_line = body
        .lines()
        .find(|line| {
            line.starts_with("http_requests_total{")
                && line.contains("route=\"/v1/models\"")
                && line.contains("status=\"405\"")
        })
        .unwrap_or_else(|| panic!("the 405 is counted:\n{body}"));
    assert!(brewed_line.contains("method=\"other\""), "{brewed_line}");
    assert!(!body.contains("BREW"), "no label of a made-up method");
}

#[tokio::test]
async fn shutdown_cuts_off_open_v1_calls_with_a_final_error_and_settles_their_usage() {
    let mut app = TestApp::spawn_with(&[
        ("SHUTDOWN_GRACE_SECS", "2"),
        ("UPSTREAM_TIMEOUT_SECS", "30"),
    ])
    .await;
    let key = app.api_key("drain@example.com").await;
    app.mock
        .push(Scenario::StallAfter(words("partial before shutdown ")));
    let streamed = app
        .complete(
            &key,
            serde_json::json!({
                "model": "gpt-4o-mini",
                "messages": [{ "role": "user", "content": "streamed" }],
                "stream": true,
            }),
        )
        .await;
    let reader = tokio::spawn(read_events(streamed));
    app.mock.push(Scenario::StallAfter(words("collected ")));
    let collected = tokio::spawn({
        let key = key.clone();
        let url = app.url("/v1/chat/completions");
        async move {
            reqwest::Client::new()
                .post(url)
                .bearer_auth(key)
                .json(&serde_json::json!({
                    "model": "gpt-4o-mini",
                    "messages": [{ "role": "user", "content": "collected" }],
                }))
                .send()
                .await
                .unwrap()
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;

    let started = Instant::now();
    app.shut_down().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );

    let events = reader.await.unwrap();
    assert!(
        events[0].json()["choices"][0]["delta"].is_object(),
        "what came before was relayed"
    );
    let last = events.last().unwrap();
    assert_ne!(last.data, "[DONE]", "a cut-off answer is not a success");
    assert!(
        last.json()["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("restarting")),
        "{:?}",
        last.data
    );
    let collected = collected.await.unwrap();
    assert_eq!(collected.status(), 503);
    let reopened = promptship::db::connect(&app.state.config.database_url)
        .await
        .unwrap();
    let statuses: Vec<String> = sqlx::query_scalar("SELECT status FROM usage ORDER BY id")
        .fetch_all(&reopened)
        .await
        .unwrap();
    assert_eq!(statuses, ["interrupted", "interrupted"]);
}

/// Once the mock's flood has filled every buffer to a reader that reads nothing (its
/// answer cannot even be sent a last event), shuts the app down, within 3 s, and opens
/// its database again.
async fn shut_down_once_flooded(app: &mut TestApp) -> sqlx::SqlitePool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while app.mock.bytes_sent() < 4 << 20 {
        assert!(Instant::now() < deadline, "the flood did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let started = Instant::now();
    app.shut_down().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    promptship::db::connect(&app.state.config.database_url)
        .await
        .unwrap()
}

#[tokio::test]
async fn shutdown_closes_a_v1_stream_whose_client_reads_nothing_and_still_settles_it() {
    let mut app = TestApp::spawn_with(&[("SHUTDOWN_GRACE_SECS", "2")]).await;
    let key = app.api_key("stuck@example.com").await;
    app.mock.push(Scenario::Flood {
        chunks: 25_000,
        bytes: 4096,
    });
    let stuck = app
        .complete(
            &key,
            serde_json::json!({
                "model": "gpt-4o-mini",
                "messages": [{ "role": "user", "content": "flood" }],
                "stream": true,
            }),
        )
        .await;
    assert_eq!(stuck.status(), 200);
    let reopened = shut_down_once_flooded(&mut app).await;
    let (status, completion): (String, i64) =
        sqlx::query_as("SELECT status, completion_tokens FROM usage")
            .fetch_one(&reopened)
            .await
            .unwrap();
    assert_eq!(status, "interrupted");
    assert!(completion > 0, "what was relayed is billed");
    drop(stuck);
}

#[tokio::test]
async fn shutdown_saves_a_turn_whose_reader_reads_nothing() {
    let mut app = TestApp::spawn_with(&[("SHUTDOWN_GRACE_SECS", "2")]).await;
    let conversation = app.create_conversation().await;
    app.mock.push(Scenario::Flood {
        chunks: 25_000,
        bytes: 4096,
    });
    // Held and never read: the turn is stuck sending to it once the buffers are full.
    let stuck = app.send_streaming(&conversation, "flood me").await;
    assert_eq!(stuck.status(), 200);
    let reopened = shut_down_once_flooded(&mut app).await;
    let (status, length): (String, i64) =
        sqlx::query_as("SELECT status, length(content) FROM messages WHERE role = 'assistant'")
            .fetch_one(&reopened)
            .await
            .unwrap();
    assert_eq!(status, "interrupted");
    assert!(length > 0, "what arrived was saved");
    drop(stuck);
}
