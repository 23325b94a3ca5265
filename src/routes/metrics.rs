//! `/metrics` for Prometheus. Not public: on the main port it needs `METRICS_TOKEN` as a
//! bearer token (anyone else gets 404); `METRICS_ADDR` serves it on an address of its own.

use axum::{
    Router,
    extract::{MatchedPath, Request, State},
    http::{HeaderMap, Method, header},
    middleware::Next,
    response::Response,
    routing::get,
};
use secrecy::ExposeSecret;
use std::{
    collections::HashMap,
    sync::{OnceLock, PoisonError, RwLock},
    time::Instant,
};

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
/// ids do not explode the label set), method and status.
pub async fn record_http(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let method = method_label(request.method());
    let response = next.run(request).await;
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    let (requests, duration) = handles(method, route, response.status().as_u16());
    requests.increment(1);
    duration.record(started.elapsed().as_secs_f64());
    response
}

/// The standard methods by name, any other as `other`: a client making up methods
/// would otherwise make up label sets, each kept for ever.
fn method_label(method: &Method) -> &'static str {
    static STANDARD: [Method; 9] = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::HEAD,
        Method::OPTIONS,
        Method::PATCH,
        Method::CONNECT,
        Method::TRACE,
    ];
    STANDARD
        .iter()
        .find(|known| *known == method)
        .map_or("other", Method::as_str)
}

type Handles = (metrics::Counter, metrics::Histogram);

/// A request's counter and timer, looked up in the recorder once per method, status and
/// route and then kept: building the labels and finding them in the recorder's registry
/// on every request was about 2 % of a relayed call. The set is bounded: route templates,
/// nine methods and `other`, status codes.
fn handles(method: &'static str, route: &str, status: u16) -> Handles {
    type Cache = RwLock<HashMap<(&'static str, u16), HashMap<Box<str>, Handles>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(|| {
        // Handles taken before the recorder is installed would count nothing, for ever.
        telemetry::metrics();
        RwLock::default()
    });
    let found = cache
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&(method, status))
        .and_then(|routes| routes.get(route))
        .cloned();
    found.unwrap_or_else(|| {
        let labels = [
            ("method", method.to_string()),
            ("route", route.to_string()),
            ("status", status.to_string()),
        ];
        let made = (
            metrics::counter!("http_requests_total", &labels),
            metrics::histogram!("http_request_duration_seconds", &labels),
        );
        cache
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .entry((method, status))
            .or_default()
            .insert(route.into(), made.clone());
        made
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_labelled_by_name_and_made_up_ones_as_other() {
        assert_eq!(method_label(&Method::POST), "POST");
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        let made_up = Method::from_bytes(b"BREW").unwrap();
        assert_eq!(method_label(&made_up), "other");
    }
}
