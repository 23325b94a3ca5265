//! Every way the upstream can fail: the user gets a clear error, the partial answer is
//! saved with the right status, and each turn makes exactly the upstream calls it should.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::{
    helpers::{SseEvent, TestApp, done_answer, read_events, streamed_text},
    mock_upstream::{IN_BAND_ERRORS, Scenario, words},
};

/// Sends one message, reads its stream, and returns the events and the saved answer.
async fn turn(app: &TestApp, content: &str) -> (Vec<SseEvent>, Value) {
    let conversation = app.create_conversation().await;
    let events = app.chat(&conversation, content).await;
    let messages = app.messages(&conversation).await;
    assert_eq!(messages.len(), 2, "the question is saved whatever happens");
    assert_eq!(messages[0]["content"], content);
    (events, messages[1].clone())
}

fn assert_saved_as(
    events: &[SseEvent],
    saved: &Value,
    status: &str,
    error_contains: &str,
    content: &str,
) {
    let done = done_answer(events);
    assert_eq!(done["status"], status, "{done}");
    assert_eq!(saved["status"], status, "{saved}");
    let error = saved["error"].as_str().unwrap_or_default();
    assert!(
        error.contains(error_contains),
        "error {error:?} lacks {error_contains:?}"
    );
    assert_eq!(done["error"], saved["error"]);
    assert_eq!(saved["content"], content);
    assert_eq!(
        streamed_text(events),
        content,
        "what was shown is what was saved"
    );
}

#[tokio::test]
async fn a_429_with_a_long_retry_after_is_not_retried_and_says_busy() {
    let app = TestApp::spawn().await;
    app.mock.push(Scenario::Status {
        status: 429,
        body: r#"{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}"#.into(),
        retry_after: Some("60"),
    });
    let (events, saved) = turn(&app, "hello").await;
    assert_saved_as(&events, &saved, "failed", "busy", "");
    assert_eq!(app.mock.posts(), 1);
}

#[tokio::test]
async fn a_429_with_a_short_retry_after_is_retried_after_waiting() {
    let app = TestApp::spawn().await;
    app.mock.push(Scenario::Status {
        status: 429,
        body: r#"{"error":{"message":"Rate limit reached","type":"requests"}}"#.into(),
        retry_after: Some("1"),
    });
    app.mock.push(Scenario::answer("worth the wait"));
    let started = Instant::now();
    let (events, saved) = turn(&app, "hello").await;
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was honoured"
    );
    assert_saved_as(&events, &saved, "complete", "", "worth the wait");
    assert_eq!(app.mock.posts(), 2);
}

#[tokio::test]
async fn insufficient_quota_is_not_retried_and_the_user_sees_unavailable() {
    let app = TestApp::spawn().await;
    app.mock.push(Scenario::Status {
        status: 429,
        body: r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"#.into(),
        retry_after: None,
    });
    let (events, saved) = turn(&app, "hello").await;
    assert_saved_as(&events, &saved, "failed", "unavailable", "");
    assert_eq!(app.mock.posts(), 1);
}

#[tokio::test]
async fn a_500_is_reported_once_without_forwarding_the_upstream_body() {
    let app = TestApp::spawn().await;
    app.mock.push(Scenario::Status {
        status: 500,
        body: "internal stack trace SECRET-UPSTREAM-DETAIL".into(),
        retry_after: None,
    });
    let (events, saved) = turn(&app, "hello").await;
    assert_saved_as(&events, &saved, "failed", "model server had an error", "");
    assert_eq!(app.mock.posts(), 1);
    assert!(
        events
            .iter()
            .all(|e| !e.data.contains("SECRET-UPSTREAM-DETAIL"))
    );
    assert!(!saved.to_string().contains("SECRET-UPSTREAM-DETAIL"));
}

#[tokio::test]
async fn a_503_is_retried_and_the_answer_completes() {
    let app = TestApp::spawn().await;
    app.mock.push(Scenario::Status {
        status: 503,
        body: "overloaded".into(),
        retry_after: None,
    });
    app.mock.push(Scenario::answer("back again"));
    let (events, saved) = turn(&app, "hello").await;
    assert_saved_as(&events, &saved, "complete", "", "back again");
    assert_eq!(app.mock.posts(), 2);
}

#[tokio::test]
async fn an_upstream_that_never_answers_times_out_with_a_clear_error() {
    let app = TestApp::spawn().await;
    app.mock.push(Scenario::HangBeforeHeaders);
    let started = Instant::now();
    let (events, saved) = turn(&app, "hello").await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "bounded by UPSTREAM_TIMEOUT_SECS=1"
    );
    assert_saved_as(&events, &saved, "failed", "stopped responding", "");
    assert_eq!(app.mock.posts(), 1);
}

#[tokio::test]
async fn a_stall_mid_stream_ends_with_an_error_and_keeps_the_partial_answer() {
    let app = TestApp::spawn().await;
    app.mock.push(Scenario::StallAfter(words("half an ")));
    let (events, saved) = turn(&app, "hello").await;
    assert_saved_as(
        &events,
        &saved,
        "interrupted",
        "stopped responding",
        "half an ",
    );
    assert_eq!(app.mock.posts(), 1);
}

#[tokio::test]
async fn a_reset_mid_stream_is_an_error_never_a_normal_stop() {
    let app = TestApp::spawn().await;
    app.mock.push(Scenario::ResetAfter(words("cut short ")));
    let (events, saved) = turn(&app, "hello").await;
    assert_saved_as(&events, &saved, "interrupted", "broke off", "cut short ");
    assert_eq!(app.mock.posts(), 1, "no silent reconnect");
}

#[tokio::test]
async fn an_end_of_stream_without_done_counts_as_interrupted() {
    let app = TestApp::spawn().await;
    app.mock
        .push(Scenario::EofWithoutDone(words("no finish reason ")));
    let (events, saved) = turn(&app, "hello").await;
    assert_saved_as(
        &events,
        &saved,
        "interrupted",
        "broke off",
        "no finish reason ",
    );
    assert_eq!(app.mock.posts(), 1);
}

#[tokio::test]
async fn a_malformed_chunk_is_surfaced_as_an_error() {
    let app = TestApp::spawn().await;
    app.mock
        .push(Scenario::MalformedAfter(words("before the garbage ")));
    let (events, saved) = turn(&app, "hello").await;
    assert_saved_as(
        &events,
        &saved,
        "failed",
        "could not be read",
        "before the garbage ",
    );
    assert_eq!(app.mock.posts(), 1);
}

#[tokio::test]
async fn in_band_errors_of_every_common_server_end_the_answer_as_an_error() {
    let app = TestApp::spawn_unthrottled(&[]).await;
    for (server, event) in IN_BAND_ERRORS {
        app.mock
            .push(Scenario::EventAfter(words("partial "), event.to_string()));
        let (events, saved) = turn(&app, &format!("hello {server}")).await;
        assert_eq!(done_answer(&events)["status"], "failed", "{server}");
        assert_saved_as(&events, &saved, "failed", "reported an error", "partial ");
    }
    assert_eq!(app.mock.posts(), IN_BAND_ERRORS.len());
}

#[tokio::test]
async fn a_reader_that_stops_reading_pauses_the_model_instead_of_filling_memory() {
    let app = TestApp::spawn().await;
    // 100 MB of answer, sent as fast as the connection takes it.
    app.mock.push(Scenario::Flood {
        chunks: 25_000,
        bytes: 4096,
    });
    let conversation = app.create_conversation().await;
    let response = app.send_streaming(&conversation, "flood me").await;
    let mut body = response.bytes_stream();
    use futures_util::StreamExt;
    body.next().await.unwrap().unwrap();
    // The reader now takes nothing: what the upstream could send stops growing once the
    // buffers on the way (a few MB of sockets, a few dozen chunks in the app) are full.
    let sent = settled_bytes_sent(&app).await;
    assert!(
        sent < 40 << 20,
        "{} MB of 100 MB were read from the model for a reader that reads nothing",
        sent >> 20
    );
    drop(body);
}

/// What the mock has sent once it stops growing (unchanged for half a second), at most
/// after 10 s.
pub async fn settled_bytes_sent(app: &TestApp) -> usize {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut last = app.mock.bytes_sent();
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = app.mock.bytes_sent();
        if now == last || Instant::now() > deadline {
            return now;
        }
        last = now;
    }
}

#[tokio::test]
async fn events_split_across_arbitrary_writes_parse_correctly() {
    let app = TestApp::spawn().await;
    let text = "pieces of seven bytes split every event";
    app.mock.push(Scenario::Fragmented {
        words: words(text),
        piece: 7,
    });
    let (events, saved) = turn(&app, "hello").await;
    assert_saved_as(&events, &saved, "complete", "", text);
}

#[tokio::test]
async fn a_long_healthy_stream_is_never_cut_by_a_timeout() {
    // Each chunk comes well within the 1 s idle timeout; the whole answer takes ~3 s.
    let app = TestApp::spawn().await;
    let text = "steady ".repeat(10);
    app.mock.push(Scenario::Answer {
        words: words(&text),
        delay: Duration::from_millis(250),
    });
    let (events, saved) = turn(&app, "hello").await;
    assert_saved_as(&events, &saved, "complete", "", &text);
}

#[tokio::test]
async fn a_reader_that_leaves_closes_the_upstream_within_a_second() {
    let app = TestApp::spawn().await;
    app.mock.push(Scenario::Answer {
        words: words(&"token ".repeat(500)),
        delay: Duration::from_millis(20),
    });
    let conversation = app.create_conversation().await;
    let response = app
        .send_streaming(&conversation, "a long answer please")
        .await;
    let mut stream = response.bytes_stream();
    use futures_util::StreamExt;
    let mut received = 0;
    while received < 5 {
        stream.next().await.unwrap().unwrap();
        received += 1;
    }
    let left = Instant::now();
    drop(stream);

    let closed_after = app.mock.wait_for_hangup(left).await;
    assert!(
        closed_after < Duration::from_secs(1),
        "closed after {closed_after:?}"
    );

    // The partial answer is saved as interrupted.
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let messages = app.messages(&conversation).await;
        if messages[1]["status"] != "streaming" {
            assert_eq!(messages[1]["status"], "interrupted");
            assert!(
                messages[1]["content"]
                    .as_str()
                    .unwrap()
                    .starts_with("token ")
            );
            assert!(messages[1]["error"].as_str().unwrap().contains("closed"));
            break;
        }
        assert!(Instant::now() < deadline, "the answer was never saved");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(app.mock.posts(), 1);
}

#[tokio::test]
async fn the_page_stream_ends_with_the_error_shown_in_the_answer() {
    let app = TestApp::spawn().await;
    app.mock.push(Scenario::ResetAfter(words("partial words ")));
    let response = app
        .post_htmx("/conversations", &[("content", "hello")])
        .await;
    let events = read_events(response).await;
    let last = &events.last().unwrap().data;
    assert!(last.contains("data-status=\"interrupted\""), "{last}");
    assert!(last.contains("broke off"), "{last}");
    assert!(last.contains("partial words"), "{last}");
}

#[tokio::test]
async fn a_server_that_keeps_failing_is_tried_three_times_within_the_retry_deadline() {
    let app = TestApp::spawn().await;
    for _ in 0..5 {
        app.mock.push(Scenario::Status {
            status: 503,
            body: "overloaded".into(),
            retry_after: None,
        });
    }
    let started = Instant::now();
    let (events, saved) = turn(&app, "hello").await;
    assert_saved_as(&events, &saved, "failed", "model server had an error", "");
    assert_eq!(app.mock.posts(), 3, "three tries in all, never more");
    // 0.5 s and 1 s of back-off: far inside the 10 s deadline on retries.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_retry_after_that_would_pass_the_deadline_is_not_waited_for() {
    let app = TestApp::spawn().await;
    // Six seconds, then six more: the second wait would end past the 10 s deadline.
    for _ in 0..3 {
        app.mock.push(Scenario::Status {
            status: 429,
            body: r#"{"error":{"message":"Rate limit reached","type":"requests"}}"#.into(),
            retry_after: Some("6"),
        });
    }
    let started = Instant::now();
    let (events, saved) = turn(&app, "hello").await;
    assert_saved_as(&events, &saved, "failed", "busy", "");
    assert_eq!(app.mock.posts(), 2);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(6) && took < Duration::from_secs(10),
        "took {took:?}"
    );
}

#[tokio::test]
async fn a_reader_that_leaves_before_the_first_byte_closes_the_upstream_within_a_second() {
    let app = TestApp::spawn_with(&[("UPSTREAM_TIMEOUT_SECS", "30")]).await;
    // The model server thinks for an hour before it sends anything.
    app.mock.push(Scenario::HangBeforeHeaders);
    let conversation = app.create_conversation().await;
    let response = app.send_streaming(&conversation, "think hard").await;
    let mut stream = response.bytes_stream();
    use futures_util::StreamExt;
    stream.next().await.unwrap().unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(app.mock.hangups().is_empty(), "still waiting for the model");
    let left = Instant::now();
    drop(stream);
    let closed_after = app.mock.wait_for_hangup(left).await;
    assert!(
        closed_after < Duration::from_secs(1),
        "closed after {closed_after:?}"
    );
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let messages = app.messages(&conversation).await;
        if messages[1]["status"] != "streaming" {
            assert_eq!(messages[1]["status"], "interrupted");
            break;
        }
        assert!(Instant::now() < deadline, "the answer was never saved");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(app.mock.posts(), 1);
}
