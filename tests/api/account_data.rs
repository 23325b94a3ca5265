//! Settings → Your data: the download holds exactly the user's rows (another user's
//! planted beside them, and more than a page of each list), and deleting the account
//! removes everything theirs, logs them out everywhere and leaves the admin's totals as
//! they were. The last admin cannot leave.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use sqlx::SqlitePool;

use crate::{
    helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD, TestApp, http_client},
    security::database_rows,
};

/// Gives `client`'s account a chat whose answer was regenerated (two siblings), an app
/// run, feedback on the first answer, a share of the chat, and an API key; returns the
/// key.
async fn fill(app: &TestApp, client: &reqwest::Client, email: &str) -> String {
    let conversation = app.create_conversation_as(client).await;
    let answer = app
        .send_streaming_as(client, &conversation, &format!("{email} asks"))
        .await;
    assert_eq!(answer.status(), 200);
    crate::helpers::read_events(answer).await;
    let again = app
        .post_form_as(
            client,
            &format!("/conversations/{conversation}/regenerate"),
            &[],
        )
        .await;
    assert_eq!(again.status(), 303);
    let run = client
        .post(app.url("/api/v1/apps/translate/runs"))
        .json(&json!({"text": "안녕하세요", "direction": "ko-en"}))
        .send()
        .await
        .unwrap();
    assert_eq!(run.status(), 200, "{:?}", run.text().await);
    let first_answer: i64 = sqlx::query_scalar(
        "SELECT min(id) FROM messages WHERE conversation_id = ? AND role = 'assistant'",
    )
    .bind(&conversation)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let feedback = client
        .put(app.url(&format!("/api/v1/messages/{first_answer}/feedback")))
        .json(&json!({"rating": "down", "tags": ["wrong_facts"], "correction": "Better."}))
        .send()
        .await
        .unwrap();
    assert!(feedback.status().is_success(), "{}", feedback.status());
    sqlx::query(
        "INSERT INTO shares (token, conversation_id, title, snapshot, created_at, updated_at)
         VALUES (?, ?, 'shared', '[]', 1, 2)",
    )
    .bind(format!("token-of-{email}"))
    .bind(&conversation)
    .execute(&app.db)
    .await
    .unwrap();
    let user_id = app.user_id(email).await;
    let key = promptship::auth::api_key::generate();
    promptship::db::api_keys::insert_api_key(&app.db, user_id, "laptop", &key.prefix, &key.hash)
        .await
        .unwrap();
    key.key
}

/// More than a page of each list the download reads in pages: 520 conversations, each
/// with a question and a share, and one with 520 answers, each with feedback.
async fn fill_in_bulk(db: &SqlitePool, user_id: i64) {
    let mut tx = db.begin().await.unwrap();
    for i in 0..520 {
        let id = format!("bulk-{user_id}-{i:04}");
        sqlx::query(
            "INSERT INTO conversations (id, title, created_at, updated_at, user_id)
             VALUES (?, 'bulk', 0, 0, ?)",
        )
        .bind(&id)
        .bind(user_id)
        .execute(&mut *tx)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO messages (conversation_id, role, content, status, created_at, updated_at)
             VALUES (?, 'user', 'q', 'complete', 0, 0)",
        )
        .bind(&id)
        .execute(&mut *tx)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO shares (token, conversation_id, title, snapshot, created_at, updated_at)
             VALUES (?, ?, 'bulk', '[]', 0, 0)",
        )
        .bind(format!("bulk-token-{user_id}-{i}"))
        .bind(&id)
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    let long = format!("long-{user_id}");
    sqlx::query(
        "INSERT INTO conversations (id, title, created_at, updated_at, user_id)
         VALUES (?, 'long', 0, 0, ?)",
    )
    .bind(&long)
    .bind(user_id)
    .execute(&mut *tx)
    .await
    .unwrap();
    for _ in 0..520 {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO messages (conversation_id, role, content, status, created_at, updated_at)
             VALUES (?, 'assistant', 'a', 'complete', 0, 0) RETURNING id",
        )
        .bind(&long)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO feedback (message_id, rating, created_at, updated_at) VALUES (?, 1, 0, 0)",
        )
        .bind(id)
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
}

/// A dataset batch run owned by the user (as an admin's batch runs are): the operator's
/// data, neither downloaded nor deleted with the account.
async fn plant_batch_run(db: &SqlitePool, user_id: i64) -> String {
    let batch: i64 = sqlx::query_scalar(
        "INSERT INTO batches (name, source, state, concurrency, created_by, created_at, updated_at)
         VALUES ('b', 'upload', 'done', 1, ?, 0, 0) RETURNING id",
    )
    .bind(user_id)
    .fetch_one(db)
    .await
    .unwrap();
    let id = format!("batch-run-{user_id}");
    sqlx::query(
        "INSERT INTO conversations (id, title, created_at, updated_at, user_id, batch_id)
         VALUES (?, 'batch run', 0, 0, ?, ?)",
    )
    .bind(&id)
    .bind(user_id)
    .bind(batch)
    .execute(db)
    .await
    .unwrap();
    id
}

async fn strings(db: &SqlitePool, sql: &str, user_id: i64) -> BTreeSet<String> {
    sqlx::query_scalar::<_, String>(sql)
        .bind(user_id)
        .fetch_all(db)
        .await
        .unwrap()
        .into_iter()
        .collect()
}

async fn numbers(db: &SqlitePool, sql: &str, user_id: i64) -> BTreeSet<i64> {
    sqlx::query_scalar::<_, i64>(sql)
        .bind(user_id)
        .fetch_all(db)
        .await
        .unwrap()
        .into_iter()
        .collect()
}

const CONVERSATIONS: &str = "SELECT id FROM conversations WHERE user_id = ? AND batch_id IS NULL";
const MESSAGES: &str =
    "SELECT m.id FROM messages m JOIN conversations c ON c.id = m.conversation_id
                        WHERE c.user_id = ? AND c.batch_id IS NULL";
const FEEDBACK: &str = "SELECT f.message_id FROM feedback f
                        JOIN messages m ON m.id = f.message_id
                        JOIN conversations c ON c.id = m.conversation_id
                        WHERE c.user_id = ? AND c.batch_id IS NULL";
const SHARES: &str = "SELECT s.token FROM shares s JOIN conversations c ON c.id = s.conversation_id
                      WHERE c.user_id = ?";
const KEYS: &str = "SELECT id FROM api_keys WHERE user_id = ?";

fn ids_of(list: &Value, field: &str) -> BTreeSet<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|item| match &item[field] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}

fn as_strings(numbers: &BTreeSet<i64>) -> BTreeSet<String> {
    numbers.iter().map(i64::to_string).collect()
}

#[tokio::test]
async fn the_download_holds_exactly_my_rows_and_none_of_another_users() {
    let app = TestApp::spawn_unthrottled(&[]).await;
    let me = app.sign_up("me@example.com").await;
    let other = app.sign_up("other@example.com").await;
    let my_id = app.user_id("me@example.com").await;
    let other_id = app.user_id("other@example.com").await;
    fill(&app, &me, "me@example.com").await;
    fill(&app, &other, "other@example.com").await;
    fill_in_bulk(&app.db, my_id).await;
    fill_in_bulk(&app.db, other_id).await;
    let batch_run = plant_batch_run(&app.db, my_id).await;

    let response = me
        .get(app.url("/settings/data/export"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let today = app.state.clock.today();
    assert_eq!(
        response.headers()["content-disposition"],
        format!("attachment; filename=\"promptship-data-{today}.json\"").as_str()
    );
    assert_eq!(
        response.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    assert_eq!(response.headers()["cache-control"], "no-store");
    // Streamed as it is read: the length is not known in advance.
    assert!(response.headers().get("content-length").is_none());
    let text = response.text().await.unwrap();
    let file: Value = serde_json::from_str(&text).expect("the file is one JSON document");

    assert_eq!(file["account"]["email"], "me@example.com");
    assert_eq!(file["account"]["id"], my_id);
    assert_eq!(file["account"]["role"], "user");
    assert_eq!(file["usage_today"]["day"], today.as_str());
    let my_calls: i64 =
        sqlx::query_scalar("SELECT count(*) FROM usage WHERE user_id = ? AND day = ?")
            .bind(my_id)
            .bind(&today)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(my_calls >= 3, "a chat, a regenerate and a run");
    assert_eq!(file["usage_today"]["requests"], my_calls);

    let conversations = &file["conversations"];
    let mine = strings(&app.db, CONVERSATIONS, my_id).await;
    assert_eq!(
        mine.len(),
        523,
        "the chat, the run, 520 in bulk and the long one"
    );
    assert_eq!(ids_of(conversations, "id"), mine);
    assert!(!ids_of(conversations, "id").contains(&batch_run));
    let messages: BTreeSet<String> = conversations
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["messages"].as_array().unwrap().iter())
        .map(|m| m["id"].to_string())
        .collect();
    assert_eq!(
        messages,
        as_strings(&numbers(&app.db, MESSAGES, my_id).await)
    );
    // The regenerated chat keeps both answers, marked as siblings of one question.
    let chat = conversations
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["title"] != "bulk" && c["title"] != "long" && c["app"].is_null())
        .unwrap();
    let answers: Vec<&Value> = chat["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "assistant")
        .collect();
    assert_eq!(answers.len(), 2);
    assert_eq!(answers[0]["reply_to"], answers[1]["reply_to"]);
    let run = conversations
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["app"] == "translate")
        .expect("the app run");
    assert_eq!(run["app_input"]["text"], "안녕하세요");

    let feedback = numbers(&app.db, FEEDBACK, my_id).await;
    assert_eq!(feedback.len(), 521);
    assert_eq!(
        ids_of(&file["feedback"], "message_id"),
        as_strings(&feedback)
    );
    let corrected = file["feedback"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["correction"] == "Better.")
        .unwrap();
    assert_eq!(corrected["tags"], json!(["wrong_facts"]));

    let shares = strings(&app.db, SHARES, my_id).await;
    assert_eq!(shares.len(), 521);
    let links = ids_of(&file["shares"], "link");
    let expected: BTreeSet<String> = shares
        .iter()
        .map(|token| format!("{}/s/{token}", app.address))
        .collect();
    assert_eq!(links, expected);

    assert_eq!(
        ids_of(&file["api_keys"], "id"),
        as_strings(&numbers(&app.db, KEYS, my_id).await)
    );
    assert!(!text.contains("key_hash") && !text.contains("password"));
    let hash: String = sqlx::query_scalar("SELECT key_hash FROM api_keys WHERE user_id = ?")
        .bind(my_id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(!text.contains(&hash), "never a key's hash");
    assert!(!text.contains("other@example.com") && !text.contains("token-of-other"));
}

#[tokio::test]
async fn guests_have_no_data_page_nor_download() {
    let app = TestApp::spawn().await;
    app.create_conversation().await;
    for path in ["/settings/data", "/settings/data/export"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 303, "{path}");
        assert_eq!(response.headers()["location"], "/login", "{path}");
    }
    let response = app
        .post_form("/settings/account/delete", &[("password", PASSWORD)])
        .await;
    assert_eq!(response.headers()["location"], "/login");
}

#[tokio::test]
async fn the_settings_page_links_to_the_data_page_which_shows_both_actions() {
    let app = TestApp::spawn_unthrottled(&[]).await;
    let user = app.sign_up("reader@example.com").await;
    let keys = app.text_as(&user, "/settings/keys").await;
    assert!(keys.contains(r#"href="/settings/data""#), "{keys}");
    let page = app.text_in(&user, "/settings/data", "ko").await;
    assert!(page.contains(r#"href="/settings/data/export""#));
    assert!(page.contains(r#"action="/settings/account/delete""#));
    assert!(page.contains("계정 삭제하기"), "in Korean");
}

/// The admin page's sums of the ledger: today's and the window's figures, and the table
/// by day.
async fn admin_totals(app: &TestApp, admin: &reqwest::Client) -> Vec<String> {
    let page = app.text_as(admin, "/admin").await;
    let between = |from: &str, to: &str| {
        let start = page.find(from).unwrap_or_else(|| panic!("no {from}"));
        let end = start + page[start..].find(to).unwrap();
        page[start..end].to_string()
    };
    let figures = |html: &str| -> Vec<String> {
        html.split("<strong>")
            .skip(1)
            .take(4)
            .map(|s| s.split("</strong>").next().unwrap().to_string())
            .collect()
    };
    let mut totals = figures(&between(r#"id="today""#, "<h3>By user"));
    totals.extend(figures(&between(r#"id="last-30-days""#, "<h3>By day")));
    totals.push(between("<h3>By day", "<h3>By app"));
    totals.push(between("<h3>By guest address", r#"id="last-30-days""#));
    totals
}

async fn sessions_holding(db: &SqlitePool, password_hash: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM tower_sessions WHERE instr(data, ?) > 0")
        .bind(password_hash.as_bytes())
        .fetch_one(db)
        .await
        .unwrap()
}

#[tokio::test]
async fn deleting_my_account_removes_everything_mine_and_keeps_the_admin_totals() {
    let app = TestApp::spawn_unthrottled(&[]).await;
    let admin = app.admin().await;
    let alice = app.sign_up("alice@example.com").await;
    let phone = http_client();
    assert_eq!(
        app.log_in(&phone, "alice@example.com", PASSWORD)
            .await
            .status(),
        303
    );
    let bob = app.sign_up("bob@example.com").await;
    let alice_key = fill(&app, &alice, "alice@example.com").await;
    fill(&app, &bob, "bob@example.com").await;
    let alice_id = app.user_id("alice@example.com").await;
    let bob_id = app.user_id("bob@example.com").await;
    // Alice reviewed one of Bob's answers: the decision stays, without her name.
    let bobs_answer: i64 = sqlx::query_scalar(
        "SELECT max(m.id) FROM messages m JOIN conversations c ON c.id = m.conversation_id
         WHERE c.user_id = ? AND m.role = 'assistant'",
    )
    .bind(bob_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO reviews (message_id, state, reviewed_by, reviewed_at, updated_at)
         VALUES (?, 'accepted', ?, 0, 0)",
    )
    .bind(bobs_answer)
    .bind(alice_id)
    .execute(&app.db)
    .await
    .unwrap();
    let alice_hash: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = ?")
        .bind(alice_id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    let bob_hash: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = ?")
        .bind(bob_id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(
        sessions_holding(&app.db, &alice_hash).await,
        2,
        "two devices"
    );
    assert_eq!(sessions_holding(&app.db, &bob_hash).await, 1);
    // A call that cost enough to show on the admin page.
    app.record_usage(Some(alice_id), 1_000, 1_234_500).await;
    let alice_usage: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM usage WHERE user_id = ? ORDER BY id")
            .bind(alice_id)
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert!(alice_usage.len() >= 3);
    let bobs_rows = (
        strings(&app.db, CONVERSATIONS, bob_id).await.len(),
        numbers(&app.db, MESSAGES, bob_id).await.len(),
        numbers(&app.db, KEYS, bob_id).await.len(),
        strings(&app.db, SHARES, bob_id).await,
        numbers(&app.db, FEEDBACK, bob_id).await,
    );
    let totals = admin_totals(&app, &admin).await;
    assert!(totals.iter().any(|t| t == "$1.2345"), "{totals:?}");

    // A wrong password deletes nothing.
    let before = database_rows(&app.db).await;
    let refused = app
        .post_form_as(
            &alice,
            "/settings/account/delete",
            &[("password", "not my password")],
        )
        .await;
    assert_eq!(refused.status(), 422);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("That is not your password: nothing was deleted.")
    );
    assert!(database_rows(&app.db).await == before, "nothing changed");

    let deleted = app
        .post_form_as(
            &alice,
            "/settings/account/delete",
            &[("password", PASSWORD)],
        )
        .await;
    assert_eq!(deleted.status(), 200);
    assert!(
        deleted
            .text()
            .await
            .unwrap()
            .contains("Your account is deleted")
    );

    // Everything hers is gone.
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE id = ?")
        .bind(alice_id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(users, 0);
    for (what, sql) in [
        (
            "conversations",
            "SELECT count(*) FROM conversations WHERE user_id = ?1",
        ),
        (
            "API keys",
            "SELECT count(*) FROM api_keys WHERE user_id = ?1",
        ),
        (
            "devices",
            "SELECT count(*) FROM login_devices WHERE user_id = ?1",
        ),
        (
            "messages",
            "SELECT count(*) FROM messages WHERE conversation_id NOT IN (SELECT id FROM conversations)",
        ),
        (
            "feedback",
            "SELECT count(*) FROM feedback WHERE message_id NOT IN (SELECT id FROM messages)",
        ),
        (
            "shares",
            "SELECT count(*) FROM shares WHERE token = 'token-of-alice@example.com'",
        ),
    ] {
        let left: i64 = sqlx::query_scalar(sql)
            .bind(alice_id)
            .fetch_one(&app.db)
            .await
            .unwrap();
        assert_eq!(left, 0, "{what} left");
    }
    assert_eq!(sessions_holding(&app.db, &alice_hash).await, 0);
    assert_eq!(sessions_holding(&app.db, &bob_hash).await, 1);

    // Logged out everywhere; her key and password open nothing.
    for client in [&alice, &phone] {
        let response = client.get(app.url("/settings/keys")).send().await.unwrap();
        assert_eq!(response.status(), 303);
        assert_eq!(response.headers()["location"], "/login");
    }
    let models = reqwest::Client::new()
        .get(app.url("/v1/models"))
        .bearer_auth(&alice_key)
        .send()
        .await
        .unwrap();
    assert_eq!(models.status(), 401);
    assert_eq!(
        app.log_in(&http_client(), "alice@example.com", PASSWORD)
            .await
            .status(),
        401
    );

    // The ledger keeps her calls, anonymised and counted against no one.
    let kept: Vec<(i64, String)> = sqlx::query_as(
        "SELECT id, json_array(user_id, ip, counted, message_id) FROM usage
         WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id",
    )
    .bind(serde_json::to_string(&alice_usage).unwrap())
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(kept.len(), alice_usage.len());
    for (id, row) in kept {
        // No user, no address, no message, counted against no one.
        assert_eq!(row, r#"[null,"",0,null]"#, "ledger entry {id}");
    }
    assert_eq!(admin_totals(&app, &admin).await, totals, "the admin's sums");

    // Bob's data and Alice's review of it are untouched.
    assert_eq!(
        (
            strings(&app.db, CONVERSATIONS, bob_id).await.len(),
            numbers(&app.db, MESSAGES, bob_id).await.len(),
            numbers(&app.db, KEYS, bob_id).await.len(),
            strings(&app.db, SHARES, bob_id).await,
            numbers(&app.db, FEEDBACK, bob_id).await,
        ),
        bobs_rows
    );
    let review: (String, Option<i64>) =
        sqlx::query_as("SELECT state, reviewed_by FROM reviews WHERE message_id = ?")
            .bind(bobs_answer)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(review, ("accepted".into(), None));
    let page = bob.get(app.url("/settings/keys")).send().await.unwrap();
    assert_eq!(page.status(), 200, "Bob is still logged in");

    // The email is free again, for a new and empty account.
    let again = app.sign_up("alice@example.com").await;
    let list = app.list_conversations_as(&again).await;
    assert_eq!(list["data"], json!([]));
}

#[tokio::test]
async fn the_last_admin_cannot_delete_their_account() {
    let app = TestApp::spawn_unthrottled(&[]).await;
    let admin = app.admin().await;
    let refused = app
        .post_form_as(
            &admin,
            "/settings/account/delete",
            &[("password", ADMIN_PASSWORD)],
        )
        .await;
    assert_eq!(refused.status(), 409);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("You are the only admin: make someone else admin first")
    );
    let admins: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE email = ?")
        .bind(ADMIN_EMAIL)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(admins, 1);

    // With a second admin, the first may go; then the second is the last.
    let second = app.sign_up("second@example.com").await;
    let second_id = app.user_id("second@example.com").await;
    let made = app
        .post_form_as(&admin, &format!("/admin/users/{second_id}/make-admin"), &[])
        .await;
    assert_eq!(made.status(), 303);
    let deleted = app
        .post_form_as(
            &admin,
            "/settings/account/delete",
            &[("password", ADMIN_PASSWORD)],
        )
        .await;
    assert_eq!(deleted.status(), 200);
    let refused = app
        .post_form_as(
            &second,
            "/settings/account/delete",
            &[("password", PASSWORD)],
        )
        .await;
    assert_eq!(refused.status(), 409);
}
