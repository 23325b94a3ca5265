//! Per-address request rates (tower_governor), counted by the client's network (an IPv4
//! address or an IPv6 /64, see `auth::network`): layers on routes that call the model, on
//! login and sign-up, and a slower one on sign-up alone; checks on every state-changing
//! request (`routes::middleware::guard_writes`) and on new guests. Budgets (tokens,
//! money) are separate: see `budget`.

use std::{net::IpAddr, sync::Arc, time::Duration};

use axum::{
    body::Body,
    http::{Request, Response},
    response::IntoResponse,
};
use governor::{
    clock::{Clock, DefaultClock},
    middleware::NoOpMiddleware,
};
use tower_governor::{
    GovernorError, GovernorLayer,
    governor::{GovernorConfig, GovernorConfigBuilder},
    key_extractor::KeyExtractor,
};

use crate::{
    auth::{ClientIp, network},
    config::Config,
    error::AppError,
    i18n::Text,
};

/// Rate limits by the network of the client address found by `record_client_ip` (which
/// honours only trusted proxies), not by a header anyone can write.
#[derive(Clone, Copy, Debug)]
pub struct ClientIpKey;

impl KeyExtractor for ClientIpKey {
    type Key = IpAddr;

    fn extract<T>(&self, request: &Request<T>) -> Result<IpAddr, GovernorError> {
        request
            .extensions()
            .get::<ClientIp>()
            .map(|ClientIp(ip)| network(*ip))
            .ok_or(GovernorError::UnableToExtractKey)
    }
}

pub type RateLimit = GovernorLayer<ClientIpKey, NoOpMiddleware, Body>;

type Rate = Arc<GovernorConfig<ClientIpKey, NoOpMiddleware>>;

/// Every per-address rate, made once at start, so that each can be pruned.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Requests to routes that call the model (`MESSAGE_RATE_PER_MINUTE`).
    messages: Rate,
    /// Login and sign-up attempts (`AUTH_RATE_PER_MINUTE`).
    auth_attempts: Rate,
    /// Accounts created (`SIGNUPS_PER_HOUR`).
    signups: Rate,
    /// Every request that may change something: POST, PUT, PATCH, DELETE
    /// (`WRITE_RATE_PER_MINUTE`). Writes that call no model cost no budget, so this is
    /// what keeps an anonymous client from filling the disk.
    writes: Rate,
    /// Guests made, each a session and their conversations (`GUESTS_PER_HOUR`).
    guests: Rate,
}

impl Limits {
    pub fn new(config: &Config) -> Self {
        let minute = Duration::from_secs(60);
        let hour = Duration::from_secs(3600);
        Self {
            messages: rate(config.message_rate_per_minute, minute),
            auth_attempts: rate(config.auth_rate_per_minute, minute),
            signups: rate(config.signups_per_hour, hour),
            writes: rate(config.write_rate_per_minute, minute),
            guests: rate(config.guests_per_hour, hour),
        }
    }

    pub fn messages(&self) -> RateLimit {
        layer(&self.messages)
    }

    pub fn auth_attempts(&self) -> RateLimit {
        layer(&self.auth_attempts)
    }

    pub fn signups(&self) -> RateLimit {
        layer(&self.signups)
    }

    /// Counts a request that may change something from `ip`; refuses one past
    /// `WRITE_RATE_PER_MINUTE`.
    pub fn write(&self, ip: IpAddr) -> Result<(), AppError> {
        check(&self.writes, ip).map_err(|wait| AppError::LimitReached {
            message: Text::new("limit-requests").arg("seconds", wait.as_secs()),
            retry_after: wait,
        })
    }

    /// Counts a new guest from `ip`; refuses one past `GUESTS_PER_HOUR`.
    pub fn new_guest(&self, ip: IpAddr) -> Result<(), AppError> {
        check(&self.guests, ip).map_err(|wait| AppError::LimitReached {
            message: Text::new("limit-new-guests").arg("minutes", wait.as_secs().div_ceil(60)),
            retry_after: wait,
        })
    }

    /// Forgets the addresses whose limits have filled up again, so that memory holds
    /// only the recently active ones, not every address ever seen.
    pub fn prune(&self) {
        for rate in self.all() {
            rate.limiter().retain_recent();
            rate.limiter().shrink_to_fit();
        }
    }

    /// Addresses held, over every limit.
    pub fn tracked(&self) -> usize {
        self.all().iter().map(|rate| rate.limiter().len()).sum()
    }

    fn all(&self) -> [&Rate; 5] {
        [
            &self.messages,
            &self.auth_attempts,
            &self.signups,
            &self.writes,
            &self.guests,
        ]
    }
}

/// `count` requests per `period` per address, in a burst or spread out.
fn rate(count: u32, period: Duration) -> Rate {
    Arc::new(
        GovernorConfigBuilder::default()
            .period(period / count.max(1))
            .burst_size(count.max(1))
            .key_extractor(ClientIpKey)
            .finish()
            .expect("a rate limit of at least one request per period"),
    )
}

/// Counts one request from `ip`'s network against `rate`; the wait (at least a second)
/// when it is spent.
fn check(rate: &Rate, ip: IpAddr) -> Result<(), Duration> {
    rate.limiter().check_key(&network(ip)).map_err(|not_until| {
        not_until
            .wait_time_from(DefaultClock::default().now())
            .max(Duration::from_secs(1))
    })
}

fn layer(rate: &Rate) -> RateLimit {
    GovernorLayer::new(rate.clone()).error_handler(refusal)
}

fn refusal(error: GovernorError) -> Response<Body> {
    match error {
        GovernorError::TooManyRequests { wait_time, .. } => AppError::LimitReached {
            message: Text::new("limit-requests").arg("seconds", wait_time.max(1)),
            retry_after: Duration::from_secs(wait_time.max(1)),
        }
        .into_response(),
        other => AppError::Internal(anyhow::anyhow!("rate limiter: {other}")).into_response(),
    }
}
