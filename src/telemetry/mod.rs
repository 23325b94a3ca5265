//! Logging (readable lines in development, one JSON object per line with
//! `LOG_FORMAT=json`; `RUST_LOG` filters, e.g. `RUST_LOG=debug,sqlx=warn`) and metrics.

mod batch;

use std::{io::IsTerminal, sync::OnceLock};

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::{EnvFilter, fmt, prelude::*};

pub use batch::Guard as LogGuard;

use crate::config::LogFormat;

/// What is logged when `RUST_LOG` is not set.
pub const DEFAULT_FILTER: &str = "info,sqlx=warn,hyper=warn";

/// Starts logging; the returned guard writes out the lines still waiting when dropped.
pub fn init(format: LogFormat) -> std::io::Result<LogGuard> {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    // Lines are written to stdout by a thread of their own, so a request never waits on
    // the terminal or the log collector; under a flood, requests wait for room rather
    // than lines being dropped.
    let (stdout, guard) = batch::spawn(std::io::stdout())?;
    let registry = tracing_subscriber::registry().with(filter);
    // `try_init` so tests that build several apps in one process do not panic.
    let _ = match format {
        // Colours only on a terminal: escape codes in a log file or the journal are noise
        // (and formatting them was 3 % of a relayed call's instructions).
        LogFormat::Pretty => registry
            .with(
                fmt::layer()
                    .with_ansi(std::io::stdout().is_terminal())
                    .with_writer(stdout),
            )
            .try_init(),
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_span_list(true)
                    .with_writer(stdout),
            )
            .try_init(),
    };
    Ok(guard)
}

/// Prometheus metrics, recorded with the `metrics` macros anywhere in the crate and
/// rendered at `/metrics` (which is not public: see `routes::metrics`).
pub fn metrics() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&[
                0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
            ])
            .expect("static buckets")
            .build_recorder();
        let handle = recorder.handle();
        // A second app in the same process (tests) shares the first recorder.
        let _ = ::metrics::set_global_recorder(recorder);
        handle
    })
}

/// How often the recorder folds histogram samples into their buckets.
const METRICS_UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Folds the recorder's histogram samples into their buckets every few seconds until
/// `stop`. A recorder from `build_recorder` otherwise keeps every sample until `/metrics`
/// is read, which a deployment without a scraper never does: about 20 bytes a request,
/// for ever.
pub async fn keep_metrics(stop: tokio_util::sync::CancellationToken) {
    let mut ticks = tokio::time::interval(METRICS_UPKEEP_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = ticks.tick() => metrics().run_upkeep(),
        }
    }
}
