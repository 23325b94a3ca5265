//! English and Korean: the browser's languages, the switcher's cookie, the error pages.

use crate::helpers::{TestApp, http_client};

#[tokio::test]
async fn pages_speak_the_browsers_language_when_it_is_offered_else_english() {
    let app = TestApp::spawn().await;
    let client = http_client();
    let korean = app
        .text_in(&client, "/apps", "ko-KR,ko;q=0.9,en;q=0.8")
        .await;
    assert!(korean.contains(r#"<html lang="ko">"#), "{korean}");
    assert!(korean.contains(">앱</a>"), "the header in Korean");
    assert!(!korean.contains(">Apps</a>"));

    for accept in ["en-US,en;q=0.9", "fr-FR,de;q=0.8", "ko;q=0, en;q=0.5", ""] {
        let english = app.text_in(&client, "/apps", accept).await;
        assert!(english.contains(r#"<html lang="en">"#), "{accept}");
        assert!(english.contains(">Apps</a>"), "{accept}");
    }
}

#[tokio::test]
async fn the_switcher_remembers_the_choice_in_a_cookie_and_goes_back_to_the_page() {
    let app = TestApp::spawn().await;
    let browser = http_client();
    let english = app.text_in(&browser, "/apps", "en").await;
    assert!(
        english.contains(r#"name="back" value="/apps""#),
        "the switcher knows the page"
    );
    assert!(
        english.contains(r#"value="ko" lang="ko""#),
        "it offers Korean"
    );

    let switched = browser
        .post(app.url("/language"))
        .form(&[("lang", "ko"), ("back", "/apps")])
        .send()
        .await
        .unwrap();
    assert_eq!(switched.status(), 303);
    assert_eq!(switched.headers()["location"], "/apps");
    let cookie = switched.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_string();
    for part in [
        "lang=ko",
        "Path=/",
        "HttpOnly",
        "SameSite=Lax",
        "Max-Age=31536000",
    ] {
        assert!(cookie.contains(part), "{part} missing: {cookie}");
    }
    // The choice beats the browser's languages from now on.
    let korean = app.text_in(&browser, "/apps", "en-US,en").await;
    assert!(korean.contains(r#"<html lang="ko">"#));
    assert!(
        korean.contains(r#"value="en" lang="en""#),
        "and offers English back"
    );

    // Back to English, on the same cookie.
    let back = browser
        .post(app.url("/language"))
        .form(&[("lang", "en"), ("back", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(back.status(), 303);
    assert!(
        app.text_in(&browser, "/apps", "ko")
            .await
            .contains(r#"<html lang="en">"#)
    );
}

#[tokio::test]
async fn a_language_not_offered_or_a_way_off_the_site_changes_nothing() {
    let app = TestApp::spawn().await;
    let browser = http_client();
    let refused = browser
        .post(app.url("/language"))
        .form(&[("lang", "fr"), ("back", "/apps")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    assert!(refused.headers().get("set-cookie").is_none());
    let body = refused.text().await.unwrap();
    assert!(body.contains("en, ko"), "says which are offered: {body}");
    assert!(
        app.text_in(&browser, "/apps", "en")
            .await
            .contains(r#"<html lang="en">"#)
    );

    for away in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
    ] {
        let response = browser
            .post(app.url("/language"))
            .form(&[("lang", "ko"), ("back", away)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303);
        assert_eq!(response.headers()["location"], "/", "{away}");
    }
}

#[tokio::test]
async fn error_pages_are_in_the_visitors_language() {
    let app = TestApp::spawn().await;
    let client = http_client();
    let response = client
        .get(app.url("/conversations/nope"))
        .header("accept-language", "ko")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let html = response.text().await.unwrap();
    assert!(html.contains(r#"<html lang="ko">"#));
    assert!(html.contains("찾을 수 없음"), "{html}");
    assert!(html.contains("처음으로 돌아가기"));
}
