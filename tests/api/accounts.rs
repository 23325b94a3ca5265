//! Accounts and isolation: cookies, sessions, passwords, login throttling, ownership.

use serde_json::json;
use tower_sessions::cookie::{Cookie, SameSite};

use crate::helpers::{PASSWORD, TestApp, error_message, http_client};

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

/// The device cookie a response sets, if any (plain or `__Host-` name).
fn device_cookie(response: &reqwest::Response) -> Option<Cookie<'static>> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| Cookie::parse(v.to_str().unwrap().to_string()).unwrap())
        .find(|c| c.name().ends_with("promptship_device"))
}

/// Posts the login form from `client` as if it came from `address` through the proxy.
async fn log_in_from(
    app: &TestApp,
    client: &reqwest::Client,
    email: &str,
    password: &str,
    address: &str,
) -> reqwest::Response {
    client
        .post(app.url("/login"))
        .header("x-forwarded-for", address)
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .unwrap()
}

/// A browser that has logged in to `email` (and logged out again): it holds the device
/// cookie and nothing else. Returns it with the cookie's value.
async fn trusted_browser(app: &TestApp, email: &str, address: &str) -> (reqwest::Client, String) {
    let browser = http_client();
    let login = log_in_from(app, &browser, email, PASSWORD, address).await;
    assert_eq!(login.status(), 303);
    let cookie = device_cookie(&login).expect("a device cookie at login");
    let logout = browser.post(app.url("/logout")).send().await.unwrap();
    assert_eq!(logout.status(), 303);
    (browser, cookie.value().to_string())
}

/// An attacker's wrong guesses at `email`, each from another address of 198.51.100.0/24
/// starting at `first`; returns the statuses.
async fn guess(app: &TestApp, email: &str, first: u8, count: u8) -> Vec<u16> {
    let mut statuses = Vec::new();
    for n in first..first + count {
        let response = log_in_from(
            app,
            &http_client(),
            email,
            &format!("guess {n}"),
            &format!("198.51.100.{n}"),
        )
        .await;
        statuses.push(response.status().as_u16());
    }
    statuses
}

#[tokio::test]
async fn an_attacker_guessing_from_many_addresses_cannot_lock_out_the_owners_browser() {
    let app = TestApp::spawn_unthrottled(&[("TRUSTED_PROXIES", "127.0.0.1")]).await;
    app.sign_up("owner@example.com").await;
    let (owner, _) = trusted_browser(&app, "owner@example.com", "203.0.113.7").await;

    let statuses = guess(&app, "owner@example.com", 1, 30).await;
    assert_eq!(statuses[..10], [401; 10], "{statuses:?}");
    assert_eq!(statuses[10..], [429; 20], "{statuses:?}");
    for round in 0..3 {
        // Unknown clients stay slowed: even the right password waits, from anywhere.
        let fresh = log_in_from(
            &app,
            &http_client(),
            "owner@example.com",
            PASSWORD,
            "198.51.100.200",
        )
        .await;
        assert_eq!(fresh.status(), 429, "round {round}");
        // The owner's browser has logged in before: it gets in, from a new address too.
        let login = log_in_from(
            &app,
            &owner,
            "owner@example.com",
            PASSWORD,
            &format!("203.0.113.{}", 10 + round),
        )
        .await;
        assert_eq!(login.status(), 303, "round {round}");
        let logout = owner.post(app.url("/logout")).send().await.unwrap();
        assert_eq!(logout.status(), 303);
        // The attacker keeps going (the owner's login reset the account's count, as any
        // login does) and locks unknown clients out again.
        let statuses = guess(&app, "owner@example.com", 31 + 15 * round, 15).await;
        assert_eq!(statuses[10..], [429; 5], "round {round}: {statuses:?}");
    }
}

#[tokio::test]
async fn a_trusted_browsers_wrong_guesses_count_against_it_alone_and_then_it_is_unknown() {
    let app = TestApp::spawn_unthrottled(&[("TRUSTED_PROXIES", "127.0.0.1")]).await;
    app.sign_up("owner@example.com").await;
    let (laptop, _) = trusted_browser(&app, "owner@example.com", "203.0.113.1").await;
    let (phone, _) = trusted_browser(&app, "owner@example.com", "203.0.113.2").await;

    for n in 0..10 {
        let response = log_in_from(
            &app,
            &laptop,
            "owner@example.com",
            &format!("typo {n}"),
            "203.0.113.1",
        )
        .await;
        assert_eq!(response.status(), 401, "guess {n}");
    }
    // The laptop's failures did not count against the account (nor its address).
    let fresh = log_in_from(
        &app,
        &http_client(),
        "owner@example.com",
        PASSWORD,
        "203.0.113.1",
    )
    .await;
    assert_eq!(fresh.status(), 303);

    let statuses = guess(&app, "owner@example.com", 1, 11).await;
    assert_eq!(statuses[10], 429, "the account is locked: {statuses:?}");
    // The laptop used up its own allowance: it is an unknown client now.
    let laptop_login =
        log_in_from(&app, &laptop, "owner@example.com", PASSWORD, "203.0.113.1").await;
    assert_eq!(laptop_login.status(), 429);
    // The phone is still trusted.
    let phone_login = log_in_from(&app, &phone, "owner@example.com", PASSWORD, "203.0.113.2").await;
    assert_eq!(phone_login.status(), 303);
}

#[tokio::test]
async fn a_device_cookie_is_bound_to_its_account_and_a_forged_one_counts_for_nothing() {
    let app = TestApp::spawn_unthrottled(&[("TRUSTED_PROXIES", "127.0.0.1")]).await;
    app.sign_up("owner@example.com").await;
    app.sign_up("other@example.com").await;
    let (_, value) = trusted_browser(&app, "owner@example.com", "203.0.113.1").await;
    assert!(value.len() >= 32, "at least 128 random bits: {value}");
    guess(&app, "owner@example.com", 1, 10).await;
    guess(&app, "other@example.com", 11, 10).await;

    // A browser without a cookie store, sending exactly the cookie given.
    let with_cookie = |value: String, email: &'static str| {
        let app = &app;
        async move {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap()
                .post(app.url("/login"))
                .header("cookie", format!("promptship_device={value}"))
                .header("x-forwarded-for", "203.0.113.9")
                .form(&[("email", email), ("password", PASSWORD)])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(
        with_cookie(value.clone(), "other@example.com").await,
        429,
        "the owner's device is nobody special to another account"
    );
    let forged = format!("{}{}", "0".repeat(32), &value[32..]);
    for value in [forged, "x".into(), String::new()] {
        assert_eq!(with_cookie(value, "owner@example.com").await, 429);
    }
    assert_eq!(with_cookie(value.clone(), "owner@example.com").await, 303);

    let owner_id = app.user_id("owner@example.com").await;
    let stored: Vec<String> =
        sqlx::query_scalar("SELECT token_hash FROM login_devices WHERE user_id = ?")
            .bind(owner_id)
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert!(
        stored.contains(&promptship::auth::api_key::hash(&value)),
        "{stored:?}"
    );
    let anywhere: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM login_devices WHERE instr(token_hash, ?) > 0")
            .bind(&value)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(anywhere, 0, "the cookie itself is not stored");
    // Deleting the user deletes their devices.
    sqlx::query("DELETE FROM users WHERE id = ?")
        .bind(owner_id)
        .execute(&app.db)
        .await
        .unwrap();
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM login_devices WHERE user_id = ?")
        .bind(owner_id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(left, 0);
}

#[tokio::test]
async fn a_user_keeps_their_twenty_latest_devices_and_none_unused_for_a_year() {
    let app = TestApp::spawn_unthrottled(&[("TRUSTED_PROXIES", "127.0.0.1")]).await;
    app.sign_up("owner@example.com").await;
    let (laptop, _) = trusted_browser(&app, "owner@example.com", "203.0.113.1").await;
    let (old_phone, old_phone_value) =
        trusted_browser(&app, "owner@example.com", "203.0.113.2").await;
    let year_and_a_day: i64 = 366 * 24 * 3600 * 1000;
    sqlx::query("UPDATE login_devices SET last_used_at = last_used_at - ? WHERE token_hash = ?")
        .bind(year_and_a_day)
        .bind(promptship::auth::api_key::hash(&old_phone_value))
        .execute(&app.db)
        .await
        .unwrap();
    let devices = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM login_devices")
            .fetch_one(&app.db)
            .await
            .unwrap()
    };
    assert_eq!(devices().await, 3);

    guess(&app, "owner@example.com", 1, 10).await;
    let stale = log_in_from(
        &app,
        &old_phone,
        "owner@example.com",
        PASSWORD,
        "203.0.113.2",
    )
    .await;
    assert_eq!(
        stale.status(),
        429,
        "a device unused for a year is not trusted"
    );
    let login = log_in_from(&app, &laptop, "owner@example.com", PASSWORD, "203.0.113.1").await;
    assert_eq!(login.status(), 303);
    assert_eq!(devices().await, 2, "the stale device is deleted at login");

    // Twenty more browsers: the least recently used devices make room.
    let mut newest = None;
    for n in 0..20 {
        let address = format!("203.0.113.{}", 10 + n);
        newest = Some(trusted_browser(&app, "owner@example.com", &address).await.0);
    }
    assert_eq!(devices().await, 20);
    guess(&app, "owner@example.com", 11, 10).await;
    let laptop_login =
        log_in_from(&app, &laptop, "owner@example.com", PASSWORD, "203.0.113.1").await;
    assert_eq!(laptop_login.status(), 429, "the laptop's device made room");
    let newest_login = log_in_from(
        &app,
        &newest.unwrap(),
        "owner@example.com",
        PASSWORD,
        "203.0.113.29",
    )
    .await;
    assert_eq!(newest_login.status(), 303);
}

#[tokio::test]
async fn the_device_cookie_is_http_only_strict_for_a_year_and_survives_logout() {
    let app = TestApp::spawn_unthrottled(&[("PUBLIC_URL", "https://chat.example.com")]).await;
    app.sign_up("owner@example.com").await;
    let login = app
        .log_in(&http_client(), "owner@example.com", PASSWORD)
        .await;
    assert_eq!(login.status(), 303);
    let cookie = device_cookie(&login).expect("a device cookie at login");
    assert_eq!(cookie.name(), "__Host-promptship_device");
    assert_eq!(cookie.secure(), Some(true));
    assert_eq!(cookie.domain(), None, "__Host- cookies have no Domain");

    let plain = TestApp::spawn_unthrottled(&[]).await;
    plain.sign_up("owner@example.com").await;
    let browser = http_client();
    let login = plain.log_in(&browser, "owner@example.com", PASSWORD).await;
    assert_eq!(login.status(), 303);
    let plain_cookie = device_cookie(&login).expect("a device cookie at login");
    assert_eq!(plain_cookie.name(), "promptship_device");
    assert_eq!(plain_cookie.secure(), None, "no Secure flag on plain http");
    for cookie in [&cookie, &plain_cookie] {
        assert_eq!(cookie.http_only(), Some(true), "{cookie}");
        assert_eq!(cookie.same_site(), Some(SameSite::Strict), "{cookie}");
        assert_eq!(cookie.path(), Some("/"), "{cookie}");
        assert_eq!(
            cookie.max_age(),
            Some(tower_sessions::cookie::time::Duration::days(365)),
            "{cookie}"
        );
    }

    let logout = browser.post(plain.url("/logout")).send().await.unwrap();
    assert_eq!(logout.status(), 303);
    assert!(
        device_cookie(&logout).is_none(),
        "logout leaves the device cookie alone"
    );
    for n in 0..10 {
        let wrong = plain
            .log_in(&http_client(), "owner@example.com", &format!("guess {n}"))
            .await;
        assert_eq!(wrong.status(), 401);
    }
    let again = plain.log_in(&browser, "owner@example.com", PASSWORD).await;
    assert_eq!(again.status(), 303, "the device is still trusted");
}

#[tokio::test]
async fn an_unknown_email_and_a_wrong_password_look_the_same_with_or_without_a_device_cookie() {
    let app = TestApp::spawn_unthrottled(&[]).await;
    app.sign_up("known@example.com").await;
    let (trusted, _) = trusted_browser(&app, "known@example.com", "127.0.0.1").await;
    let attempt = |client: reqwest::Client, email: &'static str, password: &'static str| {
        let app = &app;
        async move {
            let started = std::time::Instant::now();
            let response = app.log_in(&client, email, password).await;
            let status = response.status();
            let mut headers: Vec<String> = response
                .headers()
                .keys()
                .map(|name| name.to_string())
                .collect();
            headers.sort();
            let body = response.text().await.unwrap().replace(email, "EMAIL");
            (status, headers, body, started.elapsed())
        }
    };
    let mut pages = Vec::new();
    for client in [http_client(), trusted.clone()] {
        pages.push(attempt(client.clone(), "nobody@example.com", PASSWORD).await);
        pages.push(attempt(client, "known@example.com", "not the password").await);
    }
    for (status, headers, body, _) in &pages {
        assert_eq!(*status, 401);
        assert!(!headers.contains(&"set-cookie".to_string()), "{headers:?}");
        assert!(body.contains("Wrong email or password."));
        assert_eq!((headers, body), (&pages[0].1, &pages[0].2));
    }
    // Both verify a password hash (a dummy one for an unknown email): an unknown email
    // is not answered in a fraction of the time, with the device lookup or without.
    let mut unknown = Vec::new();
    let mut wrong = Vec::new();
    for _ in 0..3 {
        unknown.push(
            attempt(trusted.clone(), "nobody@example.com", PASSWORD)
                .await
                .3,
        );
        wrong.push(
            attempt(trusted.clone(), "known@example.com", "nope")
                .await
                .3,
        );
    }
    unknown.sort();
    wrong.sort();
    assert!(
        unknown[1] * 3 > wrong[1],
        "unknown {unknown:?} vs wrong {wrong:?}"
    );
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
    assert!(error_message(third).await.contains("Too many requests"));
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
    assert!(html.contains("Not found"));
}
