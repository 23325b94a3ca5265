//! Feedback on answers (forms and the JSON API), siblings kept by regenerate, and the
//! data policy a visitor is told about and can opt out of.

use serde_json::{Value, json};

use crate::{
    helpers::{TestApp, error_message, http_client},
    mock_upstream::Scenario,
};

/// A chat with one answer; returns the conversation's id and the answer's id.
async fn answered(app: &TestApp) -> (String, i64) {
    app.mock
        .push(Scenario::answer("Paris is the capital of Spain."));
    let conversation = app.create_conversation().await;
    app.chat(&conversation, "What is the capital of France?")
        .await;
    let messages = app.messages(&conversation).await;
    (conversation, messages[1]["id"].as_i64().unwrap())
}

async fn feedback_row(
    app: &TestApp,
    answer: i64,
) -> Option<(Option<i64>, String, Option<String>, Option<String>)> {
    sqlx::query_as("SELECT rating, tags, comment, correction FROM feedback WHERE message_id = ?")
        .bind(answer)
        .fetch_optional(&app.db)
        .await
        .unwrap()
}

async fn put_feedback(
    app: &TestApp,
    client: &reqwest::Client,
    answer: i64,
    body: Value,
) -> reqwest::Response {
    client
        .put(app.url(&format!("/api/v1/messages/{answer}/feedback")))
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_api_saves_changes_reads_and_takes_back_feedback() {
    let app = TestApp::spawn().await;
    let (_, answer) = answered(&app).await;

    let response = put_feedback(
        &app,
        &app.client,
        answer,
        json!({"rating": "down", "tags": ["wrong_facts"], "comment": "Wrong country.",
               "correction": "Paris is the capital of France."}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let saved: Value = response.json().await.unwrap();
    assert_eq!(saved["rating"], -1);
    assert_eq!(saved["tags"], json!(["wrong_facts"]));
    assert_eq!(
        feedback_row(&app, answer).await,
        Some((
            Some(-1),
            "wrong_facts".into(),
            Some("Wrong country.".into()),
            Some("Paris is the capital of France.".into())
        ))
    );

    // One feedback per answer: a second PUT replaces the first.
    let response = put_feedback(&app, &app.client, answer, json!({"rating": "up"})).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        feedback_row(&app, answer).await,
        Some((Some(1), String::new(), None, None))
    );
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM feedback")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(count, 1);
    let read: Value = app
        .get(&format!("/api/v1/messages/{answer}/feedback"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read["rating"], 1);

    let response = app
        .client
        .delete(app.url(&format!("/api/v1/messages/{answer}/feedback")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(feedback_row(&app, answer).await, None);
    let response = app
        .get(&format!("/api/v1/messages/{answer}/feedback"))
        .await;
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn bad_feedback_is_422_with_each_field_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let (_, answer) = answered(&app).await;
    put_feedback(&app, &app.client, answer, json!({"rating": "up"})).await;
    let limit = app.state.config.max_message_chars;

    let response = put_feedback(
        &app,
        &app.client,
        answer,
        json!({"rating": "sideways", "tags": ["rude"], "correction": "x".repeat(limit + 1)}),
    )
    .await;
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    let fields: Vec<_> = body["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["rating", "tags", "correction"], "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("`rude` is not a known tag"), "{message}");
    assert!(
        message.contains(&format!("the limit is {limit}")),
        "{message}"
    );

    let response = put_feedback(&app, &app.client, answer, json!({})).await;
    assert_eq!(response.status(), 422);
    assert!(
        error_message(response)
            .await
            .contains("The feedback is empty")
    );
    let response = put_feedback(&app, &app.client, answer, json!({"stars": 5})).await;
    assert_eq!(response.status(), 422, "an unknown key is refused");

    assert_eq!(
        feedback_row(&app, answer).await,
        Some((Some(1), String::new(), None, None)),
        "a refused change leaves the feedback as it was"
    );
}

#[tokio::test]
async fn only_the_owner_can_judge_and_only_answers() {
    let app = TestApp::spawn().await;
    let (conversation, answer) = answered(&app).await;
    let question = app.messages(&conversation).await[0]["id"].as_i64().unwrap();

    let stranger = http_client();
    let response = put_feedback(&app, &stranger, answer, json!({"rating": "down"})).await;
    assert_eq!(response.status(), 404);
    let response = app
        .post_form_as(
            &stranger,
            &format!("/messages/{answer}/feedback"),
            &[("rating", "down")],
        )
        .await;
    assert_eq!(response.status(), 404);
    let response = app
        .post_form_as(&stranger, &format!("/messages/{answer}/prefer"), &[])
        .await;
    assert_eq!(response.status(), 404);
    // A question is not an answer; an unknown id is nothing.
    let response = put_feedback(&app, &app.client, question, json!({"rating": "up"})).await;
    assert_eq!(response.status(), 404);
    let response = put_feedback(&app, &app.client, 999_999, json!({"rating": "up"})).await;
    assert_eq!(response.status(), 404);
    // An id that is no message id at all is just as unknown.
    for id in ["9223372036854775808", "abc"] {
        let response = app.get(&format!("/api/v1/messages/{id}/feedback")).await;
        assert_eq!(response.status(), 404, "{id}");
        let response = app
            .post_form(&format!("/messages/{id}/feedback"), &[("rating", "up")])
            .await;
        assert_eq!(response.status(), 404, "{id}");
    }
    assert_eq!(feedback_row(&app, answer).await, None);
}

#[tokio::test]
async fn the_page_forms_work_without_javascript_and_with_htmx() {
    let app = TestApp::spawn().await;
    let (conversation, answer) = answered(&app).await;
    let page = app
        .get(&format!("/conversations/{conversation}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!(r#"id="feedback-{answer}""#)),
        "{page}"
    );
    assert!(page.contains(r#"value="needless_refusal""#));

    // The details form, without JavaScript: back to the answer.
    let response = app
        .post_form(
            &format!("/messages/{answer}/feedback"),
            &[
                ("rating", ""),
                ("tags", "wrong_facts"),
                ("tags", "too_long"),
                ("comment", "Spain?"),
                ("correction", "Paris is the capital of France."),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["location"],
        format!("/conversations/{conversation}#message-{answer}").as_str()
    );
    assert_eq!(
        feedback_row(&app, answer).await,
        Some((
            None,
            "wrong_facts too_long".into(),
            Some("Spain?".into()),
            Some("Paris is the capital of France.".into())
        ))
    );

    // The thumbs, with htmx: the rating changes, the details stay, the block is swapped.
    let response = app
        .post_htmx(
            &format!("/messages/{answer}/feedback"),
            &[("keep", "1"), ("rating", "down")],
        )
        .await;
    assert_eq!(response.status(), 200);
    let fragment = response.text().await.unwrap();
    assert!(
        fragment
            .trim_start()
            .starts_with(&format!(r#"<div id="feedback-{answer}""#)),
        "{fragment}"
    );
    assert!(
        fragment.contains(r#"aria-pressed="true" title="Bad answer""#),
        "{fragment}"
    );
    assert!(fragment.contains("Thank you: saved."));
    assert!(fragment.contains("Paris is the capital of France.</textarea>"));
    let (rating, tags, ..) = feedback_row(&app, answer).await.unwrap();
    assert_eq!((rating, tags.as_str()), (Some(-1), "wrong_facts too_long"));

    // The page shows what was given after a reload.
    let page = app
        .get(&format!("/conversations/{conversation}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#"aria-pressed="true" title="Bad answer""#));
    assert!(page.contains(r#"value="too_long" checked"#), "{page}");

    // Remove it.
    let response = app
        .post_form(&format!("/messages/{answer}/feedback/delete"), &[])
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(feedback_row(&app, answer).await, None);

    // A thumb pressed again, with nothing else given, takes the feedback back.
    app.post_form(
        &format!("/messages/{answer}/feedback"),
        &[("keep", "1"), ("rating", "up")],
    )
    .await;
    assert!(feedback_row(&app, answer).await.is_some());
    app.post_form(
        &format!("/messages/{answer}/feedback"),
        &[("keep", "1"), ("rating", "")],
    )
    .await;
    assert_eq!(feedback_row(&app, answer).await, None);

    // A bad form is a 422 that says what to fix.
    let response = app
        .post_form(&format!("/messages/{answer}/feedback"), &[("tags", "rude")])
        .await;
    assert_eq!(response.status(), 422);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("is not a known tag")
    );
}

#[tokio::test]
async fn an_app_run_can_be_judged_on_its_page() {
    let app = TestApp::spawn().await;
    app.mock.push(Scenario::answer("Hello."));
    let response = app
        .post_form(
            "/apps/translate/runs",
            &[
                ("text", "안녕하세요."),
                ("direction", "ko-en"),
                ("tone", "polite"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    let run = response.headers()["location"].to_str().unwrap().to_string();
    let run_id = run.rsplit('/').next().unwrap();
    let answer = app.messages(run_id).await.last().unwrap()["id"]
        .as_i64()
        .unwrap();
    let page = app.get(&run).await.text().await.unwrap();
    assert!(
        page.contains(&format!(r#"id="feedback-{answer}""#)),
        "{page}"
    );

    let response = app
        .post_form(
            &format!("/messages/{answer}/feedback"),
            &[("keep", "1"), ("rating", "up")],
        )
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["location"],
        run.as_str(),
        "back to the run page"
    );
    assert_eq!(feedback_row(&app, answer).await.unwrap().0, Some(1));
}

#[tokio::test]
async fn siblings_can_be_compared_and_the_better_one_goes_on() {
    let app = TestApp::spawn().await;
    app.mock.push(Scenario::answer("first answer"));
    app.mock.push(Scenario::answer("second answer"));
    let response = app
        .post_form("/conversations", &[("content", "question")])
        .await;
    let location = response.headers()["location"].to_str().unwrap().to_string();
    app.post_form(&format!("{location}/regenerate"), &[]).await;
    let conversation = location.trim_start_matches("/conversations/");
    let messages = app.messages(conversation).await;
    let (first, second) = (
        messages[1]["id"].as_i64().unwrap(),
        messages[2]["id"].as_i64().unwrap(),
    );

    // The newer answer is shown, the earlier one folded away before it.
    let page = app.get(&location).await.text().await.unwrap();
    let folded = page.find("1 other answer to this question").unwrap();
    let earlier = page.find(&format!(r#"id="message-{first}""#)).unwrap();
    let shown = page.find(&format!(r#"id="message-{second}""#)).unwrap();
    assert!(folded < earlier && earlier < shown, "{page}");
    assert!(page.contains(&format!(r#"action="/messages/{first}/prefer""#)));

    // Mark the earlier one better: the page and the next turn go on from it.
    let response = app
        .post_form(&format!("/messages/{first}/prefer"), &[])
        .await;
    assert_eq!(response.status(), 303);
    let messages = app.messages(conversation).await;
    assert_eq!(messages[1]["preferred"], true);
    assert_eq!(messages[2]["preferred"], false);
    let page = app.get(&location).await.text().await.unwrap();
    assert!(
        page.find(&format!(r#"id="message-{second}""#)).unwrap()
            < page.find(&format!(r#"id="message-{first}""#)).unwrap(),
        "the chosen answer comes last"
    );
    assert!(page.contains("Marked as the better answer"));

    app.mock.push(Scenario::answer("third answer"));
    app.post_form(&format!("{location}/messages"), &[("content", "more")])
        .await;
    let sent: Vec<_> = app.mock.requests()[2]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(sent[1..], ["question", "first answer", "more"]);

    // Marking the other moves the mark; one preferred answer per question.
    app.post_form(&format!("/messages/{second}/prefer"), &[])
        .await;
    let preferred: Vec<i64> = sqlx::query_scalar("SELECT id FROM messages WHERE preferred = 1")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(preferred, [second]);
}

/// The app with `data_policy` set in its site file.
async fn with_policy(policy: &str) -> (TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let site = std::fs::read_to_string("promptship.toml").unwrap().replace(
        "data_policy = \"off\"",
        &format!("data_policy = \"{policy}\""),
    );
    assert!(site.contains(policy));
    let path = dir.path().join("site.toml");
    std::fs::write(&path, site).unwrap();
    let app = TestApp::spawn_unthrottled(&[("PROMPTSHIP_SITE", path.to_str().unwrap())]).await;
    (app, dir)
}

#[tokio::test]
async fn visitors_are_told_the_data_policy_and_users_can_opt_out() {
    // Shipped off: nobody is told anything, the settings say nothing is used.
    let app = TestApp::spawn_unthrottled(&[]).await;
    assert!(
        !app.get("/")
            .await
            .text()
            .await
            .unwrap()
            .contains("training data")
    );
    let user = app.sign_up("off@example.com").await;
    let settings = user
        .get(app.url("/settings/data"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        settings.contains("uses none of them as training data"),
        "{settings}"
    );

    let (app, _dir) = with_policy("accounts").await;
    let guest_page = app.get("/").await.text().await.unwrap();
    assert!(
        !guest_page.contains("training data"),
        "guests are not in an `accounts` policy"
    );
    let user = app.sign_up("accounts@example.com").await;
    let page = user
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("may be reviewed and used"), "{page}");
    assert!(page.contains(r#"href="/settings/data""#));

    let response = app
        .post_form_as(&user, "/settings/data", &[("opt_out", "1")])
        .await;
    assert_eq!(response.status(), 303);
    let id = app.user_id("accounts@example.com").await;
    let opted: i64 = sqlx::query_scalar("SELECT data_opt_out FROM users WHERE id = ?")
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(opted, 1);
    let page = user
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Your conversations are kept out of this site"),
        "{}",
        &page[page.find("data-policy").unwrap_or(0)..]
    );
    let settings = user
        .get(app.url("/settings/data"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(settings.contains("Allow my conversations"), "{settings}");

    let response = app
        .post_form_as(&user, "/settings/data", &[("opt_out", "maybe")])
        .await;
    assert_eq!(response.status(), 422);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("`opt_out` must be 1")
    );
    // Guests have no settings to opt out with.
    let response = app.post_form("/settings/data", &[("opt_out", "1")]).await;
    assert_eq!(response.status(), 303);
    assert!(
        response.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login"),
        "a guest is sent to log in"
    );

    let (app, _dir) = with_policy("all").await;
    let guest_page = app.get("/").await.text().await.unwrap();
    assert!(guest_page.contains("guests&#39; too"), "{guest_page}");
}
