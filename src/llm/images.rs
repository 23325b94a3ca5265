//! Pictures from the OpenAI-compatible Images API (`/images/generations`): one image a
//! call, the whole call bounded by its own timeout, every body read under a cap, and the
//! image known by its first bytes, never by the type a server declares.

use std::time::{Duration, Instant};

use async_openai::{
    error::OpenAIError,
    types::images::{CreateImageRequest, Image, ImageModel, ImageResponseFormat, ImageSize},
};
use base64::Engine;
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use serde::Deserialize;
use tower::ServiceExt;

use super::{LlmClient, LlmSettings, UpstreamError, raw::refusal, retry::RetryService};

/// The largest image accepted, sent inline or downloaded.
pub const MAX_IMAGE_BYTES: usize = 8 * 1024 * 1024;

/// The largest JSON body accepted: an image in base64 takes 4/3 of its size, and the
/// rest (a revised prompt, usage) is small.
const MAX_BODY_BYTES: usize = MAX_IMAGE_BYTES / 3 * 4 + 64 * 1024;

/// An image the model made, checked to be one.
#[derive(Clone, Debug)]
pub struct GeneratedImage {
    pub bytes: Bytes,
    /// `image/png`, `image/jpeg` or `image/webp`, read from the bytes themselves.
    pub mime: &'static str,
    /// Input and output tokens, when the server reports them (OpenAI's GPT image models).
    pub usage: Option<(u32, u32)>,
}

/// The way to the Images API. Its HTTP client has no per-read timeout: an image model
/// may think for a minute before its first byte, which the chat client's read timeout
/// would cut off. The whole call is bounded by `timeout` instead.
#[derive(Clone, Debug)]
pub(super) struct Images {
    url: reqwest::Url,
    retry: RetryService,
    timeout: Duration,
}

impl Images {
    pub(super) fn new(settings: &LlmSettings) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            // As answers do (src/llm/upstream.rs): no proxy from the environment.
            .no_proxy()
            .build()?;
        Ok(Self {
            url: format!("{}/images/generations", settings.base_url).parse()?,
            retry: RetryService {
                http,
                policy: settings.retry,
            },
            timeout: settings.image_timeout,
        })
    }
}

/// The part of an images response that is read. async-openai's `ImagesResponse`
/// requires `created` and a complete `usage`, which not every OpenAI-compatible server
/// sends; its `Image` (a URL or base64) is taken as it is.
#[derive(Deserialize)]
struct Generated {
    data: Vec<Image>,
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Usage {
    #[serde(default)]
    input_tokens: u32,
    #[serde(default)]
    output_tokens: u32,
}

impl LlmClient {
    /// One image of `prompt` by `model`, `size` being `WIDTHxHEIGHT` or `auto` (`None`:
    /// the model's default). A busy or unreachable server is tried again as for chat,
    /// all within the image timeout. The prompt is never logged.
    pub async fn generate_image(
        &self,
        model: &str,
        prompt: &str,
        size: Option<&str>,
    ) -> Result<GeneratedImage, UpstreamError> {
        let started = Instant::now();
        let image =
            tokio::time::timeout(self.images.timeout, self.request_image(model, prompt, size))
                .await
                .unwrap_or_else(|_| {
                    Err(failed(
                        UpstreamError::ImageTimeout,
                        "no image within UPSTREAM_IMAGE_TIMEOUT_SECS",
                    ))
                })?;
        tracing::info!(
            model,
            mime = image.mime,
            bytes = image.bytes.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "image generated"
        );
        Ok(image)
    }

    async fn request_image(
        &self,
        model: &str,
        prompt: &str,
        size: Option<&str>,
    ) -> Result<GeneratedImage, UpstreamError> {
        #[allow(deprecated)]
        let request = CreateImageRequest {
            prompt: prompt.to_string(),
            model: ImageModel::Other(model.to_string()),
            n: Some(1),
            size: size.map(|size| ImageSize::Other(size.to_string())),
            response_format: asks_for_base64(model).then_some(ImageResponseFormat::B64Json),
            ..Default::default()
        };
        let body = Bytes::from(serde_json::to_vec(&request).map_err(|_| UpstreamError::Malformed)?);
        let factory = self.post_json(&self.images.retry.http, &self.images.url, body);
        let response = self.images.retry.clone().oneshot(factory).await?;
        if !response.status().is_success() {
            return Err(refusal(response, &self.scrub).await);
        }
        let body = read_capped(response, MAX_BODY_BYTES).await?;
        let generated: Generated = serde_json::from_slice(&body).map_err(|error| {
            failed(
                UpstreamError::Malformed,
                &format!("the images response is not one: {error}"),
            )
        })?;
        let Some(image) = generated.data.into_iter().next() else {
            return Err(failed(
                UpstreamError::Malformed,
                "the images response holds no image",
            ));
        };
        let bytes = match image {
            Image::B64Json { b64_json, .. } => decode(&b64_json)?,
            Image::Url { url, .. } => self.download(&url).await?,
        };
        if bytes.len() > MAX_IMAGE_BYTES {
            return Err(failed(
                UpstreamError::ImageTooLarge,
                &format!("the image has {} bytes", bytes.len()),
            ));
        }
        let Some(mime) = sniff(&bytes) else {
            return Err(failed(
                UpstreamError::NotAnImage,
                "the image does not start as a PNG, JPEG or WebP file does",
            ));
        };
        Ok(GeneratedImage {
            bytes,
            mime,
            usage: generated
                .usage
                .map(|usage| (usage.input_tokens, usage.output_tokens)),
        })
    }

    /// The image behind a URL the server answered with.
    async fn download(&self, url: &str) -> Result<Bytes, UpstreamError> {
        // Some servers inline the picture as a data URL.
        if let Some(data) = url.strip_prefix("data:") {
            let Some((_, base64)) = data.split_once(";base64,") else {
                return Err(failed(
                    UpstreamError::NotAnImage,
                    "the image is a data URL without base64",
                ));
            };
            return decode(base64);
        }
        let url = match reqwest::Url::parse(url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => url,
            _ => {
                return Err(failed(
                    UpstreamError::Malformed,
                    "the image URL is not an http(s) URL",
                ));
            }
        };
        // Without our key: the picture usually sits on another host (a bucket, a CDN).
        let response = self
            .images
            .retry
            .http
            .get(url)
            .send()
            .await
            .map_err(OpenAIError::Reqwest)?;
        if !response.status().is_success() {
            return Err(refusal(response, &self.scrub).await);
        }
        read_capped(response, MAX_IMAGE_BYTES).await
    }
}

/// OpenAI's GPT image models always answer in base64 and refuse `response_format`;
/// older models and most other servers answer with a URL unless asked.
fn asks_for_base64(model: &str) -> bool {
    // A router's name for it (`openai/gpt-image-1`) counts too.
    let name = model.rsplit('/').next().unwrap_or(model);
    !(name.starts_with("gpt-image") || name.starts_with("chatgpt-image"))
}

/// A whole body, refused as soon as it passes `cap` (or says it will), so a huge or
/// endless answer never sits in memory.
async fn read_capped(response: reqwest::Response, cap: usize) -> Result<Bytes, UpstreamError> {
    let too_large = || {
        failed(
            UpstreamError::ImageTooLarge,
            &format!("the body is over {cap} bytes"),
        )
    };
    if response
        .content_length()
        .is_some_and(|length| length > cap as u64)
    {
        return Err(too_large());
    }
    let mut body = BytesMut::new();
    let mut chunks = response.bytes_stream();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(OpenAIError::Reqwest)?;
        if body.len() + chunk.len() > cap {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

fn decode(base64: &str) -> Result<Bytes, UpstreamError> {
    base64::engine::general_purpose::STANDARD
        .decode(base64.trim())
        .map(Bytes::from)
        .map_err(|_| failed(UpstreamError::NotAnImage, "the image is not valid base64"))
}

/// The image type its first bytes give; `None` for anything else (SVG, HTML, text), so
/// nothing but a bitmap is ever stored or served as an image.
fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// Counts and logs a refused image (what was wrong, never the prompt or the image).
fn failed(error: UpstreamError, why: &str) -> UpstreamError {
    metrics::counter!("model_errors_total", "kind" => error.kind()).increment(1);
    tracing::warn!(why, "image generation failed: {error}");
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_known_by_their_first_bytes() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some("image/png"));
        assert_eq!(
            sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]),
            Some("image/jpeg")
        );
        assert_eq!(sniff(b"RIFF\x24\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff(b"<svg xmlns='http://www.w3.org/2000/svg'/>"), None);
        assert_eq!(sniff(b"<!doctype html><title>x</title>"), None);
        assert_eq!(sniff(b"RIFF\x24\0\0\0WAVEfmt "), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn only_gpt_image_models_go_without_response_format() {
        assert!(asks_for_base64("dall-e-3"));
        assert!(asks_for_base64("flux-schnell"));
        assert!(!asks_for_base64("gpt-image-1"));
        assert!(!asks_for_base64("gpt-image-2.5-flare"));
        assert!(!asks_for_base64("openai/gpt-image-1-mini"));
        assert!(!asks_for_base64("chatgpt-image-latest"));
    }

    #[test]
    fn a_response_without_created_or_usage_is_read() {
        let generated: Generated = serde_json::from_str(
            r#"{"object":"list","data":[{"index":0,"url":null,"b64_json":"iVBORw0KGgo="}]}"#,
        )
        .unwrap();
        assert!(generated.usage.is_none());
        let Image::B64Json { b64_json, .. } = &generated.data[0] else {
            panic!("a null url is no URL");
        };
        assert_eq!(&decode(b64_json).unwrap()[..], b"\x89PNG\r\n\x1a\n");
    }
}
