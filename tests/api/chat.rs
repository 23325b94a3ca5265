//! Conversations and streamed answers through the pages and the JSON API.

use std::time::Duration;

use serde_json::json;

use crate::{
    helpers::{TestApp, done_answer, error_message, read_events, streamed_text},
    mock_upstream::{PROMPT_TOKENS, Scenario, words},
    openai::TWENTY_WORDS,
};

#[tokio::test]
async fn a_streamed_answer_is_relayed_chunk_by_chunk_and_saved_with_its_usage() {
    let app = TestApp::spawn().await;
    let answer = "Rust keeps memory safe without a garbage collector.";
    app.mock.push(Scenario::Answer {
        words: words(answer),
        delay: Duration::from_millis(20),
    });
    let conversation = app.create_conversation().await;

    let events = app
        .chat(&conversation, "How does Rust manage memory?")
        .await;

    assert_eq!(events[0].event, "start");
    assert_eq!(
        events[0].json()["question"]["content"],
        "How does Rust manage memory?"
    );
    assert_eq!(events[0].json()["answer"]["status"], "streaming");
    let deltas = events.iter().filter(|e| e.event == "delta").count();
    assert_eq!(deltas, words(answer).len(), "one event per upstream chunk");
    assert_eq!(streamed_text(&events), answer);
    let done = done_answer(&events);
    assert_eq!(done["status"], "complete");
    assert_eq!(done["content"], answer);

    let saved = app.messages(&conversation).await;
    assert_eq!(saved.len(), 2);
    assert_eq!(saved[0]["role"], "user");
    assert_eq!(saved[0]["content"], "How does Rust manage memory?");
    assert_eq!(saved[1]["role"], "assistant");
    assert_eq!(saved[1]["status"], "complete");
    assert_eq!(saved[1]["content"], answer);
    assert_eq!(saved[1]["model"], "gpt-4o-mini");
    assert_eq!(saved[1]["prompt_tokens"], PROMPT_TOKENS);
    assert_eq!(saved[1]["completion_tokens"], words(answer).len());
    assert!(saved[1]["first_token_ms"].as_i64().unwrap() >= 0);
    assert!(
        saved[1]["duration_ms"].as_i64().unwrap() >= saved[1]["first_token_ms"].as_i64().unwrap()
    );
    assert_eq!(app.mock.posts(), 1);
}

#[tokio::test]
async fn the_model_gets_the_system_prompt_the_history_and_the_server_caps() {
    let app = TestApp::spawn().await;
    let conversation = app.create_conversation().await;
    app.chat(&conversation, "first question").await;
    app.chat(&conversation, "second question").await;

    let request = &app.mock.requests()[1];
    let messages = request["messages"].as_array().unwrap();
    let roles: Vec<&str> = messages
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["system", "user", "assistant", "user"]);
    assert!(messages[0]["content"].as_str().unwrap().contains("helpful"));
    assert_eq!(messages[1]["content"], "first question");
    assert_eq!(messages[2]["content"], "Hello from the mock.");
    assert_eq!(messages[3]["content"], "second question");
    assert_eq!(request["model"], "gpt-4o-mini");
    assert_eq!(request["stream"], true);
    assert_eq!(request["stream_options"]["include_usage"], true);
    assert_eq!(request["max_tokens"], 1024);
}

#[tokio::test]
async fn a_form_post_without_javascript_waits_for_the_answer_and_redirects() {
    let app = TestApp::spawn().await;
    app.mock.push(Scenario::answer("A **bold** answer."));

    let response = app
        .post_form("/conversations", &[("content", "Hi there")])
        .await;

    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/conversations/"), "{location}");
    let page = app.get(&location).await.text().await.unwrap();
    assert!(page.contains("Hi there"));
    assert!(
        page.contains("<strong>bold</strong>"),
        "the answer is rendered Markdown"
    );
    assert!(page.contains("data-status=\"complete\""));

    // The next message goes to the same conversation.
    let response = app
        .post_form(&format!("{location}/messages"), &[("content", "Again")])
        .await;
    assert_eq!(response.status(), 303);
    let id = location.trim_start_matches("/conversations/");
    assert_eq!(app.messages(id).await.len(), 4);
}

#[tokio::test]
async fn an_htmx_post_streams_html_for_the_page() {
    let app = TestApp::spawn().await;
    app.mock.push(Scenario::answer("Plain *text* answer"));

    let response = app
        .post_htmx("/conversations", &[("content", "Hello <b>world</b>")])
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let events = read_events(response).await;

    // First the messages list, with the user's text escaped and an empty answer.
    assert_eq!(events[0].event, "message", "unnamed: swapped by htmx");
    assert!(
        events[0]
            .data
            .contains("Hello &#60;b&#62;world&#60;/b&#62;")
            || events[0].data.contains("Hello &lt;b&gt;world&lt;/b&gt;"),
        "{}",
        events[0].data
    );
    assert!(events[0].data.contains("data-stream"));
    // A new conversation tells the page its URL.
    assert_eq!(events[1].event, "conversation");
    assert!(events[1].data.starts_with("/conversations/"));
    // Deltas are JSON strings, appended as text by the page.
    let text: String = events
        .iter()
        .filter(|e| e.event == "delta")
        .map(|e| serde_json::from_str::<String>(&e.data).unwrap())
        .collect();
    assert_eq!(text, "Plain *text* answer");
    // The final answer replaces its placeholder out of band, rendered.
    let last = events.last().unwrap();
    assert!(last.data.contains("hx-swap-oob=\"true\""));
    assert!(last.data.contains("<em>text</em>"));
    assert!(last.data.contains("data-status=\"complete\""));
}

#[tokio::test]
async fn words_the_model_sends_together_reach_the_reader_as_one_delta() {
    let app = TestApp::spawn().await;
    // Every event its own HTTP chunk, all sent at once.
    for _ in 0..2 {
        app.mock.push(Scenario::Answer {
            words: words(TWENTY_WORDS),
            delay: Duration::ZERO,
        });
    }
    let conversation = app.create_conversation().await;
    let events = app.chat(&conversation, "Count to twenty").await;
    let deltas = events.iter().filter(|e| e.event == "delta").count();
    // One per read of the upstream (one, or two when its writes arrive apart), not one
    // per word.
    assert!((1..=3).contains(&deltas), "{deltas} deltas for 20 words");
    assert_eq!(streamed_text(&events), TWENTY_WORDS);
    assert_eq!(done_answer(&events)["content"], TWENTY_WORDS);

    let page = read_events(
        app.post_htmx("/conversations", &[("content", "Count to twenty")])
            .await,
    )
    .await;
    let deltas: Vec<String> = page
        .iter()
        .filter(|e| e.event == "delta")
        .map(|e| serde_json::from_str::<String>(&e.data).unwrap())
        .collect();
    assert!((1..=3).contains(&deltas.len()), "{deltas:?}");
    assert_eq!(deltas.concat(), TWENTY_WORDS);
}

#[tokio::test]
async fn model_output_with_html_renders_inert_live_and_in_history() {
    let app = TestApp::spawn().await;
    let evil = "Look: <script>alert(1)</script> <img src=x onerror=alert(2)> \
                [click](javascript:alert(3)) <a href=\"javascript:alert(4)\" onclick=\"alert(5)\">me</a> \
                ![pixel](https://tracker.example/p.png)";
    app.mock.push(Scenario::answer(evil));

    let response = app
        .post_htmx("/conversations", &[("content", "say something nasty")])
        .await;
    let events = read_events(response).await;
    let live = &events.last().unwrap().data;
    let url = &events[1].data;
    let history = app.get(url).await.text().await.unwrap();

    for html in [live.as_str(), history.as_str()] {
        for bad in [
            "<script>alert",
            "onerror",
            "onclick",
            "href=\"javascript",
            "<img",
            "tracker.example",
        ] {
            assert!(!html.contains(bad), "`{bad}` reached the page:\n{html}");
        }
    }
    assert!(history.contains("Look:"));
}

#[tokio::test]
async fn an_unknown_conversation_is_404_for_pages_and_the_api() {
    let app = TestApp::spawn().await;
    let missing = "00000000-0000-0000-0000-000000000000";

    let page = app.get(&format!("/conversations/{missing}")).await;
    assert_eq!(page.status(), 404);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(page.text().await.unwrap().contains("does not exist"));

    let api = app.get(&format!("/api/v1/conversations/{missing}")).await;
    assert_eq!(api.status(), 404);
    assert!(
        error_message(api)
            .await
            .contains("conversation does not exist")
    );

    let send = app.send_streaming(missing, "hello?").await;
    assert_eq!(send.status(), 404);
    let form = app
        .post_form(
            &format!("/conversations/{missing}/messages"),
            &[("content", "hello?")],
        )
        .await;
    assert_eq!(form.status(), 404);
    assert_eq!(app.message_count().await, 0);
    assert_eq!(app.mock.posts(), 0);
}

#[tokio::test]
async fn empty_and_oversized_messages_are_refused_and_store_nothing() {
    let app = TestApp::spawn_with(&[("MAX_MESSAGE_CHARS", "100")]).await;
    let conversation = app.create_conversation().await;

    let empty = app.send_streaming(&conversation, "   \n ").await;
    assert_eq!(empty.status(), 422);
    assert!(error_message(empty).await.contains("empty"));

    let long = app.send_streaming(&conversation, &"x".repeat(101)).await;
    assert_eq!(long.status(), 413);
    assert!(error_message(long).await.contains("limit is 100"));

    let form = app.post_form("/conversations", &[("content", "")]).await;
    assert_eq!(form.status(), 422);
    assert!(form.text().await.unwrap().contains("empty"));

    // A body over the request limit is refused before it is parsed.
    let huge = app
        .client
        .post(app.url(&format!("/api/v1/conversations/{conversation}/messages")))
        .json(&json!({ "content": "y".repeat(300 * 1024) }))
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), 413);

    let invalid = app
        .client
        .post(app.url(&format!("/api/v1/conversations/{conversation}/messages")))
        .header("content-type", "application/json")
        .body("{\"content\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(invalid.status(), 400);

    assert_eq!(app.message_count().await, 0);
    assert_eq!(app.mock.posts(), 0);
}

#[tokio::test]
async fn a_double_submitted_turn_makes_one_upstream_call() {
    let app = TestApp::spawn().await;
    app.mock.push(Scenario::Answer {
        words: words("slow answer that takes a while to arrive"),
        delay: Duration::from_millis(50),
    });
    let conversation = app.create_conversation().await;

    let (first, second) = tokio::join!(
        app.send_streaming(&conversation, "same question"),
        app.send_streaming(&conversation, "same question"),
    );
    let mut statuses = [first.status().as_u16(), second.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409]);
    let (ok, refused) = if first.status() == 200 {
        (first, second)
    } else {
        (second, first)
    };
    assert!(error_message(refused).await.contains("still being written"));
    let events = read_events(ok).await;
    assert_eq!(done_answer(&events)["status"], "complete");

    assert_eq!(app.mock.posts(), 1);
    assert_eq!(
        app.messages(&conversation).await.len(),
        2,
        "the refused question is not stored"
    );
}

#[tokio::test]
async fn stop_ends_the_answer_and_keeps_what_arrived() {
    let app = TestApp::spawn().await;
    app.mock.push(Scenario::Answer {
        words: words(&"word ".repeat(200)),
        delay: Duration::from_millis(20),
    });
    let conversation = app.create_conversation().await;
    let response = app.send_streaming(&conversation, "talk a lot").await;
    let stopper = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        app.client
            .post(app.url(&format!("/api/v1/conversations/{conversation}/stop")))
            .send()
            .await
            .unwrap()
    };
    let (events, stop) = tokio::join!(read_events(response), stopper);

    assert_eq!(stop.status(), 202);
    let done = done_answer(&events);
    assert_eq!(done["status"], "interrupted");
    assert_eq!(done["error"], "Stopped.");
    let partial = done["content"].as_str().unwrap();
    assert!(!partial.is_empty() && partial.len() < 1000, "{partial}");
    assert_eq!(app.messages(&conversation).await[1]["content"], partial);
    assert!(
        !app.mock.hangups().is_empty(),
        "the upstream request was closed"
    );
}

#[tokio::test]
async fn regenerate_keeps_the_earlier_answer_as_a_sibling() {
    let app = TestApp::spawn().await;
    app.mock.push(Scenario::answer("first answer"));
    app.mock.push(Scenario::answer("second answer"));
    let response = app
        .post_form("/conversations", &[("content", "question")])
        .await;
    let location = response.headers()["location"].to_str().unwrap().to_string();

    let response = app.post_form(&format!("{location}/regenerate"), &[]).await;

    assert_eq!(response.status(), 303);
    let id = location.trim_start_matches("/conversations/");
    let messages = app.messages(id).await;
    assert_eq!(messages.len(), 3, "{messages:?}");
    assert_eq!(messages[1]["content"], "first answer");
    assert_eq!(messages[2]["content"], "second answer");
    assert_eq!(messages[1]["reply_to"], messages[0]["id"]);
    assert_eq!(
        messages[2]["reply_to"], messages[0]["id"],
        "both answer the question"
    );
    assert_eq!(app.mock.posts(), 2);
    let roles: Vec<_> = app.mock.requests()[1]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        roles,
        ["system", "user"],
        "the earlier answer is not sent again"
    );

    // The conversation goes on from the newer answer.
    app.mock.push(Scenario::answer("third answer"));
    app.post_form(&format!("{location}/messages"), &[("content", "more")])
        .await;
    let sent: Vec<_> = app.mock.requests()[2]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(sent[1..], ["question", "second answer", "more"]);
}

#[tokio::test]
async fn conversations_can_be_renamed_and_deleted() {
    let app = TestApp::spawn().await;
    let response = app
        .post_form(
            "/conversations",
            &[("content", "A question\nwith two lines")],
        )
        .await;
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let id = location.trim_start_matches("/conversations/").to_string();
    let listed: serde_json::Value = app.get("/api/v1/conversations").await.json().await.unwrap();
    assert_eq!(
        listed["data"][0]["title"], "A question",
        "titled after the first line"
    );

    let renamed = app
        .post_form(&format!("{location}/rename"), &[("title", "  Renamed  ")])
        .await;
    assert_eq!(renamed.status(), 303);
    assert!(
        app.get(&location)
            .await
            .text()
            .await
            .unwrap()
            .contains("Renamed")
    );
    let blank = app
        .post_form(&format!("{location}/rename"), &[("title", " ")])
        .await;
    assert_eq!(blank.status(), 422);

    let patched = app
        .client
        .patch(app.url(&format!("/api/v1/conversations/{id}")))
        .json(&json!({ "title": "Via the API" }))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    assert_eq!(
        patched.json::<serde_json::Value>().await.unwrap()["title"],
        "Via the API"
    );

    let deleted = app.post_form(&format!("{location}/delete"), &[]).await;
    assert_eq!(deleted.status(), 303);
    assert_eq!(app.get(&location).await.status(), 404);
    assert_eq!(
        app.message_count().await,
        0,
        "messages go with their conversation"
    );
    let again = app
        .client
        .delete(app.url(&format!("/api/v1/conversations/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 404);
}

#[tokio::test]
async fn unusual_characters_are_stored_and_shown_safely() {
    let app = TestApp::spawn().await;
    let conversation = app.create_conversation().await;
    let content = "rtl \u{202E}override, crlf\r\nline, tab\tstop, emoji 🦀🦀🦀";
    let events = app.chat(&conversation, content).await;
    assert_eq!(done_answer(&events)["status"], "complete");
    let saved = app.messages(&conversation).await;
    assert_eq!(saved[0]["content"], content, "stored byte for byte");
    assert_eq!(app.mock.requests()[0]["messages"][1]["content"], content);
    let page = app.get(&format!("/conversations/{conversation}")).await;
    assert_eq!(page.status(), 200);
}

#[tokio::test]
async fn conversations_are_listed_in_pages() {
    let app = TestApp::spawn().await;
    for _ in 0..3 {
        app.create_conversation().await;
    }
    let first: serde_json::Value = app
        .get("/api/v1/conversations?limit=2")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["data"].as_array().unwrap().len(), 2);
    assert_eq!(first["has_more"], true);
    let rest: serde_json::Value = app
        .get("/api/v1/conversations?limit=2&offset=2")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rest["data"].as_array().unwrap().len(), 1);
    assert_eq!(rest["has_more"], false);
    assert_eq!(app.get("/api/v1/conversations?limit=0").await.status(), 400);
    assert_eq!(
        app.get("/api/v1/conversations?limit=abc").await.status(),
        400
    );
}

#[tokio::test]
async fn a_conversation_older_than_the_sidebar_shows_still_opens_for_its_owner_only() {
    let app = TestApp::spawn_unthrottled(&[("GUEST_MAX_CONVERSATIONS", "1000")]).await;
    let oldest = app.create_conversation().await;
    app.chat(&oldest, "A question from long ago").await;
    sqlx::query("UPDATE conversations SET title = 'Long ago', updated_at = 0 WHERE id = ?")
        .bind(&oldest)
        .execute(&app.db)
        .await
        .unwrap();
    // The sidebar shows the 100 most recent; these push the oldest out of it.
    for _ in 0..100 {
        app.create_conversation().await;
    }
    let page = app.get(&format!("/conversations/{oldest}")).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Long ago"), "the conversation's own title");
    assert!(html.contains("A question from long ago"), "its messages");
    let stranger = app.sign_up("stranger@example.com").await;
    let theirs = stranger
        .get(app.url(&format!("/conversations/{oldest}")))
        .send()
        .await
        .unwrap();
    assert_eq!(theirs.status(), 404);
}

#[tokio::test]
async fn the_json_api_takes_an_api_key_instead_of_a_cookie() {
    let app = TestApp::spawn().await;
    let key = app.api_key("keyed@example.com").await;
    let client = reqwest::Client::new();
    let created: serde_json::Value = client
        .post(app.url("/api/v1/conversations"))
        .bearer_auth(&key)
        // A key makes a request safe from cross-site forgery: no cookie is involved.
        .header("sec-fetch-site", "cross-site")
        .json(&json!({ "title": "via key" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    let answer: serde_json::Value = client
        .post(app.url(&format!("/api/v1/conversations/{id}/messages")))
        .bearer_auth(&key)
        .json(&json!({ "content": "hello" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["answer"]["status"], "complete");
    let bad = client
        .get(app.url("/api/v1/conversations"))
        .bearer_auth("ps_nope_nope")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401, "a bad key never falls back to a cookie");
}

#[tokio::test]
async fn the_openapi_document_covers_every_api_route_and_the_reference_page_is_pinned() {
    let app = TestApp::spawn().await;
    let document: serde_json::Value = app.get("/api/openapi.json").await.json().await.unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = document["paths"].as_object().unwrap();
    for path in [
        "/api/v1/conversations",
        "/api/v1/conversations/{id}",
        "/api/v1/conversations/{id}/messages",
        "/api/v1/conversations/{id}/stop",
        "/v1/chat/completions",
        "/v1/models",
    ] {
        assert!(paths.contains_key(path), "{path} is not documented");
    }
    assert!(
        paths["/v1/chat/completions"]["post"]["responses"]
            .as_object()
            .unwrap()
            .contains_key("429")
    );
    let docs = app.get("/api/docs").await;
    let csp = docs.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("https://cdn.jsdelivr.net"),
        "only this page allows the CDN"
    );
    let html = docs.text().await.unwrap();
    assert!(html.contains("integrity=\"sha384-"));
    assert!(html.contains("@scalar/api-reference@1.76.0"));
    let home_csp = app.get("/").await.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(!home_csp.contains("jsdelivr"));
}
