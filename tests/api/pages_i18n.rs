//! Every page in Korean and in English: `<html lang>`, words of the page in the
//! visitor's language, and none of the other language's left over, for the chat, the
//! apps, login and sign-up, settings, admin, batches and review, the htmx fragments
//! (a streamed answer, the feedback block, a batch's progress) and forms sent back with
//! their problems. Korean text is counted by characters, as the pages' `maxlength` is.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::{
    batches::post_batch,
    helpers::{TestApp, http_client, read_events},
    mock_upstream::Scenario,
};

/// A page as `client` gets it with `Accept-Language: accept`: its status and body.
async fn get(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    accept: &str,
) -> (StatusCode, String) {
    let response = client
        .get(app.url(path))
        .header("accept-language", accept)
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

/// A form posted with `Accept-Language: accept`.
async fn post(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    accept: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    client
        .post(app.url(path))
        .header("accept-language", accept)
        .form(form)
        .send()
        .await
        .unwrap()
}

/// Checks a page in one language: its `<html lang>`, the words it must have and the
/// words of the other language it must not.
#[track_caller]
fn speaks(html: &str, lang: &str, present: &[&str], absent: &[&str]) {
    if html.starts_with("<!doctype") {
        assert!(
            html.contains(&format!(r#"<html lang="{lang}">"#)),
            "not in {lang}: {html}"
        );
    }
    for text in present {
        assert!(html.contains(text), "{lang}: {text:?} missing in {html}");
    }
    for text in absent {
        assert!(!html.contains(text), "{lang}: {text:?} left over in {html}");
    }
}

/// A page in both languages: `ko` words in Korean and none of `en`, and the reverse.
async fn both(app: &TestApp, client: &reqwest::Client, path: &str, ko: &[&str], en: &[&str]) {
    let (status, korean) = get(app, client, path, "ko-KR,ko;q=0.9,en;q=0.5").await;
    assert_eq!(status, StatusCode::OK, "GET {path}");
    speaks(&korean, "ko", ko, en);
    let (status, english) = get(app, client, path, "en-US,en;q=0.9").await;
    assert_eq!(status, StatusCode::OK, "GET {path}");
    speaks(&english, "en", en, ko);
}

/// Sends a message from the chat's form without JavaScript (the POST waits for the
/// answer) and returns the conversation's id.
async fn chat(app: &TestApp, client: &reqwest::Client, content: &str) -> String {
    let response = post(app, client, "/conversations", "en", &[("content", content)]).await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{:?}",
        response.text().await
    );
    let location = response.headers()["location"].to_str().unwrap();
    location
        .strip_prefix("/conversations/")
        .unwrap()
        .to_string()
}

async fn last_answer(app: &TestApp, conversation: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT max(id) FROM messages WHERE conversation_id = ? AND role = 'assistant'",
    )
    .bind(conversation)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn the_landing_page_and_a_conversation_speak_the_visitors_language() {
    let app = TestApp::spawn().await;
    let guest = http_client();
    // The landing page: the site file's `_ko` texts and the apps' Korean titles.
    both(
        &app,
        &guest,
        "/",
        &[
            "내 모델을 위한 작고 빠른 자체 호스팅 채팅",
            "무엇이든 물어보세요",
            "Rust의 소유권 규칙을",
            "새 대화",
            "아직 대화가 없습니다.",
            "앱도 써 보세요",
            "한영 번역",
            ">보내기</button>",
            "Enter로 전송",
        ],
        &[
            "A small, fast, self-hosted chat",
            "Ask anything.",
            "ownership rules with a short example",
            "New conversation",
            "No conversations yet.",
            "Or try an app:",
            "Translate Korean ↔ English",
            ">Send</button>",
            "Enter to send",
        ],
    )
    .await;

    let id = chat(&app, &guest, "Hello there").await;
    both(
        &app,
        &guest,
        &format!("/conversations/{id}"),
        &[
            "<summary>관리</summary>",
            "이름 바꾸기",
            "대화 삭제",
            "새 제목",
            r#"aria-label="좋은 답변""#,
            "자세히 알려 주세요",
            "피드백 저장",
            "정확함",
            "다시 답하기",
            "토큰 ",
        ],
        &[
            "<summary>Manage</summary>",
            ">Rename<",
            "Delete conversation",
            "New title",
            r#"aria-label="Good answer""#,
            "Tell us more",
            "Save feedback",
            "Accurate",
            ">Regenerate<",
            " tokens",
        ],
    )
    .await;
}

#[tokio::test]
async fn htmx_fragments_are_in_the_visitors_language() {
    let app = TestApp::spawn().await;
    let guest = http_client();
    let id = chat(&app, &guest, "Hello there").await;

    // A streamed answer: the messages first, the finished answer with its feedback
    // controls last.
    let response = guest
        .post(app.url(&format!("/conversations/{id}/messages")))
        .header("hx-request", "true")
        .header("accept-language", "ko")
        .form(&[("content", "한 번 더요")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let events = read_events(response).await;
    let last = &events.last().unwrap().data;
    speaks(
        last,
        "ko",
        &["좋은 답변", "피드백 저장", "사실과 다름"],
        &["Good answer", "Save feedback", "Wrong facts"],
    );

    // The feedback block swapped in after a rating, with its notice.
    let answer = last_answer(&app, &id).await;
    for (accept, present, absent) in [
        (
            "ko",
            ["고맙습니다. 저장했습니다.", "내 피드백 지우기", "너무 김"],
            ["Thank you: saved.", "Remove my feedback", "Too long"],
        ),
        (
            "en",
            ["Thank you: saved.", "Remove my feedback", "Too long"],
            ["고맙습니다. 저장했습니다.", "내 피드백 지우기", "너무 김"],
        ),
    ] {
        let response = guest
            .post(app.url(&format!("/messages/{answer}/feedback")))
            .header("hx-request", "true")
            .header("accept-language", accept)
            .form(&[("keep", "1"), ("rating", "up")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let html = response.text().await.unwrap();
        speaks(&html, accept, &present, &absent);
        // Back to no rating, so the next round saves again.
        post(
            &app,
            &guest,
            &format!("/messages/{answer}/feedback/delete"),
            accept,
            &[],
        )
        .await;
    }
    let response = guest
        .post(app.url(&format!("/messages/{answer}/feedback/delete")))
        .header("hx-request", "true")
        .header("accept-language", "ko")
        .send()
        .await
        .unwrap();
    speaks(
        &response.text().await.unwrap(),
        "ko",
        &["지웠습니다."],
        &["Removed."],
    );
}

#[tokio::test]
async fn the_apps_pages_a_run_and_a_refused_form_speak_the_visitors_language() {
    let app = TestApp::spawn().await;
    let guest = http_client();
    both(
        &app,
        &guest,
        "/apps",
        &[
            "<h1>앱</h1>",
            "한영 번역",
            "요약하기",
            "한국어를 영어로, 영어를 한국어로",
            ">텍스트</small>",
            ">이미지</small>",
        ],
        &[
            "<h1>Apps</h1>",
            "Translate Korean ↔ English",
            "Summarize",
            "Translates Korean to English",
            ">text</small>",
            ">image</small>",
        ],
    )
    .await;
    both(
        &app,
        &guest,
        "/apps/translate",
        &[
            "한영 번역 · promptship</title>",
            ">방향",
            "번역할 글",
            "그대로 둘 단어",
            ">실행</button>",
            "예시로 채우기",
        ],
        &[
            "Translate Korean ↔ English · promptship</title>",
            ">Direction",
            "the text to translate",
            ">Run</button>",
            "Fill with the sample",
        ],
    )
    .await;

    // A form sent back with its problems keeps the visitor's language around them.
    let response = post(
        &app,
        &guest,
        "/apps/translate/runs",
        "ko",
        &[("text", ""), ("direction", "ko-en"), ("tone", "polite")],
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    speaks(
        &html,
        "ko",
        &[r#"id="error-text""#, ">텍스트", ">실행</button>"],
        &[">Run</button>", ">Text"],
    );

    // A run's page: its result and the way on to the chat.
    app.mock.push(Scenario::json(&json!({
        "title": "Rust",
        "summary": "Rust has ownership.",
        "key_points": ["ownership"],
        "questions": [],
    })));
    let response = post(
        &app,
        &guest,
        "/apps/summarize/runs",
        "ko",
        &[
            ("text", "Rust has ownership."),
            ("kind", "notes"),
            ("points", "3"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let run = response.headers()["location"].to_str().unwrap().to_string();
    both(
        &app,
        &guest,
        &run,
        &[
            "채팅으로 이어 가기",
            "JSON 복사",
            r#"data-copied="복사했습니다""#,
        ],
        &["Continue in chat", "Copy JSON", r#"data-copied="Copied""#],
    )
    .await;
}

#[tokio::test]
async fn login_sign_up_and_settings_speak_the_visitors_language_refused_forms_too() {
    let app = TestApp::spawn_unthrottled(&[]).await;
    let guest = http_client();
    both(
        &app,
        &guest,
        "/login",
        &["<h1>로그인</h1>", "비밀번호", "아직 계정이 없나요?"],
        &["<h1>Log in</h1>", "Password", "No account yet?"],
    )
    .await;
    both(
        &app,
        &guest,
        "/signup",
        &["계정 만들기", "8~128자", "이미 계정이 있나요?"],
        &["Create account", "8 to 128 characters", "Have an account?"],
    )
    .await;
    let response = post(
        &app,
        &guest,
        "/signup",
        "ko",
        &[("email", "not-an-email"), ("password", "long enough pass")],
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    speaks(
        &response.text().await.unwrap(),
        "ko",
        &[
            r#"class="error" role="alert""#,
            "계정 만들기",
            r#"value="not-an-email""#,
        ],
        &["Create account", "Password"],
    );

    let user = app.sign_up("reader@example.com").await;
    both(
        &app,
        &user,
        "/settings/keys",
        &[
            "API 키 · promptship</title>",
            "키 만들기",
            "아직 API 키가 없습니다.",
            "키 쓰는 법",
        ],
        &[
            "API keys · promptship</title>",
            "Create a key",
            "You have no API keys yet.",
            "Use a key",
        ],
    )
    .await;
    let response = post(&app, &user, "/settings/keys", "ko", &[("name", "laptop")]).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    speaks(
        &response.text().await.unwrap(),
        "ko",
        &[
            "지금 이 키를 복사하세요",
            "사용 중",
            ">폐기</button>",
            ">없음</td>",
        ],
        &[
            "Copy this key now",
            ">live<",
            ">Revoke</button>",
            ">never</td>",
        ],
    );
    let response = post(&app, &user, "/settings/keys", "ko", &[("name", "")]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    speaks(
        &response.text().await.unwrap(),
        "ko",
        &[r#"aria-invalid="true""#, "키를 구분할 이름"],
        &["to tell your keys apart", "Create a key"],
    );
}

/// Starts a batch of the chat prompt over `lines` (one message each); returns its id.
async fn batch(app: &TestApp, admin: &reqwest::Client, lines: &[&str]) -> i64 {
    let file = format!("message\n{}\n", lines.join("\n"));
    let fields = [
        ("name", "번역 질문"),
        ("target", ""),
        ("concurrency", "2"),
        ("source", "upload"),
    ];
    let response = post_batch(app, admin, &fields, Some(("in.csv", file.as_bytes()))).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap();
    location.rsplit('/').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn admin_batches_and_review_speak_the_visitors_language() {
    let app = TestApp::spawn_unthrottled(&[]).await;
    let admin = app.admin().await;
    both(
        &app,
        &admin,
        "/admin",
        &[
            "모델 호출",
            "가장 많이 쓴 사람",
            "초대 코드 만들기",
            "파인튜닝용 내보내기",
            "(나)",
        ],
        &[
            "Model calls",
            "Top spenders",
            "Create invite code",
            "Export for fine-tuning",
            "(you)",
        ],
    )
    .await;
    both(
        &app,
        &admin,
        "/admin/batches/new",
        &[
            "새 데이터셋 배치",
            "파일 올리기",
            "배치 시작",
            "서울에서 부산까지",
        ],
        &[
            "New dataset batch",
            "Upload a file",
            "Start the batch",
            "Seoul to Busan",
        ],
    )
    .await;

    let id = batch(&app, &admin, &["안녕하세요", "Good morning"]).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let done: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM batch_items WHERE batch_id = ? AND state = 'done'",
        )
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap();
        if done == 2 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the batch did not finish"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    both(
        &app,
        &admin,
        "/admin/batches",
        &[
            "<h1>데이터셋 배치</h1>",
            "새 배치",
            ">완료</span>",
            "2개 중 2개 끝남",
            ">채팅</td>",
        ],
        &[
            "<h1>Dataset batches</h1>",
            "New batch",
            ">done</span>",
            "2 of 2 finished",
            ">chat</td>",
        ],
    )
    .await;
    both(
        &app,
        &admin,
        &format!("/admin/batches/{id}"),
        &[
            "번역 질문 · 데이터셋 배치",
            "<h2>항목</h2>",
            "실행 결과 열기",
            ">완료</span>",
        ],
        &[
            "번역 질문 · Dataset batches",
            "<h2>Items</h2>",
            "Open the run",
            ">done</span>",
        ],
    )
    .await;
    // The progress htmx polls, on its own.
    let response = admin
        .get(app.url(&format!("/admin/batches/{id}")))
        .header("hx-request", "true")
        .header("accept-language", "ko")
        .send()
        .await
        .unwrap();
    let html = response.text().await.unwrap();
    assert!(
        html.starts_with(r#"<section id="batch-progress""#),
        "{html}"
    );
    speaks(
        &html,
        "ko",
        &["<h2>항목</h2>", "실행 결과 열기"],
        &["Items", "Open the run"],
    );

    // The batch's answers are in the review queue (data_policy is off: batches only).
    both(
        &app,
        &admin,
        "/review",
        &[
            "<h1>검토</h1>",
            "하나씩 검토하기",
            "data_policy가 꺼져 있어",
            ">대기</span>",
            "<summary>필터</summary>",
        ],
        &[
            "<h1>Review</h1>",
            "Review one at a time",
            "only dataset batches are reviewed",
            ">pending</span>",
            "<summary>Filters</summary>",
        ],
    )
    .await;
    let answer: i64 = sqlx::query_scalar(
        "SELECT max(m.id) FROM messages m JOIN batch_items b ON b.conversation_id = m.conversation_id
         WHERE b.batch_id = ? AND m.role = 'assistant'",
    )
    .bind(id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    both(
        &app,
        &admin,
        &format!("/review/{answer}"),
        &[
            "← 목록으로",
            "데이터셋 배치",
            ">승인 <kbd>",
            "감사 기록",
            "주인의 피드백",
            "아무도 이 답변을 맡고 있지 않습니다",
        ],
        &[
            "← Back to the list",
            "dataset batch",
            ">Accept <kbd>",
            "Audit trail",
            "Owner&#39;s feedback",
            "No one holds this answer",
        ],
    )
    .await;
}

#[tokio::test]
async fn korean_is_counted_by_characters_in_titles_and_messages() {
    let app = TestApp::spawn_with(&[("MAX_MESSAGE_CHARS", "100")]).await;
    let guest = http_client();
    let (_, html) = get(&app, &guest, "/", "ko").await;
    assert!(
        html.contains(r#"maxlength="100""#),
        "the box counts as the server"
    );

    // 100 characters typed, two of them line breaks: a browser sends those as CRLF (102
    // characters on the wire), and the server counts them as the box did (a CRLF is one).
    let typed = format!(
        "{}\n{}\n{}",
        "가".repeat(32),
        "나".repeat(33),
        "다".repeat(33)
    );
    assert_eq!(typed.chars().count(), 100);
    let sent = typed.replace('\n', "\r\n");
    let id = chat(&app, &guest, &sent).await;
    let stored: String = sqlx::query_scalar(
        "SELECT content FROM messages WHERE conversation_id = ? AND role = 'user'",
    )
    .bind(&id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(stored, sent, "kept exactly as sent");
    // The title: the first line, by characters (never cut inside a syllable's bytes).
    let title: String = sqlx::query_scalar("SELECT title FROM conversations WHERE id = ?")
        .bind(&id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(title, "가".repeat(32));

    // One character more is refused, and nothing is saved.
    let over = format!("{sent}가");
    let response = post(
        &app,
        &guest,
        &format!("/conversations/{id}/messages"),
        "ko",
        &[("content", &over)],
    )
    .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let messages: i64 =
        sqlx::query_scalar("SELECT count(*) FROM messages WHERE conversation_id = ?")
            .bind(&id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(messages, 2, "the question and its answer only");

    // A first message longer than a title: the title is its first 60 characters and "…".
    let long = "한국어로 된 아주 긴 첫 문장입니다 ".repeat(4);
    let second = chat(&app, &guest, long.trim()).await;
    let title: String = sqlx::query_scalar("SELECT title FROM conversations WHERE id = ?")
        .bind(&second)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(title.chars().count(), 61, "{title}");
    assert!(title.ends_with('…') && long.starts_with(title.trim_end_matches('…')));

    // Renaming: 200 Korean characters (600 bytes) fit the 200-character limit, 201 do not.
    let (_, page) = get(&app, &guest, &format!("/conversations/{id}"), "ko").await;
    assert!(page.contains(r#"name="title" value="가가가"#) && page.contains(r#"maxlength="200""#));
    let fits = "한".repeat(200);
    let response = post(
        &app,
        &guest,
        &format!("/conversations/{id}/rename"),
        "ko",
        &[("title", &fits)],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let too_long = "한".repeat(201);
    let response = post(
        &app,
        &guest,
        &format!("/conversations/{id}/rename"),
        "ko",
        &[("title", &too_long)],
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (_, page) = get(&app, &guest, &format!("/conversations/{id}"), "ko").await;
    assert!(
        page.contains(&format!(r#"<h1 class="chat-title">{fits}</h1>"#)),
        "{page}"
    );
}
