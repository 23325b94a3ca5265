//! Text people type, hostile to a careless parser or renderer: kept exactly and shown
//! escaped; control characters and runs past a limit refused (check 22).

use serde_json::{Value, json};

use super::{
    CONTROLS, FAMILY, TEXTS, assert_refused, escape_html, form_body, one_text, post_form,
    send_json, texts_within,
};
use crate::{
    helpers::{PASSWORD, TestApp, http_client, read_events},
    mock_upstream::Scenario,
    security::database_rows,
};

#[tokio::test]
async fn hostile_text_in_a_message_is_kept_exactly_and_shown_escaped_from_the_forms_and_the_api() {
    let app = TestApp::spawn_unthrottled(&[]).await;
    let user = app.sign_up("hostile@example.com").await;
    // 14,000 characters: within the 16,000 of a message.
    for (label, text) in texts_within(14_000) {
        let started = post_form(
            &user,
            app.url("/conversations"),
            form_body(&[("content", &text)]),
        )
        .await;
        assert_eq!(started.status(), 303, "{label}");
        let page_url = started.headers()["location"].to_str().unwrap().to_string();
        let id = page_url.trim_start_matches("/conversations/").to_string();
        let htmx = user
            .post(app.url(&format!("/conversations/{id}/messages")))
            .header("hx-request", "true")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_body(&[("content", &text)]))
            .send()
            .await
            .unwrap();
        assert_eq!(htmx.status(), 200, "{label}");
        read_events(htmx).await;
        let api = user
            .post(app.url(&format!("/api/v1/conversations/{id}/messages")))
            .json(&json!({ "content": text }))
            .send()
            .await
            .unwrap();
        assert_eq!(api.status(), 200, "{label}");

        let saved: Value = user
            .get(app.url(&format!("/api/v1/conversations/{id}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let questions: Vec<&Value> = saved["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["role"] == "user")
            .collect();
        assert_eq!(questions.len(), 3, "{label}");
        for question in questions {
            assert!(question["content"] == text.as_str(), "{label}: not kept");
        }
        let sent = app.mock.requests().last().unwrap()["messages"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .clone();
        assert!(sent["content"] == text.as_str(), "{label}: not sent as is");
        let page = user.get(app.url(&page_url)).send().await.unwrap();
        assert_eq!(page.status(), 200, "{label}");
        let page = page.text().await.unwrap();
        let shown = format!(
            "<div class=\"content user-text\">{}</div>",
            escape_html(&text)
        );
        assert_eq!(
            page.matches(&shown).count(),
            3,
            "{label}: not shown escaped inside its element"
        );
        assert!(!page.contains("<script>alert(1)") && !page.contains("<h1>injected"));
    }

    // A form may also carry these bytes unencoded: they are taken as they are.
    let raw = post_form(
        &user,
        app.url("/conversations"),
        &b"content=cr\rlf\ncrlf\r\nend"[..],
    )
    .await;
    assert_eq!(raw.status(), 303);
    let stored = one_text(
        &app.db,
        "SELECT content FROM messages WHERE role = 'user' ORDER BY id DESC LIMIT 1",
    )
    .await;
    assert_eq!(stored, "cr\rlf\ncrlf\r\nend");

    // Control characters, encoded or not, from every way a message is sent.
    let id = app.create_conversation_as(&user).await;
    let before = database_rows(&app.db).await;
    for (label, text) in CONTROLS {
        for path in [
            "/conversations".to_string(),
            format!("/conversations/{id}/messages"),
        ] {
            let response = post_form(&user, app.url(&path), form_body(&[("content", text)])).await;
            assert_refused(response, &app.db, &before, "control characters", label).await;
        }
        let response = send_json(
            &user,
            "POST",
            app.url(&format!("/api/v1/conversations/{id}/messages")),
            json!({ "content": text }).to_string(),
        )
        .await;
        assert_refused(response, &app.db, &before, "control characters", label).await;
    }
    let raw = post_form(&user, app.url("/conversations"), &b"content=nul\x00end"[..]).await;
    assert_refused(raw, &app.db, &before, "control characters", "a raw NUL").await;
}

#[tokio::test]
async fn hostile_titles_key_names_and_emails_are_kept_exactly_or_refused_with_a_message() {
    let app = TestApp::spawn_unthrottled(&[]).await;
    let admin = app.admin().await;
    let user = app.sign_up("titles@example.com").await;
    let id = app.create_conversation_as(&user).await;
    let db = &app.db;

    // Titles, up to 200 characters, from the rename form and the API.
    for (label, text) in texts_within(200) {
        let renamed = post_form(
            &user,
            app.url(&format!("/conversations/{id}/rename")),
            form_body(&[("title", &text)]),
        )
        .await;
        assert_eq!(renamed.status(), 303, "{label}");
        assert_eq!(
            one_text(db, "SELECT title FROM conversations").await,
            text,
            "{label}"
        );
        let page = user
            .get(app.url(&format!("/conversations/{id}")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let heading = format!("<h1 class=\"chat-title\">{}</h1>", escape_html(&text));
        assert!(page.contains(&heading), "{label}: the heading");
        let patched = user
            .patch(app.url(&format!("/api/v1/conversations/{id}")))
            .json(&json!({ "title": format!("{text}!") }))
            .send()
            .await
            .unwrap();
        assert_eq!(patched.status(), 200, "{label}");
        let patched: Value = patched.json().await.unwrap();
        assert!(patched["title"] == format!("{text}!"), "{label}");
        let created = user
            .post(app.url("/api/v1/conversations"))
            .json(&json!({ "title": text }))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201, "{label}");
        let created: Value = created.json().await.unwrap();
        assert!(created["title"] == text.as_str(), "{label}");
    }

    // Control characters in a title or a key name are refused.
    let before = database_rows(db).await;
    for (label, text) in CONTROLS {
        let renamed = post_form(
            &user,
            app.url(&format!("/conversations/{id}/rename")),
            form_body(&[("title", text)]),
        )
        .await;
        assert_refused(renamed, db, &before, "control characters", label).await;
        let patched = send_json(
            &user,
            "PATCH",
            app.url(&format!("/api/v1/conversations/{id}")),
            json!({ "title": text }).to_string(),
        )
        .await;
        assert_refused(patched, db, &before, "control characters", label).await;
        let named = post_form(
            &user,
            app.url("/settings/keys"),
            form_body(&[("name", text)]),
        )
        .await;
        assert_eq!(named.status(), 422, "{label}");
        assert!(database_rows(db).await == before, "{label}");
    }

    // Key names, up to 100 characters.
    for (label, text) in texts_within(100) {
        let created = post_form(
            &user,
            app.url("/settings/keys"),
            form_body(&[("name", &text)]),
        )
        .await;
        assert_eq!(created.status(), 201, "{label}");
        assert_eq!(
            one_text(db, "SELECT name FROM api_keys ORDER BY id DESC LIMIT 1").await,
            text,
            "{label}"
        );
        let page = created.text().await.unwrap();
        assert!(
            page.contains(&format!("<td>{}</td>", escape_html(&text))),
            "{label}: not shown escaped in the list"
        );
    }

    // Emails are refused with a message when they hold controls or spaces, and kept
    // otherwise; a password may hold anything, and logs in as typed.
    let mut kept = Vec::new();
    for (i, (label, text)) in texts_within(200).into_iter().enumerate() {
        let email = format!("x{}y{i}@example.com", text.replace(' ', ""));
        let before = database_rows(db).await;
        let signed_up = post_form(
            &http_client(),
            app.url("/signup"),
            form_body(&[("email", &email), ("password", PASSWORD)]),
        )
        .await;
        if signed_up.status() == 303 {
            let stored = one_text(db, "SELECT email FROM users ORDER BY id DESC LIMIT 1").await;
            assert_eq!(stored, email.to_lowercase(), "{label}");
            kept.push(email.to_lowercase());
        } else {
            let what = format!("email with {label}");
            assert_refused(signed_up, db, &before, "Enter an email address", &what).await;
        }
        // The texts, not the run of families: a password has at most 128 characters.
        if i < TEXTS.len() && text.chars().count() >= 8 {
            let owner = format!("password{i}@example.com");
            let browser = http_client();
            let signed_up = post_form(
                &browser,
                app.url("/signup"),
                form_body(&[("email", &owner), ("password", &text)]),
            )
            .await;
            assert_eq!(signed_up.status(), 303, "password with {label}");
            let again = http_client();
            let logged_in = app.log_in(&again, &owner, &text).await;
            assert_eq!(logged_in.status(), 303, "password with {label}");
        }
    }
    assert!(
        kept.len() >= 3,
        "bidi, zero-width and markup are valid: {kept:?}"
    );
    let page = admin
        .get(app.url("/admin"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for email in &kept {
        assert!(
            page.contains(&format!("<td>{}</td>", escape_html(email))),
            "{email:?} is not shown escaped on the admin page"
        );
    }

    // A failed login, and the admin's forms that take a number or a choice.
    let user_id = one_text(
        db,
        "SELECT CAST(id AS TEXT) FROM users ORDER BY id LIMIT 1 OFFSET 1",
    )
    .await;
    for (label, text) in TEXTS {
        let before = database_rows(db).await;
        let login = post_form(
            &http_client(),
            app.url("/login"),
            form_body(&[("email", text), ("password", text)]),
        )
        .await;
        assert_eq!(login.status(), 401, "{label}");
        assert!(database_rows(db).await == before, "{label}");
        let forms = [
            (
                format!("/admin/users/{user_id}/budget"),
                "daily_token_budget",
                "whole number",
            ),
            ("/admin/pause".to_string(), "paused", "must be 1"),
            (
                "/admin/signup-mode".to_string(),
                "mode",
                "Choose a sign-up mode",
            ),
        ];
        for (path, field, hint) in forms {
            let response = post_form(&admin, app.url(&path), form_body(&[(field, text)])).await;
            assert_refused(response, db, &before, hint, &format!("{path} with {label}")).await;
        }
    }
}

#[tokio::test]
async fn emoji_runs_past_each_limit_are_refused_with_the_limit_and_change_nothing() {
    let app = TestApp::spawn_unthrottled(&[]).await;
    let key = app.api_key("emoji@example.com").await;
    let user = app.sign_up("runs@example.com").await;
    let id = app.create_conversation_as(&user).await;
    let db = &app.db;
    // 35,000 characters in 125,000 bytes.
    let run = FAMILY.repeat(5_000);
    let before = database_rows(db).await;

    let long_message = form_body(&[("content", &run)]);
    let mut cases = vec![
        // Percent-encoded, the form is 375,000 bytes: over the 256 KiB any body may have.
        (
            "a message form",
            post_form(&user, app.url("/conversations"), long_message.clone()).await,
            "larger than 256 KiB",
        ),
        (
            "a message form in a conversation",
            post_form(
                &user,
                app.url(&format!("/conversations/{id}/messages")),
                long_message,
            )
            .await,
            "larger than 256 KiB",
        ),
    ];
    let message = json!({ "content": run }).to_string();
    let title = json!({ "title": run }).to_string();
    let api = format!("/api/v1/conversations/{id}");
    cases.extend([
        (
            "an API message",
            send_json(&user, "POST", app.url(&format!("{api}/messages")), message).await,
            "the limit is 16000",
        ),
        (
            "an API rename",
            send_json(&user, "PATCH", app.url(&api), title.clone()).await,
            "longer than 200 characters",
        ),
        (
            "an API title",
            send_json(&user, "POST", app.url("/api/v1/conversations"), title).await,
            "longer than 200 characters",
        ),
    ]);
    // Just past the shorter limits.
    let rename = form_body(&[("title", &FAMILY.repeat(29))]);
    let name = form_body(&[("name", &FAMILY.repeat(15))]);
    let email = format!("{}@example.com", FAMILY.repeat(10));
    let signup = form_body(&[("email", &email), ("password", PASSWORD)]);
    cases.extend([
        (
            "a rename form",
            post_form(
                &user,
                app.url(&format!("/conversations/{id}/rename")),
                rename,
            )
            .await,
            "longer than 200 characters",
        ),
        (
            "a key name",
            post_form(&user, app.url("/settings/keys"), name).await,
            "longer than 100 characters",
        ),
        (
            "an email",
            post_form(&http_client(), app.url("/signup"), signup).await,
            "Enter an email address",
        ),
    ]);
    let v1 = app
        .client
        .post(app.url("/v1/chat/completions"))
        .bearer_auth(&key)
        .json(&json!({
            "model": "gpt-4o-mini",
            "messages": [{ "role": "user", "content": run }],
        }))
        .send()
        .await
        .unwrap();
    cases.push(("a /v1 message", v1, "tokens"));
    for (what, response, hint) in cases {
        assert_refused(response, db, &before, hint, what).await;
    }
    assert_eq!(app.mock.posts(), 0, "no model call was made");
}

#[tokio::test]
async fn control_characters_are_refused_in_what_people_type_and_dropped_from_model_output() {
    let app = TestApp::spawn_unthrottled(&[]).await;
    let user = app.sign_up("controls@example.com").await;
    let id = app.create_conversation_as(&user).await;
    let controls = "nul\u{0} esc\u{1B}[2J bel\u{7} del\u{7F} csi\u{9B}";
    let before = database_rows(&app.db).await;
    let typed = [
        (
            "POST",
            format!("/api/v1/conversations/{id}/messages"),
            json!({ "content": controls }),
        ),
        (
            "POST",
            "/api/v1/conversations".into(),
            json!({ "title": controls }),
        ),
        (
            "PATCH",
            format!("/api/v1/conversations/{id}"),
            json!({ "title": controls }),
        ),
    ];
    for (method, path, body) in typed {
        let response = send_json(&user, method, app.url(&path), body.to_string()).await;
        assert_refused(
            response,
            &app.db,
            &before,
            "control characters",
            &format!("{method} {path}"),
        )
        .await;
    }
    let key_name = post_form(
        &user,
        app.url("/settings/keys"),
        form_body(&[("name", controls)]),
    )
    .await;
    assert_eq!(key_name.status(), 422);
    assert!(database_rows(&app.db).await == before);

    // A model may write them: they are kept in the row, never put in a page.
    app.mock
        .push(Scenario::answer(&format!("answer with {controls}")));
    let sent = user
        .post(app.url(&format!("/api/v1/conversations/{id}/messages")))
        .json(&json!({ "content": "hello" }))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 200);
    let page = user
        .get(app.url(&format!("/conversations/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("answer with nul"), "the answer is shown");
    let raw: Vec<char> = page
        .chars()
        .filter(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{C}'))
        .collect();
    assert!(
        raw.is_empty(),
        "raw control characters in the page: {raw:?}"
    );
}
