//! Slow clients are cut off: headers never finished, a silent connection, a body that
//! trickles in (check 23).

use super::{changed_tables, database_rows};
use crate::helpers::TestApp;

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

#[tokio::test]
async fn a_body_sent_slowly_is_cut_off_with_408_on_the_forms_and_both_apis() {
    use tokio::io::AsyncWriteExt;

    let app = TestApp::spawn_with(&[("BODY_READ_TIMEOUT_SECS", "1")]).await;
    let key = app.api_key("slow-body@example.com").await;
    let addr = app.address.trim_start_matches("http://").to_string();
    let routes = [
        (
            "/conversations",
            "application/x-www-form-urlencoded",
            String::new(),
        ),
        ("/api/v1/conversations", "application/json", String::new()),
        (
            "/v1/chat/completions",
            "application/json",
            format!("Authorization: Bearer {key}\r\n"),
        ),
    ];
    let before = database_rows(&app.db).await;
    for (path, content_type, extra) in routes {
        let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
        slow.write_all(
            format!(
                "POST {path} HTTP/1.1\r\nHost: promptship\r\nContent-Type: {content_type}\r\n\
                 {extra}Content-Length: 1000\r\n\r\n"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
        let started = std::time::Instant::now();
        let (mut reader, mut writer) = slow.into_split();
        // A byte every 200 ms: each arrives well within any gap timeout, the whole
        // never within the limit.
        let trickle = tokio::spawn(async move {
            for _ in 0..50 {
                if writer.write_all(b"x").await.is_err() {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
        });
        let mut received = Vec::new();
        use tokio::io::AsyncReadExt;
        let closed = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            reader.read_to_end(&mut received),
        )
        .await;
        let waited = started.elapsed();
        let response = String::from_utf8_lossy(&received);
        assert!(
            response.starts_with("HTTP/1.1 408"),
            "{path}: {response:?} after {waited:?}"
        );
        assert!(
            response.contains("took longer than 1 s"),
            "{path}: {response}"
        );
        assert!(closed.is_ok(), "{path}: the connection stayed open");
        assert!(
            waited < std::time::Duration::from_secs(3),
            "{path}: cut off after {waited:?}"
        );
        trickle.abort();
    }
    // A normal request on a fresh connection is served as usual.
    assert_eq!(app.get("/healthz").await.status(), 200);
    assert_eq!(app.mock.posts(), 0);
    assert!(
        changed_tables(&before, &database_rows(&app.db).await).is_empty(),
        "nothing was written"
    );
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
