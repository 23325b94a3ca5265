//! Guest allowances, user and global budgets, the day boundary, and the usage ledger.
//! Every refusal happens before any upstream call. (The kill switch: `admin.rs`.)

use std::time::Duration;

use crate::{
    helpers::{TestApp, done_answer, error_message, http_client, read_events},
    mock_upstream::{PROMPT_TOKENS, Scenario, words},
};

#[tokio::test]
async fn a_guest_over_the_allowance_is_refused_also_from_a_fresh_session() {
    let app = TestApp::spawn_with(&[("GUEST_DAILY_MESSAGES", "2")]).await;
    let conversation = app.create_conversation().await;
    app.chat(&conversation, "one").await;
    app.chat(&conversation, "two").await;

    let refused = app.send_streaming(&conversation, "three").await;
    assert_eq!(refused.status(), 429);
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after > 0 && retry_after <= 86_400);
    let message = error_message(refused).await;
    assert!(
        message.contains("guest allowance of 2 messages"),
        "{message}"
    );
    assert!(message.contains("resets at 00:00 UTC"), "{message}");

    // A new incognito window: a new session, the same address.
    let incognito = http_client();
    let fresh = app.create_conversation_as(&incognito).await;
    let refused = app.send_streaming_as(&incognito, &fresh, "hello").await;
    assert_eq!(refused.status(), 429);
    assert_eq!(app.mock.posts(), 2, "no call past the limit");
    assert_eq!(
        app.messages(&conversation).await.len(),
        4,
        "the refused question is not stored"
    );
}

#[tokio::test]
async fn a_forged_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy() {
    let app = TestApp::spawn_with(&[("GUEST_DAILY_MESSAGES", "1")]).await;
    let conversation = app.create_conversation().await;
    app.chat(&conversation, "one").await;
    let forger = http_client();
    let theirs = app.create_conversation_as(&forger).await;
    let forged = forger
        .post(app.url(&format!("/api/v1/conversations/{theirs}/messages")))
        .header("x-forwarded-for", "203.0.113.77")
        .json(&serde_json::json!({ "content": "I am someone else" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        forged.status(),
        429,
        "the header is not believed from an untrusted peer"
    );
    assert_eq!(app.mock.posts(), 1);

    // Behind a trusted proxy, the forwarded address is the client's.
    let proxied = TestApp::spawn_with(&[
        ("GUEST_DAILY_MESSAGES", "1"),
        ("TRUSTED_PROXIES", "127.0.0.1"),
    ])
    .await;
    for address in ["198.51.100.1", "198.51.100.2"] {
        let client = http_client();
        let id = proxied.create_conversation_as(&client).await;
        let response = client
            .post(proxied.url(&format!("/api/v1/conversations/{id}/messages")))
            .header("x-forwarded-for", address)
            .json(&serde_json::json!({ "content": "hi" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{address} has its own allowance");
    }
    let ips: Vec<String> = sqlx::query_scalar("SELECT ip FROM usage ORDER BY id")
        .fetch_all(&proxied.db)
        .await
        .unwrap();
    assert_eq!(ips, ["198.51.100.1", "198.51.100.2"]);
}

#[tokio::test]
async fn twenty_parallel_requests_with_one_message_left_make_one_upstream_call() {
    // One reservation (prompt + the 1024-token output cap) fits; two do not.
    let app = TestApp::spawn_with(&[
        ("USER_DAILY_TOKENS", "1500"),
        ("MESSAGE_RATE_PER_MINUTE", "1000"),
    ])
    .await;
    app.mock.push(Scenario::Answer {
        words: words("slow enough to overlap"),
        delay: Duration::from_millis(100),
    });
    let user = app.sign_up("parallel@example.com").await;
    let mut conversations = Vec::new();
    for _ in 0..20 {
        conversations.push(app.create_conversation_as(&user).await);
    }
    let sends = conversations
        .iter()
        .map(|id| app.send_streaming_as(&user, id, "go"));
    let responses = futures_util::future::join_all(sends).await;
    let statuses: Vec<u16> = responses.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        19,
        "{statuses:?}"
    );
    for response in responses {
        if response.status() == 200 {
            read_events(response).await;
        }
    }
    assert_eq!(app.mock.posts(), 1);
}

#[tokio::test]
async fn a_spent_global_budget_pauses_everyone_until_the_next_day() {
    let app = TestApp::spawn_with(&[("GLOBAL_DAILY_TOKENS", "100000")]).await;
    app.record_usage(None, 99_900, 0).await;

    let user = app.sign_up("someone@example.com").await;
    for client in [&app.client, &user] {
        let conversation = app.create_conversation_as(client).await;
        let refused = app.send_streaming_as(client, &conversation, "hello").await;
        assert_eq!(refused.status(), 503);
        assert!(refused.headers().contains_key("retry-after"));
        assert!(error_message(refused).await.contains("paused"));
    }
    let page = app
        .post_form("/conversations", &[("content", "from the page")])
        .await;
    assert_eq!(page.status(), 503);
    assert!(page.text().await.unwrap().contains("paused"));
    assert_eq!(app.mock.posts(), 0);

    // A new day, a new budget.
    app.state.clock.advance(Duration::from_secs(24 * 3600));
    let conversation = app.create_conversation().await;
    let events = app.chat(&conversation, "hello again").await;
    assert_eq!(done_answer(&events)["status"], "complete");
    assert_eq!(app.mock.posts(), 1);
}

#[tokio::test]
async fn a_spent_money_budget_pauses_everyone() {
    let app = TestApp::spawn_with(&[("GLOBAL_DAILY_USD", "0.01")]).await;
    app.record_usage(None, 20, 10_000).await;
    let conversation = app.create_conversation().await;
    let refused = app.send_streaming(&conversation, "hello").await;
    assert_eq!(refused.status(), 503);
    assert_eq!(app.mock.posts(), 0);
}

#[tokio::test]
async fn a_user_over_their_daily_tokens_is_refused_with_when_it_resets() {
    let app = TestApp::spawn_with(&[("USER_DAILY_TOKENS", "1500")]).await;
    let user = app.sign_up("tokens@example.com").await;
    let conversation = app.create_conversation_as(&user).await;
    let user_id = app.user_id("tokens@example.com").await;
    app.record_usage(Some(user_id), 1000, 0).await;
    let refused = app.send_streaming_as(&user, &conversation, "hello").await;
    assert_eq!(refused.status(), 429);
    let message = error_message(refused).await;
    assert!(
        message.contains("allowance of 1500 tokens") && message.contains("resets"),
        "{message}"
    );
    assert_eq!(app.mock.posts(), 0);
}

#[tokio::test]
async fn every_model_call_is_settled_in_the_usage_ledger() {
    let app = TestApp::spawn().await;
    app.mock.push(Scenario::answer("four words of answer"));
    app.mock.push(Scenario::ResetAfter(words("cut off here ")));
    let conversation = app.create_conversation().await;
    app.chat(&conversation, "first").await;
    app.chat(&conversation, "second").await;

    let rows: Vec<(String, i64, i64, i64, String, Option<String>)> = sqlx::query_as(
        "SELECT status, prompt_tokens, completion_tokens, cost_microusd, ip, guest_id FROM usage ORDER BY id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(rows.len(), 2);
    let (status, prompt, completion, cost, ip, guest) = &rows[0];
    assert_eq!(status, "complete");
    assert_eq!(
        *prompt, PROMPT_TOKENS as i64,
        "the provider's count, not the estimate"
    );
    assert_eq!(*completion, 4);
    // gpt-4o-mini: $0.15 and $0.60 per million tokens = 0.15 and 0.60 micro-dollars each.
    assert_eq!(
        *cost,
        (PROMPT_TOKENS as f64 * 0.15 + 4.0 * 0.60).round() as i64
    );
    assert_eq!(ip, "127.0.0.1");
    assert!(guest.is_some());
    let (status, prompt, completion, _, _, _) = &rows[1];
    assert_eq!(status, "interrupted");
    assert!(
        *prompt > 0,
        "estimated when the stream broke before the usage chunk"
    );
    assert!(
        *completion >= 3,
        "the text that arrived, counted with tiktoken"
    );
}

#[tokio::test]
async fn the_history_sent_to_the_model_is_trimmed_to_the_token_budget() {
    let app = TestApp::spawn_with(&[("MAX_CONTEXT_TOKENS", "120")]).await;
    let conversation = app.create_conversation().await;
    app.chat(&conversation, &"long old message ".repeat(40))
        .await;
    app.chat(&conversation, "the newest question").await;
    let request = &app.mock.requests()[1];
    let messages = request["messages"].as_array().unwrap();
    assert_eq!(
        messages[0]["role"], "system",
        "the system prompt is always kept"
    );
    assert_eq!(messages.last().unwrap()["content"], "the newest question");
    assert!(
        messages
            .iter()
            .all(|m| !m["content"].as_str().unwrap().contains("long old message")),
        "the oldest message was dropped: {messages:?}"
    );
}

#[tokio::test]
async fn one_address_hammering_is_limited_while_another_chats_normally() {
    let app = TestApp::spawn_with(&[
        ("MESSAGE_RATE_PER_MINUTE", "3"),
        ("TRUSTED_PROXIES", "127.0.0.1"),
    ])
    .await;
    let send = |client: reqwest::Client, address: &'static str| {
        let app = &app;
        async move {
            let id = app.create_conversation_as(&client).await;
            let response = client
                .post(app.url(&format!("/api/v1/conversations/{id}/messages")))
                .header("x-forwarded-for", address)
                .json(&serde_json::json!({ "content": "hi" }))
                .send()
                .await
                .unwrap();
            (
                response.status().as_u16(),
                response.headers().contains_key("retry-after"),
            )
        }
    };
    let mut refused = 0;
    for _ in 0..8 {
        match send(http_client(), "198.51.100.66").await {
            (200, _) => {}
            (429, true) => refused += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        refused, 5,
        "three calls a minute, then 429 with Retry-After"
    );
    assert_eq!(app.mock.posts(), 3, "no upstream call past the limit");
    assert_eq!(
        send(http_client(), "198.51.100.7").await.0,
        200,
        "another address is unaffected"
    );
}

#[tokio::test]
async fn a_client_hammering_the_limit_does_not_slow_another_clients_answers() {
    let app = TestApp::spawn_with(&[
        ("MESSAGE_RATE_PER_MINUTE", "3"),
        ("TRUSTED_PROXIES", "127.0.0.1"),
        ("GUEST_DAILY_MESSAGES", "1000"),
    ])
    .await;
    // Another client (an address of its own for each answer, within the rate), reading
    // each answer to its end.
    let answers = std::sync::atomic::AtomicUsize::new(0);
    let answer = || {
        let app = &app;
        let address = format!(
            "198.51.100.{}",
            10 + answers.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        async move {
            let client = http_client();
            let id = app.create_conversation_as(&client).await;
            let started = std::time::Instant::now();
            let response = client
                .post(app.url(&format!("/api/v1/conversations/{id}/messages")))
                .header("x-forwarded-for", address)
                .json(&serde_json::json!({ "content": "hi" }))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            response.text().await.unwrap();
            started.elapsed()
        }
    };
    let median = |mut times: Vec<std::time::Duration>| {
        times.sort();
        times[times.len() / 2]
    };
    let mut alone = Vec::new();
    for _ in 0..3 {
        alone.push(answer().await);
    }
    let alone = median(alone);

    // Eight connections sending as fast as they can from another address: all but the
    // first three calls are refused, and the mock sees none of them.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let hammers: Vec<_> = (0..8)
        .map(|_| {
            let (url, stop) = (app.url("/conversations"), stop.clone());
            tokio::spawn(async move {
                let client = http_client();
                let mut refused = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let response = client
                        .post(&url)
                        .header("x-forwarded-for", "198.51.100.66")
                        .form(&[("content", "again")])
                        .send()
                        .await
                        .unwrap();
                    refused += usize::from(response.status() == 429);
                }
                refused
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let mut hammered = Vec::new();
    for _ in 0..3 {
        hammered.push(answer().await);
    }
    let hammered = median(hammered);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut refused = 0;
    for hammer in hammers {
        refused += hammer.await.unwrap();
    }
    assert!(
        refused > 100,
        "only {refused} refusals: the hammer did not hammer"
    );
    assert_eq!(
        app.mock.posts(),
        3 + 6,
        "three calls of the hammer's address, and the other client's six"
    );
    // Generous for a debug build on two shared cores; a queue behind the refused
    // requests would take seconds.
    assert!(
        hammered < alone * 3 + std::time::Duration::from_millis(150),
        "an answer took {hammered:?} under the hammering, {alone:?} alone"
    );
}
