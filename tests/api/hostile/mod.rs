//! Hostile bytes in every body (check 22): NUL, invalid UTF-8, lone surrogates, CR/LF,
//! bidi overrides, zero-width characters, huge emoji runs and deeply nested JSON are
//! either refused with a 4xx that says what to fix, changing nothing, or kept exactly and
//! shown escaped; and every log line of the real binary stays one JSON object whatever a
//! request carries.

mod bodies;
mod logs;
mod text;

use std::collections::BTreeMap;

use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use sqlx::SqlitePool;

use crate::{
    helpers::{TestApp, http_client},
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
