//! Hostile bytes in every body (check 22): NUL, invalid UTF-8, lone surrogates, CR/LF,
//! bidi overrides, zero-width characters, huge emoji runs and deeply nested JSON are
//! either refused with a 4xx that says what to fix, changing nothing, or kept exactly and
//! shown escaped; and every log line of the real binary stays one JSON object whatever a
//! request carries.

use std::{collections::BTreeMap, time::Duration};

use reqwest::{Client, Response, StatusCode, header::HeaderValue};
use serde_json::{Value, json};
use sqlx::SqlitePool;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{
    helpers::{PASSWORD, TestApp, http_client, read_events},
    logs::{Server, json_lines},
    mock_upstream::{MockUpstream, Scenario},
    security::database_rows,
};

/// A family: four people joined by three zero-width joiners, 7 code points in 25 bytes.
const FAMILY: &str = "👨\u{200D}👩\u{200D}👧\u{200D}👦";

/// Text a person could type or paste that is hostile to a careless parser, renderer or
/// log: each one is valid text and must be kept exactly.
const TEXTS: &[(&str, &str)] = &[
    ("a lone CR", "one\rtwo"),
    ("a lone LF", "one\ntwo"),
    ("CRLFs", "one\r\ntwo\r\n\r\nthree"),
    (
        "a header injection",
        "x\r\nSet-Cookie: pwned=1\r\n\r\n<h1>injected</h1>",
    ),
    (
        "bidi overrides and isolates",
        "invoice\u{202E}fdp.exe\u{202C} \u{202D}ltr\u{202C} \u{2066}lri\u{2069} \
         \u{2067}rli\u{2069} \u{2068}fsi\u{2069} \u{200F}rlm\u{200E}lrm",
    ),
    (
        "zero-width characters",
        "zw\u{200D}j\u{200B}sp\u{200C}nj\u{2060}wj\u{FEFF}bom",
    ),
    (
        "markup",
        "</div></textarea>\"'><script>alert(1)</script>&amp;",
    ),
];

/// Text with control characters other than tabs and line breaks: nothing a person types,
/// refused with a message that names them.
const CONTROLS: &[(&str, &str)] = &[
    ("a NUL byte", "before\u{0}after"),
    (
        "terminal escapes and C1 controls",
        "\u{1B}[31mred\u{1B}[0m \u{7}bell \u{8}back \u{7F}del \u{85}nel \u{9B}csi",
    ),
];

/// Every byte but the unreserved ones percent-encoded, as a browser encodes a form.
pub fn percent_encode(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// An `application/x-www-form-urlencoded` body.
pub fn form_body(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(name, value)| format!("{name}={}", percent_encode(value.as_bytes())))
        .collect::<Vec<_>>()
        .join("&")
}

/// Posts raw bytes as a form.
async fn post_form(client: &Client, url: String, body: impl Into<Vec<u8>>) -> Response {
    client
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.into())
        .send()
        .await
        .unwrap()
}

/// Sends raw bytes as JSON.
async fn send_json(
    client: &Client,
    method: &str,
    url: String,
    body: impl Into<Vec<u8>>,
) -> Response {
    client
        .request(method.parse().unwrap(), url)
        .header("content-type", "application/json")
        .body(body.into())
        .send()
        .await
        .unwrap()
}

/// Text as Askama writes it into a page: the five characters that matter in HTML as
/// numeric references, everything else as is.
fn escape_html(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '"' | '&' | '\'' | '<' | '>' => format!("&#{};", u32::from(c)),
            c => c.to_string(),
        })
        .collect()
}

/// What a refusal tells its caller: `error.message` of a JSON body, otherwise the text
/// of the page's error paragraph.
async fn refusal(response: Response) -> (StatusCode, String) {
    let status = response.status();
    let body = response.text().await.unwrap();
    if let Ok(json) = serde_json::from_str::<Value>(&body) {
        return (status, json["error"]["message"].as_str().unwrap().into());
    }
    let start = body
        .find("<p class=\"error\"")
        .or_else(|| body.find("<main class=\"container error-page\">"))
        .unwrap_or_else(|| panic!("{status} without an error message: {body}"));
    let paragraph = &body[start..];
    let paragraph = &paragraph[paragraph.find("<p").unwrap()..];
    let paragraph = &paragraph[paragraph.find('>').unwrap() + 1..];
    (status, paragraph[..paragraph.find("</p>").unwrap()].into())
}

/// Checks a refusal: a 4xx whose message contains `hint`, and not a row changed.
async fn assert_refused(
    response: Response,
    db: &SqlitePool,
    before: &BTreeMap<String, Vec<String>>,
    hint: &str,
    what: &str,
) {
    let (status, message) = refusal(response).await;
    assert!(status.is_client_error(), "{what}: {status} {message}");
    assert!(
        message.contains(hint),
        "{what}: {status} says {message:?}, not {hint:?}"
    );
    assert!(
        database_rows(db).await == *before,
        "{what}: the refusal changed the database"
    );
}

async fn one_text(db: &SqlitePool, sql: &str) -> String {
    sqlx::query_scalar(sql).fetch_one(db).await.unwrap()
}

/// The texts to keep, with a run of families as long as `limit` characters allow.
fn texts_within(limit: usize) -> Vec<(String, String)> {
    let family = FAMILY.chars().count();
    TEXTS
        .iter()
        .map(|(label, text)| (label.to_string(), text.to_string()))
        .chain([(
            format!("{} families", limit / family),
            FAMILY.repeat(limit / family),
        )])
        .collect()
}

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

/// JSON bodies that are not valid JSON, or nest past any sane depth, as raw bytes of the
/// value put where the route wants text.
const BAD_VALUES: &[(&str, &[u8])] = &[
    ("raw invalid UTF-8", b"\"a\xFF\xFEb\""),
    ("an overlong encoding", b"\"\xC0\xAF\""),
    ("a UTF-8 encoded surrogate", b"\"\xED\xA0\x80\""),
    ("a raw NUL", b"\"a\x00b\""),
    ("a raw CRLF", b"\"a\r\nb\""),
    ("a lone leading surrogate", br#""\ud800""#),
    ("a lone trailing surrogate", br#""\udc00x""#),
    ("a leading surrogate before a letter", br#""\ud800\u0041""#),
];

/// Where each JSON route wants text, around `value`.
fn json_with(route: &str, value: &[u8]) -> Vec<u8> {
    let (before, after): (&[u8], &[u8]) = if route == "/v1/chat/completions" {
        (
            br#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"#,
            b"}]}",
        )
    } else if route.ends_with("/messages") {
        (br#"{"content":"#, b"}")
    } else {
        (br#"{"title":"#, b"}")
    };
    [before, value, after].concat()
}

#[tokio::test]
async fn malformed_or_deeply_nested_json_in_any_body_is_a_4xx_naming_json_that_changes_nothing() {
    let app = TestApp::spawn_unthrottled(&[]).await;
    let key = app.api_key("json@example.com").await;
    // The key's own conversation: each request would be let through but for its body.
    let created = app
        .client
        .post(app.url("/api/v1/conversations"))
        .bearer_auth(&key)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let routes = [
        ("POST", "/api/v1/conversations".to_string()),
        ("PATCH", format!("/api/v1/conversations/{id}")),
        ("POST", format!("/api/v1/conversations/{id}/messages")),
        ("POST", "/v1/chat/completions".to_string()),
    ];
    let deep_arrays = ["[".repeat(10_000), "]".repeat(10_000)].concat();
    let deep_objects = ["{\"a\":".repeat(10_000), "1".into(), "}".repeat(10_000)].concat();
    let before = database_rows(&app.db).await;

    for (method, route) in &routes {
        let mut bodies: Vec<(String, Vec<u8>)> = BAD_VALUES
            .iter()
            .map(|(label, value)| (label.to_string(), json_with(route, value)))
            .collect();
        bodies.push((
            "10,000 nested arrays as the value".into(),
            json_with(route, deep_arrays.as_bytes()),
        ));
        bodies.push((
            "10,000 nested objects as the value".into(),
            json_with(route, deep_objects.as_bytes()),
        ));
        bodies.push(("10,000 nested arrays".into(), deep_arrays.clone().into()));
        bodies.push((
            "10,000 unclosed arrays".into(),
            "[".repeat(10_000).into_bytes(),
        ));
        bodies.push((
            "invalid UTF-8 outside a string".into(),
            b"\xFF\xFE{}".to_vec(),
        ));
        for (label, body) in bodies {
            let response = app
                .client
                .request(method.parse().unwrap(), app.url(route))
                .bearer_auth(&key)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            let (status, message) = refusal(response).await;
            assert!(
                matches!(status.as_u16(), 400 | 422),
                "{method} {route} with {label}: {status} {message}"
            );
            assert!(
                message.contains("JSON"),
                "{method} {route} with {label}: {message:?} does not name the problem"
            );
        }
    }
    assert!(
        database_rows(&app.db).await == before,
        "a refusal changed the database"
    );
    assert_eq!(app.mock.posts(), 0);

    // The same texts, escaped as JSON allows, are taken: by `/v1` too, which passes them on
    // exactly.
    for (label, text) in texts_within(2_000) {
        let response = app
            .client
            .post(app.url("/v1/chat/completions"))
            .bearer_auth(&key)
            .json(&json!({
                "model": "gpt-4o-mini",
                "messages": [{ "role": "user", "content": text }],
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{label}");
        let sent = app.mock.requests().last().unwrap()["messages"][0].clone();
        assert!(sent["content"] == text.as_str(), "{label}: not sent as is");
    }
}

#[tokio::test]
async fn invalid_utf8_in_any_form_is_refused_as_the_json_api_refuses_it_and_changes_nothing() {
    let app = TestApp::spawn_unthrottled(&[]).await;
    let admin = app.admin().await;
    let user = app.sign_up("forms@example.com").await;
    let id = app.create_conversation_as(&user).await;
    let db = &app.db;
    let user_id = one_text(db, "SELECT CAST(id AS TEXT) FROM users WHERE role = 'user'").await;
    for (label, invalid) in [
        ("raw", &b"a\xFF\xFEb"[..]),
        ("percent-encoded", &b"a%FF%FEb"[..]),
    ] {
        let field = |name: &str| [name.as_bytes(), b"=", invalid].concat();
        let forms = [
            (&user, "/conversations".to_string(), field("content")),
            (
                &user,
                format!("/conversations/{id}/messages"),
                field("content"),
            ),
            (&user, format!("/conversations/{id}/rename"), field("title")),
            (&user, "/settings/keys".to_string(), field("name")),
            (
                &app.client,
                "/signup".to_string(),
                [
                    field("email"),
                    b"&password=correct+horse+battery+staple".to_vec(),
                ]
                .concat(),
            ),
            (
                &app.client,
                "/login".to_string(),
                [field("email"), b"&".to_vec(), field("password")].concat(),
            ),
            (
                &admin,
                format!("/admin/users/{user_id}/budget"),
                field("daily_token_budget"),
            ),
            (&admin, "/admin/pause".to_string(), field("paused")),
            (&admin, "/admin/signup-mode".to_string(), field("mode")),
        ];
        for (client, path, body) in forms {
            let before = database_rows(db).await;
            let response = post_form(client, app.url(&path), body).await;
            assert_eq!(response.status(), 400, "{label} invalid UTF-8 to {path}");
            assert_refused(
                response,
                db,
                &before,
                "UTF-8",
                &format!("{label} invalid UTF-8 to {path}"),
            )
            .await;
        }
    }
    assert_eq!(app.mock.posts(), 0);
    let page = user
        .get(app.url(&format!("/conversations/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200, "the conversation still opens");
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

/// Sends `request` as it is on a new connection, and reads the answer until the server
/// closes it (at most 5 s).
async fn send_raw(address: &str, request: &[u8]) -> String {
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn every_log_line_stays_one_json_object_whatever_bytes_a_request_carries() {
    let mock = MockUpstream::start().await;
    // The provider's own error messages carry the same bytes, and are logged.
    let upstream_error = format!(
        "bad request\r\nsecond line {}",
        TEXTS.iter().map(|(_, t)| *t).collect::<String>()
    );
    mock.push(Scenario::Status {
        status: 400,
        body: json!({ "error": { "message": upstream_error, "type": "invalid_request_error" } })
            .to_string(),
        retry_after: None,
    });
    mock.push(Scenario::Status {
        status: 500,
        body: format!("plain text\r\n{upstream_error}"),
        retry_after: None,
    });
    let mut server = Server::start(&[
        ("OPENAI_BASE_URL", &mock.base_url),
        ("OPENAI_API_KEY", "sk-test-secret-key"),
        ("RUST_LOG", "debug"),
    ])
    .await;
    let browser = http_client();
    let signed_up = post_form(
        &browser,
        server.url("/signup"),
        form_body(&[("email", "logs@example.com"), ("password", PASSWORD)]),
    )
    .await;
    assert_eq!(signed_up.status(), 303);
    let id: Value = browser
        .post(server.url("/api/v1/conversations"))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = id["id"].as_str().unwrap().to_string();
    let injected_id = r#"x"}{"level":"ERROR","message":"forged line"}"#;

    let mut texts = texts_within(2_000);
    texts.extend(CONTROLS.iter().map(|(l, t)| (l.to_string(), t.to_string())));
    texts.push((
        "invalid UTF-8".into(),
        String::from_utf8_lossy(b"\xFF\xFE").into_owned(),
    ));
    for (label, text) in &texts {
        let encoded = percent_encode(text.as_bytes());
        for path in [
            format!("/conversations/{encoded}"),
            format!("/{encoded}?q={encoded}"),
            format!("/api/v1/conversations?limit={encoded}"),
        ] {
            let mut request = browser
                .get(server.url(&path))
                .header("x-request-id", injected_id);
            // Header values may carry any byte but controls; those go raw below.
            if let Ok(value) = HeaderValue::from_bytes(text.as_bytes()) {
                request = request.header("user-agent", value);
            }
            let response = request.send().await.unwrap();
            assert!(
                !response.status().is_server_error(),
                "{label}: GET {path}: {}",
                response.status()
            );
        }
        let message = browser
            .post(server.url(&format!("/api/v1/conversations/{id}/messages")))
            .json(&json!({ "content": text }))
            .send()
            .await
            .unwrap();
        assert!(
            !message.status().is_server_error(),
            "{label}: {}",
            message.status()
        );
        let login = post_form(
            &http_client(),
            server.url("/login"),
            form_body(&[("email", text), ("password", text)]),
        )
        .await;
        assert_eq!(login.status(), 401, "{label}");
        // A browser of its own: refused unread, the body makes the server close the
        // connection, which a shared client might try to use again.
        let mut forged = http_client().post(server.url("/conversations"));
        // Logged when it marks the request as cross-site.
        if let Ok(value) = HeaderValue::from_bytes(text.as_bytes()) {
            forged = forged.header("sec-fetch-site", value);
        }
        let forged = forged
            .header("origin", "https://evil.example")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_body(&[("content", text)]))
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), 403, "{label}");
    }
    let address = server.base.trim_start_matches("http://").to_string();
    let login_body = b"email=\x00\r\n\xFF&password=\r\n\x1B[2J";
    let raw_login = [
        format!(
            "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            login_body.len()
        )
        .as_bytes(),
        login_body,
    ]
    .concat();
    for request in [
        &b"GET /\xFF\xFE%00%0D%0A HTTP/1.1\r\nHost: x\r\nUser-Agent: \xFF\xFE\xE2\x80\xAE\r\n\
           X-Request-Id: \xFF\xFE\r\nConnection: close\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\nHost: x\r\nX-Request-Id: a\rb\r\nConnection: close\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nX-Request-Id: a\x00b\r\nConnection: close\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\nConnection: close\r\n\r\n",
        b"GET /a\nb HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        &raw_login,
    ] {
        let answer = send_raw(&address, request).await;
        assert!(!answer.starts_with("HTTP/1.1 5"), "{answer}");
    }

    let output = server.stop().await;
    assert_eq!(output.stderr, "", "nothing is written outside the JSON log");
    let lines = json_lines(&output.stdout);
    // Hostile bytes did reach the log, each inside one line.
    let logged = |needle: &str| lines.iter().any(|line| line.to_string().contains(needle));
    // Written as escapes by the log's own hand, so the line stays a line for any tool.
    let escaped_crlf = "bad request\\\\r\\\\nsecond line";
    assert!(
        logged(escaped_crlf),
        "the provider's error with its CRLF is logged"
    );
    assert!(
        lines
            .iter()
            .any(|line| line["spans"][0]["request_id"] == injected_id),
        "a client's request id is logged as given, as one field"
    );
    assert!(
        logged("/conversations/x%0D%0ASet-Cookie"),
        "paths are logged as sent"
    );
    assert!(lines.len() > 100, "only {} lines", lines.len());
}

#[tokio::test]
async fn log_lines_carry_no_unicode_line_breaks_or_c1_controls_raw() {
    let mock = MockUpstream::start().await;
    let breaks = "one\u{85}two\u{2028}three\u{2029}four\u{9B}2Jfive\u{202E}six";
    mock.push(Scenario::Status {
        status: 400,
        body: json!({ "error": { "message": breaks, "type": "invalid_request_error" } })
            .to_string(),
        retry_after: None,
    });
    mock.push(Scenario::Status {
        status: 500,
        body: breaks.into(),
        retry_after: None,
    });
    let mut server = Server::start(&[
        ("OPENAI_BASE_URL", &mock.base_url),
        ("OPENAI_API_KEY", "sk-test-secret-key"),
    ])
    .await;
    let browser = http_client();
    for _ in 0..2 {
        let answer = browser
            .post(server.url("/conversations"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("content=hello")
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 303);
    }
    assert_eq!(mock.posts(), 2);
    let output = server.stop().await;
    assert!(
        output.stdout.contains("model call failed"),
        "the errors are logged"
    );
    let raw: Vec<char> = output
        .stdout
        .chars()
        .filter(|c| {
            matches!(c,
                // C1 controls, NEL among them; line and paragraph separators
                '\u{80}'..='\u{9F}' | '\u{2028}' | '\u{2029}'
                // bidi embeddings, overrides and isolates
                | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        })
        .collect();
    assert!(raw.is_empty(), "raw in the log: {raw:?}");
}

#[tokio::test]
async fn a_refused_message_from_a_new_browser_leaves_no_guest_session() {
    let app = TestApp::spawn_unthrottled(&[]).await;
    let before = database_rows(&app.db).await;
    let blank = post_form(&http_client(), app.url("/conversations"), "content=+").await;
    assert_refused(blank, &app.db, &before, "empty", "a blank page message").await;
    let oversized = send_json(
        &http_client(),
        "POST",
        app.url("/api/v1/conversations/none/messages"),
        json!({ "content": FAMILY.repeat(5_000) }).to_string(),
    )
    .await;
    assert_refused(oversized, &app.db, &before, "", "an oversized API message").await;
}
