//! The about page: public, from the site file's `[about]`, in the visitor's language, with
//! live figures read from the database (checked against planted rows) and cached.

use sqlx::SqlitePool;

use crate::helpers::TestApp;

/// The text of `<dd data-figure="{name}">` in a page.
fn figure(page: &str, name: &str) -> String {
    let start = format!("data-figure=\"{name}\">");
    let at = page
        .find(&start)
        .unwrap_or_else(|| panic!("no figure {name} in {page}"));
    let rest = &page[at + start.len()..];
    rest[..rest.find('<').unwrap()].trim().to_string()
}

/// A conversation of nobody's, to hang planted messages on.
async fn plant_conversation(db: &SqlitePool) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    sqlx::query(
        "INSERT INTO conversations (id, title, created_at, updated_at, guest_id)
         VALUES (?, 'planted', 0, 0, 'planted-guest')",
    )
    .bind(&id)
    .execute(db)
    .await
    .unwrap();
    id
}

/// Messages of `role` and `status` with these times to the first token, in this order.
async fn plant_messages(
    db: &SqlitePool,
    conversation: &str,
    role: &str,
    status: &str,
    first_token_ms: &[Option<i64>],
) {
    let mut tx = db.begin().await.unwrap();
    for ms in first_token_ms {
        sqlx::query(
            "INSERT INTO messages (conversation_id, role, content, status, first_token_ms,
                                   created_at, updated_at)
             VALUES (?, ?, 'planted', ?, ?, 0, 0)",
        )
        .bind(conversation)
        .bind(role)
        .bind(status)
        .bind(ms)
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn the_about_page_is_public_and_says_who_built_it_and_with_what() {
    let app = TestApp::spawn().await;
    let response = app.get("/about").await;
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    // From the shipped site file's [about] table and the default stack.
    assert!(page.contains("The promptship template"), "{page}");
    assert!(
        page.contains("<strong>promptship</strong>"),
        "the bio is Markdown"
    );
    for part in ["axum", "Askama", "htmx", "SQLite + sqlx", "async-openai"] {
        assert!(page.contains(part), "the stack names {part}");
    }
    assert!(page.contains(r#"href="https://github.com/tokio-rs/axum""#));
    // Every page links to it from its footer.
    let home = app.get("/").await.text().await.unwrap();
    assert!(
        home.contains(r#"<a href="/about">About this site</a>"#),
        "{home}"
    );

    let korean = app
        .client
        .get(app.url("/about"))
        .header("accept-language", "ko-KR,ko;q=0.9,en;q=0.5")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(korean.contains(r#"<html lang="ko">"#));
    assert!(korean.contains("promptship 템플릿"), "author_ko");
    assert!(korean.contains("만들었습니다"), "bio_ko");
    assert!(korean.contains("HTTP 서버와 라우팅"), "the stack's role_ko");
    assert!(korean.contains("실시간 지표"));
}

#[tokio::test]
async fn the_figures_are_read_from_the_rows_and_cached_until_forgotten() {
    let app = TestApp::spawn().await;
    let page = app.get("/about").await.text().await.unwrap();
    assert_eq!(figure(&page, "answers"), "0");
    assert_eq!(figure(&page, "median-first-token"), "—");
    assert_eq!(figure(&page, "uptime"), "0 minutes");
    let apps = app.state.apps.current().len();
    assert!(apps > 0);
    assert_eq!(figure(&page, "apps"), apps.to_string());

    let conversation = plant_conversation(&app.db).await;
    // Four complete answers: 100, 200, 300 and 400 ms (median 250).
    plant_messages(
        &app.db,
        &conversation,
        "assistant",
        "complete",
        &[Some(400), Some(100), Some(300), Some(200)],
    )
    .await;
    // Neither counted nor in the median: questions, failed and cut-off answers, an
    // answer being written, and a complete answer without a first token (an image).
    plant_messages(&app.db, &conversation, "user", "complete", &[Some(9)]).await;
    plant_messages(
        &app.db,
        &conversation,
        "assistant",
        "failed",
        &[Some(9_000)],
    )
    .await;
    plant_messages(
        &app.db,
        &conversation,
        "assistant",
        "interrupted",
        &[Some(9_000)],
    )
    .await;

    // Within the period, the page shows the figures it read before.
    let page = app.get("/about").await.text().await.unwrap();
    assert_eq!(figure(&page, "answers"), "0", "the figures are cached");

    app.state.figures.forget().await;
    let page = app.get("/about").await.text().await.unwrap();
    assert_eq!(figure(&page, "answers"), "4");
    assert_eq!(figure(&page, "median-first-token"), "250 ms");

    // One more answer, slower: an odd count's median is its middle value.
    plant_messages(
        &app.db,
        &conversation,
        "assistant",
        "complete",
        &[Some(1_000)],
    )
    .await;
    plant_messages(&app.db, &conversation, "assistant", "complete", &[None]).await;
    app.state.figures.forget().await;
    let page = app.get("/about").await.text().await.unwrap();
    assert_eq!(figure(&page, "answers"), "6");
    assert_eq!(figure(&page, "median-first-token"), "300 ms");
}

#[tokio::test]
async fn the_median_is_over_the_latest_thousand_answers() {
    let app = TestApp::spawn().await;
    let conversation = plant_conversation(&app.db).await;
    // A thousand slow answers long ago, then a thousand fast ones: over all of them the
    // median would be (10 + 5000) / 2.
    plant_messages(
        &app.db,
        &conversation,
        "assistant",
        "complete",
        &[Some(5_000); 1000],
    )
    .await;
    plant_messages(
        &app.db,
        &conversation,
        "assistant",
        "complete",
        &[Some(10); 1000],
    )
    .await;
    let page = app.get("/about").await.text().await.unwrap();
    assert_eq!(figure(&page, "answers"), "2,000");
    assert_eq!(figure(&page, "median-first-token"), "10 ms");
    assert!(page.contains("over the latest 1,000 answers"));
}

#[tokio::test]
async fn answers_served_through_the_chat_count_on_the_about_page() {
    let app = TestApp::spawn().await;
    let conversation = app.create_conversation().await;
    app.chat(&conversation, "Hello").await;
    app.state.figures.forget().await;
    let page = app.get("/about").await.text().await.unwrap();
    assert_eq!(figure(&page, "answers"), "1");
    let median = figure(&page, "median-first-token");
    assert!(
        median.ends_with(" ms"),
        "a real answer has a first token: {median}"
    );
}
