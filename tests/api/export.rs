//! Exports for fine-tuning, on a known set of conversations made through the HTTP API
//! (chat turns, a regenerated sibling, an app run) with reviews and feedback written
//! straight into the database: each format's exact lines, the filters, consent, the
//! checks, the split, the command and the admin download.

use std::path::Path;

use promptship::export::{Exporter, Options, writer::write_files};
use serde_json::{Value, json};

use crate::{helpers::TestApp, mock_upstream::Scenario, process::binary};

/// A site file like the shipped one, with this data policy.
fn site_with_policy(policy: &str) -> String {
    let site = std::fs::read_to_string("promptship.toml").unwrap();
    assert!(site.contains("data_policy = \"off\""));
    let path = tempfile::tempdir()
        .unwrap()
        .keep()
        .join("site.toml")
        .to_str()
        .unwrap()
        .to_string();
    std::fs::write(
        &path,
        site.replace(
            "data_policy = \"off\"",
            &format!("data_policy = {policy:?}"),
        ),
    )
    .unwrap();
    path
}

async fn spawn(policy: &str) -> TestApp {
    let site = site_with_policy(policy);
    TestApp::spawn_unthrottled(&[("PROMPTSHIP_SITE", &site)]).await
}

/// The known world, by the ids of its answers.
struct World {
    /// Alice's chat: "What is 2+2?" → "Four." (accepted).
    four: i64,
    /// "And 3+3?" → "Six." (rejected), regenerated as "It is six." (edited into
    /// "3+3 is 6.", up-voted, marked preferred).
    six: i64,
    it_is_six: i64,
    /// Alice's translate run → "Hello." (corrected into "Hello there.").
    hello: i64,
    hello_run: String,
}

async fn answer_id(app: &TestApp, content: &str) -> i64 {
    sqlx::query_scalar("SELECT max(id) FROM messages WHERE role = 'assistant' AND content = ?")
        .bind(content)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

async fn review(app: &TestApp, id: i64, state: &str, content: Option<&str>) {
    sqlx::query(
        "INSERT INTO reviews (message_id, state, reason, content, updated_at)
         VALUES (?, ?, ?, ?, 0)",
    )
    .bind(id)
    .bind(state)
    .bind((state == "rejected").then_some("wrong_facts"))
    .bind(content)
    .execute(&app.db)
    .await
    .unwrap();
}

async fn feedback(app: &TestApp, id: i64, rating: Option<i64>, correction: Option<&str>) {
    sqlx::query(
        "INSERT INTO feedback (message_id, rating, correction, created_at, updated_at)
         VALUES (?, ?, ?, 0, 0)",
    )
    .bind(id)
    .bind(rating)
    .bind(correction)
    .execute(&app.db)
    .await
    .unwrap();
}

/// Starts a chat from `client` and returns its page's path.
async fn chat(app: &TestApp, client: &reqwest::Client, question: &str, answer: &str) -> String {
    app.mock.push(Scenario::answer(answer));
    let response = app
        .post_form_as(client, "/conversations", &[("content", question)])
        .await;
    assert_eq!(response.status(), 303);
    response.headers()["location"].to_str().unwrap().to_string()
}

async fn build_world(app: &TestApp) -> World {
    let alice = app.sign_up("alice@example.com").await;
    let page = chat(app, &alice, "What is 2+2?", "Four.").await;
    app.mock.push(Scenario::answer("Six."));
    let sent = app
        .post_form_as(
            &alice,
            &format!("{page}/messages"),
            &[("content", "And 3+3?")],
        )
        .await;
    assert_eq!(sent.status(), 303);
    app.mock.push(Scenario::answer("It is six."));
    let again = app
        .post_form_as(&alice, &format!("{page}/regenerate"), &[])
        .await;
    assert_eq!(again.status(), 303);
    // The same exchange again in a second chat: an exact duplicate of the first example.
    chat(app, &alice, "What is 2+2?", "Four.").await;

    app.mock.push(Scenario::answer("Hello."));
    let run = alice
        .post(app.url("/api/v1/apps/translate/runs"))
        .json(&json!({"text": "안녕하세요", "direction": "ko-en"}))
        .send()
        .await
        .unwrap();
    assert_eq!(run.status(), 200);
    let hello_run = run.json::<Value>().await.unwrap()["run_id"]
        .as_str()
        .unwrap()
        .to_string();

    // Bob keeps his conversations out of datasets.
    let bob = app.sign_up("bob@example.com").await;
    chat(app, &bob, "Bob's question", "Bob's answer.").await;
    sqlx::query("UPDATE users SET data_opt_out = 1 WHERE email = 'bob@example.com'")
        .execute(&app.db)
        .await
        .unwrap();
    // A guest (the app's own browser has no account).
    chat(app, &app.client, "A guest's question", "A guest's answer.").await;

    let world = World {
        four: answer_id(app, "Four.").await,
        six: answer_id(app, "Six.").await,
        it_is_six: answer_id(app, "It is six.").await,
        hello: answer_id(app, "Hello.").await,
        hello_run,
    };
    let first_four: i64 =
        sqlx::query_scalar("SELECT min(id) FROM messages WHERE content = 'Four.'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    review(app, first_four, "accepted", None).await;
    review(app, world.four, "accepted", None).await;
    review(app, world.six, "rejected", None).await;
    review(app, world.it_is_six, "edited", Some("3+3 is 6.")).await;
    feedback(app, world.it_is_six, Some(1), None).await;
    sqlx::query("UPDATE messages SET preferred = 1 WHERE id = ?")
        .bind(world.it_is_six)
        .execute(&app.db)
        .await
        .unwrap();
    feedback(app, world.hello, None, Some("Hello there.")).await;
    let bobs = answer_id(app, "Bob's answer.").await;
    review(app, bobs, "accepted", None).await;
    let guests = answer_id(app, "A guest's answer.").await;
    review(app, guests, "accepted", None).await;
    world
}

/// Runs an export in-process into a fresh folder: its train lines and manifest.
async fn export(
    app: &TestApp,
    format: &str,
    status: Option<&str>,
    only_app: Option<&str>,
    since: Option<&str>,
) -> Result<(Vec<Value>, Value), String> {
    let dir = tempfile::tempdir().unwrap();
    let options =
        Options::parse(format, status, only_app, since, None).map_err(|e| e.to_string())?;
    let exporter =
        Exporter::new(app.db.clone(), &app.state.site, options).map_err(|e| e.to_string())?;
    let manifest = write_files(exporter, dir.path())
        .await
        .map_err(|e| e.to_string())?;
    Ok((
        read_lines(&dir.path().join("train.jsonl")),
        serde_json::to_value(manifest).unwrap(),
    ))
}

fn read_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// The run's stored prompt (its system and user rows), as messages.
async fn run_prompt(app: &TestApp, run: &str) -> Vec<Value> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT role, content FROM messages
         WHERE conversation_id = ? AND role <> 'assistant' ORDER BY id",
    )
    .bind(run)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(rows[0].0, "system", "an app run keeps its system rows");
    rows.into_iter()
        .map(|(role, content)| json!({"role": role, "content": content}))
        .collect()
}

fn with(prompt: &[Value], more: &[Value]) -> Vec<Value> {
    prompt.iter().chain(more).cloned().collect()
}

#[tokio::test]
async fn sft_formats_hold_the_accepted_edited_and_corrected_answers_as_each_tool_reads_them() {
    let app = spawn("all").await;
    let world = build_world(&app).await;
    let system = json!({"role": "system", "content": app.state.site.system_prompt});
    let user = |text: &str| json!({"role": "user", "content": text});
    let assistant = |text: &str| json!({"role": "assistant", "content": text});
    let run = run_prompt(&app, &world.hello_run).await;

    let (lines, manifest) = export(&app, "openai-sft", None, None, None).await.unwrap();
    assert_eq!(
        lines,
        [
            json!({"messages": [system, user("What is 2+2?"), assistant("Four.")]}),
            json!({"messages": [system, user("What is 2+2?"),
                   {"role": "assistant", "content": "Four.", "weight": 0},
                   user("And 3+3?"), assistant("3+3 is 6.")]}),
            json!({"messages": with(&run, &[assistant("Hello there.")])}),
            json!({"messages": [system, user("A guest's question"), assistant("A guest's answer.")]}),
        ]
    );
    assert_eq!(manifest["examples"], 4);
    assert_eq!(manifest["files"], json!({"train.jsonl": 4}));
    assert_eq!(
        manifest["classes"],
        json!({"accepted": 2, "edited": 1, "upvoted": 1, "corrected": 1, "pending": 1})
    );
    assert_eq!(manifest["apps"], json!({"chat": 3, "translate": 1}));
    let version: String = sqlx::query_scalar("SELECT app_version FROM conversations WHERE id = ?")
        .bind(&world.hello_run)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(manifest["prompt_versions"], json!({"translate": [version]}));
    assert_eq!(manifest["skipped"], json!({"duplicate": 1}));
    assert_eq!(
        manifest["filters"],
        json!({"status": ["accepted", "edited", "corrected"], "app": null, "since": null,
               "data_policy": "all", "split": null})
    );
    assert!(manifest["tokens"]["total"].as_u64().unwrap() > 20);
    assert_eq!(manifest["tokens"]["limit"], 16_385);

    let (lines, _) = export(&app, "trl-sft", None, None, None).await.unwrap();
    assert_eq!(
        lines[1],
        json!({"messages": [system, user("What is 2+2?"), assistant("Four."),
               user("And 3+3?"), assistant("3+3 is 6.")]})
    );
    assert_eq!(lines.len(), 4);

    let system_text = app.state.site.system_prompt.clone();
    let (lines, _) = export(&app, "alpaca", None, None, None).await.unwrap();
    assert_eq!(
        lines[1],
        json!({"instruction": "And 3+3?", "input": "", "output": "3+3 is 6.",
               "system": system_text, "history": [["What is 2+2?", "Four."]]})
    );
    assert_eq!(lines[2]["output"], "Hello there.");
    assert_eq!(lines[2]["system"], run[0]["content"]);

    let (lines, _) = export(&app, "sharegpt", None, None, None).await.unwrap();
    assert_eq!(
        lines[1],
        json!({"conversations": [
            {"from": "human", "value": "What is 2+2?"},
            {"from": "gpt", "value": "Four."},
            {"from": "human", "value": "And 3+3?"},
            {"from": "gpt", "value": "3+3 is 6."},
        ], "system": system_text})
    );
    assert_eq!(lines.len(), 4);
}

#[tokio::test]
async fn preference_formats_pair_edits_corrections_preferred_and_rated_siblings() {
    let app = spawn("all").await;
    let world = build_world(&app).await;
    let system = json!({"role": "system", "content": app.state.site.system_prompt});
    let second_turn = json!([system,
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": "Four."},
        {"role": "user", "content": "And 3+3?"}]);
    let run = Value::Array(run_prompt(&app, &world.hello_run).await);
    let assistant = |text: &str| json!([{"role": "assistant", "content": text}]);

    let (lines, manifest) = export(&app, "openai-dpo", None, None, None).await.unwrap();
    assert_eq!(
        lines,
        [
            // The reviewer's edit over the answer it edited.
            json!({"input": {"messages": second_turn}, "preferred_output": assistant("3+3 is 6."),
                   "non_preferred_output": assistant("It is six.")}),
            // The preferred sibling (as edited) over the other; the same pair from the
            // ratings (up-voted over rejected) is a duplicate.
            json!({"input": {"messages": second_turn}, "preferred_output": assistant("3+3 is 6."),
                   "non_preferred_output": assistant("Six.")}),
            // The owner's correction over the original.
            json!({"input": {"messages": run}, "preferred_output": assistant("Hello there."),
                   "non_preferred_output": assistant("Hello.")}),
        ]
    );
    assert_eq!(
        manifest["pairs"],
        json!({"edited": 1, "preferred": 1, "corrected": 1})
    );
    assert_eq!(manifest["skipped"], json!({"duplicate": 1}));
    assert_eq!(manifest["filters"]["status"], Value::Null);

    let (lines, _) = export(&app, "trl-dpo", None, None, None).await.unwrap();
    assert_eq!(
        lines[2],
        json!({"prompt": run, "chosen": assistant("Hello there."),
               "rejected": assistant("Hello.")})
    );
    assert_eq!(lines.len(), 3);

    // Without the preference mark, the ratings make the pair.
    sqlx::query("UPDATE messages SET preferred = 0")
        .execute(&app.db)
        .await
        .unwrap();
    let (_, manifest) = export(&app, "trl-dpo", None, None, None).await.unwrap();
    assert_eq!(
        manifest["pairs"],
        json!({"edited": 1, "rated": 1, "corrected": 1})
    );
}

#[tokio::test]
async fn filters_choose_answers_by_status_app_and_day() {
    let app = spawn("all").await;
    build_world(&app).await;
    let answers = |lines: &[Value]| -> Vec<String> {
        lines
            .iter()
            .map(|l| {
                l["messages"].as_array().unwrap().last().unwrap()["content"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    let (lines, manifest) = export(&app, "trl-sft", Some("rejected,upvoted"), None, None)
        .await
        .unwrap();
    // The rejected answer as written; the up-voted one as its reviewer edited it.
    assert_eq!(answers(&lines), ["Six.", "3+3 is 6."]);
    assert_eq!(
        manifest["filters"]["status"],
        json!(["rejected", "upvoted"])
    );

    let (lines, _) = export(&app, "trl-sft", Some("pending"), None, None)
        .await
        .unwrap();
    assert_eq!(
        answers(&lines),
        ["Hello there."],
        "the corrected run has no review"
    );

    let (lines, _) = export(&app, "trl-sft", None, Some("translate"), None)
        .await
        .unwrap();
    assert_eq!(answers(&lines), ["Hello there."]);
    let (lines, _) = export(&app, "trl-sft", None, Some("chat"), None)
        .await
        .unwrap();
    assert_eq!(answers(&lines), ["Four.", "3+3 is 6.", "A guest's answer."]);

    // Answers are dated by when they were written.
    sqlx::query("UPDATE messages SET created_at = 0 WHERE content = 'Four.'")
        .execute(&app.db)
        .await
        .unwrap();
    let today = app.state.clock.today();
    let (lines, manifest) = export(&app, "trl-sft", None, None, Some(&today))
        .await
        .unwrap();
    assert_eq!(
        answers(&lines),
        ["3+3 is 6.", "Hello there.", "A guest's answer."]
    );
    assert_eq!(manifest["filters"]["since"], today);
    let error = export(&app, "trl-sft", None, None, Some("2999-01-01"))
        .await
        .unwrap_err();
    assert!(error.contains("No answers match"), "{error}");
}

#[tokio::test]
async fn opted_out_users_are_never_exported_and_guests_only_under_all() {
    let app = spawn("accounts").await;
    build_world(&app).await;
    let (lines, manifest) = export(&app, "trl-sft", Some("accepted"), None, None)
        .await
        .unwrap();
    let text = serde_json::to_string(&lines).unwrap();
    assert!(!text.contains("Bob"), "an opted-out user's answer: {text}");
    assert!(
        !text.contains("guest"),
        "a guest's answer under accounts: {text}"
    );
    assert_eq!(lines.len(), 1, "{text}");
    assert_eq!(manifest["filters"]["data_policy"], "accounts");

    // Under `all`, the guest comes in, Bob still not.
    let all = spawn("all").await;
    build_world(&all).await;
    let (lines, _) = export(&all, "trl-sft", Some("accepted"), None, None)
        .await
        .unwrap();
    let text = serde_json::to_string(&lines).unwrap();
    assert!(text.contains("A guest's answer."), "{text}");
    assert!(!text.contains("Bob"), "{text}");

    // A dataset batch's conversation is the operator's own, whoever holds it.
    sqlx::query(
        "INSERT INTO batches (id, name, source, state, concurrency, created_at, updated_at)
         VALUES (1, 'b', 'upload', 'done', 1, 0, 0)",
    )
    .execute(&app.db)
    .await
    .unwrap();
    sqlx::query(
        "UPDATE conversations SET batch_id = 1 WHERE id =
           (SELECT conversation_id FROM messages WHERE content = 'Bob''s answer.')",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let (lines, _) = export(&app, "trl-sft", Some("accepted"), None, None)
        .await
        .unwrap();
    assert!(serde_json::to_string(&lines).unwrap().contains("Bob"));
}

#[tokio::test]
async fn an_example_failing_the_checks_is_skipped_and_counted() {
    let app = spawn("all").await;
    let world = build_world(&app).await;
    // A reviewer's edit that is only blank: no content to learn.
    sqlx::query("UPDATE reviews SET content = '  ' WHERE message_id = ?")
        .bind(world.it_is_six)
        .execute(&app.db)
        .await
        .unwrap();
    let (lines, manifest) = export(&app, "openai-sft", None, None, None).await.unwrap();
    assert_eq!(lines.len(), 3);
    assert_eq!(
        manifest["skipped"],
        json!({"duplicate": 1, "missing_content": 1})
    );
    assert_eq!(manifest["examples"], 3);
}

/// Runs `promptship export ARGS` on the app's database with the app's site file.
fn export_command(app: &TestApp, site: &str, args: &[&str]) -> std::process::Output {
    binary()
        .env("DATABASE_URL", &app.state.config.database_url)
        .env("PROMPTSHIP_SITE", site)
        .arg("export")
        .args(args)
        .output()
        .unwrap()
}

/// An error page's text with the quotes HTML escaping changed put back.
async fn unescaped(response: reqwest::Response) -> String {
    response
        .text()
        .await
        .unwrap()
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn the_command_splits_by_a_hash_of_each_example_and_writes_the_manifest_and_dataset_info() {
    let app = spawn("all").await;
    build_world(&app).await;
    let site = site_with_policy("all");
    let dir = tempfile::tempdir().unwrap();
    let mut splits = Vec::new();
    for name in ["a", "b"] {
        let out = dir.path().join(name);
        let output = export_command(
            &app,
            &site,
            &[
                "--format",
                "sharegpt",
                "--split",
                "0.5",
                "--out",
                out.to_str().unwrap(),
            ],
        );
        assert!(output.status.success(), "{}", text(&output.stderr));
        assert!(text(&output.stdout).contains("4 examples written"));
        let train = read_lines(&out.join("train.jsonl"));
        let validation = read_lines(&out.join("validation.jsonl"));
        assert_eq!(train.len() + validation.len(), 4);
        let manifest: Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap())
                .unwrap();
        assert_eq!(
            manifest["files"],
            json!({"train.jsonl": train.len(), "validation.jsonl": validation.len()})
        );
        assert_eq!(manifest["filters"]["split"], 0.5);
        let info: Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("dataset_info.json")).unwrap())
                .unwrap();
        assert_eq!(
            info["promptship_sharegpt_validation"],
            json!({"file_name": "validation.jsonl", "formatting": "sharegpt",
                   "columns": {"messages": "conversations", "system": "system"}})
        );
        splits.push((train, validation));
    }
    assert_eq!(
        splits[0], splits[1],
        "the same examples land in the same file"
    );

    // Never over an earlier export.
    let again = export_command(
        &app,
        &site,
        &[
            "--format",
            "sharegpt",
            "--out",
            dir.path().join("a").to_str().unwrap(),
        ],
    );
    assert!(!again.status.success());
    assert!(text(&again.stderr).contains("already exists"));
}

#[tokio::test]
async fn the_command_refuses_when_the_policy_is_off_or_nothing_matches_and_writes_nothing() {
    let app = spawn("all").await;
    build_world(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let off = export_command(
        &app,
        &site_with_policy("off"),
        &["--format", "openai-sft", "--out", out.to_str().unwrap()],
    );
    assert!(!off.status.success());
    assert!(
        text(&off.stderr).contains("data_policy is off in promptship.toml: nothing is exported; set it to \"accounts\" or \"all\""),
        "{}",
        text(&off.stderr)
    );
    let none = export_command(
        &app,
        &site_with_policy("all"),
        &[
            "--format",
            "openai-sft",
            "--app",
            "summarize",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(!none.status.success());
    assert!(
        text(&none.stderr).contains("No answers match this export"),
        "{}",
        text(&none.stderr)
    );
    let bad = export_command(&app, &site_with_policy("all"), &["--format", "csv"]);
    assert!(text(&bad.stderr).contains("Unknown format \"csv\""));
    assert!(
        !out.exists(),
        "an export with nothing in it made its folder"
    );
}

#[tokio::test]
async fn the_admin_downloads_the_export_streamed_as_an_attachment() {
    let app = spawn("all").await;
    build_world(&app).await;
    let admin = app.admin().await;

    let response = admin
        .get(app.url("/admin/export?format=trl-sft&status=accepted,edited&app=&since="))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"promptship-trl-sft-"),
        "{headers:?}"
    );
    assert!(
        headers.get("content-length").is_none(),
        "streamed, not buffered"
    );
    assert_eq!(headers["content-type"], "application/jsonl; charset=utf-8");
    let body = response.text().await.unwrap();
    let lines: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{body}");
    assert_eq!(lines[1]["messages"][4]["content"], "3+3 is 6.");

    let manifest: Value = admin
        .get(app.url("/admin/export/manifest?format=trl-sft&status=accepted,edited"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(manifest["examples"], 3);
    assert_eq!(manifest["skipped"], json!({"duplicate": 1}));

    // The admin page has the form.
    let page = admin.get(app.url("/admin")).send().await.unwrap();
    assert!(
        page.text()
            .await
            .unwrap()
            .contains(r#"action="/admin/export""#)
    );

    // Bad settings say what to fix; nothing matching says so instead of an empty file.
    for (query, expected) in [
        ("format=xml", "Unknown format \"xml\""),
        ("format=trl-sft&status=great", "Unknown status \"great\""),
        ("format=trl-sft&since=yesterday", "YYYY-MM-DD"),
        (
            "format=trl-sft&app=summarize",
            "No answers match this export",
        ),
    ] {
        let response = admin
            .get(app.url(&format!("/admin/export?{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 422, "{query}");
        let page = unescaped(response).await;
        assert!(page.contains(expected), "{query}: {page}");
    }

    // Admins only.
    let someone = app.sign_up("someone@example.com").await;
    let response = someone
        .get(app.url("/admin/export?format=trl-sft"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let response = app.get("/admin/export/manifest?format=trl-sft").await;
    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn the_admin_download_is_refused_while_the_policy_is_off() {
    let app = spawn("off").await;
    let admin = app.admin().await;
    let response = admin
        .get(app.url("/admin/export?format=openai-sft"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 409);
    assert!(
        unescaped(response)
            .await
            .contains("data_policy is off in promptship.toml")
    );
    let page = admin.get(app.url("/admin")).send().await.unwrap();
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("Nothing can be exported")
    );
}
