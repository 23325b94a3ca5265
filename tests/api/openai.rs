//! The OpenAI-compatible API: keys, the allowlist, budgets, OpenAI's error shapes, the
//! relay and its cancellation.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::{
    faults::settled_bytes_sent,
    helpers::{TestApp, read_events},
    mock_upstream::{IN_BAND_ERRORS, PROMPT_TOKENS, Scenario, words},
};

const MODEL: &str = "gpt-4o-mini";

fn hello(extra: Value) -> Value {
    let mut body = json!({ "model": MODEL, "messages": [{ "role": "user", "content": "hello" }] });
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    body
}

async fn assert_openai_error(
    response: reqwest::Response,
    status: u16,
    code: Option<&str>,
) -> String {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    let error = &body["error"];
    assert!(error["type"].is_string(), "{body}");
    if let Some(code) = code {
        assert_eq!(error["code"], code, "{body}");
    }
    error["message"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_chat_completion_returns_the_answer_and_its_usage_and_writes_the_ledger() {
    let app = TestApp::spawn().await;
    let key = app.api_key("api@example.com").await;
    app.mock.push(Scenario::answer("Hi from upstream"));

    let response = app
        .complete(
            &key,
            hello(json!({ "max_tokens": 50_000, "temperature": 0.5 })),
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], MODEL);
    assert_eq!(body["choices"][0]["message"]["content"], "Hi from upstream");
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert_eq!(body["usage"]["prompt_tokens"], PROMPT_TOKENS);
    assert_eq!(body["usage"]["completion_tokens"], 3);

    let upstream = &app.mock.requests()[0];
    assert_eq!(
        upstream["max_tokens"], 1024,
        "capped at the site's max_output_tokens"
    );
    assert_eq!(upstream["temperature"], 0.5);
    assert_eq!(upstream["stream_options"]["include_usage"], true);
    let (status, user_id, tokens): (String, Option<i64>, i64) =
        sqlx::query_as("SELECT status, user_id, prompt_tokens + completion_tokens FROM usage")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(status, "complete");
    assert!(user_id.is_some());
    assert_eq!(tokens, PROMPT_TOKENS as i64 + 3);
}

#[tokio::test]
async fn a_stream_is_relayed_chunk_by_chunk_with_usage_only_when_asked() {
    let app = TestApp::spawn().await;
    let key = app.api_key("stream@example.com").await;
    app.mock.push(Scenario::answer("one two three"));
    app.mock.push(Scenario::answer("four five"));

    let with_usage = app
        .complete(
            &key,
            hello(json!({ "stream": true, "stream_options": { "include_usage": true } })),
        )
        .await;
    assert_eq!(with_usage.headers()["content-type"], "text/event-stream");
    let events = read_events(with_usage).await;
    assert_eq!(events.last().unwrap().data, "[DONE]");
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|e| e.json())
        .collect();
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "one two three");
    assert!(chunks.iter().all(|c| c["model"] == MODEL));
    assert_eq!(chunks.last().unwrap()["usage"]["completion_tokens"], 3);

    let without = read_events(app.complete(&key, hello(json!({ "stream": true }))).await).await;
    assert!(
        without
            .iter()
            .all(|e| !e.data.contains("\"prompt_tokens\"")),
        "no usage unless asked"
    );
    assert_eq!(without.last().unwrap().data, "[DONE]");
}

#[tokio::test]
async fn answers_share_a_kept_connection_and_one_the_server_closes_is_replaced() {
    let app = TestApp::spawn().await;
    let key = app.api_key("kept@example.com").await;
    let text = |events: &[crate::helpers::SseEvent]| -> String {
        events
            .iter()
            .filter(|e| e.data != "[DONE]")
            .filter_map(|e| {
                e.json()["choices"][0]["delta"]["content"]
                    .as_str()
                    .map(str::to_string)
            })
            .collect()
    };
    for n in 0..3 {
        app.mock.push(Scenario::answer(&format!("answer {n}")));
        let events = read_events(app.complete(&key, hello(json!({ "stream": true }))).await).await;
        assert_eq!(text(&events), format!("answer {n}"));
    }
    assert_eq!(
        app.mock.connections(),
        1,
        "one connection for three answers"
    );

    // A server may close a connection after any answer; the next answer comes whole on a
    // new one.
    app.mock
        .push(Scenario::AnswerAndClose(words("closing now")));
    app.mock.push(Scenario::answer("on a new one"));
    for expected in ["closing now", "on a new one"] {
        let events = read_events(app.complete(&key, hello(json!({ "stream": true }))).await).await;
        assert_eq!(text(&events), expected);
        assert_eq!(events.last().unwrap().data, "[DONE]");
    }
    assert_eq!(app.mock.connections(), 2);
}

/// Twenty words: with the role, finish, usage and `[DONE]` events, a 24-event answer.
pub const TWENTY_WORDS: &str = "one two three four five six seven eight nine ten eleven \
    twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty";

#[tokio::test]
async fn events_the_model_server_sends_together_reach_the_client_together() {
    let app = TestApp::spawn().await;
    let key = app.api_key("together@example.com").await;
    // Every event its own HTTP chunk, all sent at once, as a provider sends the events
    // it has ready.
    app.mock.push(Scenario::Answer {
        words: words(TWENTY_WORDS),
        delay: Duration::ZERO,
    });
    let mut body = app
        .complete(&key, hello(json!({ "stream": true })))
        .await
        .bytes_stream();
    // The client reads each HTTP chunk of the response (or a part of it) as one piece:
    // a piece is at most one write of the relay.
    let mut pieces = 0;
    let mut seen = String::new();
    while let Some(piece) = body.next().await {
        pieces += 1;
        seen.push_str(std::str::from_utf8(&piece.unwrap()).unwrap());
    }
    let text: String = seen
        .split("\n\n")
        .filter_map(|event| event.strip_prefix("data: "))
        .filter(|data| *data != "[DONE]")
        .filter_map(|data| {
            let chunk: Value = serde_json::from_str(data).unwrap();
            chunk["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    assert_eq!(text, TWENTY_WORDS);
    assert!(seen.ends_with("data: [DONE]\n\n"), "{seen}");
    // One write for the answer and one for `[DONE]` after the ledger, give or take a
    // read of the upstream that ended mid-way; one per event was 24.
    assert!(pieces <= 4, "{pieces} writes for 24 events");
}

#[tokio::test]
async fn a_streamed_answer_does_not_wait_for_the_ledger_and_done_does() {
    let app = TestApp::spawn().await;
    let key = app.api_key("ledger-wait@example.com").await;
    // The whole answer in one write, so that it arrives together with its `[DONE]`.
    app.mock.push(Scenario::Fragmented {
        words: words("not held back"),
        piece: 1 << 20,
    });
    // SQLite's write lock held elsewhere: the ledger row cannot be committed yet.
    let mut lock = app.db.acquire().await.unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut *lock)
        .await
        .unwrap();

    let mut body = app
        .complete(&key, hello(json!({ "stream": true })))
        .await
        .bytes_stream();
    let mut seen = String::new();
    while !seen.contains(r#""finish_reason":"stop""#) {
        let chunk = tokio::time::timeout(Duration::from_secs(3), body.next())
            .await
            .expect("the answer waited for the ledger")
            .expect("the stream ended early")
            .unwrap();
        seen.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    assert!(seen.contains(r#""content":"held ""#), "{seen}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        tokio::time::timeout(Duration::from_millis(50), body.next())
            .await
            .is_err(),
        "`[DONE]` came before the ledger had the call"
    );

    sqlx::query("COMMIT").execute(&mut *lock).await.unwrap();
    let mut rest = String::new();
    while let Some(chunk) = tokio::time::timeout(Duration::from_secs(5), body.next())
        .await
        .expect("`[DONE]` never came")
    {
        rest.push_str(std::str::from_utf8(&chunk.unwrap()).unwrap());
    }
    assert!(rest.ends_with("data: [DONE]\n\n"), "{rest}");
    let status: String = sqlx::query_scalar("SELECT status FROM usage")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(status, "complete");
}

#[tokio::test]
async fn models_are_listed_for_a_key() {
    let app = TestApp::spawn().await;
    let key = app.api_key("models@example.com").await;
    let body: Value = reqwest::Client::new()
        .get(app.url("/v1/models"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["data"][0]["id"], MODEL);
}

#[tokio::test]
async fn bad_revoked_and_orphaned_keys_get_401_at_once() {
    let app = TestApp::spawn().await;
    let key = app.api_key("keys@example.com").await;
    assert_eq!(app.complete(&key, hello(json!({}))).await.status(), 200);

    let no_key = reqwest::Client::new()
        .post(app.url("/v1/chat/completions"))
        .json(&hello(json!({})))
        .send()
        .await
        .unwrap();
    assert_openai_error(no_key, 401, Some("invalid_api_key")).await;
    let wrong = format!("{}x", &key[..key.len() - 1]);
    assert_openai_error(
        app.complete(&wrong, hello(json!({}))).await,
        401,
        Some("invalid_api_key"),
    )
    .await;

    let id: i64 = sqlx::query_scalar("SELECT id FROM api_keys")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let admin = app.admin().await;
    let revoked = admin
        .post(app.url(&format!("/admin/keys/{id}/revoke")))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 303);
    assert_openai_error(
        app.complete(&key, hello(json!({}))).await,
        401,
        Some("invalid_api_key"),
    )
    .await;

    let other = app.api_key("deleted@example.com").await;
    assert_eq!(app.complete(&other, hello(json!({}))).await.status(), 200);
    sqlx::query("DELETE FROM users WHERE email = 'deleted@example.com'")
        .execute(&app.db)
        .await
        .unwrap();
    // A change made around the app shows when the key's cache entry expires (a minute);
    // this stands in for that minute.
    app.state.api_keys.forget_all();
    assert_openai_error(
        app.complete(&other, hello(json!({}))).await,
        401,
        Some("invalid_api_key"),
    )
    .await;
    assert_eq!(
        app.mock.posts(),
        2,
        "one call before the key was revoked, one before its user was deleted"
    );
}

#[tokio::test]
async fn a_disabled_users_key_is_refused_at_once_and_works_again_when_enabled() {
    let app = TestApp::spawn().await;
    let key = app.api_key("member@example.com").await;
    assert_eq!(app.complete(&key, hello(json!({}))).await.status(), 200);
    let user_id = app.user_id("member@example.com").await;
    let admin = app.admin().await;
    let disabled = admin
        .post(app.url(&format!("/admin/users/{user_id}/disable")))
        .send()
        .await
        .unwrap();
    assert_eq!(disabled.status(), 303);
    assert_openai_error(
        app.complete(&key, hello(json!({}))).await,
        401,
        Some("invalid_api_key"),
    )
    .await;
    let enabled = admin
        .post(app.url(&format!("/admin/users/{user_id}/enable")))
        .send()
        .await
        .unwrap();
    assert_eq!(enabled.status(), 303);
    assert_eq!(app.complete(&key, hello(json!({}))).await.status(), 200);
    assert_eq!(app.mock.posts(), 2);
}

#[tokio::test]
async fn invalid_requests_get_400_404_or_413_and_no_upstream_call() {
    let app = TestApp::spawn_with(&[("MAX_CONTEXT_TOKENS", "200")]).await;
    let key = app.api_key("invalid@example.com").await;

    let message = assert_openai_error(
        app.complete(&key, hello(json!({ "model": "gpt-9" }))).await,
        404,
        Some("model_not_found"),
    )
    .await;
    assert!(message.contains("gpt-9"));
    let message = assert_openai_error(
        app.complete(&key, hello(json!({ "n": 2 }))).await,
        400,
        None,
    )
    .await;
    assert!(message.contains("`n` must be 1"));
    let message = assert_openai_error(
        app.complete(&key, hello(json!({ "logit_bias": { "50256": -100 } })))
            .await,
        400,
        None,
    )
    .await;
    assert!(message.contains("'logit_bias'"));
    let tools = json!({ "model": MODEL, "messages": [{ "role": "tool", "content": "x", "tool_call_id": "1" }] });
    assert_openai_error(app.complete(&key, tools).await, 400, None).await;
    let garbage = reqwest::Client::new()
        .post(app.url("/v1/chat/completions"))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body("{\"model\": ")
        .send()
        .await
        .unwrap();
    assert_openai_error(garbage, 400, None).await;

    let long = hello(json!({ "messages": [{ "role": "user", "content": "word ".repeat(500) }] }));
    let message = assert_openai_error(
        app.complete(&key, long).await,
        413,
        Some("request_too_large"),
    )
    .await;
    assert!(message.contains("at most 200"));
    let huge =
        hello(json!({ "messages": [{ "role": "user", "content": "x".repeat(300 * 1024) }] }));
    assert_openai_error(app.complete(&key, huge).await, 413, None).await;
    assert_eq!(app.mock.posts(), 0);
}

#[tokio::test]
async fn budgets_and_rates_give_429_with_retry_after_and_no_upstream_call() {
    let app = TestApp::spawn_with(&[("USER_DAILY_TOKENS", "500")]).await;
    let key = app.api_key("budget@example.com").await;
    let refused = app.complete(&key, hello(json!({}))).await;
    assert!(refused.headers().contains_key("retry-after"));
    let message = assert_openai_error(refused, 429, Some("rate_limit_exceeded")).await;
    assert!(message.contains("allowance of 500 tokens"));
    assert_eq!(app.mock.posts(), 0);

    let app = TestApp::spawn_with(&[("MESSAGE_RATE_PER_MINUTE", "1")]).await;
    let key = app.api_key("rate@example.com").await;
    assert_eq!(app.complete(&key, hello(json!({}))).await.status(), 200);
    assert_openai_error(app.complete(&key, hello(json!({}))).await, 429, None).await;
    assert_eq!(app.mock.posts(), 1);
}

#[tokio::test]
async fn upstream_trouble_is_502_or_503_without_its_body() {
    let app = TestApp::spawn().await;
    let key = app.api_key("upstream@example.com").await;
    app.mock.push(Scenario::Status {
        status: 500,
        body: "SECRET-UPSTREAM-DETAIL".into(),
        retry_after: None,
    });
    let failed = app.complete(&key, hello(json!({}))).await;
    let message = assert_openai_error(failed, 502, Some("upstream_error")).await;
    assert!(!message.contains("SECRET"));
    app.mock.push(Scenario::Status {
        status: 429,
        body: r#"{"error":{"message":"quota","type":"insufficient_quota","code":"insufficient_quota"}}"#.into(),
        retry_after: None,
    });
    assert_openai_error(app.complete(&key, hello(json!({}))).await, 503, None).await;
    app.pause_in_database().await;
    assert_openai_error(app.complete(&key, hello(json!({}))).await, 503, None).await;
    assert_eq!(app.mock.posts(), 2);
    let failed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM usage WHERE status = 'failed'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(failed, 2, "failed calls are in the ledger too");
}

#[tokio::test]
async fn a_reset_mid_stream_ends_with_an_error_event_not_done() {
    let app = TestApp::spawn().await;
    let key = app.api_key("reset@example.com").await;
    app.mock
        .push(Scenario::ResetAfter(words("partial answer ")));
    let events = read_events(app.complete(&key, hello(json!({ "stream": true }))).await).await;
    let last = events.last().unwrap();
    assert_ne!(last.data, "[DONE]");
    assert!(
        last.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("broke off")
    );
}

#[tokio::test]
async fn every_way_a_stream_can_break_ends_with_an_error_event_and_an_interrupted_row() {
    let app = TestApp::spawn().await;
    let key = app.api_key("faults@example.com").await;
    let cases = [
        (Scenario::EofWithoutDone(words("cut off ")), "broke off"),
        (
            Scenario::MalformedAfter(words("then garbage ")),
            "could not be read",
        ),
        (
            Scenario::InBandErrorAfter(words("then an error ")),
            "reported an error",
        ),
        (
            Scenario::StallAfter(words("then silence ")),
            "stopped responding",
        ),
        // Bytes keep coming, so the client's read timeout never fires; no event does.
        (
            Scenario::KeepAliveAfter(words("then only comments ")),
            "stopped responding",
        ),
    ];
    for (scenario, message) in cases {
        app.mock.push(scenario);
        let events = read_events(app.complete(&key, hello(json!({ "stream": true }))).await).await;
        let last = events.last().unwrap();
        assert!(
            last.json()["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains(message)),
            "expected {message:?}, got {:?}",
            last.data
        );
        assert!(events.iter().all(|e| e.data != "[DONE]"));
        assert!(
            events[0].json()["choices"][0]["delta"].is_object(),
            "what arrived before the fault was relayed"
        );
    }
    let statuses: Vec<String> = sqlx::query_scalar("SELECT status FROM usage ORDER BY id")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(statuses, ["interrupted"; 5]);
}

#[tokio::test]
async fn a_stream_written_in_small_pieces_is_relayed_whole() {
    let app = TestApp::spawn().await;
    let key = app.api_key("pieces@example.com").await;
    app.mock.push(Scenario::Fragmented {
        words: words("split across many little writes"),
        piece: 7,
    });
    let events = read_events(
        app.complete(
            &key,
            hello(json!({ "stream": true, "stream_options": { "include_usage": true } })),
        )
        .await,
    )
    .await;
    assert_eq!(events.last().unwrap().data, "[DONE]");
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|e| e.json())
        .collect();
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "split across many little writes");
    assert_eq!(chunks.last().unwrap()["usage"]["completion_tokens"], 5);
}

#[tokio::test]
async fn a_client_that_disconnects_closes_the_upstream_within_a_second() {
    let app = TestApp::spawn().await;
    let key = app.api_key("leaver@example.com").await;
    app.mock.push(Scenario::Answer {
        words: words(&"token ".repeat(500)),
        delay: Duration::from_millis(20),
    });
    let response = app.complete(&key, hello(json!({ "stream": true }))).await;
    let mut body = response.bytes_stream();
    for _ in 0..5 {
        body.next().await.unwrap().unwrap();
    }
    let left = Instant::now();
    drop(body);
    let closed_after = app.mock.wait_for_hangup(left).await;
    assert!(
        closed_after < Duration::from_secs(1),
        "closed after {closed_after:?}"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (status, completion): (String, i64) =
        sqlx::query_as("SELECT status, completion_tokens FROM usage")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(status, "interrupted");
    assert!(completion > 0, "what was streamed is billed");
}

#[tokio::test]
async fn in_band_errors_of_every_common_server_end_the_relay_with_an_error_event() {
    let app = TestApp::spawn_unthrottled(&[]).await;
    let key = app.api_key("in-band@example.com").await;
    for (server, event) in IN_BAND_ERRORS {
        app.mock
            .push(Scenario::EventAfter(words("partial "), event.to_string()));
        let events = read_events(app.complete(&key, hello(json!({ "stream": true }))).await).await;
        let last = events.last().unwrap();
        assert!(
            last.json()["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("reported an error")),
            "{server}: {:?}",
            last.data
        );
        assert!(
            events.iter().all(|e| e.data != "[DONE]"),
            "{server}: ended as a success"
        );
        assert!(
            events.iter().all(|e| !e.data.contains("KV cache")
                && !e.data.contains("Provider disconnected")
                && !e.data.contains("runner")),
            "{server}: the server's own error was relayed"
        );
        // Not streamed: an error status, not an empty completion.
        app.mock
            .push(Scenario::EventAfter(words("partial "), event.to_string()));
        let collected = app.complete(&key, hello(json!({}))).await;
        let message = assert_openai_error(collected, 502, Some("upstream_error")).await;
        assert!(message.contains("reported an error"), "{server}: {message}");
    }
    let statuses: Vec<String> = sqlx::query_scalar("SELECT status FROM usage ORDER BY id")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(statuses, vec!["interrupted"; 2 * IN_BAND_ERRORS.len()]);
}

#[tokio::test]
async fn a_client_that_stops_reading_pauses_the_upstream_instead_of_filling_memory() {
    let app = TestApp::spawn().await;
    let key = app.api_key("slow@example.com").await;
    app.mock.push(Scenario::Flood {
        chunks: 25_000,
        bytes: 4096,
    });
    let response = app.complete(&key, hello(json!({ "stream": true }))).await;
    let mut body = response.bytes_stream();
    body.next().await.unwrap().unwrap();
    let sent = settled_bytes_sent(&app).await;
    assert!(
        sent < 40 << 20,
        "{} MB of 100 MB were read from the model for a client that reads nothing",
        sent >> 20
    );
    drop(body);
}

#[tokio::test]
async fn a_client_that_leaves_before_the_first_byte_closes_the_upstream_within_a_second() {
    let app = TestApp::spawn_with(&[("UPSTREAM_TIMEOUT_SECS", "30")]).await;
    let key = app.api_key("impatient@example.com").await;
    for stream in [true, false] {
        app.mock.push(Scenario::HangBeforeHeaders);
        let hangups = app.mock.hangups().len();
        let request = tokio::spawn({
            let (url, key) = (app.url("/v1/chat/completions"), key.clone());
            async move {
                reqwest::Client::new()
                    .post(url)
                    .bearer_auth(key)
                    .json(&hello(json!({ "stream": stream })))
                    .send()
                    .await
            }
        });
        let deadline = Instant::now() + Duration::from_secs(3);
        while app.mock.posts() < if stream { 1 } else { 2 } {
            assert!(
                Instant::now() < deadline,
                "the call never reached the model"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let left = Instant::now();
        request.abort();
        let closed = loop {
            if app.mock.hangups().len() > hangups {
                break left.elapsed();
            }
            assert!(
                left.elapsed() < Duration::from_secs(3),
                "stream {stream}: the upstream was never closed"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        assert!(
            closed < Duration::from_secs(1),
            "stream {stream}: closed after {closed:?}"
        );
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let statuses: Vec<String> = sqlx::query_scalar("SELECT status FROM usage ORDER BY id")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(
        statuses,
        ["interrupted", "interrupted"],
        "each call is settled"
    );
}

/// Structured output, two tools, a forced choice and a finished tool round trip, as an
/// agent framework sends them. The schema's properties are not in alphabetical order:
/// the model writes them in the order given.
fn agent_request() -> Value {
    json!({
        "model": MODEL,
        "messages": [
            { "role": "system", "content": "Use the tools." },
            { "role": "user", "content": "Weather in Seoul?" },
            { "role": "assistant", "content": null, "tool_calls": [
                { "id": "call_1", "type": "function",
                  "function": { "name": "get_weather", "arguments": "{\"city\":\"Seoul\"}" } },
            ] },
            { "role": "tool", "tool_call_id": "call_1", "content": "21 C, clear" },
        ],
        "response_format": { "type": "json_schema", "json_schema": {
            "name": "weather_report", "strict": true,
            "schema": { "type": "object",
                        "properties": { "summary": { "type": "string" }, "celsius": { "type": "number" } },
                        "required": ["summary", "celsius"], "additionalProperties": false } } },
        "tools": [
            { "type": "function", "function": {
                "name": "get_weather", "description": "The weather in a city",
                "parameters": { "type": "object", "properties": { "city": { "type": "string" } },
                                "required": ["city"], "additionalProperties": false },
                "strict": true } },
            { "type": "function", "function": { "name": "get_time" } },
        ],
        "tool_choice": { "type": "function", "function": { "name": "get_weather" } },
        "parallel_tool_calls": false,
    })
}

#[tokio::test]
async fn structured_output_tools_and_tool_messages_reach_the_upstream_as_sent() {
    let app = TestApp::spawn().await;
    let key = app.api_key("agent@example.com").await;
    app.mock
        .push(Scenario::answer(r#"{"summary": "clear", "celsius": 21}"#));
    let sent = agent_request();
    let response = app.complete(&key, sent.clone()).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["choices"][0]["message"]["content"],
        r#"{"summary": "clear", "celsius": 21}"#
    );

    let upstream = &app.mock.requests()[0];
    for field in [
        "response_format",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
    ] {
        assert_eq!(upstream[field], sent[field], "{field}");
    }
    let properties = upstream
        .pointer("/response_format/json_schema/schema/properties")
        .and_then(Value::as_object)
        .unwrap();
    assert_eq!(
        properties.keys().collect::<Vec<_>>(),
        ["summary", "celsius"],
        "the schema's order is the answer's order"
    );
    let messages = upstream["messages"].as_array().unwrap();
    assert_eq!(messages[3], sent["messages"][3], "the tool message");
    assert_eq!(messages[2]["role"], "assistant");
    assert_eq!(messages[2]["tool_calls"], sent["messages"][2]["tool_calls"]);
    assert!(messages[2].get("content").is_none_or(Value::is_null));
}

/// An answer calling two tools in parallel, as OpenAI streams it: the first call's
/// arguments in pieces, then the second call whole, the finish reason, and usage.
fn tool_call_chunks(usage: bool) -> Vec<Value> {
    let chunk = |delta: Value, finish: Value| {
        json!({ "id": "chatcmpl-tools", "object": "chat.completion.chunk", "created": 7,
                "model": "mock-model", "system_fingerprint": "fp_1",
                "choices": [{ "index": 0, "delta": delta, "logprobs": null, "finish_reason": finish }] })
    };
    let piece = |arguments: &str| json!({ "tool_calls": [{ "index": 0, "function": { "arguments": arguments } }] });
    let mut chunks = vec![
        chunk(
            json!({ "role": "assistant", "content": null, "refusal": null, "tool_calls": [
                { "index": 0, "id": "call_1", "type": "function",
                  "function": { "name": "get_weather", "arguments": "" } }] }),
            Value::Null,
        ),
        chunk(piece("{\"city\""), Value::Null),
        chunk(piece(":\"Seoul\"}"), Value::Null),
        chunk(
            json!({ "tool_calls": [{ "index": 1, "id": "call_2", "type": "function",
                                      "function": { "name": "get_time", "arguments": "{}" } }] }),
            Value::Null,
        ),
        chunk(json!({}), json!("tool_calls")),
    ];
    if usage {
        chunks.push(
            json!({ "id": "chatcmpl-tools", "object": "chat.completion.chunk", "created": 7,
            "model": "mock-model", "choices": [],
            "usage": { "prompt_tokens": 60, "completion_tokens": 25, "total_tokens": 85 } }),
        );
    }
    chunks
}

async fn ledger(app: &TestApp) -> Vec<(String, i64, i64)> {
    sqlx::query_as("SELECT status, prompt_tokens, completion_tokens FROM usage ORDER BY id")
        .fetch_all(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_streamed_tool_call_is_relayed_unchanged_and_settled_in_the_ledger() {
    let app = TestApp::spawn().await;
    let key = app.api_key("streamed-tools@example.com").await;
    app.mock.push(Scenario::Chunks(tool_call_chunks(true)));
    let asked = hello(
        json!({ "stream": true, "stream_options": { "include_usage": true },
                              "tools": agent_request()["tools"] }),
    );
    let events = read_events(app.complete(&key, asked.clone()).await).await;
    let relayed: Vec<&str> = events.iter().map(|e| e.data.as_str()).collect();
    let mut expected: Vec<String> = tool_call_chunks(true)
        .iter()
        .map(|chunk| {
            chunk
                .to_string()
                .replace(r#""model":"mock-model""#, &format!(r#""model":"{MODEL}""#))
        })
        .collect();
    expected.push("[DONE]".into());
    assert_eq!(relayed, expected, "every byte but the model's name");
    assert_eq!(ledger(&app).await, [("complete".into(), 60, 25)]);

    // Without usage from the server, each piece of a call counts as a token.
    app.mock.push(Scenario::Chunks(tool_call_chunks(false)));
    let events = read_events(app.complete(&key, asked).await).await;
    assert_eq!(events.last().unwrap().data, "[DONE]");
    let (status, _, completion) = ledger(&app).await.pop().unwrap();
    assert_eq!((status.as_str(), completion), ("complete", 4));
}

#[tokio::test]
async fn a_tool_call_not_streamed_comes_back_as_one_message_and_is_settled_in_the_ledger() {
    let app = TestApp::spawn().await;
    let key = app.api_key("collected-tools@example.com").await;
    app.mock.push(Scenario::Chunks(tool_call_chunks(true)));
    let asked = hello(json!({ "tools": agent_request()["tools"] }));
    let response = app.complete(&key, asked.clone()).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["id"], "chatcmpl-tools");
    assert_eq!(body["model"], MODEL);
    assert_eq!(body["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(
        body["choices"][0]["message"],
        json!({
            "role": "assistant",
            "content": null,
            "refusal": null,
            "tool_calls": [
                { "id": "call_1", "type": "function",
                  "function": { "name": "get_weather", "arguments": "{\"city\":\"Seoul\"}" } },
                { "id": "call_2", "type": "function",
                  "function": { "name": "get_time", "arguments": "{}" } },
            ],
        })
    );
    assert_eq!(body["usage"]["completion_tokens"], 25);
    assert_eq!(ledger(&app).await, [("complete".into(), 60, 25)]);

    // Without usage, the calls' names and arguments are the estimate.
    app.mock.push(Scenario::Chunks(tool_call_chunks(false)));
    let response = app.complete(&key, asked).await;
    assert_eq!(response.status(), 200);
    let (status, _, completion) = ledger(&app).await.pop().unwrap();
    assert_eq!(status, "complete");
    assert!(completion >= 8, "{completion} tokens for two calls");
}

#[tokio::test]
async fn mistakes_in_tools_and_formats_get_a_400_naming_them_and_tools_count_toward_the_size() {
    let app = TestApp::spawn_with(&[("MAX_CONTEXT_TOKENS", "200")]).await;
    let key = app.api_key("tool-mistakes@example.com").await;
    let tool = |i: usize| json!({ "type": "function", "function": { "name": format!("f{i}") } });
    let cases = [
        (
            hello(json!({ "response_format": { "type": "xml" } })),
            "`response_format.type` must be",
        ),
        (
            hello(
                json!({ "response_format": { "type": "json_schema", "json_schema": { "schema": {} } } }),
            ),
            "`response_format.json_schema.name`",
        ),
        (
            hello(json!({ "tools": (0..129).map(tool).collect::<Vec<_>>() })),
            "at most 128",
        ),
        (
            hello(
                json!({ "tools": [tool(0)], "tool_choice": { "type": "function", "function": { "name": "f9" } } }),
            ),
            "'f9', which is not in `tools`",
        ),
        (
            json!({ "model": MODEL, "messages": [{ "role": "tool", "content": "x", "tool_call_id": "1" }] }),
            "answers no tool call",
        ),
    ];
    for (body, expected) in cases {
        let message = assert_openai_error(app.complete(&key, body).await, 400, None).await;
        assert!(message.contains(expected), "{message}");
    }
    let described = json!({ "type": "function", "function": {
        "name": "lookup", "description": "word ".repeat(300) } });
    let message = assert_openai_error(
        app.complete(&key, hello(json!({ "tools": [described] })))
            .await,
        413,
        Some("request_too_large"),
    )
    .await;
    assert!(message.contains("at most 200"), "{message}");
    assert_eq!(app.mock.posts(), 0);
}
