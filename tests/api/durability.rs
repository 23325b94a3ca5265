//! Durability (RELIABILITY.md checks 35, 38 and 40): the SQLite settings of every pooled
//! connection, transactions that take the write lock before they read, upgrades from
//! every earlier schema with data in it, and many writers at once.

use std::{
    collections::{BTreeMap, HashMap},
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use futures_util::future::BoxFuture;
use promptship::{
    AppState,
    config::{Config, Site},
    db::MIGRATOR,
};
use serde_json::{Value, json};
use sqlx::{
    SqlitePool,
    migrate::{Migration, MigrationSource, Migrator},
};

use crate::{
    helpers::{TestApp, done_answer, http_client, read_events},
    mock_upstream::{MockUpstream, Scenario, words},
};

// ---------------------------------------------------------------------------------------
// Check 35: pragmas and BEGIN IMMEDIATE

/// Connections held at once: each pooled connection runs the pragmas when it opens, so
/// one connection says nothing about the next.
const CONNECTIONS: usize = 4;

#[tokio::test]
async fn every_pooled_connection_runs_in_wal_with_normal_sync_foreign_keys_and_a_busy_timeout() {
    let app = TestApp::spawn().await;
    let mut connections = Vec::new();
    for _ in 0..CONNECTIONS {
        connections.push(app.db.acquire().await.unwrap());
    }
    assert!(app.db.size() as usize >= CONNECTIONS);
    for (i, conn) in connections.iter_mut().enumerate() {
        let journal_mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut **conn)
            .await
            .unwrap();
        let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&mut **conn)
            .await
            .unwrap();
        let foreign_keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(&mut **conn)
            .await
            .unwrap();
        let busy_timeout: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
            .fetch_one(&mut **conn)
            .await
            .unwrap();
        assert_eq!(journal_mode, "wal", "connection {i}");
        // 1 is NORMAL: durable against a process crash in WAL mode (src/db/mod.rs says why).
        assert_eq!(synchronous, 1, "connection {i}");
        assert_eq!(foreign_keys, 1, "connection {i}");
        assert_eq!(busy_timeout, 5000, "connection {i}");
    }
}

/// The lines of `source` that open a deferred transaction, with their numbers. A
/// deferred transaction that reads and then writes fails with SQLITE_BUSY at once when
/// another writer got there first, whatever the busy timeout: the only allowed form is
/// `begin_with("BEGIN IMMEDIATE")`.
fn deferred_transactions(source: &str) -> Vec<(usize, &str)> {
    const ALLOWED: &str = r#"begin_with("BEGIN IMMEDIATE")"#;
    source
        .lines()
        .enumerate()
        .filter(|(_, line)| {
            let code = line.trim_start();
            if code.starts_with("//") {
                return false;
            }
            // sqlx's `begin()` (on a pool, a connection or `Acquire`) and `transaction()`
            // both send a plain BEGIN.
            if code.contains(".begin()")
                || code.contains("::begin(")
                || code.contains(".transaction(")
            {
                return true;
            }
            // SQL on a line of its own in a multi-line string.
            let word_after = |text: &str, word: &str| {
                text.as_bytes()
                    .get(..word.len())
                    .is_some_and(|start| start.eq_ignore_ascii_case(word.as_bytes()))
                    && !text[word.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_')
            };
            if code.starts_with("BEGIN") && word_after(code, "BEGIN") {
                return true;
            }
            // Any string literal that starts with BEGIN, unless it is the allowed call.
            code.match_indices('"').any(|(at, _)| {
                word_after(code[at + 1..].trim_start(), "begin")
                    && !(code[..at].ends_with("begin_with(")
                        && code[at..].starts_with(&ALLOWED["begin_with(".len()..]))
            })
        })
        .map(|(i, line)| (i + 1, line))
        .collect()
}

fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

#[test]
fn every_transaction_in_the_source_begins_immediate() {
    // The scan recognises each deferred form, and passes the allowed one and prose.
    for bad in [
        "let mut tx = state.db.begin().await?;",
        "let mut tx = conn.begin().await?;",
        "let tx = sqlx::Connection::begin(&mut conn).await?;",
        "let tx = sqlx::Acquire::begin(&db).await?;",
        r#"let tx = db.begin_with("BEGIN").await?;"#,
        r#"let tx = db.begin_with("BEGIN DEFERRED").await?;"#,
        r#"let tx = db.begin_with("begin transaction").await?;"#,
        r#"sqlx::query("BEGIN").execute(&mut *conn).await?;"#,
        r#"sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;"#,
        r#"sqlx::raw_sql(" begin; UPDATE t SET x = 1; COMMIT").execute(db).await?;"#,
        "        BEGIN;",
        "conn.transaction(|tx| Box::pin(async move { Ok(()) })).await?;",
    ] {
        assert_eq!(deferred_transactions(bad).len(), 1, "not caught: {bad}");
    }
    for good in [
        r#"let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;"#,
        "// a comment may say .begin() or \"BEGIN\"",
        "/// as may a doc comment: \"BEGIN DEFERRED\"",
        r#"let beginning = "beginning of the answer";"#,
        r#"tracing::info!("Beginning the backup");"#,
    ] {
        assert_eq!(deferred_transactions(good), vec![], "{good}");
    }

    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    assert!(files.len() > 20, "src/ has only {} .rs files", files.len());
    let mut offences = Vec::new();
    let mut immediate = 0;
    for file in &files {
        let source = std::fs::read_to_string(file).unwrap();
        immediate += source.matches(r#"begin_with("BEGIN IMMEDIATE")"#).count();
        for (line, code) in deferred_transactions(&source) {
            let file = file.strip_prefix(root).unwrap().display();
            offences.push(format!("{file}:{line}: {}", code.trim()));
        }
    }
    assert!(
        offences.is_empty(),
        "deferred transactions (use `begin_with(\"BEGIN IMMEDIATE\")`):\n{}",
        offences.join("\n")
    );
    assert!(
        immediate >= 3,
        "only {immediate} BEGIN IMMEDIATE found in src/"
    );
}

// ---------------------------------------------------------------------------------------
// Check 40: upgrades keep data

/// The first `count` migrations compiled into the binary: a database as an older release
/// left it. The full `MIGRATOR` later sees them as applied, checksums and all.
#[derive(Debug)]
struct FirstMigrations(usize);

impl MigrationSource<'static> for FirstMigrations {
    fn resolve(self) -> BoxFuture<'static, Result<Vec<Migration>, sqlx::error::BoxDynError>> {
        let migrations = MIGRATOR.iter().take(self.0).cloned().collect();
        Box::pin(async move { Ok(migrations) })
    }
}

/// Columns (`table.column`) a migration fills from the rows already there, so that they
/// do not hold their default after an upgrade; each with the reason.
const BACKFILLED: &[(&str, &str)] = &[(
    "messages.reply_to",
    "20261204000001: every answer already there answers the user message before it",
)];

/// Rows a release with the schema of `version` could have written, in every state its
/// code knew. Later migrations' tables start empty here: when a migration adds a table or
/// a column, add rows for it under its version.
async fn insert_rows_of(db: &SqlitePool, version: i64) {
    let sql = match version {
        // conversations and messages, before accounts: an answer in each status, one
        // left `streaming` by a crash, hostile text kept byte for byte.
        20261128000001 => {
            "INSERT INTO conversations (id, title, created_at, updated_at) VALUES
                ('c-old-1', 'Before accounts 🌍 ' || char(8238) || ' txet', 1700000000000, 1700000006000),
                ('c-old-2', 'Cut off by a crash', 1700000010000, 1700000011000);
             INSERT INTO messages (id, conversation_id, role, content, status, error, model,
                                   prompt_tokens, completion_tokens, first_token_ms,
                                   duration_ms, created_at, updated_at) VALUES
                (1, 'c-old-1', 'user', 'Hello\r\nthere', 'complete', NULL, NULL,
                 NULL, NULL, NULL, NULL, 1700000000000, 1700000000000),
                (2, 'c-old-1', 'assistant', '**Hi** <script>alert(1)</script>', 'complete', NULL,
                 'gpt-4o-mini', 17, 9, 120, 900, 1700000001000, 1700000002000),
                (3, 'c-old-1', 'user', 'And again?', 'complete', NULL, NULL,
                 NULL, NULL, NULL, NULL, 1700000003000, 1700000003000),
                (4, 'c-old-1', 'assistant', '', 'failed', 'The model server is unavailable.',
                 'gpt-4o-mini', NULL, NULL, NULL, 30, 1700000003100, 1700000003200),
                (5, 'c-old-1', 'user', 'Once more', 'complete', NULL, NULL,
                 NULL, NULL, NULL, NULL, 1700000004000, 1700000004000),
                (6, 'c-old-1', 'assistant', 'Half an ans', 'interrupted', 'You stopped this answer.',
                 'gpt-4o-mini', 17, 3, 100, 400, 1700000005000, 1700000006000),
                (7, 'c-old-2', 'user', 'A long question', 'complete', NULL, NULL,
                 NULL, NULL, NULL, NULL, 1700000010000, 1700000010000),
                (8, 'c-old-2', 'assistant', 'What had arr', 'streaming', NULL,
                 'gpt-4o-mini', NULL, NULL, 150, NULL, 1700000010100, 1700000011000);"
        }
        // accounts, owners, invites, the usage ledger and settings.
        20261128000002 => {
            "INSERT INTO users (id, email, password_hash, role, disabled, daily_token_budget,
                                created_at) VALUES
                (1, 'owner@example.com', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA',
                 'admin', 0, NULL, 1700000020000),
                (2, 'Someone@Example.com', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdDI$aGFzaDI',
                 'user', 1, 5000, 1700000021000);
             INSERT INTO conversations (id, title, created_at, updated_at, user_id, guest_id)
             VALUES
                ('c-user', 'Mine', 1700000022000, 1700000023000, 1, NULL),
                ('c-guest', 'A guest''s', 1700000024000, 1700000025000, NULL, 'guest-1');
             INSERT INTO messages (id, conversation_id, role, content, status, model,
                                   created_at, updated_at) VALUES
                (9, 'c-user', 'user', 'Question', 'complete', NULL, 1700000022000, 1700000022000),
                (10, 'c-user', 'assistant', 'Answer', 'complete', 'gpt-4o-mini',
                 1700000022100, 1700000023000),
                (11, 'c-guest', 'user', 'Guest question', 'complete', NULL,
                 1700000024000, 1700000024000),
                (12, 'c-guest', 'assistant', 'Part', 'streaming', 'gpt-4o-mini',
                 1700000024100, 1700000025000);
             INSERT INTO invites (code, created_by, used_by, created_at, used_at) VALUES
                ('invite-used', 1, 2, 1700000020500, 1700000021000),
                ('invite-open', 1, NULL, 1700000020600, NULL);
             INSERT INTO usage (id, day, user_id, guest_id, ip, message_id, model,
                                prompt_tokens, completion_tokens, cost_microusd, status,
                                counted, duration_ms, created_at) VALUES
                (1, '2023-11-14', 1, NULL, '192.0.2.1', 10, 'gpt-4o-mini', 17, 9, 8,
                 'complete', 1, 900, 1700000023000),
                (2, '2023-11-14', NULL, 'guest-1', '2001:db8::1', 12, 'gpt-4o-mini', 17, 1024,
                 620, 'reserved', 1, NULL, 1700000024100),
                (3, '2023-11-14', 2, NULL, '192.0.2.2', NULL, 'gpt-4o-mini', 30, 2, 3,
                 'interrupted', 0, 200, 1700000025000),
                (4, '2023-11-14', 2, NULL, '192.0.2.2', NULL, 'gpt-4o-mini', 30, 0, 0,
                 'failed', 1, 10, 1700000026000);
             INSERT INTO settings (key, value) VALUES ('paused', '0'), ('signup_mode', 'invite');"
        }
        // the project's API keys: one in use, one revoked.
        20261128000003 => {
            "INSERT INTO api_keys (id, user_id, name, prefix, key_hash, created_at,
                                   last_used_at, revoked_at) VALUES
                (1, 1, 'laptop', 'ps_abcd1234',
                 'a3f1c9e0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e8b0d2f4a6',
                 1700000030000, 1700000031000, NULL),
                (2, 1, 'old ''script''', 'ps_efgh5678',
                 'b4f2d0e1c3a5b7d9e1f3a5c7e9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7',
                 1700000032000, NULL, 1700000033000);"
        }
        // Feedback, a review with its audit trail, and a dataset batch with its items.
        20261204000001 => {
            "INSERT INTO feedback (message_id, rating, tags, comment, correction, created_at,
                                   updated_at) VALUES
                (2, -1, 'wrong_facts too_long', 'Not \"hi\"', 'Hello! 👋', 1700000040000,
                 1700000041000);
             INSERT INTO reviews (message_id, state, reason, content, claimed_by, claimed_until,
                                  reviewed_by, reviewed_at, updated_at) VALUES
                (2, 'edited', NULL, 'Hi.', NULL, NULL, 1, 1700000042000, 1700000042000);
             INSERT INTO review_events (id, message_id, reviewer_id, from_state, to_state,
                                        reason, before, after, created_at) VALUES
                (1, 2, 1, 'pending', 'edited', NULL, '**Hi**', 'Hi.', 1700000042000);
             INSERT INTO batches (id, name, app, source, seed, state, reason, resume_at,
                                  concurrency, created_by, created_at, updated_at) VALUES
                (1, 'greetings', NULL, 'upload', NULL, 'paused', 'The budget is spent.',
                 1700000090000, 2, 1, 1700000050000, 1700000051000);
             INSERT INTO batch_items (id, batch_id, position, input, state, conversation_id,
                                      error, updated_at) VALUES
                (1, 1, 1, '{\"message\": \"hi\"}', 'done', 'c-old-1', NULL, 1700000052000),
                (2, 1, 2, '{\"message\": \"안녕\"}', 'pending', NULL, NULL, 1700000052000);"
        }
        // A share link of an account's conversation, pinned to the showcase, and a
        // guest's, with Korean in its title and snapshot.
        20261205000001 => {
            "INSERT INTO shares (id, token, conversation_id, title, snapshot, created_at,
                                 updated_at, pinned_at) VALUES
                (1, 'q1Lk9xVb3mNp0RsTuWyZ2A', 'c-user', 'Mine',
                 '{\"messages\": [{\"role\": \"user\", \"content\": \"Question\"},
                   {\"role\": \"assistant\", \"content\": \"Answer\"}], \"excerpt\": \"Answer\"}',
                 1700000060000, 1700000061000, 1700000062000),
                (2, 'Zz-_0123456789abcdefgh', 'c-guest', '손님의 대화',
                 '{\"messages\": [], \"excerpt\": \"\"}', 1700000063000, 1700000063000, NULL);"
        }
        _ => return,
    };
    sqlx::raw_sql(sql)
        .execute(db)
        .await
        .unwrap_or_else(|e| panic!("rows of migration {version}: {e}"));
}

/// One table's rows as JSON arrays of the given columns, in rowid order.
async fn rows(db: &SqlitePool, table: &str, columns: &[String]) -> Vec<String> {
    let columns: Vec<String> = columns.iter().map(|c| format!("\"{c}\"")).collect();
    sqlx::query_scalar(&format!(
        "SELECT json_array({}) FROM \"{table}\" ORDER BY rowid",
        columns.join(", ")
    ))
    .fetch_all(db)
    .await
    .unwrap()
}

/// Every table but the migrations' bookkeeping, with its columns (name, default).
async fn tables(db: &SqlitePool) -> BTreeMap<String, Vec<(String, Option<String>)>> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_schema
         WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != '_sqlx_migrations'",
    )
    .fetch_all(db)
    .await
    .unwrap();
    let mut tables = BTreeMap::new();
    for name in names {
        let columns =
            sqlx::query_as("SELECT name, dflt_value FROM pragma_table_info(?) ORDER BY cid")
                .bind(&name)
                .fetch_all(db)
                .await
                .unwrap();
        tables.insert(name, columns);
    }
    tables
}

/// Every row of every table, as JSON arrays of its columns.
async fn all_rows(db: &SqlitePool) -> BTreeMap<String, Vec<String>> {
    let mut all = BTreeMap::new();
    for (table, columns) in tables(db).await {
        let names: Vec<String> = columns.into_iter().map(|(name, _)| name).collect();
        all.insert(table.clone(), rows(db, &table, &names).await);
    }
    all
}

/// The migrations' bookkeeping, in full.
async fn applied_migrations(db: &SqlitePool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT json_array(version, description, installed_on, success, hex(checksum),
                           execution_time)
         FROM _sqlx_migrations ORDER BY version",
    )
    .fetch_all(db)
    .await
    .unwrap()
}

/// The schema as SQLite keeps it: every table, index and trigger with its SQL.
async fn schema(db: &SqlitePool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT json_array(type, name, tbl_name, sql) FROM sqlite_schema ORDER BY type, name",
    )
    .fetch_all(db)
    .await
    .unwrap()
}

/// Upgrades a database made by the first `applied` migrations, with rows in it, to the
/// latest schema, and checks that nothing was lost or changed.
async fn upgrade_from(applied: usize, mock: &MockUpstream) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("upgrade.db").display());
    let db = promptship::db::connect(&url).await.unwrap();
    Migrator::new(FirstMigrations(applied))
        .await
        .unwrap()
        .run(&db)
        .await
        .unwrap();
    for migration in MIGRATOR.iter().take(applied) {
        insert_rows_of(&db, migration.version).await;
    }
    let before_tables = tables(&db).await;
    let before_rows = all_rows(&db).await;
    let before_applied = applied_migrations(&db).await;
    let at = format!("upgrading from {applied} migration(s)");
    assert_eq!(before_applied.len(), applied, "{at}");
    let expected_messages = if applied >= 2 { 12 } else { 8 };
    assert_eq!(before_rows["messages"].len(), expected_messages, "{at}");

    promptship::db::migrate(&db).await.unwrap();

    // Every row is there with the same values; each column added since holds its default.
    let after_tables = tables(&db).await;
    for (table, columns) in &before_tables {
        let names: Vec<String> = columns.iter().map(|(name, _)| name.clone()).collect();
        let after_columns = after_tables
            .get(table)
            .unwrap_or_else(|| panic!("{at}: the table {table} is gone"));
        let after_rows = rows(&db, table, &names).await;
        let before = &before_rows[table];
        let changed: Vec<_> = before
            .iter()
            .zip(&after_rows)
            .filter(|(before, after)| before != after)
            .collect();
        assert!(
            changed.is_empty() && after_rows.len() == before.len(),
            "{at}: {} rows of {table} before, {} after; changed (before, after): {changed:#?}",
            before.len(),
            after_rows.len()
        );
        for (column, default) in after_columns {
            let qualified = format!("{table}.{column}");
            if names.contains(column) || BACKFILLED.iter().any(|(c, _)| *c == qualified) {
                continue;
            }
            let default = default.as_deref().unwrap_or("NULL");
            let other: i64 = sqlx::query_scalar(&format!(
                "SELECT COUNT(*) FROM \"{table}\" WHERE \"{column}\" IS NOT ({default})"
            ))
            .fetch_one(&db)
            .await
            .unwrap();
            assert_eq!(
                other, 0,
                "{at}: {table}.{column} is not its default {default} on old rows \
                 (if a migration fills it, list it in BACKFILLED)"
            );
        }
    }
    if applied == 1 {
        let unowned: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM conversations WHERE user_id IS NULL AND guest_id IS NULL",
        )
        .fetch_one(&db)
        .await
        .unwrap();
        assert_eq!(
            unowned, 2,
            "{at}: conversations from before accounts have no owner"
        );
    }

    // The migrations already applied were not run again; every one is recorded once.
    let after_applied = applied_migrations(&db).await;
    assert_eq!(after_applied[..applied], before_applied[..], "{at}");
    let versions: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(&db)
            .await
            .unwrap();
    let expected: Vec<i64> = MIGRATOR.iter().map(|m| m.version).collect();
    assert_eq!(versions, expected, "{at}");

    // Running the migrations again changes nothing.
    let schema_once = schema(&db).await;
    let rows_once = all_rows(&db).await;
    promptship::db::migrate(&db).await.unwrap();
    assert_eq!(applied_migrations(&db).await, after_applied, "{at}: re-run");
    assert_eq!(schema(&db).await, schema_once, "{at}: re-run");
    assert_eq!(all_rows(&db).await, rows_once, "{at}: re-run");
    db.close().await;

    // The app starts on the upgraded file and marks the answers a crash left streaming
    // as interrupted, keeping what had arrived.
    let env: HashMap<&str, String> = HashMap::from([
        ("DATABASE_URL", url),
        ("OPENAI_BASE_URL", mock.base_url.clone()),
        ("OPENAI_API_KEY", "sk-test-secret-key".into()),
    ]);
    let config = Config::from_lookup(|name| env.get(name).cloned()).unwrap();
    let state = AppState::build(config, Site::load(None).unwrap())
        .await
        .unwrap_or_else(|e| panic!("{at}: the app did not start: {e:#}"));
    let answers: Vec<(i64, String, String, Option<String>)> = sqlx::query_as(
        "SELECT id, status, content, error FROM messages WHERE id IN (8, 12) ORDER BY id",
    )
    .fetch_all(&state.db)
    .await
    .unwrap();
    assert_eq!(answers.len(), if applied >= 2 { 2 } else { 1 }, "{at}");
    for (id, status, content, error) in answers {
        assert_eq!(status, "interrupted", "{at}: message {id}");
        assert!(
            !content.is_empty(),
            "{at}: message {id} lost what had arrived"
        );
        assert!(
            error.is_some_and(|e| e.contains("restarted")),
            "{at}: message {id}"
        );
    }
    let messages: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages")
        .fetch_one(&state.db)
        .await
        .unwrap();
    assert_eq!(messages as usize, before_rows["messages"].len(), "{at}");
    state.db.close().await;
}

#[tokio::test]
async fn upgrading_from_every_earlier_schema_keeps_every_row_and_a_rerun_changes_nothing() {
    let mock = MockUpstream::start().await;
    let count = MIGRATOR.iter().count();
    assert!(count >= 4, "only {count} migrations");
    // From the first schema to the latest, where the upgrade itself is a no-op.
    for applied in 1..=count {
        upgrade_from(applied, &mock).await;
    }
}

// ---------------------------------------------------------------------------------------
// Check 38: concurrent writers

/// Guests writing at once, each through its own browser.
const WRITERS: usize = 200;

/// One guest in this many deletes its conversation at the end.
const DELETE_EVERY: usize = 4;

/// One guest's session: create a conversation, rename it, ask and read the whole answer,
/// read the conversation back, and (one in `DELETE_EVERY`) delete it. Returns each step
/// with the status it got and, for the message, how the answer ended.
async fn write_as_a_guest(address: String, writer: usize) -> Vec<(&'static str, u16, String)> {
    let client = http_client();
    let url = |path: &str| format!("{address}{path}");
    let mut steps = Vec::new();
    let created = client
        .post(url("/api/v1/conversations"))
        .json(&json!({ "title": format!("Writer {writer}") }))
        .send()
        .await
        .unwrap();
    let status = created.status().as_u16();
    let body = created.text().await.unwrap();
    steps.push(("create", status, body.clone()));
    let Some(id) = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|body| body["id"].as_str().map(str::to_string))
    else {
        return steps;
    };
    let conversation = url(&format!("/api/v1/conversations/{id}"));

    let renamed = client
        .patch(&conversation)
        .json(&json!({ "title": format!("Renamed {writer}") }))
        .send()
        .await
        .unwrap();
    steps.push((
        "rename",
        renamed.status().as_u16(),
        renamed.text().await.unwrap(),
    ));

    let sent = client
        .post(format!("{conversation}/messages"))
        .header("accept", "text/event-stream")
        .json(&json!({ "content": format!("Question {writer}") }))
        .send()
        .await
        .unwrap();
    let status = sent.status().as_u16();
    if status == 200 {
        let events = read_events(sent).await;
        let answer = done_answer(&events);
        steps.push((
            "message",
            status,
            answer["status"].as_str().unwrap_or_default().to_string(),
        ));
    } else {
        steps.push(("message", status, sent.text().await.unwrap()));
    }

    let read = client.get(&conversation).send().await.unwrap();
    let status = read.status().as_u16();
    let body: Value = read.json().await.unwrap_or_default();
    let title = body["title"].as_str().unwrap_or_default();
    let messages = body["messages"].as_array().map_or(0, Vec::len);
    steps.push(("read", status, format!("{title}: {messages} messages")));

    if writer.is_multiple_of(DELETE_EVERY) {
        let deleted = client.delete(&conversation).send().await.unwrap();
        steps.push((
            "delete",
            deleted.status().as_u16(),
            deleted.text().await.unwrap(),
        ));
    }
    steps
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_guests_writing_at_once_get_no_server_error_and_no_conflict() {
    let app = TestApp::spawn_unthrottled(&[
        ("GUEST_DAILY_MESSAGES", "100000"),
        ("GUEST_DAILY_TOKENS", "100000000"),
        ("GLOBAL_DAILY_TOKENS", "1000000000"),
        ("GLOBAL_DAILY_USD", "100000"),
        // Limits that are coming; unknown variables are ignored until then.
        ("WRITE_RATE_PER_MINUTE", "100000"),
        ("GUESTS_PER_HOUR", "100000"),
        ("GUEST_MAX_CONVERSATIONS", "100000"),
    ])
    .await;
    for _ in 0..WRITERS {
        app.mock.push(Scenario::Answer {
            words: words("Saved while two hundred others wrote."),
            delay: Duration::ZERO,
        });
    }

    let started = Instant::now();
    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| tokio::spawn(write_as_a_guest(app.address.clone(), writer)))
        .collect();
    let mut steps = Vec::new();
    for writer in writers {
        steps.extend(writer.await.unwrap());
    }
    let elapsed = started.elapsed();

    // Any status other than the step's success is a failure; 5xx (SQLITE_BUSY surfaces
    // as a 500) and 409 (the test never sends two messages to one conversation at once)
    // are counted apart, since they are what this check is about.
    let server_errors: Vec<_> = steps
        .iter()
        .filter(|(_, status, _)| *status >= 500)
        .collect();
    let conflicts: Vec<_> = steps
        .iter()
        .filter(|(_, status, _)| *status == 409)
        .collect();
    assert!(
        server_errors.is_empty(),
        "{} server errors, the first: {:?}",
        server_errors.len(),
        &server_errors[..server_errors.len().min(3)]
    );
    assert!(
        conflicts.is_empty(),
        "{} conflicts, the first: {:?}",
        conflicts.len(),
        &conflicts[..conflicts.len().min(3)]
    );
    let expected = |step: &str| match step {
        "create" => 201,
        "delete" => 204,
        _ => 200,
    };
    let refused: Vec<_> = steps
        .iter()
        .filter(|(step, status, _)| *status != expected(step))
        .collect();
    assert!(
        refused.is_empty(),
        "{} refused, the first: {:?}",
        refused.len(),
        &refused[..refused.len().min(3)]
    );
    let count = |name: &str| steps.iter().filter(|(step, _, _)| *step == name).count();
    assert_eq!(count("message"), WRITERS);
    assert_eq!(count("delete"), WRITERS.div_ceil(DELETE_EVERY));
    for (step, _, outcome) in &steps {
        match *step {
            "message" => assert_eq!(outcome, "complete", "an answer did not complete"),
            "read" => assert!(
                outcome.starts_with("Renamed ") && outcome.ends_with(": 2 messages"),
                "{outcome}"
            ),
            _ => {}
        }
    }

    // What the database holds matches what the guests were told.
    assert_eq!(app.mock.posts(), WRITERS);
    let conversations: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM conversations")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(
        conversations as usize,
        WRITERS - WRITERS.div_ceil(DELETE_EVERY)
    );
    let complete: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM messages WHERE role = 'assistant' AND status = 'complete'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(complete as usize, WRITERS - WRITERS.div_ceil(DELETE_EVERY));
    eprintln!(
        "{WRITERS} guests, {} requests in {elapsed:.2?}",
        steps.len()
    );
}
