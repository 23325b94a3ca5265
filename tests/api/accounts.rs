//! Accounts and isolation: cookies, sessions, passwords, login throttling, ownership.

use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, http_client};

fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.contains("promptship="))
}

fn cookie_value(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_string()
}

#[tokio::test]
async fn the_session_cookie_is_http_only_lax_and_secure_with_the_host_prefix_over_https() {
    let app = TestApp::spawn_with(&[("PUBLIC_URL", "https://chat.example.com")]).await;
    let response = http_client()
        .post(app.url("/signup"))
        .form(&[("email", "a@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    let cookie = session_cookie(&response).expect("a session cookie");
    assert!(cookie.starts_with("__Host-promptship="), "{cookie}");
    for flag in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"] {
        assert!(cookie.contains(flag), "{flag} missing: {cookie}");
    }
    assert!(
        !cookie.contains("Domain"),
        "__Host- cookies have no Domain: {cookie}"
    );
    // The id carries at least 128 random bits (tower-sessions: a random i128).
    assert!(cookie_value(&cookie).len() > "__Host-promptship=".len() + 20);

    let plain = TestApp::spawn().await;
    let response = http_client()
        .post(plain.url("/api/v1/conversations"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let cookie = session_cookie(&response).expect("a guest gets a session when it acts");
    assert!(
        cookie.starts_with("promptship=")
            && cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax")
    );
    assert!(!cookie.contains("Secure"), "no Secure flag on plain http");
}

#[tokio::test]
async fn the_session_id_changes_at_login_and_the_old_cookie_is_dead_after_logout() {
    let app = TestApp::spawn().await;
    app.sign_up("owner@example.com").await;

    let browser = http_client();
    let guest = browser
        .post(app.url("/api/v1/conversations"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let guest_cookie = cookie_value(&session_cookie(&guest).unwrap());
    let login = app.log_in(&browser, "owner@example.com", PASSWORD).await;
    assert_eq!(login.status(), 303);
    let user_cookie = cookie_value(&session_cookie(&login).expect("a new cookie at login"));
    assert_ne!(user_cookie, guest_cookie, "a new session id at login");

    let listed = |cookie: String| {
        let app = &app;
        async move {
            reqwest::Client::new()
                .get(app.url("/"))
                .header("cookie", cookie)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    assert!(
        listed(user_cookie.clone())
            .await
            .contains("owner@example.com")
    );
    let logout = browser.post(app.url("/logout")).send().await.unwrap();
    assert_eq!(logout.status(), 303);
    let page = listed(user_cookie).await;
    assert!(
        !page.contains("owner@example.com"),
        "the old cookie is dead after logout"
    );
    assert!(page.contains("Log in"));
}

#[tokio::test]
async fn an_unknown_email_and_a_wrong_password_look_the_same() {
    let app = TestApp::spawn().await;
    app.sign_up("known@example.com").await;
    let unknown = app
        .log_in(&http_client(), "nobody@example.com", PASSWORD)
        .await;
    let wrong = app
        .log_in(&http_client(), "known@example.com", "not the password")
        .await;
    assert_eq!(unknown.status(), 401);
    assert_eq!(wrong.status(), 401);
    let (unknown, wrong) = (unknown.text().await.unwrap(), wrong.text().await.unwrap());
    assert!(unknown.contains("Wrong email or password."));
    assert_eq!(
        unknown.replace("nobody@example.com", "EMAIL"),
        wrong.replace("known@example.com", "EMAIL"),
        "the pages differ only by the echoed email"
    );
}

#[tokio::test]
async fn repeated_login_failures_are_refused_for_a_while() {
    let app = TestApp::spawn_with(&[("AUTH_RATE_PER_MINUTE", "1000")]).await;
    app.sign_up("target@example.com").await;
    let attacker = http_client();
    for _ in 0..10 {
        let response = app.log_in(&attacker, "target@example.com", "guess").await;
        assert_eq!(response.status(), 401);
    }
    let throttled = app.log_in(&attacker, "target@example.com", "guess").await;
    assert_eq!(throttled.status(), 429);
    assert!(throttled.headers().contains_key("retry-after"));
    assert!(
        throttled
            .text()
            .await
            .unwrap()
            .contains("Too many failed logins")
    );
    // Even the right password waits until the window ends: no oracle for guesses.
    let owner = app
        .log_in(&http_client(), "target@example.com", PASSWORD)
        .await;
    assert_eq!(owner.status(), 429);
}

#[tokio::test]
async fn short_and_common_passwords_are_refused_and_hashes_are_argon2id() {
    let app = TestApp::spawn().await;
    for (password, expected) in [
        ("short", "too short"),
        ("password123", "too common"),
        ("iloveyou1", "too common"),
    ] {
        let response = http_client()
            .post(app.url("/signup"))
            .form(&[("email", "new@example.com"), ("password", password)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 422, "{password}");
        assert!(
            response.text().await.unwrap().contains(expected),
            "{password}"
        );
    }
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(users, 0);

    app.sign_up("new@example.com").await;
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM users")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    let again = http_client()
        .post(app.url("/signup"))
        .form(&[("email", "NEW@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(
        again.status(),
        422,
        "one account per email, whatever the case"
    );
}

#[tokio::test]
async fn a_guest_who_signs_up_keeps_their_conversations() {
    let app = TestApp::spawn().await;
    let conversation = app.create_conversation().await;
    app.chat(&conversation, "remember me").await;
    let response = app
        .client
        .post(app.url("/signup"))
        .form(&[("email", "kept@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(
        app.messages(&conversation).await.len(),
        2,
        "still theirs after sign-up"
    );
    let owner: Option<i64> = sqlx::query_scalar("SELECT user_id FROM conversations")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(owner.is_some());
    // And logging in elsewhere shows it too.
    let elsewhere = http_client();
    app.log_in(&elsewhere, "kept@example.com", PASSWORD).await;
    let listed: serde_json::Value = app.list_conversations_as(&elsewhere).await;
    assert_eq!(listed["data"][0]["id"], conversation.as_str());
}

#[tokio::test]
async fn another_owners_conversation_is_not_found_on_every_route() {
    let app = TestApp::spawn().await;
    let alice = app.sign_up("alice@example.com").await;
    let conversation = app.create_conversation_as(&alice).await;
    let bob = app.sign_up("bob@example.com").await;
    let guest = http_client();
    guest
        .post(app.url("/api/v1/conversations"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();

    for intruder in [&bob, &guest, &reqwest::Client::new()] {
        let requests = [
            ("GET", format!("/conversations/{conversation}"), ""),
            (
                "POST",
                format!("/conversations/{conversation}/messages"),
                "content=hi",
            ),
            (
                "POST",
                format!("/conversations/{conversation}/regenerate"),
                "",
            ),
            ("POST", format!("/conversations/{conversation}/stop"), ""),
            (
                "POST",
                format!("/conversations/{conversation}/rename"),
                "title=mine",
            ),
            ("POST", format!("/conversations/{conversation}/delete"), ""),
            ("GET", format!("/api/v1/conversations/{conversation}"), ""),
            (
                "POST",
                format!("/api/v1/conversations/{conversation}/messages"),
                r#"{"content":"hi"}"#,
            ),
            (
                "POST",
                format!("/api/v1/conversations/{conversation}/stop"),
                "",
            ),
            (
                "PATCH",
                format!("/api/v1/conversations/{conversation}"),
                r#"{"title":"mine"}"#,
            ),
            (
                "DELETE",
                format!("/api/v1/conversations/{conversation}"),
                "",
            ),
        ];
        for (method, path, body) in requests {
            let content_type = if body.starts_with('{') {
                "application/json"
            } else {
                "application/x-www-form-urlencoded"
            };
            let response = intruder
                .request(method.parse().unwrap(), app.url(&path))
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 404, "{method} {path}");
        }
        let listed: serde_json::Value = app.list_conversations_as(intruder).await;
        assert!(
            listed["data"]
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c["id"] != conversation.as_str())
        );
    }
    assert_eq!(app.mock.posts(), 0);
    let listed: serde_json::Value = app.list_conversations_as(&alice).await;
    assert_eq!(listed["data"][0]["title"], "Test", "untouched");
}

#[tokio::test]
async fn login_and_sign_up_are_rate_limited_per_address() {
    let app =
        TestApp::spawn_with(&[("AUTH_RATE_PER_MINUTE", "3"), ("SIGNUPS_PER_HOUR", "2")]).await;
    for _ in 0..3 {
        assert_eq!(
            app.log_in(&http_client(), "x@example.com", "whatever1")
                .await
                .status(),
            401
        );
    }
    let limited = app
        .log_in(&http_client(), "x@example.com", "whatever1")
        .await;
    assert_eq!(limited.status(), 429);
    assert!(limited.headers().contains_key("retry-after"));
    assert!(
        limited.headers().contains_key("content-security-policy"),
        "a 429 has the security headers"
    );

    let app = TestApp::spawn_with(&[("SIGNUPS_PER_HOUR", "2")]).await;
    app.sign_up("one@example.com").await;
    app.sign_up("two@example.com").await;
    let third = http_client()
        .post(app.url("/signup"))
        .form(&[("email", "three@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(third.status(), 429);
}

#[tokio::test]
async fn message_routes_are_rate_limited_per_address_before_any_upstream_call() {
    let app = TestApp::spawn_with(&[("MESSAGE_RATE_PER_MINUTE", "2")]).await;
    let conversation = app.create_conversation().await;
    app.chat(&conversation, "one").await;
    app.chat(&conversation, "two").await;
    let third = app.send_streaming(&conversation, "three").await;
    assert_eq!(third.status(), 429);
    let body: serde_json::Value = third.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Too many requests")
    );
    assert_eq!(app.mock.posts(), 2);
}

#[tokio::test]
async fn error_pages_know_who_is_logged_in() {
    let app = TestApp::spawn().await;
    let user = app.sign_up("someone@example.com").await;
    let page = user
        .get(app.url("/conversations/00000000-0000-0000-0000-000000000000"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 404);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("someone@example.com"),
        "the header shows the user"
    );
    assert!(html.contains("Not Found"));
}
