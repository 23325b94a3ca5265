//! `/metrics` for Prometheus. Not public: on the main port it needs `METRICS_TOKEN` as a
//! bearer token (anyone else gets 404); `METRICS_ADDR` serves it on an address of its own.

use axum::{
    Router,
    extract::{MatchedPath, Request, State},
    http::{HeaderMap, header},
    middleware::Next,
    response::Response,
    routing::get,
};
use secrecy::ExposeSecret;
use std::time::Instant;

use crate::{
    AppState,
    error::{AppError, Thing},
    telemetry,
};

pub async fn show_metrics(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<String, AppError> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match (&state.config.metrics_token, given) {
        (Some(token), Some(given)) if token.expose_secret() == given => Ok(render()),
        _ => Err(AppError::NotFound(Thing::Page)),
    }
}

/// The router of `METRICS_ADDR`: only `/metrics`, no token (the address is private).
pub fn private_router() -> Router {
    Router::new().route("/metrics", get(|| async { render() }))
}

/// Every metric, with the sampled gauges read first.
fn render() -> String {
    let handle = telemetry::metrics();
    // Live tasks of the runtime: a count that keeps growing under steady load is a leak
    // (tests/soak.rs watches it).
    let tasks = tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks();
    metrics::gauge!("tokio_tasks_alive").set(tasks as f64);
    handle.render()
}

/// Counts every routed request and its time to response headers, by route template (so
/// ids do not explode the label set).
pub async fn record_http(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |path| path.as_str().to_string());
    let method = request.method().to_string();
    let response = next.run(request).await;
    let labels = [
        ("method", method),
        ("route", route),
        ("status", response.status().as_u16().to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}
