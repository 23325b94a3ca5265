//! Errors in the visitor's language: each kind of error on each surface a person reads
//! (a full page, an htmx fragment, `/api/v1` JSON with its `fields`, a form sent back
//! with its problems, why an answer ended) in Korean when the browser or the `lang`
//! cookie asks for it, with the status and headers unchanged; English by default; and
//! `/v1` in English whatever the client asks, as the SDKs reading it expect.

use reqwest::{StatusCode, header::HeaderMap};
use serde_json::{Value, json};

use crate::{
    batches::{BOUNDARY, form_body},
    helpers::{PASSWORD, TestApp, http_client},
    mock_upstream::Scenario,
};

/// A browser set to Korean.
const KO: &str = "ko-KR,ko;q=0.9,en;q=0.5";

/// A request's outcome: status, headers and body.
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Reply {
    async fn of(response: reqwest::Response) -> Self {
        Self {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.text().await.unwrap(),
        }
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.body))
    }

    /// `error.message` of a JSON error body.
    fn api_message(&self) -> String {
        self.json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// The message of an error page: the paragraph under its heading.
    fn page_message(&self) -> String {
        let after = &self.body[self.body.find("</h1>").expect("an error page")..];
        let start = after.find("<p>").unwrap() + "<p>".len();
        after[start..start + after[start..].find("</p>").unwrap()].to_string()
    }

    /// The message of the fragment htmx swaps into the notice area.
    fn fragment_message(&self) -> String {
        self.body
            .strip_prefix(r#"<p class="error">"#)
            .and_then(|rest| rest.strip_suffix("</p>"))
            .unwrap_or_else(|| panic!("not an error fragment: {}", self.body))
            .to_string()
    }
}

/// Whether `text` has Hangul syllables.
fn hangul(text: &str) -> bool {
    text.chars().any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c))
}

/// Checks that `korean` is Korean and that no prose of `english` (its sentence in
/// English) is left in it. Names, values and code (in backticks or quotes, with dots,
/// slashes or underscores, or listed in `values`) may appear in both and are not
/// counted.
#[track_caller]
fn korean_only(korean: &str, english: &str, values: &[&str]) {
    assert!(hangul(korean), "not Korean: {korean:?}");
    assert!(!hangul(english), "not English: {english:?}");
    let lower = korean.to_lowercase();
    let prose: Vec<&str> = english.split('`').step_by(2).collect();
    for token in prose.iter().flat_map(|part| part.split_whitespace()) {
        if token.contains(['`', '\'', '"', '_', '/', '<', '>', '=', '(', ')']) {
            continue;
        }
        let word = token.trim_matches(|c: char| c.is_ascii_punctuation());
        if word.len() < 4
            || !word.chars().all(|c| c.is_ascii_alphabetic())
            || values.contains(&word)
        {
            continue;
        }
        assert!(
            !lower.contains(&word.to_lowercase()),
            "{word:?} of {english:?} left in {korean:?}"
        );
    }
}

/// The same request in Korean (by `Accept-Language`) and in English (no language asked
/// for): both replies.
async fn in_both(request: impl Fn(Option<&str>) -> reqwest::RequestBuilder) -> (Reply, Reply) {
    let korean = Reply::of(request(Some(KO)).send().await.unwrap()).await;
    let english = Reply::of(request(None).send().await.unwrap()).await;
    (korean, english)
}

/// `builder` with `Accept-Language: accept`, if any.
fn asking(builder: reqwest::RequestBuilder, accept: Option<&str>) -> reqwest::RequestBuilder {
    match accept {
        Some(accept) => builder.header("accept-language", accept),
        None => builder,
    }
}

#[tokio::test]
async fn a_missing_thing_is_a_404_in_korean_on_a_page_in_a_fragment_and_in_the_api() {
    let app = TestApp::spawn().await;
    let english = "This conversation does not exist: check the link, or start again from the \
                   home page.";
    let korean = "이 대화를 찾을 수 없습니다. 링크를 확인하거나 처음 페이지에서 다시 시작하세요.";

    // The full page, asked for by the browser's language.
    let (ko, en) =
        in_both(|accept| asking(app.client.get(app.url("/conversations/nope")), accept)).await;
    assert_eq!(ko.status, StatusCode::NOT_FOUND);
    assert_eq!(en.status, StatusCode::NOT_FOUND);
    assert!(ko.body.contains(r#"<html lang="ko">"#), "{}", ko.body);
    assert_eq!(ko.page_message(), korean);
    assert_eq!(en.page_message(), english, "English is the default");
    korean_only(&ko.page_message(), &en.page_message(), &[]);

    // The `lang` cookie wins over an English browser.
    let picked = Reply::of(
        app.client
            .get(app.url("/conversations/nope"))
            .header("accept-language", "en-US,en")
            .header("cookie", "lang=ko")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(picked.status, StatusCode::NOT_FOUND);
    assert_eq!(picked.page_message(), korean);

    // Each thing has its own sentence: Korean picks its particle by the noun.
    let app_page = Reply::of(
        asking(app.client.get(app.url("/apps/nope")), Some(KO))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        app_page
            .page_message()
            .starts_with("이 앱을 찾을 수 없습니다."),
        "{}",
        app_page.page_message()
    );

    // The fragment htmx swaps into the notice area, with its swap headers.
    let (ko, en) = in_both(|accept| {
        asking(
            app.client
                .post(app.url("/conversations/nope/stop"))
                .header("hx-request", "true"),
            accept,
        )
    })
    .await;
    assert_eq!(ko.status, StatusCode::NOT_FOUND);
    assert_eq!(ko.headers["hx-retarget"], "#notice");
    assert_eq!(ko.headers["hx-reswap"], "innerHTML");
    assert_eq!(ko.fragment_message(), korean);
    assert_eq!(en.fragment_message(), english);

    // The JSON API.
    let (ko, en) = in_both(|accept| {
        asking(
            app.client.get(app.url("/api/v1/conversations/nope")),
            accept,
        )
    })
    .await;
    assert_eq!(ko.status, StatusCode::NOT_FOUND);
    assert_eq!(ko.json()["error"]["status"], 404);
    assert_eq!(ko.api_message(), korean);
    assert_eq!(en.api_message(), english);
}

#[tokio::test]
async fn every_kind_of_refusal_reads_in_korean_with_its_status_unchanged() {
    let app = TestApp::spawn_with(&[("MAX_MESSAGE_CHARS", "10")]).await;
    let conversation = app.create_conversation().await;
    let admin = app.admin().await;
    let conversation_path = format!("/api/v1/conversations/{conversation}");
    let messages_path = format!("{conversation_path}/messages");
    let url = |path: &str| app.url(path);

    // (what, status, request, the start of the Korean message, values kept in both)
    type Request<'a> = Box<dyn Fn(Option<&str>) -> reqwest::RequestBuilder + 'a>;
    let cases: Vec<(&str, StatusCode, Request, &str, &[&str])> = vec![
        (
            "Invalid",
            StatusCode::UNPROCESSABLE_ENTITY,
            Box::new(|accept: Option<&str>| {
                asking(
                    app.client
                        .patch(url(&conversation_path))
                        .json(&json!({"title": " "})),
                    accept,
                )
            }),
            "제목이 비어 있습니다. 제목을 쓰세요.",
            &[],
        ),
        (
            "TooLarge",
            StatusCode::PAYLOAD_TOO_LARGE,
            Box::new(|accept: Option<&str>| {
                asking(
                    app.client
                        .post(url(&messages_path))
                        .json(&json!({"content": "열한 글자가 넘는 메시지"})),
                    accept,
                )
            }),
            "메시지가 13자입니다. 최대 10자까지",
            &[],
        ),
        (
            "TooLarge (body)",
            StatusCode::PAYLOAD_TOO_LARGE,
            Box::new(|accept: Option<&str>| {
                asking(
                    app.client
                        .post(url("/api/v1/conversations"))
                        .header("content-type", "application/json")
                        .body(format!(r#"{{"title": "{}"}}"#, "x".repeat(300 * 1024))),
                    accept,
                )
            }),
            "요청 본문이 256KiB보다 큽니다.",
            &[],
        ),
        (
            "Forbidden",
            StatusCode::FORBIDDEN,
            Box::new(|accept: Option<&str>| asking(http_client().get(url("/admin")), accept)),
            "관리자만 볼 수 있는 페이지입니다. 관리자 계정으로 로그인하세요.",
            &[],
        ),
        (
            "Forbidden (cross-site)",
            StatusCode::FORBIDDEN,
            Box::new(|accept: Option<&str>| {
                asking(
                    app.client
                        .post(url("/conversations"))
                        .header("sec-fetch-site", "cross-site")
                        .form(&[("content", "hi")]),
                    accept,
                )
            }),
            "다른 사이트에서 보낸 요청은 받지 않습니다.",
            &[],
        ),
        (
            "BadRequest",
            StatusCode::BAD_REQUEST,
            Box::new(|accept: Option<&str>| {
                asking(app.client.get(url("/api/v1/conversations?limit=0")), accept)
            }),
            "`limit`은 1부터 100까지, `offset`은 0 이상이어야 합니다.",
            &[],
        ),
        (
            "BadRequest (a review filter)",
            StatusCode::BAD_REQUEST,
            Box::new(|accept: Option<&str>| asking(admin.get(url("/review?rating=meh")), accept)),
            "필터 값이 올바르지 않습니다: `rating=meh`. up, down, none 중 하나를 쓰세요.",
            &["down", "none"],
        ),
        (
            "UnsupportedMediaType",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Box::new(|accept: Option<&str>| {
                asking(
                    app.client
                        .post(url("/api/v1/conversations"))
                        .header("content-type", "text/plain")
                        .body("{}"),
                    accept,
                )
            }),
            "본문을 JSON으로 보내세요(`Content-Type: application/json`).",
            // axum's own words, kept as the detail of the Korean sentence.
            &[
                "Expected",
                "request",
                "with",
                "Content",
                "Type",
                "application",
                "json",
            ],
        ),
        (
            "InvalidApiKey",
            StatusCode::UNAUTHORIZED,
            Box::new(|accept: Option<&str>| {
                asking(
                    http_client()
                        .get(url("/api/v1/conversations"))
                        .bearer_auth("sk-promptship-nope"),
                    accept,
                )
            }),
            "API 키가 올바르지 않습니다.",
            &[],
        ),
        (
            "Conflict",
            StatusCode::CONFLICT,
            Box::new(|accept: Option<&str>| {
                asking(admin.get(url("/admin/export?format=trl-sft")), accept)
            }),
            "promptship.toml의 data_policy가 off라서 아무것도 내보내지 않습니다.",
            &[],
        ),
    ];
    for (what, status, request, korean, values) in cases {
        let (ko, en) = in_both(&request).await;
        assert_eq!(ko.status, status, "{what}: {}", ko.body);
        assert_eq!(en.status, status, "{what}: {}", en.body);
        let message = |reply: &Reply| {
            if reply.body.starts_with('{') {
                reply.api_message()
            } else {
                reply.page_message()
            }
        };
        let (ko, en) = (message(&ko), message(&en));
        assert!(ko.starts_with(korean), "{what}: {ko:?}");
        assert!(!hangul(&en), "{what}: English is the default: {en:?}");
        korean_only(&ko, &en, values);
    }
}

#[tokio::test]
async fn an_apps_invalid_input_names_each_fields_problem_in_korean_in_the_same_json_shape() {
    let app = TestApp::spawn().await;
    let (ko, en) = in_both(|accept| {
        asking(
            app.client
                .post(app.url("/api/v1/apps/translate/runs"))
                .json(&json!({"direction": "sideways", "extra": true})),
            accept,
        )
    })
    .await;
    assert_eq!(ko.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(en.status, StatusCode::UNPROCESSABLE_ENTITY);
    let (ko, en) = (ko.json(), en.json());
    assert_eq!(
        ko["error"]["message"],
        "입력에 문제가 3개 있습니다: `text`: 필수 항목입니다; `direction`: 다음 중 하나여야 \
         합니다: ko-en, en-ko; `extra`: 이 앱의 필드가 아닙니다(필드: text, direction, tone, keep)."
    );
    assert_eq!(
        en["error"]["message"],
        "The input has 3 problems: `text` is required; `direction` must be one of: ko-en, \
         en-ko; `extra` is not a field of this app (its fields: text, direction, tone, keep)."
    );
    let fields = |body: &Value| -> Vec<(String, String)> {
        body["error"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|problem| {
                let keys: Vec<&String> = problem.as_object().unwrap().keys().collect();
                assert_eq!(keys, ["field", "message"], "the shape of {problem}");
                (
                    problem["field"].as_str().unwrap().to_string(),
                    problem["message"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let (korean, english) = (fields(&ko), fields(&en));
    assert_eq!(
        korean,
        [
            ("text".to_string(), "필수 항목입니다".to_string()),
            (
                "direction".into(),
                "다음 중 하나여야 합니다: ko-en, en-ko".into()
            ),
            (
                "extra".into(),
                "이 앱의 필드가 아닙니다(필드: text, direction, tone, keep)".into()
            ),
        ]
    );
    assert_eq!(english[0], ("text".into(), "is required".into()));
    for ((field, ko), (same, en)) in korean.iter().zip(&english) {
        assert_eq!(field, same, "field names are kept");
        korean_only(ko, en, &["text", "direction", "tone", "keep"]);
    }

    // The app's form sent by htmx: the same problems, as a fragment.
    let response = app
        .client
        .post(app.url("/apps/translate/runs"))
        .header("hx-request", "true")
        .header("accept-language", KO)
        .form(&[("text", " ")])
        .send()
        .await
        .unwrap();
    let fragment = Reply::of(response).await;
    assert_eq!(fragment.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        fragment.fragment_message(),
        "입력에 문제가 1개 있습니다: `text`: 필수 항목입니다."
    );
    // Without JavaScript, the form comes back with the problem under its field.
    let page = Reply::of(
        app.client
            .post(app.url("/apps/translate/runs"))
            .header("accept-language", KO)
            .form(&[("text", " ")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        page.body
            .contains(r#"<small class="error" id="error-text">필수 항목입니다</small>"#),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn spent_allowances_and_a_pause_refuse_in_korean_with_their_retry_after() {
    let app = TestApp::spawn_with(&[("GUEST_DAILY_MESSAGES", "1")]).await;
    let conversation = app.create_conversation().await;
    app.chat(&conversation, "one").await;
    let path = format!("/api/v1/conversations/{conversation}/messages");

    let (ko, en) = in_both(|accept| {
        asking(
            app.client
                .post(app.url(&path))
                .json(&json!({"content": "two"})),
            accept,
        )
    })
    .await;
    for reply in [&ko, &en] {
        assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
        let retry: u64 = reply.headers["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=86_400).contains(&retry));
    }
    let message = ko.api_message();
    assert!(
        message
            .starts_with("게스트가 오늘 보낼 수 있는 메시지 1개를 다 썼습니다. 한도는 UTC 00:00("),
        "{message}"
    );
    assert!(message.contains("후)에 다시 채워집니다."), "{message}");
    korean_only(&message, &en.api_message(), &[]);

    // The chat page's form sent by htmx: the same refusal in the notice area.
    let response = app
        .client
        .post(app.url(&format!("/conversations/{conversation}/messages")))
        .header("hx-request", "true")
        .header("accept-language", KO)
        .form(&[("content", "two")])
        .send()
        .await
        .unwrap();
    let fragment = Reply::of(response).await;
    assert_eq!(fragment.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(fragment.headers.contains_key("retry-after"));
    assert!(
        fragment
            .fragment_message()
            .starts_with("게스트가 오늘 보낼 수 있는 메시지 1개를"),
        "{}",
        fragment.body
    );

    // The kill switch: a 503 page in Korean, with its Retry-After.
    app.pause_in_database().await;
    let (ko, en) = in_both(|accept| {
        asking(
            http_client()
                .post(app.url("/conversations"))
                .form(&[("content", "hello")]),
            accept,
        )
    })
    .await;
    assert_eq!(ko.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(ko.headers.contains_key("retry-after"));
    assert!(
        ko.page_message()
            .starts_with("운영자가 서비스를 잠시 멈췄습니다. 새 메시지는 UTC 00:00("),
        "{}",
        ko.page_message()
    );
    assert!(
        en.page_message()
            .starts_with("The service is paused by its operator."),
        "{}",
        en.page_message()
    );
    korean_only(&ko.page_message(), &en.page_message(), &[]);
}

#[tokio::test]
async fn a_body_sent_too_slowly_is_a_korean_408_but_an_english_one_on_v1() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let app = TestApp::spawn_with(&[("BODY_READ_TIMEOUT_SECS", "1")]).await;
    let key = app.api_key("slow@example.com").await;
    let addr = app.address.trim_start_matches("http://").to_string();
    for (path, extra, expected) in [
        (
            "/api/v1/conversations",
            String::new(),
            "요청 본문이 1초 안에 다 오지 않았습니다. 다시 보내세요.",
        ),
        (
            "/v1/chat/completions",
            format!("Authorization: Bearer {key}\r\n"),
            "The request body took longer than 1 s to arrive: send it again.",
        ),
    ] {
        let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
        slow.write_all(
            format!(
                "POST {path} HTTP/1.1\r\nHost: promptship\r\nContent-Type: application/json\r\n\
                 Accept-Language: ko\r\n{extra}Content-Length: 100\r\n\r\n{{"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
        let mut received = Vec::new();
        tokio::time::timeout(
            std::time::Duration::from_secs(5),
            slow.read_to_end(&mut received),
        )
        .await
        .expect("the connection was closed")
        .unwrap();
        let response = String::from_utf8_lossy(&received);
        assert!(response.starts_with("HTTP/1.1 408"), "{path}: {response}");
        assert!(response.contains(expected), "{path}: {response}");
    }
}

#[tokio::test]
async fn the_openai_api_answers_in_english_whatever_the_client_asks() {
    let app = TestApp::spawn().await;
    let key = app.api_key("sdk@example.com").await;
    let korean_client = |body: Value, key: &str| {
        http_client()
            .post(app.url("/v1/chat/completions"))
            .header("accept-language", KO)
            .header("cookie", "lang=ko")
            .bearer_auth(key)
            .json(&body)
    };
    let hello = json!([{"role": "user", "content": "안녕하세요"}]);
    app.mock.push(Scenario::Status {
        status: 400,
        body: json!({"error": {"message": "bad"}}).to_string(),
        retry_after: None,
    });
    for (request, status, english) in [
        (
            korean_client(
                json!({"model": "gpt-4o-mini", "messages": hello}),
                "sk-nope",
            ),
            StatusCode::UNAUTHORIZED,
            "Incorrect API key provided. Create one at /settings/keys",
        ),
        (
            korean_client(json!({"model": "nope", "messages": hello}), &key),
            StatusCode::NOT_FOUND,
            "The model 'nope' does not exist on this deployment",
        ),
        (
            korean_client(
                json!({"model": "gpt-4o-mini", "messages": hello, "wat": 1}),
                &key,
            ),
            StatusCode::BAD_REQUEST,
            "Unsupported parameter: 'wat' is not allowed by this deployment.",
        ),
        (
            korean_client(json!({"model": "gpt-4o-mini", "messages": hello}), &key),
            StatusCode::BAD_GATEWAY,
            "The model could not answer this request.",
        ),
    ] {
        let reply = Reply::of(request.send().await.unwrap()).await;
        assert_eq!(reply.status, status, "{}", reply.body);
        let message = reply.api_message();
        assert!(message.starts_with(english), "{message}");
        assert!(!hangul(&reply.body), "Korean on /v1: {}", reply.body);
    }

    // The same key on `/api/v1`, which speaks the reader's language.
    let api = Reply::of(
        http_client()
            .get(app.url("/api/v1/conversations"))
            .header("accept-language", KO)
            .bearer_auth("sk-nope")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(api.status, StatusCode::UNAUTHORIZED);
    assert!(hangul(&api.api_message()), "{}", api.body);
}

#[tokio::test]
async fn why_an_answer_ended_is_stored_by_id_and_read_in_each_readers_language() {
    let app = TestApp::spawn().await;
    let conversation = app.create_conversation().await;
    app.mock.push(Scenario::Status {
        status: 400,
        body: json!({"error": {"message": "no"}}).to_string(),
        retry_after: None,
    });
    let reply = Reply::of(
        app.client
            .post(app.url(&format!("/api/v1/conversations/{conversation}/messages")))
            .header("accept-language", KO)
            .json(&json!({"content": "hello"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    let answer = &reply.json()["answer"];
    assert_eq!(answer["status"], "failed");
    assert_eq!(answer["error"], "모델이 이 요청에 답하지 못했습니다.");

    // Saved in no language; each reader gets their own.
    let stored: String = sqlx::query_scalar("SELECT error FROM messages WHERE role = 'assistant'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(stored, r#"{"id":"upstream-rejected"}"#);
    assert_eq!(
        app.messages(&conversation).await[1]["error"],
        "The model could not answer this request."
    );
    let path = format!("/conversations/{conversation}");
    let page = |accept: &'static str| app.text_in(&app.client, &path, accept);
    assert!(
        page(KO)
            .await
            .contains(r#"<p class="error">모델이 이 요청에 답하지 못했습니다.</p>"#)
    );
    assert!(
        page("en")
            .await
            .contains(r#"<p class="error">The model could not answer this request.</p>"#)
    );

    // An answer a crash left is marked in SQL with the English sentence, and an answer
    // saved before errors were stored by id holds one: both read in Korean; a sentence
    // the code no longer writes stays as it was.
    for (content, error) in [
        ("half", None),
        ("older", Some("Stopped.")),
        ("oldest", Some("Something said long ago.")),
    ] {
        sqlx::query(
            "INSERT INTO messages (conversation_id, role, content, status, error, created_at,
                                   updated_at)
             VALUES (?, 'assistant', ?, ?, ?, 0, 0)",
        )
        .bind(&conversation)
        .bind(content)
        .bind(if error.is_some() {
            "interrupted"
        } else {
            "streaming"
        })
        .bind(error)
        .execute(&app.db)
        .await
        .unwrap();
    }
    promptship::db::messages::interrupt_streaming_messages(&app.db)
        .await
        .unwrap();
    let korean = page(KO).await;
    for sentence in [
        "이 답변을 쓰는 동안 서버가 다시 시작했습니다.",
        "멈췄습니다.",
        "Something said long ago.",
    ] {
        assert!(korean.contains(sentence), "{sentence:?} missing");
    }
    assert!(!korean.contains("The server restarted"));
}

#[tokio::test]
async fn forms_sent_back_with_a_problem_say_it_in_korean() {
    let app = TestApp::spawn_unthrottled(&[]).await;
    let post = |path: &'static str, form: Vec<(&'static str, &'static str)>| {
        let app = &app;
        async move {
            Reply::of(
                http_client()
                    .post(app.url(path))
                    .header("accept-language", KO)
                    .form(&form)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let bad_email = post("/signup", vec![("email", "nobody"), ("password", PASSWORD)]).await;
    assert_eq!(bad_email.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad_email
            .body
            .contains("name@example.com처럼 이메일 주소를 입력하세요.")
    );
    let short = post(
        "/signup",
        vec![("email", "a@example.com"), ("password", "short")],
    )
    .await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        short
            .body
            .contains("비밀번호가 너무 짧습니다. 8자 이상으로 정하세요.")
    );
    assert!(!short.body.contains("The password is too short"));
    let wrong = post(
        "/login",
        vec![("email", "a@example.com"), ("password", "nope")],
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("이메일 또는 비밀번호가 틀렸습니다."));
    assert!(!wrong.body.contains("Wrong email or password"));
}

#[tokio::test]
async fn a_batch_upload_lists_its_bad_rows_in_korean_and_a_pause_reads_in_korean() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    // Slow answers: the batch is still running when it is paused.
    for _ in 0..4 {
        app.mock.push(Scenario::Answer {
            words: crate::mock_upstream::words("a slow answer of several words here"),
            delay: std::time::Duration::from_millis(100),
        });
    }
    let fields = [
        ("name", "한국어 배치"),
        ("target", ""),
        ("concurrency", "1"),
        ("source", "upload"),
    ];
    let upload = |file: &[u8]| {
        admin
            .post(app.url("/admin/batches"))
            .header("accept-language", KO)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(form_body(&fields, Some(("in.jsonl", file))))
            .send()
    };
    let refused = Reply::of(
        upload(b"{\"message\": \"ok\"}\nnot json\n{\"other\": 1}")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    for text in [
        "스키마에 맞지 않는 행이 2개 있어 아무것도 가져오지 않았습니다.",
        "2행: JSON이 아닙니다: ",
        "3행: 보낼 텍스트를 담은 `message` 필드가 있어야 합니다",
    ] {
        assert!(
            refused.body.contains(text),
            "{text:?} missing: {}",
            refused.body
        );
    }
    assert!(!refused.body.contains("rows fail the schema"));

    // A batch paused by hand: its reason in the reader's language.
    let created = upload("{\"message\": \"ok\"}\n{\"message\": \"또\"}".as_bytes())
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let location = created.headers()["location"].to_str().unwrap().to_string();
    let paused = admin
        .post(app.url(&format!("{location}/pause")))
        .send()
        .await
        .unwrap();
    assert_eq!(paused.status(), StatusCode::SEE_OTHER);
    let page = |accept: &'static str| {
        admin
            .get(app.url(&location))
            .header("accept-language", accept)
            .send()
    };
    let korean = page(KO).await.unwrap().text().await.unwrap();
    assert!(korean.contains("관리자가 멈췄습니다."), "{korean}");
    let english = page("en").await.unwrap().text().await.unwrap();
    assert!(english.contains("Paused by an admin."), "{english}");
}
