//! Starting and stopping: [`AppState`] built from the settings, [`serve`] with its
//! graceful shutdown, the accept loop (`accept.rs`) and the house-keeping task.

mod accept;

use std::{future::Future, sync::Arc, time::Duration};

use anyhow::Context;
use sqlx::SqlitePool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_sessions::ExpiredDeletion;
use tower_sessions_sqlx_store::SqliteStore;

use crate::{
    apps::{Apps, Catalog},
    auth::{self, Hasher, LoginThrottle, UserCache, api_key::KeyCache},
    batches,
    budget::{Clock, Meter},
    chat::Turns,
    config::{Config, Provider, Site},
    db,
    domain::now_ms,
    drain::Drain,
    limits::Limits,
    llm::{self, LlmClient, LlmSettings, RetryPolicy},
    markdown, routes, telemetry,
};

/// Everything a handler needs: one shared [`Shared`], so that cloning it into every
/// extractor and middleware of every request costs one reference count.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] shares.
#[derive(Debug)]
pub struct Shared {
    /// Settings from the environment, read once at start.
    pub config: Arc<Config>,
    /// What this service is: name, texts, system prompt, model and limits.
    pub site: Arc<Site>,
    /// The prompt apps (`APPS_DIR`), checked and compiled at start (and, in debug
    /// builds, again when a file changes).
    pub apps: Arc<Catalog>,
    /// The SQLite pool.
    pub db: SqlitePool,
    /// The model client (pointed at the demo model when no provider is configured).
    pub llm: LlmClient,
    /// The answers being written right now, for stop.
    pub turns: Turns,
    /// Every open answer (turns and `/v1` calls), for shutdown.
    pub drain: Drain,
    /// The dataset batch runner's handle, to wake it when there is new work.
    pub batches: batches::Runner,
    /// The time budgets are counted in (moved forward by tests).
    pub clock: Clock,
    /// Today's spending against the budgets, and the ledger writer.
    pub meter: Meter,
    /// argon2id hashing off the async runtime, a few at a time.
    pub hasher: Hasher,
    /// Finished answers' HTML, rendered once.
    pub rendered: markdown::RenderCache,
    /// Users read in the last minute (for sessions).
    pub users: UserCache,
    /// API keys proven in the last minute.
    pub api_keys: KeyCache,
    /// Failed logins per account and per address.
    pub login_throttle: LoginThrottle,
    /// Per-address request rates.
    pub limits: Limits,
    /// Sessions, in SQLite so they survive restarts.
    pub sessions: SqliteStore,
    /// The about page's live figures, read at most every 30 s, and when the process
    /// started (its uptime).
    pub figures: routes::about::FigureCache,
}

impl AppState {
    /// Loads the prompt apps (a broken app file stops the start), opens and migrates the
    /// database, marks answers left over from a crash as interrupted, starts the demo
    /// model if needed and builds the model client.
    pub async fn build(config: Config, site: Site) -> anyhow::Result<Self> {
        // The recorder first, so that the templates compiled by loading the apps count.
        telemetry::metrics();
        let apps = Apps::from_config(&config, &site)?;
        tracing::info!(apps = apps.len(), "prompt apps loaded");
        if let Some(home) = &site.home_app
            && apps.get(home).is_none()
        {
            let names: Vec<&str> = apps.iter().map(|a| a.name.as_str()).collect();
            anyhow::bail!(
                "promptship.toml: home_app = {home:?} names no app in {} (apps: {}); fix: name one of them, or remove home_app",
                crate::apps::dir(&config).display(),
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            );
        }
        let apps = Arc::new(Catalog::new(apps));
        let db = db::connect(&config.database_url).await?;
        db::migrate(&db).await?;
        let recovered = db::messages::interrupt_streaming_messages(&db).await?;
        if recovered > 0 {
            tracing::warn!(
                recovered,
                "answers cut off by the last shutdown were marked interrupted"
            );
        }
        let (base_url, api_key, model) = match &config.provider {
            Provider::Demo => {
                let base_url = llm::demo::spawn(config.demo_word_delay)
                    .await
                    .context("cannot start the demo model")?;
                tracing::info!(
                    "no OPENAI_API_KEY or OPENAI_BASE_URL set: using the built-in demo model"
                );
                (base_url, None, llm::demo::MODEL.to_string())
            }
            Provider::OpenAi { base_url, api_key } => {
                (base_url.clone(), api_key.clone(), site.model.clone())
            }
        };
        let llm = LlmClient::new(LlmSettings {
            base_url,
            api_key,
            model,
            max_output_tokens: site.max_output_tokens,
            connect_timeout: config.upstream_connect_timeout,
            read_timeout: config.upstream_timeout,
            image_timeout: config.upstream_image_timeout,
            retry: RetryPolicy::default(),
        })?;
        let sessions = SqliteStore::new(db.clone());
        sessions
            .migrate()
            .await
            .context("cannot create the sessions table")?;
        let site = Arc::new(site);
        let clock = Clock::default();
        let meter = Meter::load(&db, config.budgets, site.clone(), clock.clone())
            .await
            .context("cannot read today's usage")?;
        let hasher = Hasher::new();
        let turns = Turns::new(db.clone());
        let limits = Limits::new(&config);
        #[cfg(feature = "tiktoken")]
        tokio::task::spawn_blocking(crate::budget::warm_up).await?;
        Ok(Self(Arc::new(Shared {
            config: Arc::new(config),
            site,
            apps,
            db,
            llm,
            turns,
            drain: Drain::default(),
            batches: batches::Runner::default(),
            clock,
            meter,
            hasher,
            api_keys: KeyCache::default(),
            users: UserCache::default(),
            rendered: markdown::RenderCache::default(),
            login_throttle: LoginThrottle::default(),
            limits,
            sessions,
            figures: routes::about::FigureCache::default(),
        })))
    }
}

/// Serves the app on `listener` until `shutdown` resolves, then shuts down gracefully:
/// no new connections, open answers get until the grace period to finish (then are cut
/// off, saved and sent a final event), connections still open after it are closed, and
/// the database is checkpointed and closed.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let grace = state.config.shutdown_grace;
    let stopping = CancellationToken::new();
    let closing = CancellationToken::new();
    let sweeper = tokio::spawn(
        state
            .sessions
            .clone()
            .continuously_delete_expired(auth::EXPIRED_SESSION_SWEEP),
    );
    let housekeeping = tokio::spawn(keep_house(state.clone(), stopping.child_token()));
    tokio::spawn(telemetry::keep_metrics(stopping.child_token()));
    // Dataset batches run in the background; each item is a task of `drain`, so the
    // shutdown below waits for the ones running.
    let batch_runner = tokio::spawn(batches::run(state.clone(), stopping.child_token()));
    // Edit and see: a debug build serves an app file's new version as soon as it is saved.
    if cfg!(debug_assertions) {
        tokio::spawn(state.apps.clone().watch(
            crate::apps::dir(&state.config),
            state.site.clone(),
            stopping.child_token(),
        ));
    }
    let mut server = tokio::spawn(accept::run(
        listener,
        routes::router(state.clone()),
        state.config.header_read_timeout,
        stopping.clone(),
        closing.clone(),
    ));
    let backups = state.config.backups.clone().map(|backups| {
        tracing::info!(dir = %backups.dir.display(), ?backups.interval, backups.keep, "scheduled backups on");
        tokio::spawn(db::backup::run_scheduled(
            state.db.clone(),
            backups,
            stopping.child_token(),
        ))
    });
    if let Some(addr) = state.config.metrics_addr {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on METRICS_ADDR {addr}"))?;
        tracing::info!("metrics on http://{addr}/metrics");
        tokio::spawn(async move { axum::serve(listener, routes::metrics::private_router()).await });
    }
    tokio::select! {
        () = shutdown => {}
        result = &mut server => {
            result?;
            return Ok(());
        }
    }
    let deadline = tokio::time::Instant::now() + grace;
    tracing::info!(
        ?grace,
        "shutting down: refusing new connections, letting open answers finish"
    );
    stopping.cancel();
    // The last second is kept for the final events to reach the clients, and for the
    // database.
    let cleanup = Duration::from_millis(500);
    state
        .drain
        .wait(grace.saturating_sub(Duration::from_secs(1)), cleanup)
        .await;
    if tokio::time::timeout_at(deadline, &mut server)
        .await
        .is_err()
    {
        tracing::warn!("connections still open at the shutdown deadline: closing them");
        // Dropping them drops what they were sending; a `/v1` call settles its usage
        // as it is dropped.
        closing.cancel();
        server.await?;
        state.drain.settle(cleanup).await;
    }
    sweeper.abort();
    let _ = housekeeping.await;
    let _ = batch_runner.await;
    state.meter.flush().await;
    if let Some(backups) = backups {
        // A backup already being written is finished, not torn.
        let _ = backups.await;
    }
    db::close(&state.db).await;
    tracing::info!("shutdown complete");
    Ok(())
}

impl AppState {
    /// Deletes the guests not seen for [`auth::GUEST_RETENTION`], with their
    /// conversations; returns how many guests and conversations went.
    pub async fn sweep_gone_guests(&self) -> sqlx::Result<(u64, u64)> {
        let cutoff = self.clock.now_ms() - auth::GUEST_RETENTION.as_millis() as i64;
        db::guests::delete_gone_guests(&self.db, cutoff).await
    }
}

/// Every minute, forgets the addresses the rate limits no longer need (their memory
/// would otherwise grow with every address ever seen); every hour, deletes the guests
/// who are gone for good and the login devices trusted no more.
async fn keep_house(state: AppState, stop: CancellationToken) {
    let mut minutes = tokio::time::interval(Duration::from_secs(60));
    minutes.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    for minute in 0u64.. {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = minutes.tick() => {}
        }
        state.limits.prune();
        if minute % 60 == 0 {
            match state.sweep_gone_guests().await {
                Ok((0, _)) => {}
                Ok((guests, conversations)) => {
                    tracing::info!(guests, conversations, "guests gone for good were deleted");
                }
                Err(error) => tracing::warn!(%error, "cannot delete the guests gone for good"),
            }
            let stale = now_ms() - auth::DEVICE_TRUST_DAYS * 86_400_000;
            if let Err(error) = db::devices::delete_stale_devices(&state.db, stale).await {
                tracing::warn!(%error, "cannot delete the login devices unused for a year");
            }
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM (what `docker stop` and systemd send).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
