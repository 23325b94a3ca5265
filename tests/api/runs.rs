//! Prompt apps over HTTP: the API (`/api/v1/apps`), the pages (`/apps`), and everything
//! that guards a chat guarding a run — against the shipped apps in `apps/` and the mock
//! upstream.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::{
    helpers::{TestApp, error_message, http_client, read_events},
    mock_upstream::Scenario,
};

/// A valid answer of `apps/extract.prompt`.
fn extracted() -> Value {
    json!({"fields": [
        {"name": "name", "value": "Mina Park", "found": true},
        {"name": "email", "value": "mina.park@example.com", "found": true},
        {"name": "phone", "value": "", "found": false},
        {"name": "company", "value": "", "found": false}
    ]})
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn run(app: &TestApp, name: &str, input: Value) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/apps/{name}/runs")))
        .json(&input)
        .send()
        .await
        .unwrap()
}

async fn conversations(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM conversations")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_apps_are_listed_with_their_schemas() {
    let app = TestApp::spawn().await;
    let response = app.get("/api/v1/apps").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let apps = body["data"].as_array().unwrap();
    let names: Vec<&str> = apps.iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["extract", "image", "interview", "summarize", "translate"]
    );
    let translate = &apps[4];
    assert_eq!(translate["output_schema"], Value::Null);
    assert_eq!(translate["input_schema"]["type"], "object");
    assert!(translate["input_schema"]["properties"]["text"].is_object());
    let extract = &apps[0];
    assert_eq!(extract["output_schema"]["additionalProperties"], false);
    let file = std::fs::read("apps/extract.prompt").unwrap();
    assert_eq!(extract["version"], hex_sha256(&file));
}

#[tokio::test]
async fn a_text_run_sends_the_rendered_prompt_and_is_saved_as_a_tagged_conversation() {
    let app = TestApp::spawn().await;
    app.mock.push(Scenario::answer("Hello, how are you?"));
    let response = run(
        &app,
        "translate",
        json!({"text": "안녕하세요, 잘 지내세요?", "direction": "ko-en"}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["output"], "Hello, how are you?");
    assert_eq!(body["status"], "complete");
    let run_id = body["run_id"].as_str().unwrap();

    // What went upstream: the app's rendered messages and settings.
    let sent = &app.mock.requests()[0];
    assert_eq!(sent["temperature"], 0.2);
    assert_eq!(sent["max_tokens"], 1024);
    let messages = sent["messages"].as_array().unwrap();
    assert_eq!(messages[0]["role"], "system");
    let user = messages.last().unwrap();
    assert_eq!(user["role"], "user");
    assert!(
        user["content"]
            .as_str()
            .unwrap()
            .contains("안녕하세요, 잘 지내세요?")
    );
    assert!(sent.get("response_format").is_none());

    // The run is a conversation tagged with the app and the file's exact version, and
    // its ledger entry names the app.
    let (tag, version, input): (String, String, String) =
        sqlx::query_as("SELECT app, app_version, app_input FROM conversations WHERE id = ?")
            .bind(run_id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(tag, "translate");
    assert_eq!(
        version,
        hex_sha256(&std::fs::read("apps/translate.prompt").unwrap())
    );
    assert_eq!(
        serde_json::from_str::<Value>(&input).unwrap()["text"],
        "안녕하세요, 잘 지내세요?"
    );
    app.state.meter.flush().await;
    let ledger_app: String = sqlx::query_scalar("SELECT app FROM usage")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(ledger_app, "translate");
}

#[tokio::test]
async fn an_input_that_breaks_the_schema_lists_every_field_and_calls_nothing() {
    let app = TestApp::spawn().await;
    let response = run(
        &app,
        "translate",
        json!({"direction": "sideways", "tone": 3, "extra": true}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    let fields: Vec<&str> = body["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    for field in ["text", "direction", "tone"] {
        assert!(fields.contains(&field), "{field} missing from {body}");
    }
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("problems"),
        "{body}"
    );
    assert_eq!(app.mock.posts(), 0);
    assert_eq!(conversations(&app).await, 0);
}

#[tokio::test]
async fn an_unknown_app_is_404_and_an_oversized_input_413() {
    let app = TestApp::spawn_with(&[("MAX_MESSAGE_CHARS", "200")]).await;
    let response = run(&app, "nope", json!({})).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.get("/apps/nope").await.status(), StatusCode::NOT_FOUND);

    let response = run(&app, "translate", json!({"text": "가".repeat(300)})).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(error_message(response).await.contains("limit is 200"));
    assert_eq!(app.mock.posts(), 0);
    assert_eq!(conversations(&app).await, 0);
}

#[tokio::test]
async fn a_structured_run_asks_for_strict_json_and_answers_the_parsed_value() {
    let app = TestApp::spawn().await;
    app.mock.push(Scenario::answer(&extracted().to_string()));
    let response = run(
        &app,
        "extract",
        json!({"text": "Mina Park <mina.park@example.com>"}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["output"], extracted());

    let sent = &app.mock.requests()[0];
    let format = &sent["response_format"];
    assert_eq!(format["type"], "json_schema");
    assert_eq!(format["json_schema"]["name"], "extract");
    assert_eq!(format["json_schema"]["strict"], true);
    assert_eq!(
        format["json_schema"]["schema"]["properties"]["fields"]["type"],
        "array"
    );
    assert_eq!(sent["temperature"], 0.0);
}

#[tokio::test]
async fn an_answer_that_breaks_the_output_schema_is_kept_as_invalid_output_never_as_a_result() {
    let app = TestApp::spawn().await;
    // Valid JSON, wrong shape: `found` is missing and `value` is a number.
    app.mock.push(Scenario::answer(
        r#"{"fields": [{"name": "name", "value": 7}]}"#,
    ));
    let response = run(&app, "extract", json!({"text": "Mina"})).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "invalid_output");
    assert_eq!(body["output"], Value::Null, "never shown as a result");
    let message = body["error"].as_str().unwrap();
    assert!(message.contains("did not follow"), "{message}");

    let (status, content): (String, String) =
        sqlx::query_as("SELECT status, content FROM messages WHERE role = 'assistant'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(status, "invalid_output");
    assert!(
        content.contains(r#""value": 7"#),
        "the answer is kept: {content}"
    );

    // The run's page shows the error and no result.
    let run_id: String = sqlx::query_scalar("SELECT id FROM conversations")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let page = app.get(&format!("/apps/extract/runs/{run_id}")).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("did not follow"), "{html}");
    assert!(
        !html.contains("<dl"),
        "an invalid answer is never shown as a result"
    );
}

#[tokio::test]
async fn a_run_streams_as_server_sent_events() {
    let app = TestApp::spawn().await;
    app.mock.push(Scenario::answer("one two three"));
    let response = app
        .client
        .post(app.url("/api/v1/apps/translate/runs"))
        .header("accept", "text/event-stream")
        .json(&json!({"text": "하나 둘 셋"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let events = read_events(response).await;
    assert_eq!(events[0].event, "start");
    let run_id = events[0].json()["run_id"].as_str().unwrap().to_string();
    let text: String = events
        .iter()
        .filter(|e| e.event == "delta")
        .map(|e| e.json()["content"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(text, "one two three");
    let done = events.last().unwrap();
    assert_eq!(done.event, "done");
    assert_eq!(done.json()["output"], "one two three");
    assert_eq!(done.json()["run_id"], run_id);
}

#[tokio::test]
async fn a_run_belongs_to_its_owner_alone() {
    let app = TestApp::spawn().await;
    let response = run(&app, "translate", json!({"text": "비밀"})).await;
    let run_id = response.json::<Value>().await.unwrap()["run_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        app.get(&format!("/apps/translate/runs/{run_id}"))
            .await
            .status(),
        StatusCode::OK
    );
    let stranger = http_client();
    for path in [
        format!("/apps/translate/runs/{run_id}"),
        format!("/api/v1/conversations/{run_id}"),
        format!("/conversations/{run_id}"),
    ] {
        let response = stranger.get(app.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    // Nor under another app's name.
    assert_eq!(
        app.get(&format!("/apps/extract/runs/{run_id}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn parallel_runs_cannot_overspend_a_guest_allowance() {
    let app = TestApp::spawn_unthrottled(&[("GUEST_DAILY_MESSAGES", "2")]).await;
    for _ in 0..6 {
        app.mock.push(Scenario::Answer {
            words: vec!["slow ".into(), "answer".into()],
            delay: Duration::from_millis(100),
        });
    }
    // One guest session, six runs at once.
    app.get("/apps").await;
    run(&app, "translate", json!({"text": "첫"})).await;
    let runs = (0..5).map(|_| run(&app, "translate", json!({"text": "동시에"})));
    let statuses: Vec<StatusCode> = futures_util::future::join_all(runs)
        .await
        .iter()
        .map(|r| r.status())
        .collect();
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((ok, refused), (1, 4), "{statuses:?}");
    assert_eq!(app.mock.posts(), 2);
}

#[tokio::test]
async fn the_kill_switch_stops_runs_before_the_model_is_called() {
    let app = TestApp::spawn().await;
    app.pause_in_database().await;
    app.reload_budgets().await;
    let response = run(&app, "translate", json!({"text": "안녕"})).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key("retry-after"));
    assert_eq!(app.mock.posts(), 0);
    assert_eq!(conversations(&app).await, 0);
}

#[tokio::test]
async fn a_follow_up_in_chat_goes_on_under_the_apps_instructions() {
    let app = TestApp::spawn().await;
    let response = run(&app, "translate", json!({"text": "감사합니다"})).await;
    let run_id = response.json::<Value>().await.unwrap()["run_id"]
        .as_str()
        .unwrap()
        .to_string();
    let events = app.chat(&run_id, "Now make it more formal.").await;
    assert_eq!(events.last().unwrap().event, "done");
    let sent = &app.mock.requests()[1];
    let messages = sent["messages"].as_array().unwrap();
    assert_eq!(messages[0]["role"], "system");
    let system = messages[0]["content"].as_str().unwrap();
    assert!(
        system.contains("translat"),
        "the app's instructions: {system}"
    );
    assert!(!system.contains("helpful, concise assistant"), "{system}");
    assert_eq!(
        messages.last().unwrap()["content"],
        "Now make it more formal."
    );
}

// ---------------------------------------------------------------------------------
// Pages

#[tokio::test]
async fn the_gallery_and_an_apps_form_are_built_from_the_files() {
    let app = TestApp::spawn().await;
    let html = app.get("/apps").await.text().await.unwrap();
    for name in ["summarize", "translate", "interview", "extract", "image"] {
        assert!(html.contains(&format!("href=\"/apps/{name}\"")), "{name}");
    }
    assert!(html.contains("Translate Korean ↔ English"));
    // Korean visitors see the apps' Korean titles (`promptship.title_ko`).
    let korean = crate::helpers::http_client()
        .get(app.url("/apps"))
        .header("accept-language", "ko")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(korean.contains("한영 번역"), "{korean}");

    let html = app.get("/apps/translate").await.text().await.unwrap();
    assert!(
        html.contains(r#"<textarea id="field-text" name="text""#),
        "{html}"
    );
    assert!(html.contains(r#"<select id="field-direction" name="direction""#));
    assert!(
        html.contains(r#"<option value="ko-en" selected>"#),
        "the default"
    );
    // The sample fills the form.
    let html = app
        .get("/apps/translate?sample")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("서울"), "{html}");
}

#[tokio::test]
async fn a_form_with_problems_comes_back_with_each_fields_message_and_its_values() {
    let app = TestApp::spawn().await;
    let response = app
        .post_form(
            "/apps/translate/runs",
            &[("text", ""), ("direction", "ko-en"), ("tone", "shouting")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(html.contains(r#"id="error-text""#), "{html}");
    assert!(html.contains(r#"id="error-tone""#), "{html}");
    assert_eq!(app.mock.posts(), 0);
    assert_eq!(conversations(&app).await, 0);
}

#[tokio::test]
async fn without_javascript_a_run_waits_and_redirects_to_its_result() {
    let app = TestApp::spawn().await;
    app.mock.push(Scenario::answer(&extracted().to_string()));
    let response = app
        .post_form(
            "/apps/extract/runs",
            &[
                ("text", "Mina Park <mina.park@example.com>"),
                ("kind", "contact"),
                ("fields", "name\nemail\n\nphone\ncompany"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/apps/extract/runs/"), "{location}");
    let html = app.get(&location).await.text().await.unwrap();
    // Readable HTML and the JSON to copy.
    assert!(html.contains("<table"), "{html}");
    assert!(html.contains("mina.park@example.com"));
    assert!(html.contains("Copy JSON"));
    assert!(html.contains("Continue in chat"));
    // The form keeps the run's input, the list one item per line.
    assert!(html.contains("name\nemail\nphone\ncompany"), "{html}");
    // What went upstream: the blank line of the list was dropped.
    let user = app.mock.requests()[0]["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(user.contains("phone"), "{user}");
}

#[tokio::test]
async fn with_htmx_a_run_streams_its_result_into_the_page() {
    let app = TestApp::spawn().await;
    app.mock.push(Scenario::answer("Thank you very much."));
    let response = app
        .post_htmx("/apps/translate/runs", &[("text", "정말 감사합니다")])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let events = read_events(response).await;
    assert!(events[0].data.contains("data-stream"), "{:?}", events[0]);
    assert_eq!(events[1].event, "run");
    assert!(events[1].data.starts_with("/apps/translate/runs/"));
    let deltas: String = events
        .iter()
        .filter(|e| e.event == "delta")
        .map(|e| serde_json::from_str::<String>(&e.data).unwrap())
        .collect();
    assert_eq!(deltas, "Thank you very much.");
    let last = events.last().unwrap();
    assert!(
        last.data.contains("<p>Thank you very much.</p>"),
        "{last:?}"
    );
    assert!(last.data.contains("Continue in chat"));
}

#[tokio::test]
async fn the_openapi_document_types_each_app() {
    let app = TestApp::spawn().await;
    let document: Value = app.get("/api/openapi.json").await.json().await.unwrap();
    let extract = &document["paths"]["/api/v1/apps/extract/runs"]["post"];
    assert_eq!(extract["operationId"], "run_extract");
    let input = &extract["requestBody"]["content"]["application/json"]["schema"];
    assert!(input["properties"]["text"].is_object(), "{input}");
    let output = &extract["responses"]["200"]["content"]["application/json"]["schema"]["properties"]
        ["output"]["anyOf"][0];
    assert!(output["properties"]["fields"].is_object(), "{output}");
    assert!(document["paths"]["/api/v1/apps"]["get"].is_object());
}

#[tokio::test]
async fn the_site_file_can_make_an_app_the_home_page() {
    let dir = tempfile::tempdir().unwrap();
    let site = std::fs::read_to_string("promptship.toml").unwrap().replace(
        "image_model = \"gpt-image-1\"",
        "image_model = \"gpt-image-1\"\nhome_app = \"translate\"",
    );
    let path = dir.path().join("site.toml");
    std::fs::write(&path, site).unwrap();
    let app = TestApp::spawn_with(&[("PROMPTSHIP_SITE", path.to_str().unwrap())]).await;
    let home = app.get("/").await.text().await.unwrap();
    assert!(home.contains(r#"data-app="translate""#), "{home}");
    // The chat is still there.
    let chat = app.get("/chat").await.text().await.unwrap();
    assert!(chat.contains(r#"id="composer""#));
}

/// Writes `apps/NAME.prompt` in `dir`: a text app titled `title`.
fn write_app(dir: &std::path::Path, name: &str, title: &str, body: &str) {
    std::fs::write(
        dir.join(format!("{name}.prompt")),
        format!(
            "---\ninput:\n  schema:\n    text: string\npromptship.title: {title}\n---\n{body}\n"
        ),
    )
    .unwrap();
}

async fn titles(app: &TestApp) -> Vec<String> {
    let body: Value = app.get("/api/v1/apps").await.json().await.unwrap();
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_debug_build_follows_edits_and_keeps_the_last_good_apps_on_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    write_app(dir.path(), "notes", "Notes", "Summarize: {{text}}");
    let app = TestApp::spawn_with(&[("APPS_DIR", dir.path().to_str().unwrap())]).await;
    assert_eq!(titles(&app).await, ["Notes"]);

    // A good edit is served within a second or so.
    write_app(
        dir.path(),
        "notes",
        "Study notes",
        "Summarize briefly: {{text}}",
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while titles(&app).await != ["Study notes"] {
        assert!(
            std::time::Instant::now() < deadline,
            "the edit was not picked up"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A bad edit: the last good version keeps serving and the pages say what is wrong.
    write_app(dir.path(), "notes", "Broken", "Summarize: {{txet}}");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let html = app.get("/apps").await.text().await.unwrap();
        if html.contains("app-problem") {
            assert!(html.contains("notes.prompt"), "{html}");
            assert!(html.contains("txet"), "{html}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the bad edit was not reported"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(titles(&app).await, ["Study notes"]);
    app.mock.push(Scenario::answer("ok"));
    let response = run(&app, "notes", json!({"text": "photosynthesis"})).await;
    assert_eq!(response.status(), StatusCode::OK);
    let sent = app.mock.requests()[0]["messages"][0]["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(sent, "Summarize briefly: photosynthesis");
}

// ---------------------------------------------------------------------------------
// Image apps

#[tokio::test]
async fn an_image_run_stores_the_picture_serves_it_and_prices_it() {
    let app = TestApp::spawn().await;
    let png = crate::mock_upstream::png(16, 16);
    app.mock.push(Scenario::Image { png: png.clone() });
    let response = run(
        &app,
        "image",
        json!({"prompt": "a lighthouse at dawn", "style": "watercolor"}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "complete", "{body}");
    let path = body["output"].as_str().unwrap();
    assert_eq!(path, format!("/images/{}", hex_sha256(&png)));

    // What went to the Images API: the rendered prompt, the image model, the size.
    let sent = &app.mock.requests()[0];
    assert_eq!(sent["model"], "gpt-image-1");
    assert_eq!(sent["size"], "1024x1024");
    let prompt = sent["prompt"].as_str().unwrap();
    assert!(prompt.contains("a lighthouse at dawn") && prompt.contains("watercolor"));

    // Served from our origin, by content hash, cached for good.
    let picture = app.get(path).await;
    assert_eq!(picture.status(), StatusCode::OK);
    assert_eq!(picture.headers()["content-type"], "image/png");
    assert_eq!(
        picture.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(picture.headers()["x-content-type-options"], "nosniff");
    assert_eq!(picture.bytes().await.unwrap().as_ref(), png.as_slice());
    assert_eq!(
        app.get(&format!("/images/{}", "0".repeat(64)))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/images/../../etc").await.status(),
        StatusCode::NOT_FOUND
    );

    // Priced per picture ([prices] "gpt-image-1" = { image = 0.042 }).
    app.state.meter.flush().await;
    let (model, cost, tag): (String, i64, String) =
        sqlx::query_as("SELECT model, cost_microusd, app FROM usage")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!((model.as_str(), tag.as_str()), ("gpt-image-1", "image"));
    assert_eq!(cost, 42_000);

    // The run's page shows it; deleting the run deletes it.
    let run_id = body["run_id"].as_str().unwrap();
    let html = app
        .get(&format!("/apps/image/runs/{run_id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains(&format!("<img src=\"{path}\"")), "{html}");
    let deleted = app
        .client
        .delete(app.url(&format!("/api/v1/conversations/{run_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.get(path).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_response_that_is_not_an_image_is_refused_with_a_clear_message_and_costs_no_picture() {
    let app = TestApp::spawn().await;
    app.mock.push(Scenario::NotAnImage);
    let response = run(&app, "image", json!({"prompt": "a cat"})).await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "failed", "{body}");
    assert_eq!(body["output"], Value::Null);
    assert!(
        body["error"].as_str().unwrap().contains("not a picture"),
        "{body}"
    );
    let images: i64 = sqlx::query_scalar("SELECT count(*) FROM images")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(images, 0);
    app.state.meter.flush().await;
    let cost: i64 = sqlx::query_scalar("SELECT cost_microusd FROM usage")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(cost, 0, "a failed call makes no picture");
}

#[tokio::test]
async fn the_admin_page_shows_what_each_app_spent() {
    let app = TestApp::spawn_unthrottled(&[]).await;
    run(&app, "translate", json!({"text": "하나"})).await;
    run(&app, "translate", json!({"text": "둘"})).await;
    app.chat(&app.create_conversation().await, "hello").await;
    app.state.meter.flush().await;
    let admin = app.admin().await;
    let html = admin
        .get(app.url("/admin"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let by_app = &html[html.find("<h3>By app</h3>").expect("the by-app table")..];
    let by_app = &by_app[..by_app.find("</table>").unwrap()];
    let row = |name: &str| {
        let start = by_app
            .find(&format!("<td>{name}</td>"))
            .unwrap_or_else(|| panic!("{name}: {by_app}"));
        let row = &by_app[start..];
        row[..row.find("</tr>").unwrap()].to_string()
    };
    assert!(row("translate").contains(">2<"), "{}", row("translate"));
    assert!(
        row("chat and /v1").contains(">1<"),
        "{}",
        row("chat and /v1")
    );
}

#[tokio::test]
async fn runs_count_against_the_message_rate_limit() {
    let app = TestApp::spawn_with(&[("MESSAGE_RATE_PER_MINUTE", "2")]).await;
    for _ in 0..2 {
        let response = run(&app, "translate", json!({"text": "안녕"})).await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    let response = run(&app, "translate", json!({"text": "안녕"})).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let page = app
        .post_form("/apps/translate/runs", &[("text", "안녕")])
        .await;
    assert_eq!(page.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(app.mock.posts(), 2);
}

#[tokio::test]
async fn runs_are_counted_per_app_in_the_metrics() {
    let app = TestApp::spawn_with(&[("METRICS_TOKEN", "metrics-secret")]).await;
    run(&app, "translate", json!({"text": "셋"})).await;
    let body = app
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
        body.lines()
            .any(|line| line.starts_with(r#"app_runs_total{app="translate"}"#)),
        "{body}"
    );
}
