//! Logging: readable lines in development, one JSON object per line in production
//! (`LOG_FORMAT=json`). `RUST_LOG` filters, e.g. `RUST_LOG=debug,sqlx=warn`.

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::config::LogFormat;

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,hyper=warn"));
    let registry = tracing_subscriber::registry().with(filter);
    // `try_init` so tests that build several apps in one process do not panic.
    let _ = match format {
        LogFormat::Pretty => registry.with(fmt::layer()).try_init(),
        LogFormat::Json => registry
            .with(fmt::layer().json().flatten_event(true).with_span_list(true))
            .try_init(),
    };
}
