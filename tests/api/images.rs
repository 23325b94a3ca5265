//! `LlmClient::generate_image` against the mock's Images API: what is sent, a good image
//! in base64 or behind a URL, and every refusal (not an image, too large, too slow, HTTP
//! errors), each with its own error.

use std::time::{Duration, Instant};

use promptship::llm::{LlmClient, LlmSettings, MAX_IMAGE_BYTES, RetryPolicy, UpstreamError};
use secrecy::SecretString;
use serde_json::json;

use crate::mock_upstream::{IMAGE_INPUT_TOKENS, IMAGE_OUTPUT_TOKENS, MockUpstream, Scenario, png};

/// A client of the mock with this image timeout, a one-second read timeout (shorter than
/// some images take), and quick retries.
pub fn client(base_url: &str, image_timeout: Duration) -> LlmClient {
    LlmClient::new(LlmSettings {
        base_url: base_url.to_string(),
        api_key: Some(SecretString::from("sk-test-secret-key")),
        model: "mock-model".into(),
        max_output_tokens: 256,
        connect_timeout: Duration::from_secs(2),
        read_timeout: Duration::from_secs(1),
        image_timeout,
        retry: RetryPolicy {
            max_attempts: 3,
            deadline: Duration::from_secs(5),
            base_delay: Duration::from_millis(10),
        },
    })
    .unwrap()
}

async fn mock_and_client() -> (MockUpstream, LlmClient) {
    let mock = MockUpstream::start().await;
    let llm = client(&mock.base_url, Duration::from_secs(10));
    (mock, llm)
}

#[tokio::test]
async fn an_image_in_base64_comes_back_as_a_png_with_its_usage() {
    let (mock, llm) = mock_and_client().await;
    let picture = png(16, 9);
    mock.push(Scenario::Image {
        png: picture.clone(),
    });
    let image = llm
        .generate_image("dall-e-3", "a lighthouse at dawn", Some("1024x1024"))
        .await
        .unwrap();
    assert_eq!(image.bytes, picture);
    assert_eq!(image.mime, "image/png");
    assert_eq!(image.usage, Some((IMAGE_INPUT_TOKENS, IMAGE_OUTPUT_TOKENS)));
    assert_eq!(
        mock.requests(),
        [
            json!({"prompt": "a lighthouse at dawn", "model": "dall-e-3", "n": 1,
                "size": "1024x1024", "response_format": "b64_json"})
        ]
    );
}

#[tokio::test]
async fn gpt_image_models_are_not_sent_response_format_which_they_refuse() {
    let (mock, llm) = mock_and_client().await;
    llm.generate_image("gpt-image-1", "a cat", None)
        .await
        .unwrap();
    assert_eq!(
        mock.requests(),
        [json!({"prompt": "a cat", "model": "gpt-image-1", "n": 1})]
    );
}

#[tokio::test]
async fn jpeg_and_webp_are_known_by_their_bytes() {
    let (mock, llm) = mock_and_client().await;
    mock.push(Scenario::Image {
        png: b"\xFF\xD8\xFF\xE0\0\x10JFIF\0".to_vec(),
    });
    mock.push(Scenario::ImageUrl {
        body: b"RIFF\x1a\0\0\0WEBPVP8L\x0d\0\0\0".to_vec(),
    });
    let jpeg = llm.generate_image("m", "a", None).await.unwrap();
    assert_eq!(jpeg.mime, "image/jpeg");
    let webp = llm.generate_image("m", "b", None).await.unwrap();
    assert_eq!(webp.mime, "image/webp");
}

#[tokio::test]
async fn an_image_url_is_downloaded_without_our_key() {
    let (mock, llm) = mock_and_client().await;
    let picture = png(4, 4);
    mock.push(Scenario::ImageUrl {
        body: picture.clone(),
    });
    let image = llm
        .generate_image("dall-e-2", "a boat", None)
        .await
        .unwrap();
    assert_eq!(image.bytes, picture);
    assert_eq!(image.mime, "image/png");
    assert_eq!(mock.downloads(), [None], "the download carried our key");
    assert_eq!(mock.posts(), 1);
}

#[tokio::test]
async fn html_in_place_of_an_image_is_refused_as_not_an_image() {
    let (mock, llm) = mock_and_client().await;
    mock.push(Scenario::NotAnImage);
    // Served as `image/png`: the declared type is not believed.
    mock.push(Scenario::ImageUrl {
        body: br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#
            .to_vec(),
    });
    for _ in 0..2 {
        let error = llm.generate_image("m", "x", None).await.unwrap_err();
        assert_eq!(error, UpstreamError::NotAnImage);
        assert!(error.user_message().to_string().contains("not a picture"));
    }
}

#[tokio::test]
async fn an_image_over_the_cap_is_refused() {
    let (mock, llm) = mock_and_client().await;
    mock.push(Scenario::ImageTooLarge {
        bytes: MAX_IMAGE_BYTES + 1,
    });
    mock.push(Scenario::ImageUrl {
        body: vec![0; MAX_IMAGE_BYTES + 1],
    });
    for _ in 0..2 {
        let error = llm.generate_image("m", "x", None).await.unwrap_err();
        assert_eq!(error, UpstreamError::ImageTooLarge);
        assert!(error.user_message().to_string().contains("8 MiB"));
    }
    // Just under the cap is fine.
    let mut picture = png(1, 1);
    picture.resize(MAX_IMAGE_BYTES, 0);
    mock.push(Scenario::Image { png: picture });
    let image = llm.generate_image("m", "x", None).await.unwrap();
    assert_eq!(image.bytes.len(), MAX_IMAGE_BYTES);
}

#[tokio::test]
async fn a_huge_body_is_refused_before_it_is_all_read() {
    let (mock, llm) = mock_and_client().await;
    let bytes = 96 * 1024 * 1024;
    mock.push(Scenario::ImageTooLarge { bytes });
    let started = Instant::now();
    let error = llm.generate_image("m", "x", None).await.unwrap_err();
    assert_eq!(error, UpstreamError::ImageTooLarge);
    mock.wait_for_hangup(started).await;
    let sent = mock.bytes_sent();
    assert!(
        sent < bytes / 2,
        "{sent} bytes of a {} byte body left the mock",
        bytes / 3 * 4
    );
}

#[tokio::test]
async fn a_slow_image_ends_at_the_image_timeout_with_its_own_error() {
    let mock = MockUpstream::start().await;
    let llm = client(&mock.base_url, Duration::from_millis(300));
    mock.push(Scenario::ImageSlow(Duration::from_secs(30)));
    let started = Instant::now();
    let error = llm.generate_image("m", "x", None).await.unwrap_err();
    assert_eq!(error, UpstreamError::ImageTimeout);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(error.to_string().contains("UPSTREAM_IMAGE_TIMEOUT_SECS"));
    mock.wait_for_hangup(started).await;
}

#[tokio::test]
async fn an_image_slower_than_the_chat_read_timeout_still_arrives() {
    let (mock, llm) = mock_and_client().await;
    // Past the client's one-second read timeout, within its image timeout.
    mock.push(Scenario::ImageSlow(Duration::from_millis(1500)));
    let image = llm.generate_image("m", "x", None).await.unwrap();
    assert_eq!(image.mime, "image/png");
}

#[tokio::test]
async fn a_busy_server_is_retried_and_a_refusal_is_not() {
    let (mock, llm) = mock_and_client().await;
    mock.push(Scenario::Status {
        status: 503,
        body: "overloaded".into(),
        retry_after: None,
    });
    llm.generate_image("m", "x", None).await.unwrap();
    assert_eq!(mock.posts(), 2);

    let refusals = [
        (
            400,
            r#"{"error":{"message":"Your request was rejected by the safety system.","type":"invalid_request_error","code":"content_policy_violation"}}"#,
            UpstreamError::Rejected(400),
        ),
        (
            401,
            r#"{"error":{"message":"Incorrect API key provided: sk-test-secret-key"}}"#,
            UpstreamError::Unauthorized(401),
        ),
        (
            429,
            r#"{"error":{"message":"You exceeded your current quota","code":"insufficient_quota"}}"#,
            UpstreamError::QuotaExhausted,
        ),
        (500, "boom", UpstreamError::ServerError(500)),
    ];
    for (status, body, expected) in refusals {
        mock.push(Scenario::Status {
            status,
            body: body.into(),
            retry_after: None,
        });
        let before = mock.posts();
        assert_eq!(
            llm.generate_image("m", "x", None).await.unwrap_err(),
            expected
        );
        assert_eq!(mock.posts(), before + 1, "HTTP {status} was retried");
    }
}

#[tokio::test]
async fn an_answer_without_an_image_is_malformed() {
    let (mock, llm) = mock_and_client().await;
    for body in [
        r#"{"created":1,"data":[]}"#,
        "<html>oops</html>",
        r#"{"data":[{"url":"file:///etc/passwd"}]}"#,
    ] {
        mock.push(Scenario::Status {
            status: 200,
            body: body.into(),
            retry_after: None,
        });
        assert_eq!(
            llm.generate_image("m", "x", None).await.unwrap_err(),
            UpstreamError::Malformed,
            "{body}"
        );
    }
}
