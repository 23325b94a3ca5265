//! The mock's Images API: `/v1/images/generations` through the same queue and records
//! as chat completions, and the files an `ImageUrl` answer points to.

use std::{
    sync::{Arc, atomic::Ordering},
    time::Duration,
};

use axum::{
    Json,
    body::Body,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use base64::Engine;
use serde_json::{Value, json};

use super::{End, HangupGuard, MockState, Scenario, hang, status_response, stream_with_delay};

/// A PNG of one colour.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let mut png = Vec::new();
    let mut encoder = ::png::Encoder::new(&mut png, width, height);
    encoder.set_color(::png::ColorType::Rgb);
    encoder.set_depth(::png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    writer
        .write_image_data(&[40, 120, 200].repeat((width * height) as usize))
        .unwrap();
    writer.finish().unwrap();
    png
}

/// The usage every image answer reports.
pub const IMAGE_INPUT_TOKENS: u32 = 12;
pub const IMAGE_OUTPUT_TOKENS: u32 = 272;

pub(super) async fn generate_image(
    State(state): State<Arc<MockState>>,
    Json(request): Json<Value>,
) -> Response {
    state.posts.fetch_add(1, Ordering::SeqCst);
    state.requests.lock().unwrap().push(request);
    let scenario = state
        .scenarios
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or_else(Scenario::image);
    // Only where the answer takes time: a client leaving then is a hang-up.
    let guard = || HangupGuard {
        state: state.clone(),
        complete: false,
    };
    let base64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    match scenario {
        Scenario::Status {
            status,
            body,
            retry_after,
        } => status_response(status, body, retry_after),
        Scenario::HangBeforeHeaders => hang(guard()).await,
        Scenario::Image { png } => image_answer(json!({ "b64_json": base64(&png) })),
        Scenario::ImageSlow(delay) => {
            let mut guard = guard();
            tokio::time::sleep(delay).await;
            guard.finish();
            image_answer(json!({ "b64_json": base64(&png(8, 8)) }))
        }
        Scenario::NotAnImage => image_answer(json!({
            "b64_json": base64(b"<!doctype html><title>Sign in</title><p>Please log in.")
        })),
        Scenario::ImageUrl { body } => {
            let mut files = state.files.lock().unwrap();
            files.push(body);
            let url = format!("{}/files/{}", state.origin, files.len() - 1);
            image_answer(json!({ "url": url }))
        }
        Scenario::ImageTooLarge { bytes } => {
            // A PNG signature and zeros: 3 zero bytes are "AAAA" in base64.
            let head = format!(
                "{{\"created\":1,\"data\":[{{\"b64_json\":\"{}",
                base64(b"\x89PNG\r\n\x1a\n\0")
            );
            let quads = bytes.saturating_sub(9).div_ceil(3);
            let piece = 16 * 1024;
            let pieces = std::iter::once(head)
                .chain(std::iter::repeat_n("AAAA".repeat(piece), quads / piece))
                .chain(std::iter::once("AAAA".repeat(quads % piece)))
                .chain(std::iter::once("\"}]}".to_string()));
            Response::builder()
                .header("content-type", "application/json")
                .body(Body::from_stream(stream_with_delay(
                    pieces,
                    Duration::ZERO,
                    guard(),
                    End::Clean,
                )))
                .unwrap()
        }
        _ => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "mock: a chat completion scenario was queued for an image generation",
        )
            .into_response(),
    }
}

/// An images response holding `image`, with usage as OpenAI reports it.
fn image_answer(mut image: Value) -> Response {
    image["revised_prompt"] = Value::Null;
    Json(json!({
        "created": 1,
        "data": [image],
        "usage": {
            "input_tokens": IMAGE_INPUT_TOKENS,
            "output_tokens": IMAGE_OUTPUT_TOKENS,
            "total_tokens": IMAGE_INPUT_TOKENS + IMAGE_OUTPUT_TOKENS,
            "input_tokens_details": { "text_tokens": IMAGE_INPUT_TOKENS, "image_tokens": 0 },
        },
    }))
    .into_response()
}

/// An `ImageUrl` file, served as a PNG whatever it holds.
pub(super) async fn download(
    State(state): State<Arc<MockState>>,
    axum::extract::Path(index): axum::extract::Path<usize>,
    headers: axum::http::HeaderMap,
) -> Response {
    let authorization = headers
        .get("authorization")
        .map(|value| value.to_str().unwrap().to_string());
    state.downloads.lock().unwrap().push(authorization);
    match state.files.lock().unwrap().get(index) {
        Some(body) => ([("content-type", "image/png")], body.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
