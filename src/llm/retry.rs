//! The HTTP path to the model server: one `reqwest` client with timeouts, and a bounded
//! retry before any byte of an answer has arrived.
//!
//! async-openai's own retry layer waits up to minutes and retries in more cases than we
//! want, so this service replaces it. Retries happen only here, before a response is
//! returned, so a stream that has started is never replayed (and never billed twice).

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
    time::{Duration, Instant},
};

use async_openai::{error::OpenAIError, middleware::HttpRequestFactory};
use reqwest::{Response, StatusCode, header::HeaderMap};

/// When and how often to try again.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    /// Tries in all, the first included.
    pub max_attempts: u32,
    /// No retry starts if it could not finish waiting within this time of the first try.
    pub deadline: Duration,
    /// The first back-off when the server gives no `Retry-After`; doubled each time.
    pub base_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            deadline: Duration::from_secs(10),
            base_delay: Duration::from_millis(500),
        }
    }
}

/// A tower service for async-openai's `with_http_service`.
#[derive(Clone, Debug)]
pub struct RetryService {
    pub http: reqwest::Client,
    pub policy: RetryPolicy,
}

impl tower::Service<HttpRequestFactory> for RetryService {
    type Response = Response;
    type Error = OpenAIError;
    type Future = Pin<Box<dyn Future<Output = Result<Response, OpenAIError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, factory: HttpRequestFactory) -> Self::Future {
        let http = self.http.clone();
        let policy = self.policy;
        Box::pin(async move {
            let started = Instant::now();
            let mut attempt = 1;
            loop {
                let result = http.execute(factory.build().await?).await;
                let (result, wait) = match result {
                    Ok(response) => retry_after_response(response, attempt, policy).await,
                    Err(error) if error.is_connect() => {
                        let wait = backoff(attempt, policy);
                        (Err(OpenAIError::Reqwest(error)), Some(wait))
                    }
                    Err(error) => (Err(OpenAIError::Reqwest(error)), None),
                };
                match wait {
                    Some(wait)
                        if attempt < policy.max_attempts
                            && started.elapsed() + wait <= policy.deadline =>
                    {
                        tracing::warn!(
                            attempt,
                            wait_ms = wait.as_millis() as u64,
                            "model server busy or unreachable; retrying"
                        );
                        tokio::time::sleep(wait).await;
                        attempt += 1;
                    }
                    _ => return result,
                }
            }
        })
    }
}

/// Decides whether a response is worth another try, and after how long.
async fn retry_after_response(
    response: Response,
    attempt: u32,
    policy: RetryPolicy,
) -> (Result<Response, OpenAIError>, Option<Duration>) {
    let status = response.status();
    match status {
        StatusCode::TOO_MANY_REQUESTS => {
            let wait = retry_after(response.headers()).unwrap_or_else(|| backoff(attempt, policy));
            // An empty account is not a rate limit: waiting will not help. The body must
            // be read to tell, so the response is rebuilt from it.
            let (response, body) = match buffer(response).await {
                Ok(parts) => parts,
                Err(error) => return (Err(error), None),
            };
            let quota = String::from_utf8_lossy(&body).contains("insufficient_quota");
            (Ok(response), (!quota).then_some(wait))
        }
        // Gateways and overloaded servers: transient by definition. A plain 500 may be
        // caused by the request itself, so it is reported, not repeated.
        StatusCode::BAD_GATEWAY | StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT => {
            let wait = retry_after(response.headers()).unwrap_or_else(|| backoff(attempt, policy));
            (Ok(response), Some(wait))
        }
        _ => (Ok(response), None),
    }
}

fn backoff(attempt: u32, policy: RetryPolicy) -> Duration {
    policy.base_delay * 2u32.saturating_pow(attempt - 1)
}

/// `retry-after-ms` (OpenAI) or `Retry-After` in seconds; HTTP dates are not worth the
/// code for waits that must stay under ten seconds.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let number = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<f64>().ok();
    number("retry-after-ms")
        .map(|ms| Duration::from_secs_f64(ms.max(0.0) / 1000.0))
        .or_else(|| number("retry-after").map(|s| Duration::from_secs_f64(s.max(0.0))))
}

async fn buffer(response: Response) -> Result<(Response, bytes::Bytes), OpenAIError> {
    let mut builder = http::Response::builder().status(response.status());
    if let Some(headers) = builder.headers_mut() {
        *headers = response.headers().clone();
    }
    let body = response.bytes().await?;
    let rebuilt = builder
        .body(body.clone())
        .map_err(|e| OpenAIError::InvalidArgument(e.to_string()))?;
    Ok((Response::from(rebuilt), body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_prefers_milliseconds_and_ignores_dates() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", "2".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(2)));
        headers.insert("retry-after-ms", "150".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_millis(150)));
        let mut dated = HeaderMap::new();
        dated.insert(
            "retry-after",
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&dated), None);
    }

    #[test]
    fn backoff_doubles_from_the_base_delay() {
        let policy = RetryPolicy::default();
        assert_eq!(backoff(1, policy), Duration::from_millis(500));
        assert_eq!(backoff(3, policy), Duration::from_secs(2));
    }
}
