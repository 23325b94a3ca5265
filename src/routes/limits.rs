//! Per-address request rates (tower_governor): on routes that call the model, on login
//! and sign-up, and a slower one on sign-up alone. Budgets (tokens, money) are separate:
//! see `budget`.

use std::{net::IpAddr, sync::Arc, time::Duration};

use axum::{
    body::Body,
    http::{Request, Response},
    response::IntoResponse,
};
use governor::middleware::NoOpMiddleware;
use tower_governor::{
    GovernorError, GovernorLayer, governor::GovernorConfigBuilder, key_extractor::KeyExtractor,
};

use super::middleware::ClientIp;
use crate::error::AppError;

/// Rate limits by the client address found by `record_client_ip` (which honours only
/// trusted proxies), not by a header anyone can write.
#[derive(Clone, Copy, Debug)]
pub struct ClientIpKey;

impl KeyExtractor for ClientIpKey {
    type Key = IpAddr;

    fn extract<T>(&self, request: &Request<T>) -> Result<IpAddr, GovernorError> {
        request
            .extensions()
            .get::<ClientIp>()
            .map(|ClientIp(ip)| *ip)
            .ok_or(GovernorError::UnableToExtractKey)
    }
}

pub type RateLimit = GovernorLayer<ClientIpKey, NoOpMiddleware, Body>;

/// `count` requests per `period` per address, in a burst or spread out.
pub fn per_address(count: u32, period: Duration) -> RateLimit {
    let config = GovernorConfigBuilder::default()
        .period(period / count.max(1))
        .burst_size(count.max(1))
        .key_extractor(ClientIpKey)
        .finish()
        .expect("a rate limit of at least one request per period");
    GovernorLayer::new(Arc::new(config)).error_handler(refusal)
}

fn refusal(error: GovernorError) -> Response<Body> {
    match error {
        GovernorError::TooManyRequests { wait_time, .. } => AppError::LimitReached {
            message: format!(
                "Too many requests from your address: wait {} s and try again.",
                wait_time.max(1)
            ),
            retry_after: Duration::from_secs(wait_time.max(1)),
        }
        .into_response(),
        other => AppError::Internal(anyhow::anyhow!("rate limiter: {other}")).into_response(),
    }
}
