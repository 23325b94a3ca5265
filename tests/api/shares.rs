//! Share links: snapshots and their updates, revocation, the public page's headers and
//! link-preview tags, the preview image, "continue in my own chat", and the showcase.

use serde_json::{Value, json};

use crate::{
    helpers::{TestApp, http_client},
    mock_upstream::Scenario,
};

/// A chat of `client`'s with one question answered `answer`; returns its id.
async fn answered_as(app: &TestApp, client: &reqwest::Client, answer: &str) -> String {
    app.mock.push(Scenario::answer(answer));
    let conversation = app.create_conversation_as(client).await;
    let response = app
        .send_streaming_as(client, &conversation, "What is in the snapshot?")
        .await;
    assert_eq!(response.status(), 200);
    crate::helpers::read_events(response).await;
    conversation
}

/// Shares (or updates) a conversation from `client`'s browser; returns the link's token.
async fn share_as(app: &TestApp, client: &reqwest::Client, conversation: &str) -> String {
    let response = client
        .post(app.url(&format!("/conversations/{conversation}/share")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303, "{:?}", response.text().await);
    assert_eq!(response.headers()["location"], "/settings/shares");
    token_of(app, conversation).await.expect("a share was made")
}

async fn token_of(app: &TestApp, conversation: &str) -> Option<String> {
    sqlx::query_scalar("SELECT token FROM shares WHERE conversation_id = ?")
        .bind(conversation)
        .fetch_optional(&app.db)
        .await
        .unwrap()
}

async fn share_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM shares")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

/// The share page as a stranger (a browser with no cookie) sees it.
async fn read_share(app: &TestApp, token: &str) -> reqwest::Response {
    http_client()
        .get(app.url(&format!("/s/{token}")))
        .send()
        .await
        .unwrap()
}

/// The `content` of `<meta property|name="name" content="…">`, unescaped enough for
/// the tests' plain text.
fn meta(page: &str, name: &str) -> Option<String> {
    let at = page
        .find(&format!("property=\"{name}\" content=\""))
        .or_else(|| page.find(&format!("name=\"{name}\" content=\"")))?;
    let rest = &page[at..];
    let start = rest.find("content=\"")? + "content=\"".len();
    let end = rest[start..].find('"')?;
    Some(
        rest[start..start + end]
            .replace("&#x27;", "'")
            .replace("&#39;", "'"),
    )
}

#[tokio::test]
async fn a_share_is_a_snapshot_and_update_refreshes_it_on_the_same_link() {
    let app = TestApp::spawn_unthrottled(&[]).await;
    let conversation = answered_as(&app, &app.client, "The first answer.").await;
    let token = share_as(&app, &app.client, &conversation).await;
    assert_eq!(token.len(), 22, "128 bits in base64url: {token}");

    let page = read_share(&app, &token).await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("The first answer."), "{page}");
    assert!(page.contains("What is in the snapshot?"));
    assert!(
        !page.contains("id=\"composer\""),
        "a share page has no composer"
    );
    assert!(
        !page.contains("class=\"sidebar\""),
        "a share page has no sidebar"
    );

    // Written after sharing: not on the page.
    app.mock.push(Scenario::answer("A later, private answer."));
    app.chat(&conversation, "A later question").await;
    let page = read_share(&app, &token).await.text().await.unwrap();
    assert!(!page.contains("A later"), "{page}");

    // Update: the same link, the new messages.
    assert_eq!(share_as(&app, &app.client, &conversation).await, token);
    assert_eq!(share_count(&app).await, 1);
    let page = read_share(&app, &token).await.text().await.unwrap();
    assert!(page.contains("A later, private answer."), "{page}");
}

#[tokio::test]
async fn an_answer_still_being_written_is_left_out_with_its_question() {
    let app = TestApp::spawn_unthrottled(&[]).await;
    let conversation = answered_as(&app, &app.client, "A finished answer.").await;
    // A turn in progress, as the page would find it mid-stream.
    sqlx::raw_sql(&format!(
        "INSERT INTO messages (conversation_id, role, content, status, created_at, updated_at)
         VALUES ('{conversation}', 'user', 'Unanswered question', 'complete', 1, 1);
         INSERT INTO messages (conversation_id, role, content, status, model, created_at,
                               updated_at, reply_to)
         VALUES ('{conversation}', 'assistant', 'Half writ', 'streaming', 'm', 1, 1,
                 (SELECT max(id) FROM messages WHERE role = 'user'));"
    ))
    .execute(&app.db)
    .await
    .unwrap();
    let token = share_as(&app, &app.client, &conversation).await;
    let page = read_share(&app, &token).await.text().await.unwrap();
    assert!(page.contains("A finished answer."));
    assert!(!page.contains("Half writ"), "{page}");
    assert!(!page.contains("Unanswered question"), "{page}");
}

#[tokio::test]
async fn a_revoked_link_is_a_404_exactly_like_a_token_that_never_existed() {
    let app = TestApp::spawn_unthrottled(&[]).await;
    let conversation = answered_as(&app, &app.client, "Soon gone.").await;
    let token = share_as(&app, &app.client, &conversation).await;
    let id: i64 = sqlx::query_scalar("SELECT id FROM shares")
        .fetch_one(&app.db)
        .await
        .unwrap();

    let list = app.get("/settings/shares").await.text().await.unwrap();
    assert!(list.contains(&format!("/s/{token}")), "{list}");
    assert!(list.contains(&format!("/settings/shares/{id}/revoke")));

    // Someone else cannot revoke it.
    let stranger = http_client();
    let refused = app
        .post_form_as(&stranger, &format!("/settings/shares/{id}/revoke"), &[])
        .await;
    assert_eq!(refused.status(), 404);
    assert_eq!(read_share(&app, &token).await.status(), 200);

    let revoked = app
        .post_form(&format!("/settings/shares/{id}/revoke"), &[])
        .await;
    assert_eq!(revoked.status(), 303);
    assert_eq!(revoked.headers()["location"], "/settings/shares");

    let gone = read_share(&app, &token).await;
    assert_eq!(gone.status(), 404);
    assert_eq!(gone.headers()["x-robots-tag"], "noindex, nofollow");
    let gone = gone.text().await.unwrap();
    let never = read_share(&app, "AAAAAAAAAAAAAAAAAAAAAA").await;
    assert_eq!(never.status(), 404);
    assert_eq!(never.text().await.unwrap(), gone, "the same page for both");
    assert!(!gone.contains("Soon gone."));
    let preview = app.get(&format!("/s/{token}/preview.png")).await;
    assert_eq!(preview.status(), 404);
    let list = app.get("/settings/shares").await.text().await.unwrap();
    assert!(!list.contains(&token));
}

#[tokio::test]
async fn a_share_page_is_never_indexed_and_unfurls_with_its_title_text_and_image() {
    let app = TestApp::spawn_unthrottled(&[("PUBLIC_URL", "http://share.example")]).await;
    let long_korean = "한국어 답변입니다. ".repeat(40);
    let conversation = answered_as(&app, &app.client, &long_korean).await;
    let token = share_as(&app, &app.client, &conversation).await;

    let response = read_share(&app, &token).await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["x-robots-tag"], "noindex, nofollow");
    assert_eq!(
        headers["referrer-policy"], "no-referrer",
        "the page's own policy, not the site's default"
    );
    assert!(headers.contains_key("content-security-policy"));
    let page = response.text().await.unwrap();
    assert_eq!(meta(&page, "robots").unwrap(), "noindex, nofollow");
    assert_eq!(meta(&page, "og:type").unwrap(), "article");
    assert_eq!(meta(&page, "og:title").unwrap(), "Test");
    assert_eq!(
        meta(&page, "og:url").unwrap(),
        format!("http://share.example/s/{token}")
    );
    let image = meta(&page, "og:image").unwrap();
    assert!(
        image.starts_with(&format!("http://share.example/s/{token}/preview.png?v=")),
        "{image}"
    );
    assert_eq!(meta(&page, "twitter:card").unwrap(), "summary_large_image");
    let description = meta(&page, "og:description").unwrap();
    assert_eq!(description.chars().count(), 200, "{description}");
    assert!(description.starts_with("한국어 답변입니다."));
    assert!(description.ends_with('…'));

    // Without PUBLIC_URL, links are absolute on the host the request named.
    let plain = TestApp::spawn_unthrottled(&[]).await;
    let conversation = answered_as(&plain, &plain.client, "Short.").await;
    let token = share_as(&plain, &plain.client, &conversation).await;
    let page = read_share(&plain, &token).await.text().await.unwrap();
    let image = meta(&page, "og:image").unwrap();
    assert!(
        image.starts_with(&format!("{}/s/{token}/preview.png", plain.address)),
        "{image}"
    );
    assert_eq!(meta(&page, "og:description").unwrap(), "Short.");
}

fn decoded(png: &[u8]) -> (u32, u32) {
    let reader = png::Decoder::new(std::io::Cursor::new(png))
        .read_info()
        .unwrap();
    let info = reader.info();
    (info.width, info.height)
}

#[tokio::test]
async fn the_preview_image_is_a_1200_by_630_png_kept_by_browsers_per_version() {
    let app = TestApp::spawn_unthrottled(&[]).await;
    let first = answered_as(&app, &app.client, "One.").await;
    let second = answered_as(&app, &app.client, "Two.").await;
    for (id, title) in [(&first, "Sea haiku"), (&second, "서울의 봄 날씨")] {
        let renamed = app
            .post_form(&format!("/conversations/{id}/rename"), &[("title", title)])
            .await;
        assert_eq!(renamed.status(), 303);
    }
    let first_token = share_as(&app, &app.client, &first).await;
    let second_token = share_as(&app, &app.client, &second).await;

    let response = app.get(&format!("/s/{first_token}/preview.png")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/png");
    assert_eq!(response.headers()["x-robots-tag"], "noindex, nofollow");
    let cache = response.headers()["cache-control"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        cache.contains("public") && cache.contains("max-age="),
        "{cache}"
    );
    let etag = response.headers()["etag"].clone();
    let first_png = response.bytes().await.unwrap();
    assert_eq!(decoded(&first_png), (1200, 630));

    let again = app
        .client
        .get(app.url(&format!("/s/{first_token}/preview.png")))
        .header("if-none-match", etag.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);

    let second_png = app
        .get(&format!("/s/{second_token}/preview.png"))
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(decoded(&second_png), (1200, 630));
    assert_ne!(first_png, second_png, "two titles, two images");

    // An update is a new version: a new ETag, and the image drawn again.
    let renamed = app
        .post_form(
            &format!("/conversations/{first}/rename"),
            &[("title", "Renamed")],
        )
        .await;
    assert_eq!(renamed.status(), 303);
    share_as(&app, &app.client, &first).await;
    let updated = app
        .client
        .get(app.url(&format!("/s/{first_token}/preview.png")))
        .header("if-none-match", etag.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(updated.status(), 200);
    assert_ne!(updated.headers()["etag"], etag);
    assert_ne!(updated.bytes().await.unwrap(), first_png);
}

#[tokio::test]
async fn only_the_owner_can_share_a_conversation() {
    let app = TestApp::spawn_unthrottled(&[]).await;
    let owner = app.sign_up("owner@example.com").await;
    let conversation = answered_as(&app, &owner, "Mine.").await;
    let other = app.sign_up("other@example.com").await;
    for (client, id) in [
        (&other, conversation.as_str()),
        (&http_client(), conversation.as_str()),
        (&owner, "no-such-conversation"),
    ] {
        let response = client
            .post(app.url(&format!("/conversations/{id}/share")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{id}");
    }
    assert_eq!(share_count(&app).await, 0, "nothing written");

    // A guest shares their own conversation and finds it on their "Shared links".
    let guest = http_client();
    app.mock.push(Scenario::answer("A guest's answer."));
    let started = app
        .post_form_as(&guest, "/conversations", &[("content", "Hello")])
        .await;
    assert_eq!(started.status(), 303);
    let location = started.headers()["location"].to_str().unwrap().to_string();
    let guest_conversation = location.trim_start_matches("/conversations/");
    let token = share_as(&app, &guest, guest_conversation).await;
    let list = app.text_as(&guest, "/settings/shares").await;
    assert!(list.contains(&format!("/s/{token}")), "{list}");
    let others = app.text_as(&other, "/settings/shares").await;
    assert!(!others.contains(&token));
}

#[tokio::test]
async fn htmx_gets_the_link_with_a_copy_button() {
    let app = TestApp::spawn_unthrottled(&[]).await;
    let conversation = answered_as(&app, &app.client, "Linked.").await;
    let response = app
        .post_htmx(&format!("/conversations/{conversation}/share"), &[])
        .await;
    assert_eq!(response.status(), 200);
    let fragment = response.text().await.unwrap();
    let token = token_of(&app, &conversation).await.unwrap();
    assert!(
        fragment.contains(&format!("{}/s/{token}", app.address)),
        "{fragment}"
    );
    assert!(fragment.contains("data-copy=\"share-link-url\""));
}

#[tokio::test]
async fn the_share_page_shows_no_system_prompt_instructions_or_owner() {
    let app = TestApp::spawn_unthrottled(&[]).await;
    let owner = app.sign_up("secret-owner@example.com").await;
    let owner_id = app.user_id("secret-owner@example.com").await;
    app.mock.push(Scenario::json(&json!({
        "title": "Photosynthesis",
        "summary": "Plants make sugar from light.",
        "key_points": ["Light reactions", "Calvin cycle"],
        "questions": []
    })));
    let run: Value = owner
        .post(app.url("/api/v1/apps/summarize/runs"))
        .json(
            &json!({"text": "Notes on chloroplasts.", "kind": "notes", "points": 2,
                      "questions": false}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let run_id = run["run_id"].as_str().unwrap();
    let token = share_as(&app, &owner, run_id).await;

    let page = read_share(&app, &token).await.text().await.unwrap();
    assert!(page.contains("Notes on chloroplasts."), "the input: {page}");
    assert!(page.contains("Plants make sugar from light."), "the result");
    assert!(page.contains("Calvin cycle"));
    assert!(page.contains("Summarize"), "the app's title");
    assert!(!page.contains("secret-owner"), "the owner's email");
    assert!(
        !page.contains("You help people learn"),
        "the app's instructions"
    );
    assert!(!page.contains("The notes:"), "the rendered prompt");
    let snapshot: String = sqlx::query_scalar("SELECT snapshot FROM shares")
        .fetch_one(&app.db)
        .await
        .unwrap();
    for secret in [
        "You help people learn",
        "The notes:",
        "secret-owner",
        run_id,
    ] {
        assert!(!snapshot.contains(secret), "{secret} in {snapshot}");
    }
    assert!(!snapshot.contains(&format!("\"{owner_id}\"")));

    // A chat: the site's system prompt is nowhere on it.
    let conversation = answered_as(&app, &owner, "Chat answer.").await;
    let token = share_as(&app, &owner, &conversation).await;
    let page = read_share(&app, &token).await.text().await.unwrap();
    let system = app.state.site.system_prompt.trim();
    assert!(!system.is_empty() && !page.contains(system), "{page}");
    assert!(!page.contains("secret-owner"));
}

#[tokio::test]
async fn a_shared_picture_is_shown_to_strangers_and_kept_in_a_copy() {
    let app = TestApp::spawn_unthrottled(&[]).await;
    app.mock.push(Scenario::image());
    let run: Value = app
        .client
        .post(app.url("/api/v1/apps/image/runs"))
        .json(&json!({"prompt": "a lighthouse"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let run_id = run["run_id"].as_str().unwrap();
    let token = share_as(&app, &app.client, run_id).await;
    let page = read_share(&app, &token).await.text().await.unwrap();
    let at = page.find("src=\"/images/").expect("the picture") + "src=\"".len();
    let src = &page[at..at + "/images/".len() + 64];
    let picture = http_client().get(app.url(src)).send().await.unwrap();
    assert_eq!(picture.status(), 200, "a stranger can load {src}");

    // Copied, then the original deleted: the copy keeps its picture.
    let visitor = http_client();
    let copied = app
        .post_form_as(&visitor, &format!("/s/{token}/continue"), &[])
        .await;
    assert_eq!(copied.status(), 303);
    let deleted = app
        .post_form(&format!("/conversations/{run_id}/delete"), &[])
        .await;
    assert_eq!(deleted.status(), 303);
    let location = copied.headers()["location"].to_str().unwrap().to_string();
    let copy = app.text_as(&visitor, &location).await;
    assert!(copy.contains(src), "{copy}");
    assert_eq!(
        http_client()
            .get(app.url(src))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn continue_in_my_own_chat_copies_the_messages_without_a_model_call() {
    let app = TestApp::spawn_unthrottled(&[]).await;
    let conversation = answered_as(&app, &app.client, "The shared answer.").await;
    let token = share_as(&app, &app.client, &conversation).await;
    let original = app.messages(&conversation).await;
    let posts = app.mock.posts();
    let usage = || sqlx::query_scalar::<_, i64>("SELECT count(*) FROM usage").fetch_one(&app.db);
    let usage_before = usage().await.unwrap();

    // A stranger with no session becomes a guest with their own copy.
    let visitor = http_client();
    let response = app
        .post_form_as(&visitor, &format!("/s/{token}/continue"), &[])
        .await;
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let copy = location
        .strip_prefix("/conversations/")
        .unwrap()
        .to_string();
    assert_ne!(copy, conversation);
    let listed = app.list_conversations_as(&visitor).await;
    assert_eq!(listed["data"][0]["id"], copy.as_str());
    assert_eq!(listed["data"][0]["title"], "Test", "titled like the share");
    let copied: Value = visitor
        .get(app.url(&format!("/api/v1/conversations/{copy}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pairs = |messages: &[Value]| -> Vec<(String, String)> {
        messages
            .iter()
            .map(|m| {
                (
                    m["role"].as_str().unwrap().to_string(),
                    m["content"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    assert_eq!(
        pairs(copied["messages"].as_array().unwrap()),
        pairs(&original)
    );
    assert_eq!(
        app.messages(&conversation).await,
        original,
        "the original unchanged"
    );
    assert_eq!(app.mock.posts(), posts, "no model call");
    assert_eq!(usage().await.unwrap(), usage_before, "no usage row");
    // The copy is the visitor's to go on with.
    let page = visitor.get(app.url(&location)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("The shared answer."));

    // An unknown link copies nothing (and makes no guest).
    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM conversations")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let missing = app
        .post_form_as(&http_client(), "/s/AAAAAAAAAAAAAAAAAAAAAA/continue", &[])
        .await;
    assert_eq!(missing.status(), 404);
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM conversations")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(before, after);
}

#[tokio::test]
async fn a_guest_at_their_conversation_limit_cannot_copy_another() {
    let app = TestApp::spawn_unthrottled(&[("GUEST_MAX_CONVERSATIONS", "1")]).await;
    let conversation = answered_as(&app, &app.client, "Shared.").await;
    let token = share_as(&app, &app.client, &conversation).await;
    // `app.client` is a guest with one conversation already.
    let refused = app.post_form(&format!("/s/{token}/continue"), &[]).await;
    assert_eq!(refused.status(), 403);
    let conversations: i64 = sqlx::query_scalar("SELECT count(*) FROM conversations")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(conversations, 1);
}

/// The site file with `home_app` set, for a test app.
fn home_app_site(dir: &std::path::Path) -> String {
    let site = std::fs::read_to_string("promptship.toml").unwrap().replace(
        "image_model = \"gpt-image-1\"",
        "image_model = \"gpt-image-1\"\nhome_app = \"translate\"",
    );
    let path = dir.join("site.toml");
    std::fs::write(&path, site).unwrap();
    path.to_str().unwrap().to_string()
}

#[tokio::test]
async fn an_admin_pins_shares_to_the_landing_pages_showcase() {
    let dir = tempfile::tempdir().unwrap();
    let site = home_app_site(dir.path());
    let app = TestApp::spawn_unthrottled(&[("PROMPTSHIP_SITE", &site)]).await;
    let user = app.sign_up("user@example.com").await;
    let conversation = answered_as(&app, &user, "A showcased answer.").await;
    let token = share_as(&app, &user, &conversation).await;
    let id: i64 = sqlx::query_scalar("SELECT id FROM shares")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(
        !app.text_as(&http_client(), "/chat")
            .await
            .contains("See it in action")
    );

    // Not an admin: no such page, nothing pinned.
    for client in [&user, &http_client()] {
        let response = client
            .post(app.url(&format!("/admin/shares/{id}/pin")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404);
    }
    let page = read_share(&app, &token).await.text().await.unwrap();
    assert!(!page.contains("Pin to showcase"), "only an admin sees it");

    let admin = app.admin().await;
    let page = app.text_as(&admin, &format!("/s/{token}")).await;
    assert!(page.contains(&format!("/admin/shares/{id}/pin")), "{page}");
    let pinned = admin
        .post(app.url(&format!("/admin/shares/{id}/pin")))
        .send()
        .await
        .unwrap();
    assert_eq!(pinned.status(), 303);
    assert_eq!(pinned.headers()["location"], format!("/s/{token}").as_str());

    for path in ["/chat", "/"] {
        let page = app.text_as(&http_client(), path).await;
        assert!(page.contains("See it in action"), "{path}: {page}");
        assert!(page.contains(&format!("href=\"/s/{token}\"")), "{path}");
        assert!(page.contains("A showcased answer."), "{path}: the excerpt");
    }
    let korean = app.text_in(&http_client(), "/chat", "ko").await;
    assert!(korean.contains("이렇게 쓰입니다"));

    let page = app.text_as(&admin, &format!("/s/{token}")).await;
    assert!(page.contains("Unpin"));
    let unpinned = admin
        .post(app.url(&format!("/admin/shares/{id}/unpin")))
        .send()
        .await
        .unwrap();
    assert_eq!(unpinned.status(), 303);
    for path in ["/chat", "/"] {
        assert!(
            !app.text_as(&http_client(), path)
                .await
                .contains("See it in action")
        );
    }
}

/// The tokens of the showcase's cards on `page`, in the order shown.
fn showcased(page: &str) -> Vec<String> {
    let Some(start) = page.find("See it in action") else {
        return Vec::new();
    };
    page[start..]
        .split("href=\"/s/")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_string())
        .collect()
}

#[tokio::test]
async fn the_showcase_shows_the_six_most_recently_pinned() {
    let dir = tempfile::tempdir().unwrap();
    let site = home_app_site(dir.path());
    let app = TestApp::spawn_unthrottled(&[("PROMPTSHIP_SITE", &site)]).await;
    let admin = app.admin().await;
    let mut shares = Vec::new();
    for i in 0..7 {
        let conversation = answered_as(&app, &admin, &format!("Example {i}.")).await;
        let token = share_as(&app, &admin, &conversation).await;
        let id: i64 = sqlx::query_scalar("SELECT id FROM shares WHERE token = ?")
            .bind(&token)
            .fetch_one(&app.db)
            .await
            .unwrap();
        shares.push((id, token));
    }
    let pin = |id: i64| {
        let request = admin.post(app.url(&format!("/admin/shares/{id}/pin")));
        async move {
            assert_eq!(request.send().await.unwrap().status(), 303);
            // Pins a millisecond apart, so their order is the order pinned.
            tokio::time::sleep(std::time::Duration::from_millis(3)).await;
        }
    };
    // Pinned newest share first, so the order pinned is not the order made.
    for (id, _) in shares.iter().rev() {
        pin(*id).await;
    }
    let expected: Vec<String> = shares[..6].iter().map(|(_, t)| t.clone()).collect();
    assert_eq!(
        showcased(&app.text_as(&http_client(), "/chat").await),
        expected,
        "the last pinned first, six at most"
    );

    // Pinned again, the first share comes back on top.
    pin(shares[6].0).await;
    let expected: Vec<String> = [&shares[6]]
        .into_iter()
        .chain(&shares[..5])
        .map(|(_, t)| t.clone())
        .collect();
    assert_eq!(showcased(&app.text_as(&http_client(), "/").await), expected);
}

#[tokio::test]
async fn deleting_the_conversation_deletes_its_share() {
    let app = TestApp::spawn_unthrottled(&[]).await;
    let conversation = answered_as(&app, &app.client, "Ephemeral.").await;
    let token = share_as(&app, &app.client, &conversation).await;
    let deleted = app
        .post_form(&format!("/conversations/{conversation}/delete"), &[])
        .await;
    assert_eq!(deleted.status(), 303);
    assert_eq!(share_count(&app).await, 0);
    assert_eq!(read_share(&app, &token).await.status(), 404);
}

#[tokio::test]
async fn the_share_page_speaks_the_readers_language() {
    let app = TestApp::spawn_unthrottled(&[]).await;
    let conversation = answered_as(&app, &app.client, "Hello.").await;
    let token = share_as(&app, &app.client, &conversation).await;
    let korean = http_client()
        .get(app.url(&format!("/s/{token}")))
        .header("accept-language", "ko-KR,ko;q=0.9")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(korean.contains("<html lang=\"ko\">"));
    assert!(korean.contains("내 대화로 이어가기"), "{korean}");
    let english = read_share(&app, &token).await.text().await.unwrap();
    assert!(english.contains("Continue in my own chat"));
}
