//! The model is just another HTTP client: a small struct around async-openai's request
//! types, the connections that carry answers (`upstream`) and a `reqwest` client for
//! images, that knows the base URL, key, model and limits, and names every way a call
//! can fail.

mod chunks;
pub mod demo;
mod images;
mod in_band;
mod raw;
mod retry;
mod upstream;

use std::{sync::Arc, time::Duration};

use async_openai::{
    error::OpenAIError,
    types::chat::{
        ChatCompletionRequestAssistantMessage, ChatCompletionRequestMessage,
        ChatCompletionRequestSystemMessage, ChatCompletionRequestUserMessage,
        ChatCompletionStreamOptions, CreateChatCompletionRequest,
    },
};
use secrecy::{ExposeSecret, SecretString};

pub use chunks::{Chunk, Chunks};
pub use images::{GeneratedImage, MAX_IMAGE_BYTES};
pub use raw::{Event, Events, RawEvents};
pub use retry::RetryPolicy;

use crate::{domain::Role, i18n::Text};

/// Where and how to reach the model server.
pub struct LlmSettings {
    /// Base URL including `/v1`.
    pub base_url: String,
    pub api_key: Option<SecretString>,
    pub model: String,
    pub max_output_tokens: u32,
    pub connect_timeout: Duration,
    /// Longest wait for the response headers and for each read of the body.
    pub read_timeout: Duration,
    /// Longest a whole image generation may take, download included: image models
    /// often need a minute before the first byte.
    pub image_timeout: Duration,
    pub retry: RetryPolicy,
}

#[derive(Clone, Debug)]
pub struct LlmClient {
    /// The connections to the completions endpoint, shared by every clone.
    upstream: Arc<upstream::Upstream>,
    /// When a refused or unreachable call is tried again.
    retry: RetryPolicy,
    /// Our credentials, made once rather than formatted for every call.
    authorization: Option<reqwest::header::HeaderValue>,
    /// Takes the key out of what the server says before it is logged.
    scrub: Scrub,
    model: String,
    max_output_tokens: u32,
    /// OpenAI itself wants `max_completion_tokens` (reasoning models reject `max_tokens`);
    /// most other OpenAI-compatible servers only know `max_tokens`.
    uses_max_completion_tokens: bool,
    /// The path to the Images API, with its own timeout.
    images: images::Images,
}

impl LlmClient {
    pub fn new(settings: LlmSettings) -> anyhow::Result<Self> {
        // reqwest is built without a default TLS crypto provider (that saves building
        // aws-lc) and panics without one; installing twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let upstream = upstream::Upstream::new(
            &format!("{}/chat/completions", settings.base_url),
            settings.connect_timeout,
            // It bounds the wait for headers; mid-stream each caller's own idle timer
            // (the same setting) reports a stall.
            settings.read_timeout + Duration::from_secs(1),
        )?;
        let images = images::Images::new(&settings)?;
        let authorization = match &settings.api_key {
            Some(key) => {
                let mut value = reqwest::header::HeaderValue::try_from(format!(
                    "Bearer {}",
                    key.expose_secret()
                ))?;
                // Kept out of Debug output and logs.
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        Ok(Self {
            upstream: Arc::new(upstream),
            retry: settings.retry,
            authorization,
            scrub: Scrub(settings.api_key.map(Arc::new)),
            model: settings.model,
            max_output_tokens: settings.max_output_tokens,
            uses_max_completion_tokens: settings.base_url.starts_with("https://api.openai.com/"),
            images,
        })
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    /// The site's default cap on an answer's tokens.
    pub fn max_output_tokens(&self) -> u32 {
        self.max_output_tokens
    }

    /// A chat request for `history` under `system_prompt`, to the site's model; callers
    /// may set more (an app's temperature, its response format) before streaming it.
    pub fn chat_request(
        &self,
        system_prompt: &str,
        history: &[(Role, &str)],
    ) -> CreateChatCompletionRequest {
        let mut messages: Vec<ChatCompletionRequestMessage> = Vec::with_capacity(history.len() + 1);
        if !system_prompt.is_empty() {
            messages.push(ChatCompletionRequestSystemMessage::from(system_prompt).into());
        }
        for &(role, content) in history {
            messages.push(match role {
                Role::System => ChatCompletionRequestSystemMessage::from(content).into(),
                Role::User => ChatCompletionRequestUserMessage::from(content).into(),
                Role::Assistant => ChatCompletionRequestAssistantMessage::from(content).into(),
            });
        }
        CreateChatCompletionRequest {
            model: self.model.clone(),
            messages,
            ..Default::default()
        }
    }

    /// Streaming with usage in the last chunk, and the output cap under the name the
    /// server understands.
    fn prepare(&self, request: &mut CreateChatCompletionRequest, max_output_tokens: u32) {
        request.stream = Some(true);
        request.stream_options = Some(ChatCompletionStreamOptions {
            include_usage: Some(true),
            include_obfuscation: None,
        });
        #[allow(deprecated)]
        if self.uses_max_completion_tokens {
            request.max_completion_tokens = Some(max_output_tokens);
            request.max_tokens = None;
        } else {
            request.max_tokens = Some(max_output_tokens);
            request.max_completion_tokens = None;
        }
    }

    /// Streams any chat request, decoded into chunks, always with usage reported and the
    /// output capped at `max_output_tokens` (whatever the request said).
    pub fn stream(
        &self,
        request: CreateChatCompletionRequest,
        max_output_tokens: u32,
    ) -> impl Future<Output = Result<Chunks, UpstreamError>> + Send + '_ {
        let raw = self.stream_raw(request, max_output_tokens);
        async move { Ok(Chunks::new(raw.await?)) }
    }
}

/// Takes the provider key out of text a server sent (some quote the key they were
/// given in their 401), before it reaches a log; and keeps what is logged short.
#[derive(Clone, Default)]
pub struct Scrub(Option<Arc<SecretString>>);

/// Characters of a server's text kept for the log.
const LOGGED_CHARS: usize = 500;

impl Scrub {
    /// The text without our key, shortened, and with every character that could end a
    /// log line or steer a terminal (controls, Unicode line and paragraph separators,
    /// bidi overrides) written as an escape.
    pub fn clean(&self, text: &str) -> String {
        let mut text: String = text
            .chars()
            .take(LOGGED_CHARS)
            .map(|c| match c {
                '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => {
                    c.escape_unicode().to_string()
                }
                c if c.is_control() => c.escape_default().to_string(),
                c => c.to_string(),
            })
            .collect();
        if let Some(key) = &self.0 {
            let key = key.expose_secret();
            if !key.is_empty() {
                text = text.replace(key, "[redacted]");
            }
        }
        text
    }
}

impl std::fmt::Debug for Scrub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Scrub(..)")
    }
}

/// Every way a model call can fail, as the user and the operator need to tell them apart.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamError {
    #[error("rate limited by the model server")]
    RateLimited,
    #[error("the provider account has no credit left (insufficient_quota): check its billing")]
    QuotaExhausted,
    #[error("the model server rejected our key (HTTP {0}): check OPENAI_API_KEY")]
    Unauthorized(u16),
    #[error("the model server rejected the request (HTTP {0})")]
    Rejected(u16),
    #[error("the model server failed (HTTP {0})")]
    ServerError(u16),
    #[error("the model server did not respond in time")]
    Timeout,
    #[error("the model server could not be reached")]
    Unreachable,
    #[error("the connection to the model server broke off")]
    Broken,
    #[error("the model server sent an unreadable chunk")]
    Malformed,
    #[error("the model server reported an error in the stream")]
    InBand,
    #[error("the model server sent something that is not a PNG, JPEG or WebP image")]
    NotAnImage,
    #[error("the model server sent an image over the 8 MiB cap (MAX_IMAGE_BYTES)")]
    ImageTooLarge,
    #[error(
        "the model server did not finish the image in time: raise UPSTREAM_IMAGE_TIMEOUT_SECS if the model is slow"
    )]
    ImageTimeout,
}

impl UpstreamError {
    /// What the person in front of the page is told: what happened and what to do,
    /// without anything from the provider's response.
    pub fn user_message(&self) -> Text {
        match self {
            UpstreamError::RateLimited => Text::new("upstream-rate-limited"),
            UpstreamError::QuotaExhausted | UpstreamError::Unauthorized(_) => {
                Text::new("upstream-unavailable")
            }
            UpstreamError::Rejected(_) => Text::new("upstream-rejected"),
            UpstreamError::ServerError(_) => Text::new("upstream-server-error"),
            UpstreamError::Timeout => Text::new("upstream-timeout"),
            UpstreamError::Unreachable => Text::new("upstream-unreachable"),
            UpstreamError::Broken => Text::new("upstream-broken"),
            UpstreamError::Malformed => Text::new("upstream-malformed"),
            UpstreamError::InBand => Text::new("upstream-in-band"),
            UpstreamError::NotAnImage => Text::new("upstream-not-an-image"),
            UpstreamError::ImageTooLarge => Text::new("upstream-image-too-large"),
            UpstreamError::ImageTimeout => Text::new("upstream-image-timeout"),
        }
    }

    /// Every [`user_message`](Self::user_message), for reading back answers saved when
    /// they were stored in English.
    pub fn every_user_message() -> Vec<Text> {
        [
            UpstreamError::RateLimited,
            UpstreamError::QuotaExhausted,
            UpstreamError::Rejected(400),
            UpstreamError::ServerError(500),
            UpstreamError::Timeout,
            UpstreamError::Unreachable,
            UpstreamError::Broken,
            UpstreamError::Malformed,
            UpstreamError::InBand,
            UpstreamError::NotAnImage,
            UpstreamError::ImageTooLarge,
            UpstreamError::ImageTimeout,
        ]
        .iter()
        .map(UpstreamError::user_message)
        .collect()
    }

    /// A short label for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            UpstreamError::RateLimited => "rate_limited",
            UpstreamError::QuotaExhausted => "quota_exhausted",
            UpstreamError::Unauthorized(_) => "unauthorized",
            UpstreamError::Rejected(_) => "rejected",
            UpstreamError::ServerError(_) => "server_error",
            UpstreamError::Timeout => "timeout",
            UpstreamError::Unreachable => "unreachable",
            UpstreamError::Broken => "broken",
            UpstreamError::Malformed => "malformed",
            UpstreamError::InBand => "in_band",
            UpstreamError::NotAnImage => "not_an_image",
            UpstreamError::ImageTooLarge => "image_too_large",
            UpstreamError::ImageTimeout => "image_timeout",
        }
    }

    /// Whether the answer was cut off mid-way (and may be worth continuing) rather than
    /// refused.
    pub fn is_cut_off(&self) -> bool {
        matches!(self, UpstreamError::Timeout | UpstreamError::Broken)
    }

    /// Counts the failure and logs it with its cause, once, where it is decided.
    fn report(self, cause: &dyn std::fmt::Display) -> Self {
        metrics::counter!("model_errors_total", "kind" => self.kind()).increment(1);
        match self {
            UpstreamError::QuotaExhausted | UpstreamError::Unauthorized(_) => {
                tracing::error!(error = %cause, "model call refused: {self}");
            }
            _ => tracing::warn!(error = %cause, "model call failed: {self}"),
        }
        self
    }
}

impl From<OpenAIError> for UpstreamError {
    fn from(error: OpenAIError) -> Self {
        let classified = match &error {
            OpenAIError::ApiError(response) => {
                let status = response.status_code.as_u16();
                let api = &response.api_error;
                let quota = api.code.as_deref() == Some("insufficient_quota")
                    || api.r#type.as_deref() == Some("insufficient_quota");
                match status {
                    429 if quota => UpstreamError::QuotaExhausted,
                    429 => UpstreamError::RateLimited,
                    401 | 403 => UpstreamError::Unauthorized(status),
                    500.. => UpstreamError::ServerError(status),
                    _ => UpstreamError::Rejected(status),
                }
            }
            OpenAIError::Reqwest(e) if e.is_timeout() => UpstreamError::Timeout,
            OpenAIError::Reqwest(e) if e.is_connect() => UpstreamError::Unreachable,
            OpenAIError::Reqwest(_) => UpstreamError::Broken,
            _ => UpstreamError::Unreachable,
        };
        classified.report(&error)
    }
}
