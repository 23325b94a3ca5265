//! Dataset batches: uploads checked row by row (nothing half-imported), inputs proposed
//! by the model with near-duplicates dropped, the runner to done with one model call per
//! item, pause, resume and cancel, a pause on the global budget that ends at the reset,
//! admins only, and a kill -9 in the middle of a batch with nothing lost or run twice.

use std::{
    future::Future,
    time::{Duration, Instant},
};

use serde_json::{Value, json};

use crate::{
    crash::Server,
    helpers::{TestApp, http_client},
    mock_upstream::{MockUpstream, Scenario},
};

pub const BOUNDARY: &str = "----promptship-test-boundary";

/// The new batch form as a browser sends it: its fields, then the file.
pub fn form_body(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    if let Some((filename, bytes)) = file {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

pub async fn post_batch(
    app: &TestApp,
    client: &reqwest::Client,
    fields: &[(&str, &str)],
    file: Option<(&str, &[u8])>,
) -> reqwest::Response {
    client
        .post(app.url("/admin/batches"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(form_body(fields, file))
        .send()
        .await
        .unwrap()
}

/// Uploads `file` as a new batch of `target` (an app, or "" for chat) and returns its id.
async fn upload(
    app: &TestApp,
    admin: &reqwest::Client,
    target: &str,
    concurrency: &str,
    filename: &str,
    file: &[u8],
) -> i64 {
    let response = post_batch(
        app,
        admin,
        &[
            ("name", "test batch"),
            ("target", target),
            ("concurrency", concurrency),
            ("source", "upload"),
        ],
        Some((filename, file)),
    )
    .await;
    assert_eq!(
        response.status(),
        303,
        "the upload was refused: {}",
        response.text().await.unwrap()
    );
    let location = response.headers()["location"].to_str().unwrap();
    location
        .strip_prefix("/admin/batches/")
        .unwrap()
        .parse()
        .unwrap()
}

async fn batch_state(app: &TestApp, id: i64) -> String {
    sqlx::query_scalar("SELECT state FROM batches WHERE id = ?")
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

/// `(pending, running, done, failed)`.
async fn item_counts(db: &sqlx::SqlitePool, id: i64) -> (i64, i64, i64, i64) {
    sqlx::query_as(
        "SELECT coalesce(sum(state = 'pending'), 0), coalesce(sum(state = 'running'), 0),
                coalesce(sum(state = 'done'), 0), coalesce(sum(state = 'failed'), 0)
         FROM batch_items WHERE batch_id = ?",
    )
    .bind(id)
    .fetch_one(db)
    .await
    .unwrap()
}

async fn count(db: &sqlx::SqlitePool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db).await.unwrap()
}

/// Waits (at most `limit`) until `check` holds.
async fn wait_until<F, Fut>(limit: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn slow_answer(text: &str, delay_ms: u64) -> Scenario {
    Scenario::Answer {
        words: crate::mock_upstream::words(text),
        delay: Duration::from_millis(delay_ms),
    }
}

/// The user message of a request the mock received.
fn asked(request: &Value) -> String {
    request["messages"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .map(|m| m["content"].as_str().unwrap_or_default().to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn an_uploaded_csv_runs_every_row_to_done_with_one_call_each() {
    let app = TestApp::spawn_with(&[("METRICS_TOKEN", "metrics-secret")]).await;
    let admin = app.admin().await;
    let csv = "text,direction,tone\n안녕하세요,ko-en,polite\nGood morning,en-ko,formal\n\"Hi, friend\",en-ko,casual\n";
    let id = upload(&app, &admin, "translate", "2", "inputs.csv", csv.as_bytes()).await;
    wait_until(Duration::from_secs(10), "the batch to finish", || async {
        batch_state(&app, id).await == "done"
    })
    .await;
    assert_eq!(item_counts(&app.db, id).await, (0, 0, 3, 0));
    assert_eq!(app.mock.posts(), 3, "one model call per row");
    // Each row's text reached the model once, the quoted comma kept.
    let asked: Vec<String> = app.mock.requests().iter().map(asked).collect();
    for text in ["안녕하세요", "Good morning", "Hi, friend"] {
        assert_eq!(
            asked.iter().filter(|a| a.contains(text)).count(),
            1,
            "{text}"
        );
    }
    // The runs are the admin's, made by the batch, each linked from its item.
    let linked = count(
        &app.db,
        "SELECT count(*) FROM batch_items i JOIN conversations c ON c.id = i.conversation_id
         WHERE c.batch_id = i.batch_id AND c.app = 'translate' AND c.user_id IS NOT NULL",
    )
    .await;
    assert_eq!(linked, 3);
    let page = admin
        .get(app.url(&format!("/admin/batches/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(r#"<progress id="batch-bar" value="3" max="3">"#),
        "{page}"
    );
    assert!(page.contains("/apps/translate/runs/"));
    // Done: the page no longer polls.
    assert!(!page.contains("hx-trigger"));
    let list = admin
        .get(app.url("/admin/batches"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(list.contains("test batch") && list.contains("3 / 3"));
    // The runs stay out of the admin's own conversation list.
    let own = app.list_conversations_as(&admin).await;
    assert_eq!(own["data"], json!([]), "{own}");
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("metrics-secret")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .lines()
            .any(|line| line.starts_with(r#"batch_items_total{state="done"}"#)),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_jsonl_upload_runs_through_the_chat_prompt() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let jsonl = "{\"message\": \"first question\"}\n\n{\"message\": \"두 번째 질문\"}\n";
    let id = upload(&app, &admin, "", "1", "inputs.jsonl", jsonl.as_bytes()).await;
    wait_until(Duration::from_secs(10), "the batch to finish", || async {
        batch_state(&app, id).await == "done"
    })
    .await;
    let asked: Vec<String> = app.mock.requests().iter().map(asked).collect();
    assert_eq!(asked, ["first question", "두 번째 질문"]);
    let chats = count(
        &app.db,
        "SELECT count(*) FROM conversations WHERE batch_id IS NOT NULL AND app IS NULL",
    )
    .await;
    assert_eq!(chats, 2);
}

#[tokio::test]
async fn bad_rows_are_all_listed_with_their_numbers_and_nothing_is_imported() {
    let app = TestApp::spawn_with(&[("METRICS_TOKEN", "metrics-secret")]).await;
    let admin = app.admin().await;
    let csv = "text,direction,tone\nfine,ko-en,polite\nalso fine,sideways,polite\nok,en-ko,polite\n,en-ko,rude\n";
    let response = post_batch(
        &app,
        &admin,
        &[
            ("name", "bad"),
            ("target", "translate"),
            ("concurrency", "2"),
            ("source", "upload"),
        ],
        Some(("inputs.csv", csv.as_bytes())),
    )
    .await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(page.contains("2 rows fail the schema"), "{page}");
    assert!(page.contains("Row 3: `direction` must be one of"), "{page}");
    assert!(
        page.contains("Row 5: `text` is required; `tone` must be one of"),
        "{page}"
    );
    assert!(!page.contains("Row 2:") && !page.contains("Row 4:"));
    // The form comes back filled in.
    assert!(page.contains(r#"<option value="translate" selected>"#));
    assert_eq!(count(&app.db, "SELECT count(*) FROM batches").await, 0);
    assert_eq!(count(&app.db, "SELECT count(*) FROM batch_items").await, 0);

    // JSONL: a line that is not JSON and a field the app does not have.
    let jsonl = "{\"text\": \"ok\"}\nnot json\n{\"text\": \"x\", \"colour\": \"red\"}\n";
    let response = post_batch(
        &app,
        &admin,
        &[
            ("name", "bad"),
            ("target", "translate"),
            ("concurrency", "2"),
            ("source", "upload"),
        ],
        Some(("inputs.jsonl", jsonl.as_bytes())),
    )
    .await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(page.contains("Row 2: is not JSON"), "{page}");
    assert!(page.contains("Row 3: `colour`"), "{page}");
    // An unknown CSV column is named once, not per row.
    let response = post_batch(
        &app,
        &admin,
        &[
            ("name", "bad"),
            ("target", "translate"),
            ("concurrency", "2"),
            ("source", "upload"),
        ],
        Some(("inputs.csv", b"text,colour\nhi,red\n")),
    )
    .await;
    assert_eq!(response.status(), 422);
    assert!(response.text().await.unwrap().contains("`colour`"));
    // A file past the site's usual 256 KiB body limit is read whole (its rows listed),
    // since the form takes up to BATCH_MAX_UPLOAD_BYTES.
    let long = "x".repeat(20_000);
    let file = format!("message\n{}", format!("{long}\n").repeat(16));
    assert!(file.len() > 300 * 1024);
    let response = post_batch(
        &app,
        &admin,
        &[
            ("name", "bad"),
            ("target", ""),
            ("concurrency", "2"),
            ("source", "upload"),
        ],
        Some(("long.csv", file.as_bytes())),
    )
    .await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("16 rows fail the schema") && page.contains("Row 17:"),
        "{}",
        &page[..2000.min(page.len())]
    );
    assert_eq!(count(&app.db, "SELECT count(*) FROM batches").await, 0);
    assert_eq!(app.mock.posts(), 0);
}

#[tokio::test]
async fn a_file_that_is_not_utf8_is_refused_saying_so() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    // "café" in Latin-1, as an old spreadsheet saves it.
    let response = post_batch(
        &app,
        &admin,
        &[
            ("name", "latin1"),
            ("target", ""),
            ("concurrency", "1"),
            ("source", "upload"),
        ],
        Some(("inputs.csv", b"message\nhello\ncaf\xe9\n")),
    )
    .await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("not UTF-8") && page.contains("line 3"),
        "{page}"
    );
    assert_eq!(count(&app.db, "SELECT count(*) FROM batches").await, 0);
}

#[tokio::test]
async fn a_file_over_the_cap_is_refused_and_rows_over_the_cap_too() {
    let app =
        TestApp::spawn_with(&[("BATCH_MAX_UPLOAD_BYTES", "1000"), ("BATCH_MAX_ROWS", "3")]).await;
    let admin = app.admin().await;
    let fields = [
        ("name", "big"),
        ("target", ""),
        ("concurrency", "1"),
        ("source", "upload"),
    ];
    // Over the file's cap: refused by the form.
    let file = format!("message\n{}\n", "x".repeat(2_000));
    let response = post_batch(&app, &admin, &fields, Some(("big.csv", file.as_bytes()))).await;
    assert_eq!(response.status(), 413);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("larger than 1000 bytes")
    );
    // Far over it: refused before the body is even read whole.
    let file = format!("message\n{}\n", "x".repeat(200_000));
    let response = post_batch(&app, &admin, &fields, Some(("big.csv", file.as_bytes()))).await;
    assert_eq!(response.status(), 413);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("BATCH_MAX_UPLOAD_BYTES")
    );
    // Small, but more rows than a batch takes.
    let response = post_batch(
        &app,
        &admin,
        &fields,
        Some(("rows.csv", b"message\na\nb\nc\nd\n")),
    )
    .await;
    assert_eq!(response.status(), 422);
    assert!(response.text().await.unwrap().contains("more than 3 rows"));
    assert_eq!(count(&app.db, "SELECT count(*) FROM batches").await, 0);
}

#[tokio::test]
async fn only_admins_reach_batches() {
    let app = TestApp::spawn_unthrottled(&[]).await;
    let admin = app.admin().await;
    let id = upload(&app, &admin, "", "1", "in.csv", b"message\nhello\n").await;
    let user = app.sign_up("user@example.com").await;
    let guest = http_client();
    for client in [&user, &guest] {
        for path in [
            "/admin/batches".to_string(),
            "/admin/batches/new".to_string(),
            format!("/admin/batches/{id}"),
        ] {
            let response = client.get(app.url(&path)).send().await.unwrap();
            assert_eq!(response.status(), 403, "{path}");
        }
        let response = post_batch(
            &app,
            client,
            &[
                ("name", "x"),
                ("target", ""),
                ("concurrency", "1"),
                ("source", "upload"),
            ],
            Some(("in.csv", b"message\nsneaky\n")),
        )
        .await;
        assert_eq!(response.status(), 403);
        for action in ["pause", "resume", "cancel"] {
            let response = client
                .post(app.url(&format!("/admin/batches/{id}/{action}")))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 403, "{action}");
        }
    }
    assert_eq!(count(&app.db, "SELECT count(*) FROM batches").await, 1);
    let response = admin
        .get(app.url("/admin/batches/999"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn proposed_inputs_drop_near_duplicates_and_failures_then_run() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    // Round 1: a near-copy of the example, two Korean near-duplicates of each other, an
    // input of the wrong shape, and two good ones. Round 2: one more good one.
    app.mock.push(Scenario::json(&json!({"inputs": [
        {"message": "How do I get from Seoul to Busan by train?"},
        {"message": "서울에서 부산까지 기차로 가는 가장 빠른 방법은 무엇인가요?"},
        {"message": "서울에서 부산까지  기차로 가는 제일 빠른 방법은 무엇인가요"},
        {"text": "wrong field"},
        {"message": "Where can I eat late at night in Hongdae?"},
    ]})));
    app.mock.push(Scenario::json(&json!({"inputs": [
        {"message": "where can i eat late at night in hongdae"},
        {"message": "제주도 렌터카 없이 여행할 수 있나요?"},
    ]})));
    let response = post_batch(
        &app,
        &admin,
        &[
            ("name", "travel"),
            ("target", ""),
            ("concurrency", "2"),
            ("source", "generate"),
            (
                "description",
                "Questions a first-time visitor to Korea asks",
            ),
            (
                "examples",
                "{\"message\": \"How do I get from Seoul to Busan by train??\"}",
            ),
            ("count", "3"),
        ],
        None,
    )
    .await;
    assert_eq!(response.status(), 303, "{}", response.text().await.unwrap());
    let id: i64 = count(&app.db, "SELECT max(id) FROM batches").await;
    wait_until(Duration::from_secs(10), "the batch to finish", || async {
        batch_state(&app, id).await == "done"
    })
    .await;
    let inputs: Vec<String> =
        sqlx::query_scalar("SELECT input FROM batch_items WHERE batch_id = ? ORDER BY position")
            .bind(id)
            .fetch_all(&app.db)
            .await
            .unwrap();
    let messages: Vec<String> = inputs
        .iter()
        .map(|i| {
            serde_json::from_str::<Value>(i).unwrap()["message"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        messages,
        [
            "서울에서 부산까지 기차로 가는 가장 빠른 방법은 무엇인가요?",
            "Where can I eat late at night in Hongdae?",
            "제주도 렌터카 없이 여행할 수 있나요?",
        ]
    );
    let requests = app.mock.requests();
    // Two rounds of proposals, each asking for what was still missing under a schema of
    // a list of inputs, then one call per input.
    assert_eq!(requests.len(), 2 + 3);
    let format = &requests[0]["response_format"];
    assert_eq!(format["type"], "json_schema");
    let list = &format["json_schema"]["schema"]["properties"]["inputs"];
    assert_eq!(list["items"]["required"], json!(["message"]));
    assert_eq!((list["minItems"].clone(), requests[1]["response_format"]["json_schema"]["schema"]["properties"]["inputs"]["minItems"].clone()), (json!(3), json!(1)));
    assert!(
        asked(&requests[1]).contains("Hongdae"),
        "the second round shows what is kept"
    );
    let page = admin
        .get(app.url(&format!("/admin/batches/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("dropped 3 near-duplicates and 1 that failed the schema"),
        "{page}"
    );
    // The proposals were charged to the ledger too, as the batch's creator.
    app.state.meter.flush().await;
    let ledger = count(
        &app.db,
        "SELECT count(*) FROM usage WHERE message_id IS NULL AND user_id IS NOT NULL",
    )
    .await;
    assert_eq!(ledger, 2);
}

#[tokio::test]
async fn the_demo_model_proposes_distinct_inputs_offline() {
    let app = TestApp::spawn_with(&[
        ("OPENAI_BASE_URL", ""),
        ("OPENAI_API_KEY", ""),
        ("DEMO_WORD_DELAY_MS", "0"),
    ])
    .await;
    let admin = app.admin().await;
    let response = post_batch(
        &app,
        &admin,
        &[
            ("name", "demo"),
            ("target", ""),
            ("concurrency", "4"),
            ("source", "generate"),
            ("description", "Questions visitors ask about Korean food, festivals and trains"),
            ("examples", "{\"message\": \"Which street food should I try at Gwangjang market?\"}\n{\"message\": \"부산 불꽃축제는 언제 열리나요?\"}"),
            // More than one round asks for (20): the second round's prompt differs
            // only in its number and the inputs kept, and must still bring new ones.
            ("count", "30"),
        ],
        None,
    )
    .await;
    assert_eq!(response.status(), 303);
    let id: i64 = count(&app.db, "SELECT max(id) FROM batches").await;
    wait_until(Duration::from_secs(20), "the batch to finish", || async {
        batch_state(&app, id).await == "done"
    })
    .await;
    assert_eq!(item_counts(&app.db, id).await, (0, 0, 30, 0));
    // The demo varies its proposals round by round, so a few rounds are enough (4, with
    // 7 near-duplicates dropped, as it stands).
    let seed: String = sqlx::query_scalar("SELECT seed FROM batches WHERE id = ?")
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    let seed: Value = serde_json::from_str(&seed).unwrap();
    println!("demo generation: {seed}");
    assert!(seed["rounds"].as_u64().unwrap() <= 6, "{seed}");
}

#[tokio::test]
async fn pause_stops_new_items_resume_goes_on_and_cancel_ends_it() {
    let app = TestApp::spawn_unthrottled(&[]).await;
    let admin = app.admin().await;
    for _ in 0..10 {
        app.mock
            .push(slow_answer("a slow answer of several words here", 60));
    }
    let file = (1..=6)
        .map(|i| format!("question {i}\n"))
        .collect::<String>();
    let id = upload(
        &app,
        &admin,
        "",
        "1",
        "in.csv",
        format!("message\n{file}").as_bytes(),
    )
    .await;
    wait_until(Duration::from_secs(5), "the first call", || async {
        app.mock.posts() >= 1
    })
    .await;
    let response = admin
        .post(app.url(&format!("/admin/batches/{id}/pause")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(batch_state(&app, id).await, "paused");
    // The running item finishes; no new one starts.
    wait_until(
        Duration::from_secs(5),
        "the running item to finish",
        || async { item_counts(&app.db, id).await.1 == 0 },
    )
    .await;
    let posts = app.mock.posts();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(app.mock.posts(), posts, "a paused batch started an item");
    let page = admin
        .get(app.url(&format!("/admin/batches/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Paused by an admin.") && page.contains("/resume"));
    // Pausing twice is a conflict, not a change.
    let response = admin
        .post(app.url(&format!("/admin/batches/{id}/pause")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 409);

    let response = admin
        .post(app.url(&format!("/admin/batches/{id}/resume")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    wait_until(Duration::from_secs(5), "more calls", || async {
        app.mock.posts() > posts
    })
    .await;
    let response = admin
        .post(app.url(&format!("/admin/batches/{id}/cancel")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(batch_state(&app, id).await, "cancelled");
    wait_until(
        Duration::from_secs(5),
        "the running item to finish",
        || async { item_counts(&app.db, id).await.1 == 0 },
    )
    .await;
    let posts = app.mock.posts();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(app.mock.posts(), posts, "a cancelled batch started an item");
    let (pending, _, done, failed) = item_counts(&app.db, id).await;
    assert!(pending > 0, "cancelled before the end");
    assert_eq!(
        (done + failed) as usize,
        posts,
        "every started item finished"
    );
    assert_eq!(failed, 0);
    // A cancelled batch cannot be resumed.
    let response = admin
        .post(app.url(&format!("/admin/batches/{id}/resume")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 409);
}

#[tokio::test]
async fn the_global_budget_pauses_a_batch_until_the_reset_but_an_allowance_does_not() {
    // A personal allowance of one token: a batch is the operator's, it is not stopped.
    let app = TestApp::spawn_with(&[
        ("USER_DAILY_TOKENS", "1"),
        ("GLOBAL_DAILY_TOKENS", "100000"),
    ])
    .await;
    let admin = app.admin().await;
    let first = upload(&app, &admin, "", "1", "in.csv", b"message\nwithin budget\n").await;
    wait_until(Duration::from_secs(5), "the first batch", || async {
        batch_state(&app, first).await == "done"
    })
    .await;
    assert_eq!(item_counts(&app.db, first).await, (0, 0, 1, 0));

    // Today's global budget is spent.
    app.record_usage(None, 100_000, 0).await;
    let id = upload(
        &app,
        &admin,
        "",
        "2",
        "in.csv",
        b"message\none\ntwo\nthree\n",
    )
    .await;
    // Both items the runner had started are refused and put back; the batch may read
    // paused a moment before the second is back.
    wait_until(Duration::from_secs(5), "the budget pause", || async {
        batch_state(&app, id).await == "paused" && item_counts(&app.db, id).await.1 == 0
    })
    .await;
    assert_eq!(item_counts(&app.db, id).await, (3, 0, 0, 0), "nothing lost");
    let posts = app.mock.posts();
    assert_eq!(posts, 1);
    let page = admin
        .get(app.url(&format!("/admin/batches/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("today&#39;s budget is spent") || page.contains("today's budget is spent"),
        "{page}"
    );
    assert!(page.contains("resumes by itself at"));
    // Nothing happens before the reset…
    app.state.batches.wake();
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert_eq!(batch_state(&app, id).await, "paused");
    // …and after it the batch goes on by itself.
    app.state.clock.advance(Duration::from_secs(24 * 3600));
    app.state.batches.wake();
    wait_until(
        Duration::from_secs(10),
        "the batch to resume and finish",
        || async { batch_state(&app, id).await == "done" },
    )
    .await;
    assert_eq!(item_counts(&app.db, id).await, (0, 0, 3, 0));
    assert_eq!(app.mock.posts(), posts + 3);
}

/// Items of the batch the restart test runs.
const CRASH_ITEMS: usize = 8;

#[tokio::test]
async fn a_batch_killed_mid_way_finishes_after_a_restart_with_nothing_lost_or_run_twice() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("crash.db").display());
    let log = dir.path().join("server.log");
    let mock = MockUpstream::start().await;
    for _ in 0..(CRASH_ITEMS * 3) {
        mock.push(slow_answer(
            "one two three four five six seven eight nine ten",
            60,
        ));
    }
    let vars = [
        ("OPENAI_BASE_URL", mock.base_url.as_str()),
        ("OPENAI_API_KEY", "sk-test"),
    ];
    // The admin and the batch, as the form would have saved them, before the server
    // starts: its runner finds the batch at start, as after any restart.
    let db = promptship::db::connect(&database).await.unwrap();
    promptship::db::migrate(&db).await.unwrap();
    sqlx::query("INSERT INTO users (id, email, password_hash, role, created_at) VALUES (1, 'admin@example.com', 'x', 'admin', 0)")
        .execute(&db)
        .await
        .unwrap();
    sqlx::query("INSERT INTO batches (id, name, source, state, concurrency, created_by, created_at, updated_at) VALUES (1, 'crash', 'upload', 'running', 3, 1, 0, 0)")
        .execute(&db)
        .await
        .unwrap();
    for i in 1..=CRASH_ITEMS {
        sqlx::query("INSERT INTO batch_items (batch_id, position, input, state, updated_at) VALUES (1, ?, ?, 'pending', 0)")
            .bind(i as i64)
            .bind(json!({"message": format!("crash-item-{i:02}")}).to_string())
            .execute(&db)
            .await
            .unwrap();
    }
    let server = Server::start(&database, &log, &vars).await;
    // Kill it once some items are done and others are being answered.
    wait_until(
        Duration::from_secs(20),
        "items done and running",
        || async {
            let (_, running, done, _) = item_counts(&db, 1).await;
            done >= 2 && running >= 2
        },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    server.kill_9().await;
    let (pending, running, done, _) = item_counts(&db, 1).await;
    assert!(
        running > 0,
        "the kill came after the batch: {pending} {running} {done}"
    );
    let calls_before = mock.posts();

    let server = Server::start(&database, &log, &vars).await;
    wait_until(
        Duration::from_secs(30),
        "the batch to finish after the restart",
        || async {
            count(
                &db,
                "SELECT count(*) FROM batches WHERE id = 1 AND state = 'done'",
            )
            .await
                == 1
        },
    )
    .await;
    drop(server);
    assert_eq!(item_counts(&db, 1).await, (0, 0, CRASH_ITEMS as i64, 0));
    assert!(mock.posts() > calls_before, "the restart ran the rest");

    let asked: Vec<String> = mock.requests().iter().map(asked).collect();
    for i in 1..=CRASH_ITEMS {
        let input = format!("crash-item-{i:02}");
        let calls = asked.iter().filter(|a| **a == input).count();
        // Every call of the item has its conversation (linked when it was made)…
        let conversations: Vec<(String, String)> = sqlx::query_as(
            "SELECT c.id, a.status FROM conversations c
             JOIN messages q ON q.conversation_id = c.id AND q.role = 'user'
             JOIN messages a ON a.conversation_id = c.id AND a.role = 'assistant'
             WHERE c.batch_id = 1 AND q.content = ?",
        )
        .bind(&input)
        .fetch_all(&db)
        .await
        .unwrap();
        assert_eq!(
            calls,
            conversations.len(),
            "{input}: calls and conversations differ"
        );
        // …exactly one of them complete, and that is the one the item points at; any
        // other was cut off by the kill.
        let complete: Vec<&String> = conversations
            .iter()
            .filter(|(_, status)| status == "complete")
            .map(|(id, _)| id)
            .collect();
        assert_eq!(complete.len(), 1, "{input}: {conversations:?}");
        assert!(
            conversations
                .iter()
                .all(|(_, s)| s == "complete" || s == "interrupted")
        );
        let linked: String = sqlx::query_scalar(
            "SELECT conversation_id FROM batch_items WHERE batch_id = 1 AND position = ?",
        )
        .bind(i as i64)
        .fetch_one(&db)
        .await
        .unwrap();
        assert_eq!(&linked, complete[0], "{input}");
    }
    let reruns = asked.len() - CRASH_ITEMS;
    assert!(
        reruns <= running as usize,
        "only the cut-off items ran again: {reruns}"
    );
}
