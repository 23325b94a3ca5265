//! The admin page: only admins get in, it shows the ledger's sums, and each of its forms
//! takes effect on the next request of the people it is about.

use std::time::Duration;

use serde_json::{Value, json};

use crate::{
    helpers::{ADMIN_EMAIL, PASSWORD, TestApp, dollars, error_message, http_client},
    mock_upstream::{PROMPT_TOKENS, Scenario},
};

async fn sign_up(app: &TestApp, email: &str, invite: &str) -> reqwest::Response {
    http_client()
        .post(app.url("/signup"))
        .form(&[("email", email), ("password", PASSWORD), ("invite", invite)])
        .send()
        .await
        .unwrap()
}

/// Posts an admin form and checks that it went back to the page.
async fn act(app: &TestApp, admin: &reqwest::Client, path: &str, form: &[(&str, &str)]) {
    let response = app.post_form_as(admin, path, form).await;
    assert_eq!(
        response.status(),
        303,
        "{path}: {:?}",
        response.text().await
    );
    assert_eq!(response.headers()["location"], "/admin", "{path}");
}

async fn admin_page(app: &TestApp, admin: &reqwest::Client) -> String {
    let response = admin.get(app.url("/admin")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

/// Sends a message through the JSON API and waits for the whole answer.
async fn send(
    app: &TestApp,
    client: &reqwest::Client,
    conversation: &str,
    content: &str,
) -> reqwest::Response {
    client
        .post(app.url(&format!("/api/v1/conversations/{conversation}/messages")))
        .json(&json!({ "content": content }))
        .send()
        .await
        .unwrap()
}

/// The part of the page between two element ids.
fn section<'a>(html: &'a str, from: &str, to: &str) -> &'a str {
    let start = html
        .find(&format!("id=\"{from}\""))
        .unwrap_or_else(|| panic!("no #{from}"));
    let end = html[start..]
        .find(&format!("id=\"{to}\""))
        .map_or(html.len(), |i| start + i);
    &html[start..end]
}

/// The cells of the first table row whose first cell ends with `name`, as text.
fn row(html: &str, name: &str) -> Vec<String> {
    html.split("<tr>")
        .skip(1)
        .map(|tr| tr.split("</tr>").next().unwrap())
        .map(|tr| {
            tr.split("<td")
                .skip(1)
                .map(|td| {
                    let inner = &td[td.find('>').unwrap() + 1..];
                    strip_tags(inner.split("</td>").next().unwrap())
                })
                .collect::<Vec<_>>()
        })
        .find(|cells| cells.first().is_some_and(|c| c.ends_with(name)))
        .unwrap_or_else(|| panic!("no row for {name} in {html}"))
}

fn strip_tags(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.trim().to_string()
}

/// The figures (requests, tokens, cost, errors) at the top of a section.
fn figures(html: &str) -> Vec<String> {
    html.split("<strong>")
        .skip(1)
        .take(4)
        .map(|s| s.split("</strong>").next().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn users_and_anonymous_visitors_get_403_on_every_admin_route_and_change_nothing() {
    let app = TestApp::spawn_unthrottled(&[]).await;
    let admin = app.admin().await;
    let user = app.sign_up("user@example.com").await;
    let id = app.user_id("user@example.com").await;
    let admin_id = app.user_id(ADMIN_EMAIL).await;
    let anonymous = http_client();

    let user_routes = ["disable", "enable", "reset-usage", "budget", "make-admin"];
    let mut posts: Vec<(String, Vec<(&str, &str)>)> = Vec::new();
    for target in [id, admin_id] {
        for action in user_routes {
            posts.push((
                format!("/admin/users/{target}/{action}"),
                vec![("daily_token_budget", "1")],
            ));
        }
    }
    posts.push(("/admin/pause".into(), vec![("paused", "1")]));
    posts.push(("/admin/signup-mode".into(), vec![("mode", "closed")]));
    posts.push(("/admin/invites".into(), vec![]));

    for (who, client) in [("user", &user), ("anonymous", &anonymous)] {
        let page = client.get(app.url("/admin")).send().await.unwrap();
        assert_eq!(page.status(), 403, "{who}: GET /admin");
        assert!(page.text().await.unwrap().contains("admins only"), "{who}");
        for (path, form) in &posts {
            let response = app.post_form_as(client, path, form).await;
            assert_eq!(response.status(), 403, "{who}: POST {path}");
        }
    }
    // A forged form on another site cannot use the admin's cookie either.
    let forged = admin
        .post(app.url("/admin/pause"))
        .header("sec-fetch-site", "cross-site")
        .form(&[("paused", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);

    let (role, disabled, budget): (String, bool, Option<i64>) =
        sqlx::query_as("SELECT role, disabled, daily_token_budget FROM users WHERE id = ?")
            .bind(id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!((role.as_str(), disabled, budget), ("user", false, None));
    let settings: i64 = sqlx::query_scalar("SELECT count(*) FROM settings")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let invites: i64 = sqlx::query_scalar("SELECT count(*) FROM invites")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!((settings, invites), (0, 0));
    admin_page(&app, &admin).await;
}

#[tokio::test]
async fn unknown_users_are_404_and_bad_form_values_are_422_with_a_reason() {
    let app = TestApp::spawn_unthrottled(&[]).await;
    let admin = app.admin().await;
    let admin_id = app.user_id(ADMIN_EMAIL).await;

    for action in ["disable", "enable", "reset-usage", "budget", "make-admin"] {
        for id in ["9999", "not-a-number"] {
            let path = format!("/admin/users/{id}/{action}");
            let response = app
                .post_form_as(&admin, &path, &[("daily_token_budget", "5")])
                .await;
            assert_eq!(response.status(), 404, "{path}");
        }
    }

    let myself = app
        .post_form_as(&admin, &format!("/admin/users/{admin_id}/disable"), &[])
        .await;
    assert_eq!(myself.status(), 422);
    assert!(
        myself
            .text()
            .await
            .unwrap()
            .contains("cannot disable your own account")
    );
    let budget_path = format!("/admin/users/{admin_id}/budget");
    for bad in ["-5", "1.5", "lots"] {
        let response = app
            .post_form_as(&admin, &budget_path, &[("daily_token_budget", bad)])
            .await;
        assert_eq!(response.status(), 422, "{bad}");
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("whole number of 0 or more"),
            "{bad}"
        );
    }
    let pause = app
        .post_form_as(&admin, "/admin/pause", &[("paused", "yes")])
        .await;
    assert_eq!(pause.status(), 422);
    let mode = app
        .post_form_as(&admin, "/admin/signup-mode", &[("mode", "everyone")])
        .await;
    assert_eq!(mode.status(), 422);
    assert!(
        mode.text()
            .await
            .unwrap()
            .contains("open, invite or closed")
    );

    // Nothing was changed by the refused forms, and the admin is still in.
    let page = admin_page(&app, &admin).await;
    assert!(page.contains("Running."));
    let budget: Option<i64> =
        sqlx::query_scalar("SELECT daily_token_budget FROM users WHERE id = ?")
            .bind(admin_id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(budget, None);
}

#[tokio::test]
async fn the_page_sums_requests_tokens_cost_and_errors_by_user_guest_address_and_day() {
    let app = TestApp::spawn_unthrottled(&[]).await;
    let admin = app.admin().await;
    let user = app.sign_up("user@example.com").await;
    let unlucky = app.sign_up("unlucky@example.com").await;
    let guest = http_client();
    let guest_conversation = app.create_conversation_as(&guest).await;

    // 31 days ago: outside the window.
    let long_ago = app.state.clock.today();
    assert_eq!(
        send(&app, &guest, &guest_conversation, "long ago")
            .await
            .status(),
        200
    );
    app.state.clock.advance(Duration::from_secs(30 * 86_400));
    // Yesterday.
    assert_eq!(
        send(&app, &guest, &guest_conversation, "yesterday")
            .await
            .status(),
        200
    );
    app.state.clock.advance(Duration::from_secs(86_400));
    // Today: the mock answers "Hello from the mock." (4 tokens) unless told otherwise.
    for content in ["one", "two"] {
        assert_eq!(
            send(&app, &guest, &guest_conversation, content)
                .await
                .status(),
            200
        );
    }
    app.mock.push(Scenario::answer("one two three four five"));
    let conversation = app.create_conversation_as(&user).await;
    assert_eq!(send(&app, &user, &conversation, "hi").await.status(), 200);
    app.mock.push(Scenario::Status {
        status: 400,
        body: r#"{"error":{"message":"bad request","type":"invalid_request_error"}}"#.into(),
        retry_after: None,
    });
    let conversation = app.create_conversation_as(&unlucky).await;
    send(&app, &unlucky, &conversation, "hi").await;
    assert_eq!(app.mock.posts(), 6);
    // A big spender from elsewhere, written straight into the ledger.
    let today = app.state.clock.today();
    sqlx::query(
        "INSERT INTO usage (day, ip, model, prompt_tokens, completion_tokens, cost_microusd,
                            status, created_at)
         VALUES (?, '203.0.113.9', 'gpt-4o-mini', 900, 100, 1234500, 'complete', 0)",
    )
    .bind(&today)
    .execute(&app.db)
    .await
    .unwrap();

    let page = admin_page(&app, &admin).await;
    let today_html = section(&page, "today", "last-30-days");
    let window_html = section(&page, "last-30-days", "users");
    let reply = PROMPT_TOKENS as i64 + 4;
    let (today_cost, window_cost): (i64, i64) = sqlx::query_as(
        "SELECT sum(cost_microusd) FILTER (WHERE day = ?1), sum(cost_microusd) FILTER (WHERE day >= date(?1, '-29 days')) FROM usage",
    )
    .bind(&today)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let today_tokens: i64 = sqlx::query_scalar(
        "SELECT sum(prompt_tokens + completion_tokens) FROM usage WHERE day = ?",
    )
    .bind(&today)
    .fetch_one(&app.db)
    .await
    .unwrap();

    assert!(today_html.contains(&today));
    assert_eq!(
        figures(today_html),
        ["5", &today_tokens.to_string(), &dollars(today_cost), "1"],
        "requests, tokens, cost, errors of today"
    );
    assert_eq!(
        row(today_html, "user@example.com")[1..4],
        [
            "1".to_string(),
            (PROMPT_TOKENS as i64 + 5).to_string(),
            dollars(6)
        ]
    );
    assert_eq!(row(today_html, "unlucky@example.com")[4], "1", "one error");
    assert_eq!(
        row(today_html, "127.0.0.1")[1..3],
        ["2".to_string(), (2 * reply).to_string()],
        "the guests' calls only, not the users' from the same address"
    );
    assert_eq!(row(today_html, "203.0.113.9")[3], "$1.2345");

    let window = figures(window_html);
    assert_eq!(
        window[0], "6",
        "yesterday's call counts, the one 31 days ago not"
    );
    assert_eq!(window[2], dollars(window_cost));
    assert_eq!(
        row(window_html, &today)[1..3],
        ["5".to_string(), today_tokens.to_string()]
    );
    assert_eq!(
        row(window_html, "127.0.0.1")[1..3],
        ["3".to_string(), (3 * reply).to_string()]
    );
    // Top spenders, by cost: the big spender comes first.
    let top = &window_html[window_html.find("Top spenders").unwrap()..];
    let first = row(top, "");
    assert_eq!(first[0], "guest 203.0.113.9");
    assert_eq!(first[3], "$1.2345");
    assert!(
        !page.contains(&long_ago),
        "no day outside the window is listed"
    );

    // The users list shows what counts against each budget.
    let users_html = section(&page, "users", "signup");
    assert_eq!(
        row(users_html, "user@example.com")[3],
        (PROMPT_TOKENS as i64 + 5).to_string()
    );
}

#[tokio::test]
async fn a_disabled_user_is_logged_out_and_cannot_log_in_until_enabled() {
    let app = TestApp::spawn_unthrottled(&[]).await;
    let admin = app.admin().await;
    let user = app.sign_up("user@example.com").await;
    let id = app.user_id("user@example.com").await;
    app.create_conversation_as(&user).await;
    let list = |client: reqwest::Client| {
        let url = app.url("/api/v1/conversations");
        async move {
            let body: Value = client.get(url).send().await.unwrap().json().await.unwrap();
            body["data"].as_array().unwrap().len()
        }
    };
    assert_eq!(list(user.clone()).await, 1);

    act(&app, &admin, &format!("/admin/users/{id}/disable"), &[]).await;
    assert!(admin_page(&app, &admin).await.contains("disabled"));
    assert_eq!(list(user.clone()).await, 0, "the session no longer counts");
    let home = user
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains("Log in") && !home.contains("user@example.com"));
    let again = app
        .log_in(&http_client(), "user@example.com", PASSWORD)
        .await;
    assert_eq!(again.status(), 401);

    act(&app, &admin, &format!("/admin/users/{id}/enable"), &[]).await;
    let client = http_client();
    let again = app.log_in(&client, "user@example.com", PASSWORD).await;
    assert_eq!(again.status(), 303);
    assert_eq!(
        list(client).await,
        1,
        "their conversations are still theirs"
    );
}

#[tokio::test]
async fn a_budget_set_on_the_page_applies_to_the_next_message_and_empty_restores_the_default() {
    let app = TestApp::spawn_unthrottled(&[]).await;
    let admin = app.admin().await;
    let user = app.sign_up("user@example.com").await;
    let id = app.user_id("user@example.com").await;
    let conversation = app.create_conversation_as(&user).await;
    assert_eq!(send(&app, &user, &conversation, "hi").await.status(), 200);

    let path = format!("/admin/users/{id}/budget");
    act(&app, &admin, &path, &[("daily_token_budget", "10")]).await;
    assert!(admin_page(&app, &admin).await.contains("value=\"10\""));
    let refused = send(&app, &user, &conversation, "again").await;
    assert_eq!(refused.status(), 429);
    assert!(
        error_message(refused)
            .await
            .contains("allowance of 10 tokens")
    );
    assert_eq!(app.mock.posts(), 1, "no model call past the budget");

    act(&app, &admin, &path, &[("daily_token_budget", "")]).await;
    assert_eq!(
        send(&app, &user, &conversation, "again").await.status(),
        200
    );
    assert_eq!(app.mock.posts(), 2);
}

#[tokio::test]
async fn resetting_today_s_usage_lets_a_user_who_spent_the_allowance_chat_again() {
    // A call reserves its prompt plus the 1024-token output cap, so one call fits in 1200
    // tokens, and a second does not once the first has used 17 + 300.
    let app = TestApp::spawn_unthrottled(&[("USER_DAILY_TOKENS", "1200")]).await;
    let admin = app.admin().await;
    let user = app.sign_up("user@example.com").await;
    let id = app.user_id("user@example.com").await;
    app.mock.push(Scenario::answer(&"word ".repeat(300)));
    let first = app.create_conversation_as(&user).await;
    assert_eq!(send(&app, &user, &first, "hi").await.status(), 200);
    let second = app.create_conversation_as(&user).await;
    let refused = send(&app, &user, &second, "hi").await;
    assert_eq!(refused.status(), 429);
    assert!(
        error_message(refused)
            .await
            .contains("allowance of 1200 tokens")
    );
    assert_eq!(app.mock.posts(), 1);

    act(&app, &admin, &format!("/admin/users/{id}/reset-usage"), &[]).await;
    let page = admin_page(&app, &admin).await;
    let spent = (PROMPT_TOKENS as i64 + 300).to_string();
    assert_eq!(
        row(section(&page, "users", "signup"), "user@example.com")[3],
        "0"
    );
    assert_eq!(
        row(section(&page, "today", "last-30-days"), "user@example.com")[2],
        spent,
        "the reset usage stays in the books"
    );
    assert_eq!(send(&app, &user, &second, "hi").await.status(), 200);
    assert_eq!(app.mock.posts(), 2);
}

#[tokio::test]
async fn the_kill_switch_refuses_everyone_with_503_until_resumed() {
    let app = TestApp::spawn_unthrottled(&[]).await;
    let admin = app.admin().await;
    let user = app.sign_up("user@example.com").await;
    let guest = http_client();
    let theirs = app.create_conversation_as(&user).await;
    let guests = app.create_conversation_as(&guest).await;
    assert!(admin_page(&app, &admin).await.contains("Running."));

    act(&app, &admin, "/admin/pause", &[("paused", "1")]).await;
    let page = admin_page(&app, &admin).await;
    assert!(page.contains("Paused.") && page.contains("Resume model calls"));
    for (client, conversation) in [(&user, &theirs), (&guest, &guests)] {
        let refused = send(&app, client, conversation, "hello").await;
        assert_eq!(refused.status(), 503);
        // Not the global budget's "paused: today's budget is spent".
        assert!(
            error_message(refused)
                .await
                .contains("paused by its operator")
        );
    }
    assert_eq!(app.mock.posts(), 0);

    act(&app, &admin, "/admin/pause", &[("paused", "0")]).await;
    assert!(admin_page(&app, &admin).await.contains("Running."));
    for (client, conversation) in [(&user, &theirs), (&guest, &guests)] {
        assert_eq!(
            send(&app, client, conversation, "hello").await.status(),
            200
        );
    }
    assert_eq!(app.mock.posts(), 2);
}

#[tokio::test]
async fn sign_up_can_be_closed_or_limited_to_single_use_invite_codes_from_the_page() {
    let app = TestApp::spawn_unthrottled(&[]).await;
    let admin = app.admin().await;

    act(&app, &admin, "/admin/signup-mode", &[("mode", "closed")]).await;
    assert!(
        admin_page(&app, &admin)
            .await
            .contains("value=\"closed\" selected")
    );
    assert_eq!(sign_up(&app, "a@example.com", "").await.status(), 403);

    act(&app, &admin, "/admin/signup-mode", &[("mode", "invite")]).await;
    assert_eq!(sign_up(&app, "a@example.com", "").await.status(), 422);
    act(&app, &admin, "/admin/invites", &[]).await;
    let page = admin_page(&app, &admin).await;
    let code = page
        .split("<code>")
        .nth(1)
        .and_then(|s| s.split("</code>").next())
        .expect("the new code is listed");
    assert!(code.len() >= 16, "{code}");
    assert!(page.contains("not used yet"));
    assert_eq!(sign_up(&app, "a@example.com", code).await.status(), 303);
    assert_eq!(
        sign_up(&app, "b@example.com", code).await.status(),
        422,
        "used"
    );
    let page = admin_page(&app, &admin).await;
    assert_eq!(row(&page, code)[1], "a@example.com");

    act(&app, &admin, "/admin/signup-mode", &[("mode", "open")]).await;
    assert_eq!(sign_up(&app, "b@example.com", "").await.status(), 303);
}

#[tokio::test]
async fn a_user_made_admin_can_open_the_admin_page() {
    let app = TestApp::spawn_unthrottled(&[]).await;
    let admin = app.admin().await;
    let user = app.sign_up("user@example.com").await;
    let id = app.user_id("user@example.com").await;
    let path = format!("/admin/users/{id}/make-admin");
    assert!(admin_page(&app, &admin).await.contains(&path));
    assert_eq!(
        user.get(app.url("/admin")).send().await.unwrap().status(),
        403
    );

    act(&app, &admin, &path, &[]).await;
    let page = admin_page(&app, &user).await;
    assert!(!page.contains(&path), "no Make admin button for an admin");
    assert!(
        page.contains("href=\"/admin\""),
        "the header links to the page"
    );
}
