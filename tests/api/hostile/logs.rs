//! Every log line stays one line, whatever bytes a request or a provider sends
//! (check 22).

use std::time::Duration;

use reqwest::header::HeaderValue;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{CONTROLS, TEXTS, form_body, percent_encode, post_form, texts_within};
use crate::{
    helpers::{PASSWORD, http_client},
    logs::{Server, json_lines},
    mock_upstream::{MockUpstream, Scenario},
};

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
