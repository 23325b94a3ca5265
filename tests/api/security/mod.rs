//! Security headers on every kind of response (check 26), and the parts: cross-site
//! requests (check 25), slow clients (check 23), secrets and tools (checks 32 and 33).

mod cross_site;
mod secrets;
mod slow_clients;

use std::collections::BTreeMap;

use serde_json::json;
use sqlx::SqlitePool;

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

/// Every row of every table, each as the SQL literals of its values (`quote()`), by
/// table. Two columns that record use rather than state are left out: a session's expiry
/// (every request moves it) and a key's last use (every call with it moves it).
pub async fn database_rows(db: &SqlitePool) -> BTreeMap<String, Vec<String>> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    )
    .fetch_all(db)
    .await
    .unwrap();
    let mut rows = BTreeMap::new();
    for table in tables {
        let columns: Vec<String> =
            sqlx::query_scalar("SELECT name FROM pragma_table_info(?) ORDER BY cid")
                .bind(&table)
                .fetch_all(db)
                .await
                .unwrap();
        let values: Vec<String> = columns
            .iter()
            .filter(|column| {
                !matches!(
                    (table.as_str(), column.as_str()),
                    ("tower_sessions", "expiry_date") | ("api_keys", "last_used_at")
                )
            })
            .map(|column| format!("quote(\"{column}\")"))
            .collect();
        let select = format!("SELECT {} FROM \"{table}\"", values.join(" || ', ' || "));
        let mut table_rows: Vec<String> = sqlx::query_scalar(&select).fetch_all(db).await.unwrap();
        table_rows.sort();
        rows.insert(table, table_rows);
    }
    rows
}

/// The tables whose rows differ, for a readable failure.
fn changed_tables(
    before: &BTreeMap<String, Vec<String>>,
    after: &BTreeMap<String, Vec<String>>,
) -> Vec<String> {
    let tables: std::collections::BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    tables
        .into_iter()
        .filter(|table| before.get(*table) != after.get(*table))
        .cloned()
        .collect()
}
