//! The review queue: only admins and reviewers get in; eligible answers (by the site's
//! data_policy and the owner's opt-out) are listed and filtered; a reviewer claims one
//! under a lease that no one else can take; every decision is audited.

use std::time::Duration;

use futures_util::future::join_all;
use serde_json::json;

use crate::helpers::{TestApp, http_client};

/// Starts the app with the shipped site file, its `data_policy` set to `policy`.
async fn spawn(policy: &str, vars: &[(&str, &str)]) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let site = std::fs::read_to_string("promptship.toml").unwrap().replace(
        "data_policy = \"off\"",
        &format!("data_policy = \"{policy}\""),
    );
    let path = dir.path().join("site.toml");
    std::fs::write(&path, site).unwrap();
    let mut all = vec![("PROMPTSHIP_SITE", path.to_str().unwrap())];
    all.extend_from_slice(vars);
    // The site file is read once, at start.
    TestApp::spawn_unthrottled(&all).await
}

/// Asks a question in a new conversation of `client`'s and waits for the answer;
/// returns the answer's id.
async fn answer(app: &TestApp, client: &reqwest::Client, question: &str) -> i64 {
    let conversation = app.create_conversation_as(client).await;
    ask(app, client, &conversation, question).await
}

/// Asks a question in `conversation` and returns the answer's id.
async fn ask(app: &TestApp, client: &reqwest::Client, conversation: &str, question: &str) -> i64 {
    let response = client
        .post(app.url(&format!("/api/v1/conversations/{conversation}/messages")))
        .json(&json!({ "content": question }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    sqlx::query_scalar(
        "SELECT max(id) FROM messages WHERE conversation_id = ? AND role = 'assistant'",
    )
    .bind(conversation)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

/// Signs up `email` and has the admin make them a reviewer; returns their browser.
async fn reviewer(app: &TestApp, admin: &reqwest::Client, email: &str) -> reqwest::Client {
    let client = app.sign_up(email).await;
    let id = app.user_id(email).await;
    let response = app
        .post_form_as(admin, &format!("/admin/users/{id}/make-reviewer"), &[])
        .await;
    assert_eq!(response.status(), 303);
    client
}

async fn status(app: &TestApp, client: &reqwest::Client, path: &str) -> u16 {
    client
        .get(app.url(path))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn page(app: &TestApp, client: &reqwest::Client, path: &str) -> String {
    let response = client.get(app.url(path)).send().await.unwrap();
    assert_eq!(response.status(), 200, "GET {path}");
    response.text().await.unwrap()
}

/// `GET /review/next?query`: the answer it claimed, or `None` when it went back to the
/// list with nothing left.
async fn next(app: &TestApp, client: &reqwest::Client, query: &str) -> Option<i64> {
    let response = client
        .get(app.url(&format!("/review/next?{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    if location.contains("done=1") {
        return None;
    }
    let id = location
        .strip_prefix("/review/")
        .unwrap()
        .split('?')
        .next()
        .unwrap();
    Some(id.parse().unwrap())
}

async fn decide(
    app: &TestApp,
    client: &reqwest::Client,
    id: i64,
    action: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    app.post_form_as(client, &format!("/review/{id}/{action}"), form)
        .await
}

/// The answers the list shows, by id.
async fn listed(app: &TestApp, client: &reqwest::Client, query: &str) -> Vec<i64> {
    let html = page(app, client, &format!("/review?{query}")).await;
    html.match_indices("data-answer=\"")
        .map(|(at, found)| {
            let rest = &html[at + found.len()..];
            rest[..rest.find('"').unwrap()].parse().unwrap()
        })
        .collect()
}

/// `(state, reason, content, claimed_by)` of an answer's review row.
async fn review_row(
    app: &TestApp,
    id: i64,
) -> Option<(String, Option<String>, Option<String>, Option<i64>)> {
    sqlx::query_as("SELECT state, reason, content, claimed_by FROM reviews WHERE message_id = ?")
        .bind(id)
        .fetch_optional(&app.db)
        .await
        .unwrap()
}

type Event = (
    Option<i64>,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// `(reviewer_id, from, to, reason, before, after)` of each audit row, oldest first.
async fn events(app: &TestApp, id: i64) -> Vec<Event> {
    sqlx::query_as(
        "SELECT reviewer_id, from_state, to_state, reason, before, after FROM review_events
         WHERE message_id = ? ORDER BY id",
    )
    .bind(id)
    .fetch_all(&app.db)
    .await
    .unwrap()
}

async fn content_of(app: &TestApp, id: i64) -> String {
    sqlx::query_scalar("SELECT content FROM messages WHERE id = ?")
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn only_admins_and_reviewers_find_the_queue_and_the_admin_grants_and_removes_the_role() {
    let app = spawn("accounts", &[]).await;
    let admin = app.admin().await;
    let user = app.sign_up("user@example.com").await;
    let id = answer(&app, &user, "What is a lease?").await;
    let guest = http_client();

    for (who, client) in [("guest", &guest), ("user", &user)] {
        for path in ["/review", "/review/next", &format!("/review/{id}")] {
            assert_eq!(status(&app, client, path).await, 404, "{who} GET {path}");
        }
        let response = decide(&app, client, id, "accept", &[]).await;
        assert_eq!(response.status(), 404, "{who} POST accept");
    }
    assert_eq!(review_row(&app, id).await, None, "nothing was decided");
    assert!(!page(&app, &user, "/").await.contains("href=\"/review\""));

    assert_eq!(status(&app, &admin, "/review").await, 200);
    assert!(page(&app, &admin, "/").await.contains("href=\"/review\""));
    let user_id = app.user_id("user@example.com").await;
    let admin_page = page(&app, &admin, "/admin").await;
    assert!(admin_page.contains(&format!("/admin/users/{user_id}/make-reviewer")));

    let granted = app
        .post_form_as(
            &admin,
            &format!("/admin/users/{user_id}/make-reviewer"),
            &[],
        )
        .await;
    assert_eq!(granted.status(), 303);
    assert_eq!(status(&app, &user, "/review").await, 200);
    assert_eq!(status(&app, &user, &format!("/review/{id}")).await, 200);
    assert!(page(&app, &user, "/").await.contains("href=\"/review\""));
    assert!(
        page(&app, &admin, "/admin")
            .await
            .contains(&format!("/admin/users/{user_id}/remove-reviewer"))
    );

    let removed = app
        .post_form_as(
            &admin,
            &format!("/admin/users/{user_id}/remove-reviewer"),
            &[],
        )
        .await;
    assert_eq!(removed.status(), 303);
    assert_eq!(status(&app, &user, "/review").await, 404);
    // A user who is not there cannot be made a reviewer.
    let nobody = app
        .post_form_as(&admin, "/admin/users/999999/make-reviewer", &[])
        .await;
    assert_eq!(nobody.status(), 404);
    // Only an admin grants it.
    let by_user = app
        .post_form_as(&user, &format!("/admin/users/{user_id}/make-reviewer"), &[])
        .await;
    assert_eq!(by_user.status(), 403);
}

#[tokio::test]
async fn every_decision_moves_the_state_and_writes_its_audit_row() {
    let app = spawn("accounts", &[]).await;
    let admin = app.admin().await;
    let admin_id = app.user_id(crate::helpers::ADMIN_EMAIL).await;
    let user = app.sign_up("user@example.com").await;
    let id = answer(&app, &user, "Explain WAL mode").await;
    let original = content_of(&app, id).await;

    // pending → accepted (the answer was free: claimed and decided at once)
    let response = decide(&app, &admin, id, "accept", &[]).await;
    assert_eq!(response.status(), 303);
    assert!(
        response.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with(&format!("/review/next?after={id}"))
    );
    assert_eq!(
        review_row(&app, id).await,
        Some(("accepted".into(), None, None, None))
    );

    // accepted → edited: the text before is the answer
    let edit = "WAL keeps readers and the writer apart. 더 나은 답.";
    let response = decide(&app, &admin, id, "edit", &[("content", edit)]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        review_row(&app, id).await,
        Some(("edited".into(), None, Some(edit.into()), None))
    );

    // edited → edited: the text before is the earlier edit
    let second = "WAL: one writer, many readers.";
    decide(&app, &admin, id, "edit", &[("content", second)]).await;

    // edited → rejected, with a reason; the dropped edit stays in the trail
    let response = decide(&app, &admin, id, "reject", &[("reason", "wrong_facts")]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        review_row(&app, id).await,
        Some(("rejected".into(), Some("wrong_facts".into()), None, None))
    );

    // rejected → accepted
    decide(&app, &admin, id, "accept", &[]).await;

    let a = Some(admin_id);
    assert_eq!(
        events(&app, id).await,
        vec![
            (a, "pending".into(), "accepted".into(), None, None, None),
            (
                a,
                "accepted".into(),
                "edited".into(),
                None,
                Some(original),
                Some(edit.into())
            ),
            (
                a,
                "edited".into(),
                "edited".into(),
                None,
                Some(edit.into()),
                Some(second.into())
            ),
            (
                a,
                "edited".into(),
                "rejected".into(),
                Some("wrong_facts".into()),
                Some(second.into()),
                None
            ),
            (a, "rejected".into(), "accepted".into(), None, None, None),
        ]
    );

    // The page shows the trail, and the answer's state.
    let html = page(&app, &admin, &format!("/review/{id}")).await;
    assert!(html.contains("rejected → accepted"), "{html}");
    assert!(html.contains("Wrong facts"));
    assert!(html.contains("id=\"review-state\">accepted<"));

    // Skip changes no state and writes no audit row.
    let skipped = decide(&app, &admin, id, "skip", &[]).await;
    assert_eq!(skipped.status(), 303);
    assert_eq!(events(&app, id).await.len(), 5);
}

#[tokio::test]
async fn reviewers_claiming_in_parallel_never_hold_the_same_answer() {
    let app = spawn("accounts", &[]).await;
    let admin = app.admin().await;
    let user = app.sign_up("user@example.com").await;
    let mut answers = Vec::new();
    for n in 0..6 {
        answers.push(answer(&app, &user, &format!("Question {n}")).await);
    }
    let mut reviewers = vec![admin.clone()];
    for n in 0..3 {
        reviewers.push(reviewer(&app, &admin, &format!("reviewer{n}@example.com")).await);
    }

    // Every reviewer asks for "next" eight times, all at once: 32 claims racing.
    let calls = reviewers
        .iter()
        .enumerate()
        .flat_map(|(who, client)| (0..8).map(move |_| (who, client)))
        .map(|(who, client)| {
            let app = &app;
            async move { (who, next(app, client, "").await) }
        });
    let results = join_all(calls).await;
    let mut held: Vec<Vec<i64>> = vec![Vec::new(); reviewers.len()];
    for (who, claimed) in results {
        held[who].push(claimed.expect("six answers for four reviewers"));
    }
    for (who, ids) in held.iter().enumerate() {
        // A reviewer asking again gets the answer they already hold.
        assert!(
            ids.iter().all(|id| *id == ids[0]),
            "reviewer {who}: {ids:?}"
        );
    }
    let mut firsts: Vec<i64> = held.iter().map(|ids| ids[0]).collect();
    firsts.sort_unstable();
    firsts.dedup();
    assert_eq!(
        firsts.len(),
        reviewers.len(),
        "two reviewers got one answer: {held:?}"
    );
    let holders: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT claimed_by) FROM reviews WHERE claimed_until IS NOT NULL",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(holders, reviewers.len() as i64);

    // Deciding and moving on, each in turn, they work through all six with no answer
    // decided twice.
    let mut decided = Vec::new();
    for _ in 0..6 {
        let claims = reviewers.iter().map(|client| {
            let app = &app;
            async move {
                let id = next(app, client, "").await?;
                let response = decide(app, client, id, "accept", &[]).await;
                assert_eq!(response.status(), 303, "{id}");
                Some(id)
            }
        });
        decided.extend(join_all(claims).await.into_iter().flatten());
    }
    decided.sort_unstable();
    assert_eq!(decided, answers);
    let audit: i64 = sqlx::query_scalar("SELECT count(*) FROM review_events")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(audit, 6, "one decision per answer");
}

#[tokio::test]
async fn a_live_claim_is_a_409_for_others_and_an_expired_one_returns_to_the_queue() {
    let app = spawn("accounts", &[("REVIEW_LEASE_SECS", "60")]).await;
    let admin = app.admin().await;
    let other = reviewer(&app, &admin, "other@example.com").await;
    let user = app.sign_up("user@example.com").await;
    let id = answer(&app, &user, "Only question").await;

    assert_eq!(next(&app, &admin, "").await, Some(id));
    // The only answer is held: nothing for the other reviewer.
    assert_eq!(next(&app, &other, "").await, None);
    let html = page(&app, &other, "/review").await;
    assert!(
        html.contains("admin@example.com until"),
        "the list shows the holder"
    );
    let item = page(&app, &other, &format!("/review/{id}")).await;
    assert!(item.contains("is reviewing this answer until"));

    for (action, form) in [
        ("accept", vec![]),
        ("edit", vec![("content", "mine")]),
        ("reject", vec![("reason", "too_long")]),
    ] {
        let response = decide(&app, &other, id, action, &form).await;
        assert_eq!(response.status(), 409, "{action}");
        let body = response.text().await.unwrap();
        assert!(
            body.contains("admin@example.com is reviewing this answer until"),
            "{body}"
        );
    }
    assert!(events(&app, id).await.is_empty());
    // Skipping someone else's answer leaves their lease alone.
    decide(&app, &other, id, "skip", &[]).await;
    let admin_id = app.user_id(crate::helpers::ADMIN_EMAIL).await;
    assert_eq!(review_row(&app, id).await.unwrap().3, Some(admin_id));

    // The admin walks away; the lease runs out.
    app.state.clock.advance(Duration::from_secs(61));
    assert_eq!(next(&app, &other, "").await, Some(id));
    let other_id = app.user_id("other@example.com").await;
    assert_eq!(review_row(&app, id).await.unwrap().3, Some(other_id));
    let response = decide(&app, &admin, id, "accept", &[]).await;
    assert_eq!(response.status(), 409);
    let response = decide(&app, &other, id, "accept", &[]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(review_row(&app, id).await.unwrap().0, "accepted");

    // A link on another site lands on the list without claiming anything.
    let third = answer(&app, &user, "A third question").await;
    let forged = other
        .get(app.url("/review/next"))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 303);
    assert_eq!(forged.headers()["location"], "/review");
    assert_eq!(review_row(&app, third).await, None);
    let typed = other
        .get(app.url("/review/next"))
        .header("sec-fetch-site", "none")
        .send()
        .await
        .unwrap();
    assert_eq!(
        typed.headers()["location"],
        format!("/review/{third}").as_str()
    );
    assert_eq!(
        decide(&app, &other, third, "accept", &[]).await.status(),
        303
    );

    // Skip gives one's own claim back.
    let second = answer(&app, &user, "Another question").await;
    assert_eq!(next(&app, &other, "").await, Some(second));
    assert_eq!(
        decide(&app, &other, second, "skip", &[]).await.status(),
        303
    );
    assert_eq!(review_row(&app, second).await.unwrap().3, None);
    assert_eq!(next(&app, &admin, "").await, Some(second));
}

#[tokio::test]
async fn filters_narrow_the_list_and_the_next_answer() {
    let app = spawn("accounts", &[]).await;
    let admin = app.admin().await;
    let user = app.sign_up("user@example.com").await;
    let up = answer(&app, &user, "First").await;
    let down = answer(&app, &user, "Second").await;
    let plain = answer(&app, &user, "Third").await;
    let run = user
        .post(app.url("/api/v1/apps/translate/runs"))
        .json(&json!({ "text": "안녕하세요" }))
        .send()
        .await
        .unwrap();
    assert_eq!(run.status(), 200, "{:?}", run.text().await);
    let (translated, version): (i64, String) = sqlx::query_as(
        "SELECT m.id, c.app_version FROM messages m JOIN conversations c ON c.id = m.conversation_id
         WHERE c.app = 'translate' AND m.role = 'assistant'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    for (id, rating, correction) in [(up, Some(1), None), (down, Some(-1), Some("Better."))] {
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
    decide(&app, &admin, plain, "accept", &[]).await;
    let model: String = sqlx::query_scalar("SELECT model FROM messages WHERE id = ?")
        .bind(up)
        .fetch_one(&app.db)
        .await
        .unwrap();

    let all = vec![up, down, plain, translated];
    assert_eq!(listed(&app, &admin, "").await, all);
    assert_eq!(
        listed(&app, &admin, "app=chat").await,
        vec![up, down, plain]
    );
    assert_eq!(
        listed(&app, &admin, "app=translate").await,
        vec![translated]
    );
    let prefix = &version[..8];
    assert_eq!(
        listed(&app, &admin, &format!("version={prefix}")).await,
        vec![translated]
    );
    assert_eq!(
        listed(&app, &admin, "version=0000").await,
        Vec::<i64>::new()
    );
    assert_eq!(listed(&app, &admin, &format!("model={model}")).await, all);
    assert_eq!(listed(&app, &admin, "model=other").await, Vec::<i64>::new());
    assert_eq!(listed(&app, &admin, "rating=up").await, vec![up]);
    assert_eq!(listed(&app, &admin, "rating=down").await, vec![down]);
    assert_eq!(
        listed(&app, &admin, "rating=none").await,
        vec![plain, translated]
    );
    assert_eq!(listed(&app, &admin, "correction=yes").await, vec![down]);
    assert_eq!(
        listed(&app, &admin, "correction=no").await,
        vec![up, plain, translated]
    );
    assert_eq!(listed(&app, &admin, "state=accepted").await, vec![plain]);
    assert_eq!(
        listed(&app, &admin, "state=pending").await,
        vec![up, down, translated]
    );
    let today = app.state.clock.today();
    app.state.clock.advance(Duration::from_secs(86_400));
    let tomorrow = app.state.clock.today();
    assert_eq!(
        listed(&app, &admin, &format!("from={today}&to={today}")).await,
        all
    );
    assert_eq!(
        listed(&app, &admin, &format!("from={tomorrow}")).await,
        Vec::<i64>::new()
    );
    assert_eq!(
        listed(&app, &admin, "app=chat&rating=down&correction=yes").await,
        vec![down]
    );

    // "Next" follows the same filters, pending answers only unless a state is asked for.
    assert_eq!(next(&app, &admin, "app=translate").await, Some(translated));
    assert_eq!(next(&app, &admin, "rating=down").await, Some(down));
    assert_eq!(next(&app, &admin, "state=accepted").await, Some(plain));
    assert_eq!(next(&app, &admin, "model=other").await, None);
    let done = page(&app, &admin, "/review?model=other&done=1").await;
    assert!(done.contains("Nothing left to review with these filters."));

    // A filter the queue cannot apply says which.
    let bad = admin
        .get(app.url("/review?rating=meh"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap().contains("`rating=meh`"));
}

#[tokio::test]
async fn the_list_pages_through_the_queue() {
    let app = spawn("accounts", &[]).await;
    let admin = app.admin().await;
    let conversation = app.create_conversation_as(&admin).await;
    // 51 answers, made in SQL: one more than a page.
    let question: i64 = sqlx::query_scalar(
        "INSERT INTO messages (conversation_id, role, content, status, created_at, updated_at)
         VALUES (?, 'user', 'q', 'complete', 0, 0) RETURNING id",
    )
    .bind(&conversation)
    .fetch_one(&app.db)
    .await
    .unwrap();
    for n in 0..51 {
        sqlx::query(
            "INSERT INTO messages (conversation_id, role, content, status, created_at, updated_at, reply_to)
             VALUES (?, 'assistant', ?, 'complete', 0, 0, ?)",
        )
        .bind(&conversation)
        .bind(format!("answer {n}"))
        .bind(question)
        .execute(&app.db)
        .await
        .unwrap();
    }
    let first = listed(&app, &admin, "").await;
    assert_eq!(first.len(), 50);
    let second = listed(&app, &admin, "page=2").await;
    assert_eq!(second.len(), 1);
    assert!(second[0] > first[49]);
    assert!(page(&app, &admin, "/review").await.contains("page=2"));
}

#[tokio::test]
async fn what_is_eligible_follows_the_data_policy_and_the_opt_out() {
    // off: only dataset batches.
    let app = spawn("off", &[]).await;
    let admin = app.admin().await;
    let user = app.sign_up("user@example.com").await;
    let users_answer = answer(&app, &user, "Mine").await;
    let html = page(&app, &admin, "/review").await;
    assert!(html.contains("data_policy is off: only dataset batches are reviewed"));
    assert!(listed(&app, &admin, "").await.is_empty());
    assert_eq!(
        status(&app, &admin, &format!("/review/{users_answer}")).await,
        404
    );
    assert_eq!(
        decide(&app, &admin, users_answer, "accept", &[])
            .await
            .status(),
        404
    );
    let batch_answer = answer(&app, &admin, "From a batch").await;
    make_batch(&app, batch_answer).await;
    assert_eq!(listed(&app, &admin, "").await, vec![batch_answer]);
    assert_eq!(next(&app, &admin, "").await, Some(batch_answer));

    // accounts: users who have not opted out; no guests.
    let app = spawn("accounts", &[]).await;
    let admin = app.admin().await;
    let user = app.sign_up("user@example.com").await;
    let users_answer = answer(&app, &user, "Mine").await;
    let leaver = app.sign_up("leaver@example.com").await;
    let leavers_answer = answer(&app, &leaver, "Keep me out").await;
    sqlx::query("UPDATE users SET data_opt_out = 1 WHERE email = 'leaver@example.com'")
        .execute(&app.db)
        .await
        .unwrap();
    let guest = http_client();
    let guests_answer = answer(&app, &guest, "As a guest").await;
    assert_eq!(listed(&app, &admin, "").await, vec![users_answer]);
    for id in [leavers_answer, guests_answer] {
        assert_eq!(status(&app, &admin, &format!("/review/{id}")).await, 404);
        assert_eq!(decide(&app, &admin, id, "accept", &[]).await.status(), 404);
    }
    assert!(
        !page(&app, &admin, "/review")
            .await
            .contains("data_policy is off")
    );

    // all: guests too, never the opted-out.
    let app = spawn("all", &[]).await;
    let admin = app.admin().await;
    let leaver = app.sign_up("leaver@example.com").await;
    let leavers_answer = answer(&app, &leaver, "Keep me out").await;
    sqlx::query("UPDATE users SET data_opt_out = 1 WHERE email = 'leaver@example.com'")
        .execute(&app.db)
        .await
        .unwrap();
    let guest = http_client();
    let guests_answer = answer(&app, &guest, "As a guest").await;
    assert_eq!(listed(&app, &admin, "").await, vec![guests_answer]);
    assert_eq!(next(&app, &admin, "").await, Some(guests_answer));
    assert_eq!(
        status(&app, &admin, &format!("/review/{leavers_answer}")).await,
        404
    );
}

/// Marks the answer's conversation as made by a dataset batch.
async fn make_batch(app: &TestApp, answer: i64) {
    let batch: i64 = sqlx::query_scalar(
        "INSERT INTO batches (name, source, state, concurrency, created_at, updated_at)
         VALUES ('test', 'upload', 'done', 1, 0, 0) RETURNING id",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    sqlx::query(
        "UPDATE conversations SET batch_id = ?
         WHERE id = (SELECT conversation_id FROM messages WHERE id = ?)",
    )
    .bind(batch)
    .bind(answer)
    .execute(&app.db)
    .await
    .unwrap();
}

#[tokio::test]
async fn the_answer_page_shows_the_thread_the_feedback_the_siblings_and_the_edit_box() {
    let app = spawn("accounts", &[]).await;
    let admin = app.admin().await;
    let user = app.sign_up("user@example.com").await;
    let conversation = app.create_conversation_as(&user).await;
    let first = ask(&app, &user, &conversation, "The first question").await;
    let earlier = ask(&app, &user, &conversation, "The **second** question").await;
    // Regenerate keeps the earlier answer as a sibling.
    let regenerated = user
        .post(app.url(&format!("/conversations/{conversation}/regenerate")))
        .send()
        .await
        .unwrap();
    assert_eq!(regenerated.status(), 303);
    let later: i64 = sqlx::query_scalar("SELECT max(id) FROM messages WHERE role = 'assistant'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_ne!(later, earlier);
    sqlx::query(
        "INSERT INTO feedback (message_id, rating, tags, comment, correction, created_at, updated_at)
         VALUES (?, -1, 'wrong_facts too_long', 'Not quite', 'The right answer.', 0, 0)",
    )
    .bind(later)
    .execute(&app.db)
    .await
    .unwrap();

    let html = page(&app, &admin, &format!("/review/{later}")).await;
    assert!(html.contains("The first question"));
    assert!(
        html.contains("The **second** question"),
        "the question, as typed"
    );
    assert!(html.contains(&format!("id=\"message-{later}\"")));
    assert!(html.contains("Wrong facts, Too long"));
    assert!(html.contains("Not quite"));
    assert!(html.contains("thumbs down"));
    // The edit box starts from the owner's correction.
    assert!(html.contains(">The right answer.</textarea>"), "{html}");
    assert!(
        html.contains(&format!("href=\"/review/{earlier}\"")),
        "the sibling"
    );
    for key in [
        "accesskey=\"a\"",
        "accesskey=\"e\"",
        "accesskey=\"r\"",
        "accesskey=\"s\"",
    ] {
        assert!(html.contains(key), "{key}");
    }
    assert!(html.contains("No one holds this answer"));
    // Once claimed, the page says so.
    assert_eq!(next(&app, &admin, "").await, Some(first));
    let held = page(&app, &admin, &format!("/review/{first}")).await;
    assert!(held.contains("You hold this answer until"), "{held}");
}

#[tokio::test]
async fn bad_decisions_are_refused_with_the_reason_and_change_nothing() {
    let app = spawn("accounts", &[("MAX_MESSAGE_CHARS", "40")]).await;
    let admin = app.admin().await;
    let user = app.sign_up("user@example.com").await;
    let id = answer(&app, &user, "Question").await;

    for (action, form, status, says) in [
        (
            "reject",
            vec![("reason", "boring")],
            422,
            "`boring` is not a reason",
        ),
        ("reject", vec![], 422, "needs a reason"),
        ("edit", vec![("content", "  \n ")], 422, "The edit is empty"),
        ("edit", vec![], 422, "The edit is empty"),
        (
            "edit",
            vec![("content", "bell\u{7}")],
            422,
            "control characters",
        ),
        (
            "edit",
            vec![("content", &"x".repeat(41))],
            422,
            "1 over the limit of 40",
        ),
    ] {
        let response = decide(&app, &admin, id, action, &form).await;
        assert_eq!(response.status(), status, "{action} {form:?}");
        let body = response.text().await.unwrap();
        assert!(body.contains(says), "{action} {form:?}: {body}");
    }
    for path in ["/review/999999", "/review/nope"] {
        assert_eq!(status(&app, &admin, path).await, 404, "GET {path}");
    }
    for action in ["accept", "skip"] {
        let response = app
            .post_form_as(&admin, &format!("/review/999999/{action}"), &[])
            .await;
        assert_eq!(response.status(), 404, "{action}");
    }
    // A question is not an answer.
    let question = id - 1;
    assert_eq!(
        decide(&app, &admin, question, "accept", &[]).await.status(),
        404
    );
    assert_eq!(review_row(&app, id).await, None);
    assert!(events(&app, id).await.is_empty());
    // The longest edit allowed passes.
    let response = decide(&app, &admin, id, "edit", &[("content", &"x".repeat(40))]).await;
    assert_eq!(response.status(), 303);
}
