//! How much promptship adds to a streamed chat completion, next to a bare nginx hop.
//!
//! Runs, on this machine: a mock OpenAI-compatible upstream (this executable again, as a
//! child process), nginx as a plain reverse proxy to it, and promptship's release binary
//! pointed at it. A load generator streams `POST /v1/chat/completions` straight to the
//! mock, through nginx and through promptship, against an upstream that answers at once
//! and one paced like a model (200 ms to the first token, then 20 ms per token), and
//! measures requests/s, time to first token and total time. The one-core run places
//! promptship and nginx each alone on one core against an upstream that sends every
//! event as its own HTTP chunk, and measures CPU per stream and per event
//! (`relay/one_core.rs`). It also measures the chat
//! page's render throughput, the landing, login and chat pages under 50 clients for a
//! minute, chat turns through the JSON API with what their checkpoints write, the prompt
//! apps (20 app files loaded, two app pages under 50 clients, a text and a structured
//! app run through the relay beside the chat turns, and proof that no request compiles
//! a template), the review queue's pages, start-up time, binary size and memory, and which process
//! used the CPU in each run (on a small machine the load generator and the servers
//! share it, so that says how far to trust a figure).
//!
//! ```text
//! cargo bench --features jemalloc --bench relay            # full run, BENCH_SECS=10 per scenario
//! BENCH_SECS=5 cargo bench --features jemalloc --bench relay          # shorter windows
//! BENCH_QUICK=1 cargo bench --profile dev --features jemalloc --bench relay  # CI: runs, unoptimized
//! BENCH_ONLY=paced cargo bench --features jemalloc --bench relay      # `zero` or `paced` only
//! BENCH_ONLY=core cargo bench --features jemalloc --bench relay       # the one-core run only
//! BENCH_BIN=target/deploy/release/promptship BENCH_ONLY=core cargo bench --features jemalloc --bench relay
//! BENCH_ONLY=apps cargo bench --features jemalloc --bench relay       # the apps and chat beside
//! BENCH_ONLY=review cargo bench --features jemalloc --bench relay     # the review pages only
//! BENCH_PAGE_SECS=10 cargo bench --features jemalloc --bench relay    # shorter page loads
//! ```
//!
//! `BENCH_BIN` runs a binary built as a deployment builds it (`cargo build --release
//! --features jemalloc --target-dir target/deploy`), without the features the
//! dev-dependencies add to the one cargo builds for a bench.
//!
//! Needs nginx (`apt-get install nginx`). `BENCH_RUST_LOG` is passed to promptship as
//! `RUST_LOG`. The report goes to stdout and to `$CARGO_TARGET_DIR/bench/relay.md`. The
//! exit status is non-zero only when a server fails to start or promptship fails a
//! request; missed targets are reported, not failed.

#[path = "relay/app.rs"]
mod app;
#[path = "relay/apps.rs"]
mod apps;
#[path = "relay/cpu.rs"]
mod cpu;
#[path = "relay/load.rs"]
mod load;
#[path = "relay/mock.rs"]
mod mock;
#[path = "relay/one_core.rs"]
mod one_core;
#[path = "relay/procs.rs"]
mod procs;
#[path = "relay/report.rs"]
mod report;
#[path = "relay/review.rs"]
mod review;

use std::{
    path::PathBuf,
    process::ExitCode,
    sync::{
        Arc, OnceLock,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use app::Account;
use load::{Job, Window};
use mock::Shape;
use procs::{MockServer, Nginx, Promptship};
use report::{Footprint, Mode, Report, Route, Row};

/// Paced answers take about 1.2 s, so their windows are at least this long: several
/// answers per worker, or in a quick run at least one sent inside the window.
const PACED_MIN_SECS: f64 = 5.0;
const QUICK_PACED_MIN_SECS: f64 = 1.5;

fn main() -> ExitCode {
    if std::env::var(mock::ROLE_VAR).is_ok_and(|role| role == mock::ROLE_MOCK) {
        return mock::main();
    }
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this binary too,
    // with no arguments, and must not start a run of several minutes.
    if !std::env::args().any(|arg| arg == "--bench") {
        eprintln!(
            "relay bench: not run (start it with `cargo bench --features jemalloc --bench relay`)"
        );
        return ExitCode::SUCCESS;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("relay bench: cannot start a runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(bench()) {
        Ok(report) => publish(&report),
        Err(error) => {
            eprintln!("relay bench failed: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Prints and saves the report; fails the run if promptship failed any request.
fn publish(report: &Report) -> ExitCode {
    let markdown = report.markdown();
    println!("{markdown}");
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or("target".into(), PathBuf::from);
    let path = target.join("bench").join("relay.md");
    let saved = std::fs::create_dir_all(target.join("bench"))
        .and_then(|()| std::fs::write(&path, &markdown));
    match saved {
        Ok(()) => eprintln!("report written to {}", path.display()),
        Err(error) => eprintln!("cannot write {}: {error}", path.display()),
    }
    let failures = report.server_errors();
    if failures > 0 {
        eprintln!("promptship failed {failures} request(s): see the errors columns");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// What to run, from `BENCH_SECS`, `BENCH_QUICK` and `BENCH_ONLY`.
struct Settings {
    quick: bool,
    secs: f64,
    warmup: Duration,
    zero_concurrency: Vec<usize>,
    paced_concurrency: Vec<usize>,
    page_concurrency: Vec<usize>,
    turn_concurrency: Vec<usize>,
    /// `BENCH_PAGE_SECS`: how long each page is loaded for RELIABILITY.md check 1.
    page_load_window: Duration,
    /// Which upstream modes to run (`BENCH_ONLY=zero` or `paced` picks one): `false` is
    /// zero-delay (with start-up and chat pages), `true` paced.
    modes: Vec<bool>,
    /// Zero-delay rounds (`BENCH_ROUNDS`): each runs every path once, in turn.
    rounds: usize,
    /// `BENCH_ONLY=apps`: only the prompt apps' figures and the chat figures they are
    /// read beside (the chat page under 50 clients, the chat turns), in both modes.
    apps_only: bool,
    /// Loads of the 20 app files timed (the median is reported).
    app_loads: usize,
    /// `BENCH_ONLY=review`: only the review queue's pages and the chat page they are read
    /// beside (zero-delay mode).
    review_only: bool,
    /// The one-core run: in a full run and with `BENCH_ONLY=core` (alone).
    one_core: bool,
}

impl Settings {
    fn from_env() -> Self {
        let quick = std::env::var("BENCH_QUICK").is_ok_and(|v| v == "1");
        let secs = std::env::var("BENCH_SECS")
            .ok()
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|secs| *secs > 0.0)
            .unwrap_or(if quick { 1.0 } else { 10.0 });
        let only = std::env::var("BENCH_ONLY");
        let (zero, paced) = if quick {
            (vec![1, 64], vec![1, 64, 200])
        } else {
            (vec![1, 64, 512], vec![1, 64, 512, 1000])
        };
        Settings {
            quick,
            secs,
            warmup: Duration::from_millis(if quick { 200 } else { 1000 }),
            zero_concurrency: zero,
            paced_concurrency: paced,
            page_concurrency: vec![1, 64],
            turn_concurrency: if quick { vec![16] } else { vec![64, 512] },
            page_load_window: Duration::from_secs_f64(
                std::env::var("BENCH_PAGE_SECS")
                    .ok()
                    .and_then(|v| v.parse::<f64>().ok())
                    .filter(|secs| *secs > 0.0)
                    .unwrap_or(if quick { 1.0 } else { 60.0 }),
            ),
            modes: match only.as_deref() {
                Ok("zero" | "review") => vec![false],
                Ok("paced") => vec![true],
                Ok("core") => Vec::new(),
                _ => vec![false, true],
            },
            one_core: matches!(only.as_deref(), Err(_) | Ok("core")),
            apps_only: only.as_deref() == Ok("apps"),
            review_only: only.as_deref() == Ok("review"),
            app_loads: if quick { 11 } else { 101 },
            rounds: std::env::var("BENCH_ROUNDS")
                .ok()
                .and_then(|v| v.parse::<usize>().ok())
                .filter(|rounds| *rounds > 0)
                .unwrap_or(if quick { 1 } else { 3 }),
        }
    }

    /// Throughput at zero delay is bound by the two shared cores, and this machine's
    /// speed drifts by 15 % or more from one few-second window to the next: each path is
    /// measured in several rounds taken in turn, and the median round reported. Paced
    /// runs are bound by the pacing, not the CPU, and run once.
    fn rounds(&self, paced: bool) -> usize {
        if paced { 1 } else { self.rounds }
    }

    fn window(&self, paced: bool) -> Window {
        let secs = match (paced, self.quick) {
            (false, _) => self.secs,
            (true, false) => self.secs.max(PACED_MIN_SECS),
            (true, true) => self.secs.max(QUICK_PACED_MIN_SECS),
        };
        Window {
            warmup: self.warmup,
            measure: Duration::from_secs_f64(secs),
        }
    }

    fn most_streams(&self) -> usize {
        self.paced_concurrency.iter().copied().max().unwrap_or(0)
    }
}

async fn bench() -> anyhow::Result<Report> {
    // reqwest is built without a default TLS provider and wants one installed even for
    // plain http, as in the tests.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let settings = Settings::from_env();
    let started = Instant::now();
    let binary = server_binary();
    let mut report = Report {
        date: report::command("date", &["-u"]),
        binary: std::env::var("BENCH_BIN").ok(),
        quick: settings.quick,
        secs: settings.secs,
        warmup: settings.warmup,
        rounds: settings.rounds,
        fd_limit: open_files_limit(),
        load_average: load_average(),
        zero: Mode::default(),
        paced: Mode::default(),
        most_streams: settings.most_streams(),
        footprint: Footprint {
            binary_bytes: std::fs::metadata(&binary)?.len(),
            ..Footprint::default()
        },
        pages: Mode::default(),
        page_load: Vec::new(),
        page_load_window: Duration::ZERO,
        turns: Mode::default(),
        checkpoints: report::Checkpoints::default(),
        apps: apps::Figures::default(),
        review: review::Figures::default(),
        one_core: one_core::Figures::default(),
        elapsed: Duration::ZERO,
        kept_logs: Vec::new(),
    };
    progress(format!("soft open-files limit {}", report.fd_limit));
    // nginx raises its own limit (worker_rlimit_nofile); promptship and this process
    // inherit this one.
    let needed = 2 * report.most_streams + 100;
    if report
        .fd_limit
        .parse::<usize>()
        .is_ok_and(|limit| limit < needed)
    {
        progress(format!(
            "warning: {needed} open files are needed; raise `ulimit -n`"
        ));
    }
    progress(format!(
        "prompt apps: {} loads of 20 app files",
        settings.app_loads
    ));
    let timing = apps::time_load(settings.app_loads)?;
    progress(format!(
        "prompt apps: median load {} ms",
        report::ms(Some(timing.median))
    ));
    report.apps.load = Some(timing);
    for &paced in &settings.modes {
        run_mode(&settings, paced, &mut report).await?;
    }
    if settings.one_core {
        let dir = tempfile::Builder::new().prefix("relay-bench-").tempdir()?;
        report.one_core = one_core::run(&settings, dir.path()).await?;
        if report.one_core.rows().any(server_failed) {
            let kept = dir.keep();
            report.kept_logs.push(kept.display().to_string());
            progress(format!("logs kept in {}", kept.display()));
        }
    }
    report.elapsed = started.elapsed();
    Ok(report)
}

/// One upstream mode: fresh mock, nginx and promptship (with a fresh database), every
/// path at every concurrency, and (zero-delay only) start-up times and chat pages.
async fn run_mode(settings: &Settings, paced: bool, report: &mut Report) -> anyhow::Result<()> {
    let dir = tempfile::Builder::new().prefix("relay-bench-").tempdir()?;
    let result = run_servers(settings, paced, report, dir.path()).await;
    let failed = result.is_err() || mode_of(report, paced).rows.iter().any(server_failed);
    if failed {
        // Keep the logs to read; the report or the error names the directory.
        let kept = dir.keep();
        report.kept_logs.push(kept.display().to_string());
        progress(format!("logs kept in {}", kept.display()));
    }
    result
}

fn server_failed(row: &Row) -> bool {
    row.route == Route::Promptship && row.stats.error_count() > 0
}

fn mode_of(report: &mut Report, paced: bool) -> &mut Mode {
    if paced {
        &mut report.paced
    } else {
        &mut report.zero
    }
}

async fn run_servers(
    settings: &Settings,
    paced: bool,
    report: &mut Report,
    dir: &std::path::Path,
) -> anyhow::Result<()> {
    let mode_name = if paced { "paced" } else { "zero-delay" };
    progress(format!(
        "{mode_name}: starting the mock, nginx and promptship"
    ));
    let shape = if paced { Shape::Paced } else { Shape::Whole };
    let mock = MockServer::start(shape, dir, None)?;
    // The review pages alone go through no proxy.
    let nginx = if settings.review_only {
        None
    } else {
        Some(Nginx::start(mock.port, dir, None)?)
    };
    let mut promptship = Promptship::new(dir, mock.port, None)?;
    let ready = promptship.start().await?;
    let footprint = &mut report.footprint;
    if !paced {
        footprint.ready_fresh = Some(ready);
        promptship.stop()?;
        footprint.ready_existing = Some(promptship.start().await?);
        footprint.rss_idle_kib = promptship.memory().map_or(0, |m| m.rss_kib);
        progress(format!(
            "promptship ready in {} ms (fresh), {} ms (existing database)",
            report::ms(footprint.ready_fresh),
            report::ms(footprint.ready_existing)
        ));
    }
    let probe = reqwest::Client::builder().no_proxy().build()?;
    let compiled = async || {
        app::metric(
            &probe,
            &promptship.base,
            procs::METRICS_TOKEN,
            apps::TEMPLATES_COMPILED,
        )
        .await
    };
    let compiled_at_start = compiled().await?;
    let account = Account::sign_up(&promptship.base).await?;
    let bases: Vec<(Route, String)> = [
        Some((Route::Direct, format!("http://127.0.0.1:{}", mock.port))),
        nginx
            .as_ref()
            .map(|nginx| (Route::Nginx, format!("http://127.0.0.1:{}", nginx.port))),
        Some((Route::Promptship, promptship.base.clone())),
    ]
    .into_iter()
    .flatten()
    .collect();
    let window = settings.window(paced);
    let concurrencies: &[usize] = match (settings.apps_only || settings.review_only, paced) {
        (true, _) => &[],
        (false, true) => &settings.paced_concurrency,
        (false, false) => &settings.zero_concurrency,
    };
    mode_of(report, paced).window = window.measure;
    let pids = cpu::Pids {
        mock: mock.pid(),
        nginx: nginx.as_ref().map(Nginx::pid),
        promptship: promptship.pid(),
    };
    let rounds = settings.rounds(paced);
    for &c in concurrencies {
        let mut runs: Vec<Vec<Row>> = bases.iter().map(|_| Vec::new()).collect();
        for round in 1..=rounds {
            for ((route, base), runs) in bases.iter().zip(&mut runs) {
                let of = if rounds > 1 {
                    format!(" (round {round} of {rounds})")
                } else {
                    String::new()
                };
                progress(format!("{mode_name} {} c={c}{of}", route.name()));
                let job = Job::chat(base, &account.model, account.bearer());
                let watch_memory =
                    paced && *route == Route::Promptship && c == settings.most_streams();
                let sampler = watch_memory.then(|| RssSampler::start(promptship.pid()));
                let cpu = cpu::watch(pids, window.warmup, window.measure);
                let stats = load::run(job, c, window).await?;
                if let Some(sampler) = sampler {
                    report.footprint.rss_streams_kib = sampler.stop().await;
                }
                log_errors(mode_name, *route, c, &stats);
                runs.push(Row {
                    route: *route,
                    concurrency: c,
                    stats,
                    cpu: cpu.await.ok(),
                    rounds: Vec::new(),
                });
            }
        }
        let mode = mode_of(report, paced);
        mode.rows.extend(runs.into_iter().filter_map(Row::median));
    }
    let cookie = account.cookie()?;
    if paced {
        chat_turns(settings, &account, pids, report).await?;
        let window = settings.window(true);
        let runs = &settings.turn_concurrency;
        report.apps.runs = apps::runs(&promptship.base, &cookie, runs, window, pids).await?;
    } else {
        if !settings.apps_only {
            // With BENCH_ONLY=review too: the review pages are read beside it.
            chat_pages(settings, &account, &promptship.base, pids, report).await?;
        }
        if !settings.review_only {
            page_load(settings, &account, &promptship.base, pids, report).await?;
            let window = load::Window {
                warmup: settings.warmup,
                measure: settings.page_load_window,
            };
            report.apps.page_window = window.measure;
            report.apps.pages =
                apps::pages(&promptship.base, &cookie, PAGE_LOAD_CLIENTS, window, pids).await?;
        }
        if !settings.apps_only {
            report.review.pages = review::pages(
                &promptship.base,
                dir,
                &account,
                &settings.page_concurrency,
                settings.window(false),
                pids,
            )
            .await?;
        }
    }
    let mode = if paced { "paced" } else { "zero-delay" };
    report
        .apps
        .compiled
        .push((mode, compiled_at_start, compiled().await?));
    let memory = promptship.memory().unwrap_or_default();
    if paced {
        report.footprint.rss_after_paced_kib = memory.rss_kib;
        report.footprint.peak_paced_kib = memory.peak_kib;
    } else {
        report.footprint.rss_after_zero_kib = memory.rss_kib;
        report.footprint.peak_zero_kib = memory.peak_kib;
    }
    progress("stopping the servers");
    promptship.stop()?;
    drop(nginx);
    drop(mock);
    progress("stopped");
    Ok(())
}

/// Render throughput of a signed-in chat page holding 50 messages.
async fn chat_pages(
    settings: &Settings,
    account: &Account,
    base: &str,
    pids: cpu::Pids,
    report: &mut Report,
) -> anyhow::Result<()> {
    progress("chat page: filling a conversation with 50 messages");
    let id = account.fill_conversation().await?;
    let url = format!("{base}/conversations/{id}");
    let cookie = account.cookie()?;
    for &c in &settings.page_concurrency {
        progress(format!("chat page c={c}"));
        let window = settings.window(false);
        let cpu = cpu::watch(pids, window.warmup, window.measure);
        let stats = load::run(Job::page(url.clone(), cookie.clone()), c, window).await?;
        log_errors("chat page", Route::Promptship, c, &stats);
        report.pages.rows.push(Row {
            route: Route::Promptship,
            concurrency: c,
            rounds: vec![stats.rps],
            stats,
            cpu: cpu.await.ok(),
        });
    }
    Ok(())
}

/// Clients at once on each page for RELIABILITY.md check 1.
const PAGE_LOAD_CLIENTS: usize = 50;

/// The landing page, the login page and a chat page of 50 messages (with
/// `BENCH_ONLY=apps`, the chat page alone), each under `PAGE_LOAD_CLIENTS` signed-in
/// clients for `BENCH_PAGE_SECS` (60 s; 1 s when quick).
async fn page_load(
    settings: &Settings,
    account: &Account,
    base: &str,
    pids: cpu::Pids,
    report: &mut Report,
) -> anyhow::Result<()> {
    let conversation = account.fill_conversation().await?;
    let cookie = account.cookie()?;
    let window = load::Window {
        warmup: settings.warmup,
        measure: settings.page_load_window,
    };
    report.page_load_window = window.measure;
    let mut pages = vec![
        ("/", "/".to_string()),
        ("/login", "/login".to_string()),
        (
            "chat page (50 messages)",
            format!("/conversations/{conversation}"),
        ),
    ];
    if settings.apps_only {
        // The chat page alone, to read the app pages beside.
        pages.drain(..2);
    }
    for (name, path) in pages {
        progress(format!(
            "{name}: {PAGE_LOAD_CLIENTS} clients for {:.0} s",
            window.measure.as_secs_f64()
        ));
        let cpu = cpu::watch(pids, window.warmup, window.measure);
        let job = Job::page(format!("{base}{path}"), cookie.clone());
        let stats = load::run(job, PAGE_LOAD_CLIENTS, window).await?;
        log_errors(name, Route::Promptship, PAGE_LOAD_CLIENTS, &stats);
        report.page_load.push((
            name,
            Row {
                route: Route::Promptship,
                concurrency: PAGE_LOAD_CLIENTS,
                rounds: vec![stats.rps],
                stats,
                cpu: cpu.await.ok(),
            },
        ));
    }
    Ok(())
}

/// Chat turns through the JSON API against the paced upstream, each worker in a
/// conversation of its own, and what the checkpoints of their answers wrote.
async fn chat_turns(
    settings: &Settings,
    account: &Account,
    pids: cpu::Pids,
    report: &mut Report,
) -> anyhow::Result<()> {
    let counters = async || -> anyhow::Result<[f64; 3]> {
        let token = procs::METRICS_TOKEN;
        Ok([
            account
                .metric(token, "model_answers_total{status=\"complete\"}")
                .await?,
            account.metric(token, "answer_checkpoints_total").await?,
            account
                .metric(token, "answer_checkpoint_writes_total")
                .await?,
        ])
    };
    let before = counters().await?;
    let started = Instant::now();
    for &c in &settings.turn_concurrency {
        progress(format!("chat turns c={c}"));
        let urls = account.conversations(c).await?;
        let window = settings.window(true);
        let cpu = cpu::watch(pids, window.warmup, window.measure);
        let stats = load::run(Job::turn(urls, account.cookie()?), c, window).await?;
        log_errors("chat turns", Route::Promptship, c, &stats);
        report.turns.rows.push(Row {
            route: Route::Promptship,
            concurrency: c,
            rounds: vec![stats.rps],
            stats,
            cpu: cpu.await.ok(),
        });
    }
    let after = counters().await?;
    report.checkpoints = report::Checkpoints {
        answers: after[0] - before[0],
        rows: after[1] - before[1],
        writes: after[2] - before[2],
        secs: started.elapsed().as_secs_f64(),
    };
    Ok(())
}

/// A progress line on stderr (stdout is for the report), with the time since start.
fn progress(message: impl std::fmt::Display) {
    static START: OnceLock<Instant> = OnceLock::new();
    let since = START.get_or_init(Instant::now).elapsed();
    eprintln!("[{:6.1} s] relay bench: {message}", since.as_secs_f64());
}

fn log_errors(what: &str, route: Route, c: usize, stats: &load::Stats) {
    if stats.error_count() > 0 {
        progress(format!(
            "{what} {} c={c}: errors {:?}",
            route.name(),
            stats.errors
        ));
    }
}

/// Samples a process's RSS every 100 ms and keeps the largest.
struct RssSampler {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<u64>,
}

impl RssSampler {
    fn start(pid: Option<u32>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            let mut largest = 0;
            // Bounded: a load run ends within minutes, and stop() is always called.
            for _ in 0..36_000 {
                tick.tick().await;
                if flag.load(Ordering::Relaxed) {
                    break;
                }
                let rss = pid.and_then(procs::memory).map_or(0, |m| m.rss_kib);
                largest = largest.max(rss);
            }
            largest
        });
        RssSampler { stop, task }
    }

    async fn stop(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.unwrap_or(0)
    }
}

/// The promptship binary to run: `BENCH_BIN`, or the one cargo built for this bench.
/// cargo builds that one with the features the dev-dependencies add (reqwest's cookie
/// layer among them, about 3 % of a relayed call), which a deployment's binary lacks:
/// the figures in docs/benchmarks.md pass `BENCH_BIN` a binary built as the Dockerfile
/// builds it.
pub fn server_binary() -> String {
    std::env::var("BENCH_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_promptship").into())
}

/// The soft limit on open files: 1,000 streams through a proxy need about 2,000 sockets
/// in that proxy and 1,000 in the load generator.
fn open_files_limit() -> String {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    limits
        .lines()
        .find_map(|line| line.strip_prefix("Max open files"))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or("?")
        .to_string()
}

/// The 1, 5 and 15 minute load averages.
fn load_average() -> String {
    let loadavg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let figures: Vec<&str> = loadavg.split_whitespace().take(3).collect();
    figures.join(" ")
}
