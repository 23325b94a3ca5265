//! When to try a model call again: a bounded retry before any byte of an answer has
//! arrived, for the streamed answers (`upstream`) and the Images API's `reqwest` client.
//!
//! async-openai's own retry layer waits up to minutes and retries in more cases than we
//! want, so this replaces it. Retries happen only before a response is returned, so a
//! stream that has started is never replayed (and never billed twice).

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
        Box::pin(policy.run(move |attempt| {
            let (http, factory) = (http.clone(), factory.clone());
            async move {
                let request = match factory.build().await {
                    Ok(request) => request,
                    Err(error) => return (Err(error), None),
                };
                match http.execute(request).await {
                    Ok(response) => retry_after_response(response, attempt, policy).await,
                    Err(error) if error.is_connect() => (
                        Err(OpenAIError::Reqwest(error)),
                        Some(policy.backoff(attempt)),
                    ),
                    Err(error) => (Err(OpenAIError::Reqwest(error)), None),
                }
            }
        }))
    }
}

impl RetryPolicy {
    /// Makes tries (`attempt` is given each one's number, from 1) until one is not worth
    /// repeating or no other could start within the deadline, and returns the last.
    pub async fn run<T, Try>(self, mut attempt: impl FnMut(u32) -> Try) -> T
    where
        Try: Future<Output = (T, Option<Duration>)>,
    {
        let started = Instant::now();
        let mut number = 1;
        loop {
            let (result, wait) = attempt(number).await;
            match wait {
                Some(wait)
                    if number < self.max_attempts && started.elapsed() + wait <= self.deadline =>
                {
                    tracing::warn!(
                        attempt = number,
                        wait_ms = wait.as_millis() as u64,
                        "model server busy or unreachable; retrying"
                    );
                    tokio::time::sleep(wait).await;
                    number += 1;
                }
                _ => return result,
            }
        }
    }

    /// How long to wait before trying again after a refusal with `status`, or `None` when
    /// trying again will not help. `quota` says the body named `insufficient_quota`: an
    /// empty account is not a rate limit.
    pub fn wait_after(
        self,
        status: StatusCode,
        headers: &HeaderMap,
        quota: bool,
        attempt: u32,
    ) -> Option<Duration> {
        match status {
            StatusCode::TOO_MANY_REQUESTS if quota => None,
            // Gateways and overloaded servers: transient by definition. A plain 500 may be
            // caused by the request itself, so it is reported, not repeated.
            StatusCode::TOO_MANY_REQUESTS
            | StatusCode::BAD_GATEWAY
            | StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::GATEWAY_TIMEOUT => {
                Some(retry_after(headers).unwrap_or_else(|| self.backoff(attempt)))
            }
            _ => None,
        }
    }

    /// The wait before try `attempt + 1` when the server names none: doubled each time.
    pub fn backoff(self, attempt: u32) -> Duration {
        self.base_delay * 2u32.saturating_pow(attempt - 1)
    }
}

/// Decides whether a response is worth another try, and after how long.
async fn retry_after_response(
    response: Response,
    attempt: u32,
    policy: RetryPolicy,
) -> (Result<Response, OpenAIError>, Option<Duration>) {
    let status = response.status();
    if status != StatusCode::TOO_MANY_REQUESTS {
        let wait = policy.wait_after(status, response.headers(), false, attempt);
        return (Ok(response), wait);
    }
    // Whether the account is empty is in the body: the response is rebuilt from it.
    let headers = response.headers().clone();
    let (response, body) = match buffer(response).await {
        Ok(parts) => parts,
        Err(error) => return (Err(error), None),
    };
    let wait = policy.wait_after(status, &headers, names_quota(&body), attempt);
    (Ok(response), wait)
}

/// Whether a 429's body says the account is out of credit.
pub fn names_quota(body: &[u8]) -> bool {
    String::from_utf8_lossy(body).contains("insufficient_quota")
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
        assert_eq!(policy.backoff(1), Duration::from_millis(500));
        assert_eq!(policy.backoff(3), Duration::from_secs(2));
    }
}
