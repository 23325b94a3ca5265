//! Bodies that are not what they claim: malformed or deeply nested JSON, forms that
//! are not UTF-8 (check 22).

use serde_json::{Value, json};

use super::{assert_refused, one_text, post_form, refusal, texts_within};
use crate::{helpers::TestApp, security::database_rows};

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
