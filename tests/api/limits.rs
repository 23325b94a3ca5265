//! Writes that call no model are bounded too: a per-address rate on every state-changing
//! route, a rate on new guests, a cap on a guest's conversations, guests gone for good
//! swept with everything of theirs; IPv6 clients counted by their /64; and rate limits
//! that forget addresses instead of growing with every one ever seen.

use std::time::Duration;

use serde_json::json;

use crate::helpers::{TestApp, error_message, http_client};

async fn count(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(&app.db)
        .await
        .unwrap()
}

/// POST /api/v1/conversations from `client`; the status.
async fn create(app: &TestApp, client: &reqwest::Client) -> reqwest::Response {
    client
        .post(app.url("/api/v1/conversations"))
        .json(&json!({ "title": "flood" }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_flood_of_new_guests_from_one_address_is_capped_per_hour() {
    // The attack that found this: 3,000 conversations and 3,000 guest sessions in 3.4 s
    // from one address, each request from a new client with no cookie.
    let app = TestApp::spawn_with(&[("WRITE_RATE_PER_MINUTE", "100000")]).await;
    let mut created = 0;
    let mut refused = 0;
    for _ in 0..300 {
        let response = create(&app, &http_client()).await;
        match response.status().as_u16() {
            201 => created += 1,
            429 => {
                refused += 1;
                assert!(response.headers().contains_key("retry-after"));
                let message = error_message(response).await;
                assert!(message.contains("sign up"), "{message}");
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(created, 30, "GUESTS_PER_HOUR is 30 by default");
    assert_eq!(refused, 270);
    assert_eq!(count(&app, "conversations").await, 30);
    assert_eq!(count(&app, "guests").await, 30);
    assert_eq!(count(&app, "tower_sessions").await, 30);
}

#[tokio::test]
async fn one_client_writing_without_pause_is_held_to_the_write_rate() {
    let app = TestApp::spawn_with(&[("GUEST_MAX_CONVERSATIONS", "1000")]).await;
    let guest = http_client();
    let conversation = app.create_conversation_as(&guest).await;
    let mut statuses = Vec::new();
    let started = std::time::Instant::now();
    for i in 0..100 {
        // Alternating writes that call no model: creating and renaming.
        let response = if i % 2 == 0 {
            create(&app, &guest).await
        } else {
            guest
                .patch(app.url(&format!("/api/v1/conversations/{conversation}")))
                .json(&json!({ "title": format!("title {i}") }))
                .send()
                .await
                .unwrap()
        };
        statuses.push(response.status().as_u16());
    }
    // 60 a minute, the first create included: a burst of 60, then one a second. On a
    // loaded machine the loop can take seconds, and each lets one more through.
    let refilled = started.elapsed().as_secs() as usize;
    assert!(statuses[..59].iter().all(|s| *s != 429), "{statuses:?}");
    let later = statuses[59..].iter().filter(|s| **s != 429).count();
    assert!(
        later <= refilled,
        "{later} past the burst in {refilled} s: {statuses:?}"
    );
    // Reading is never limited by it.
    assert_eq!(app.get("/api/v1/conversations").await.status(), 200);
    assert_eq!(app.mock.posts(), 0);
}

#[tokio::test]
async fn a_guest_keeps_a_bounded_number_of_conversations_and_an_account_does_not() {
    let app = TestApp::spawn_unthrottled(&[("GUEST_MAX_CONVERSATIONS", "3")]).await;
    let guest = http_client();
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(app.create_conversation_as(&guest).await);
    }
    let refused = create(&app, &guest).await;
    assert_eq!(refused.status(), 403);
    let message = error_message(refused).await;
    assert!(message.contains("up to 3 conversations"), "{message}");
    // Nor through the page's form, which would start one with a message: no model call.
    let page = guest
        .post(app.url("/conversations"))
        .form(&[("content", "one more")])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 403);
    assert_eq!(app.mock.posts(), 0);
    assert_eq!(count(&app, "conversations").await, 3);
    assert_eq!(count(&app, "messages").await, 0);

    // Deleting one makes room.
    let deleted = guest
        .delete(app.url(&format!("/api/v1/conversations/{}", ids[0])))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert_eq!(create(&app, &guest).await.status(), 201);

    let user = app.sign_up("many@example.com").await;
    for _ in 0..5 {
        assert_eq!(create(&app, &user).await.status(), 201);
    }
}

#[tokio::test]
async fn an_ipv6_client_is_counted_by_its_64_for_rates_and_allowances() {
    let app = TestApp::spawn_with(&[
        ("TRUSTED_PROXIES", "127.0.0.1"),
        ("GUEST_DAILY_MESSAGES", "2"),
        ("WRITE_RATE_PER_MINUTE", "100000"),
    ])
    .await;
    // Each message from a new session and a new address of the same /64.
    let send = |address: &'static str| {
        let app = &app;
        async move {
            http_client()
                .post(app.url("/conversations"))
                .header("x-forwarded-for", address)
                .form(&[("content", "hello")])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(send("2001:db8:1:2::1").await, 303);
    assert_eq!(send("2001:db8:1:2:ffff:ffff:ffff:fffe").await, 303);
    assert_eq!(
        send("2001:db8:1:2:abcd::9").await,
        429,
        "a third address of the /64 shares its allowance"
    );
    assert_eq!(
        send("2001:db8:1:3::1").await,
        303,
        "the next /64 is someone else"
    );
    let ips: Vec<String> = sqlx::query_scalar("SELECT DISTINCT ip FROM usage ORDER BY ip")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(ips, ["2001:db8:1:2::/64", "2001:db8:1:3::/64"]);

    // The write rate is counted the same way.
    let app = TestApp::spawn_with(&[
        ("TRUSTED_PROXIES", "127.0.0.1"),
        ("WRITE_RATE_PER_MINUTE", "3"),
    ])
    .await;
    let logout = |address: String| {
        let app = &app;
        async move {
            http_client()
                .post(app.url("/logout"))
                .header("x-forwarded-for", address)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    for i in 1..=3 {
        assert_eq!(logout(format!("2001:db8:9:9::{i}")).await, 303);
    }
    assert_eq!(logout("2001:db8:9:9::ffff".into()).await, 429);
    assert_eq!(logout("2001:db8:9:a::1".into()).await, 303);
}

#[tokio::test]
async fn rate_limits_forget_addresses_once_their_allowance_is_whole_again() {
    // 600 a minute: one request is forgotten a tenth of a second later.
    let app = TestApp::spawn_with(&[
        ("TRUSTED_PROXIES", "127.0.0.1"),
        ("WRITE_RATE_PER_MINUTE", "600"),
    ])
    .await;
    let client = http_client();
    for i in 0..300 {
        let response = client
            .post(app.url("/logout"))
            .header("x-forwarded-for", format!("198.51.{}.{}", i / 250, i % 250))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303);
    }
    assert!(app.state.limits.tracked() >= 300);
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.state.limits.prune();
    assert_eq!(app.state.limits.tracked(), 0, "every address was forgotten");
}

#[tokio::test]
async fn guests_gone_for_good_are_swept_with_everything_of_theirs_and_visits_keep_them() {
    let app = TestApp::spawn_unthrottled(&[]).await;
    let gone = http_client();
    let gone_conversation = app.create_conversation_as(&gone).await;
    app.send_streaming_as(&gone, &gone_conversation, "hello")
        .await
        .text()
        .await
        .unwrap();
    let back = http_client();
    let back_conversation = app.create_conversation_as(&back).await;
    let user = app.sign_up("stays@example.com").await;
    let user_conversation = app.create_conversation_as(&user).await;
    assert_eq!(count(&app, "guests").await, 2);

    // 31 days and a minute later, the returning guest visits and the other does not.
    app.state
        .clock
        .advance(Duration::from_secs(31 * 86_400 + 60));
    let page = back
        .get(app.url(&format!("/conversations/{back_conversation}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let usage_before = count(&app, "usage").await;
    let (guests, conversations) = app.state.sweep_gone_guests().await.unwrap();
    assert_eq!((guests, conversations), (1, 1));

    let left: Vec<String> = sqlx::query_scalar("SELECT id FROM conversations ORDER BY id")
        .fetch_all(&app.db)
        .await
        .unwrap();
    let mut expected = vec![back_conversation.clone(), user_conversation];
    expected.sort();
    assert_eq!(left, expected);
    let orphans: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE conversation_id = ?")
            .bind(&gone_conversation)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(orphans, 0, "its messages went with it");
    assert_eq!(
        count(&app, "usage").await,
        usage_before,
        "the ledger keeps its rows"
    );
    // A guest who signs up is an account from then on, not a guest to sweep.
    app.sign_up_as(&back, "was-a-guest@example.com").await;
    assert_eq!(count(&app, "guests").await, 0);
}
