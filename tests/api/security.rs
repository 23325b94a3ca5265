//! Security headers on every kind of response, and refusal of cross-site requests.

use serde_json::json;

use crate::helpers::TestApp;

fn assert_security_headers(response: &reqwest::Response, what: &str) {
    let headers = response.headers();
    let csp = headers
        .get("content-security-policy")
        .unwrap_or_else(|| panic!("{what}: no CSP"))
        .to_str()
        .unwrap();
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "img-src 'self' data:",
        "form-action 'self'",
    ] {
        assert!(
            csp.contains(directive),
            "{what}: CSP lacks {directive}: {csp}"
        );
    }
    assert_eq!(headers["x-content-type-options"], "nosniff", "{what}");
    assert!(headers.contains_key("referrer-policy"), "{what}");
    assert!(headers.contains_key("permissions-policy"), "{what}");
}

#[tokio::test]
async fn security_headers_are_on_pages_errors_and_streams() {
    let app = TestApp::spawn().await;
    let conversation = app.create_conversation().await;

    assert_security_headers(&app.get("/").await, "page");
    assert_security_headers(&app.get("/nowhere").await, "404");
    assert_security_headers(&app.get("/static/app.js").await, "static file");
    let too_large = app
        .client
        .post(app.url(&format!("/api/v1/conversations/{conversation}/messages")))
        .json(&json!({ "content": "z".repeat(300 * 1024) }))
        .send()
        .await
        .unwrap();
    assert_eq!(too_large.status(), 413);
    assert_security_headers(&too_large, "413");
    let stream = app.send_streaming(&conversation, "hello").await;
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    assert_security_headers(&stream, "stream");
    drop(stream);

    sqlx::query("DROP TABLE messages")
        .execute(&app.db)
        .await
        .unwrap();
    let failed = app
        .get(&format!("/api/v1/conversations/{conversation}"))
        .await;
    assert_eq!(failed.status(), 500);
    assert_security_headers(&failed, "500");
    // Plain http here: no HSTS.
    assert!(!failed.headers().contains_key("strict-transport-security"));
}

#[tokio::test]
async fn hsts_is_sent_when_the_public_url_is_https() {
    let app = TestApp::spawn_with(&[("PUBLIC_URL", "https://chat.example.com")]).await;
    let response = app.get("/").await;
    assert!(
        response.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .contains("max-age=")
    );
}

#[tokio::test]
async fn cross_site_posts_are_refused_on_every_state_changing_route() {
    let app = TestApp::spawn().await;
    let conversation = app.create_conversation().await;
    let routes = [
        ("POST", "/conversations".to_string()),
        ("POST", format!("/conversations/{conversation}/messages")),
        ("POST", format!("/conversations/{conversation}/regenerate")),
        ("POST", format!("/conversations/{conversation}/stop")),
        ("POST", format!("/conversations/{conversation}/rename")),
        ("POST", format!("/conversations/{conversation}/delete")),
        ("POST", "/api/v1/conversations".to_string()),
        ("PATCH", format!("/api/v1/conversations/{conversation}")),
        ("DELETE", format!("/api/v1/conversations/{conversation}")),
        (
            "POST",
            format!("/api/v1/conversations/{conversation}/messages"),
        ),
        ("POST", format!("/api/v1/conversations/{conversation}/stop")),
        ("POST", "/signup".to_string()),
        ("POST", "/login".to_string()),
        ("POST", "/logout".to_string()),
    ];
    let forged: [(&str, &str); 2] = [
        ("sec-fetch-site", "cross-site"),
        ("origin", "https://evil.example"),
    ];
    for (method, path) in &routes {
        for (name, value) in forged {
            let response = app
                .client
                .request(method.parse().unwrap(), app.url(path))
                .header(name, value)
                .header("content-type", "application/x-www-form-urlencoded")
                .body("content=hi&title=pwned&email=x%40example.com&password=correct+horse+battery+staple")
                .send()
                .await
                .unwrap();
            assert_eq!(
                response.status(),
                403,
                "{method} {path} with {name}: {value}"
            );
        }
    }
    assert_eq!(app.message_count().await, 0);
    assert_eq!(app.mock.posts(), 0);
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(users, 0, "no account was created cross-site");
    let listed: serde_json::Value = app.get("/api/v1/conversations").await.json().await.unwrap();
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    assert_eq!(listed["data"][0]["title"], "Test", "not renamed");

    // The site's own origin and same-origin fetches pass.
    let own = app
        .client
        .post(app.url("/api/v1/conversations"))
        .header("origin", &app.address)
        .header("sec-fetch-site", "same-origin")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 201);
}

#[tokio::test]
async fn a_slow_loris_client_is_cut_off_and_normal_requests_are_not() {
    use tokio::io::AsyncWriteExt;

    let app = TestApp::spawn_with(&[("HEADER_READ_TIMEOUT_SECS", "1")]).await;
    let addr = app.address.trim_start_matches("http://").to_string();
    // Headers begun and never finished, as a slow-loris client keeps them.
    let mut loris = tokio::net::TcpStream::connect(&addr).await.unwrap();
    loris
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: promptship\r\nX-Slow: ")
        .await
        .unwrap();
    // And one that connects and says nothing.
    let mut silent = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let started = std::time::Instant::now();
    // Meanwhile a normal client is served, twice on one kept-alive connection.
    let client = reqwest::Client::new();
    for _ in 0..2 {
        assert_eq!(
            client
                .get(app.url("/healthz"))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }

    let (closed, rest) = read_until_closed(&mut loris, "the slow client").await;
    // Closed (EOF or reset) after the timeout, without a response to the unfinished request.
    assert!(closed.is_err() || !String::from_utf8_lossy(&rest).contains("200 OK"));
    let waited = started.elapsed();
    assert!(
        waited >= std::time::Duration::from_millis(900),
        "cut off too soon: {waited:?}"
    );
    let (closed, nothing) = read_until_closed(&mut silent, "the silent client").await;
    assert!(closed.is_err() || nothing.is_empty());
}

/// What the server sent before it closed the connection (EOF, or an error on a reset);
/// fails if it is still open after 5 s.
async fn read_until_closed(
    stream: &mut tokio::net::TcpStream,
    who: &str,
) -> (std::io::Result<usize>, Vec<u8>) {
    use tokio::io::AsyncReadExt;

    let mut received = Vec::new();
    let closed = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stream.read_to_end(&mut received),
    )
    .await
    .unwrap_or_else(|_| panic!("{who} was still connected after 5 s"));
    (closed, received)
}
