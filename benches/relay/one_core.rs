//! promptship as on a 1-vCPU VPS, next to nginx on the same kind of core: each server
//! alone on core 1 (`taskset -c 1`; promptship's runtime sizes itself to the one core),
//! the mock upstream and the load generator (this process) on core 0. The mock sends
//! every event as its own HTTP chunk at zero delay, as real providers send them, with
//! 20 content chunks and then 1: the difference between the two is the cost of 19
//! events, and what is left at 1 chunk the cost of a call.
//!
//! Measured for each chunk count, in rounds that take the paths in turn (nginx and
//! promptship measured seconds apart, so that the machine's drift hits both): streams/s
//! and CPU per stream at c=64, time to first token at c=1 (direct, nginx, promptship),
//! and the chat page's htmx stream at c=64. Then 512 streams at once against a
//! promptship started afresh on the same database (so its peak memory holds no sign-up's
//! password hashing), and its memory once they are over.

use std::{fmt::Write as _, path::Path, process::Command, time::Duration};

use anyhow::{Context, bail};

use crate::{
    RssSampler, Settings,
    app::Account,
    cpu::{self, CpuUse},
    load::{self, Job, Window},
    mock::Shape,
    procs::{self, MockServer, Nginx, Promptship},
    progress,
    report::{Route, Row, errors, median, mib, ms},
};

/// The core the servers measured run on, alone.
const SERVERS: usize = 1;
/// The core of the mock and the load generator.
const LOAD: usize = 0;
/// Content chunks per answer: the realistic run first, then the one that isolates the
/// cost of a call.
const CHUNKS: [usize; 2] = [20, 1];
/// Concurrent streams of the throughput runs, and of the burst.
const BUSY: usize = 64;
const BURST: usize = 512;
/// How long after the burst its memory is read again.
const SETTLE: Duration = Duration::from_secs(5);

/// The targets (issue 19).
const MAX_CPU_US: f64 = 100.0;
const MIN_SHARE: f64 = 0.5;
const MAX_ADDED_TTFT_MS: f64 = 0.3;
const MAX_PEAK_MIB: u64 = 40;

/// Every round of one path at one concurrency.
pub struct Rounds {
    pub route: Route,
    /// What was measured: `/v1/chat/completions`, or the chat page's stream.
    pub page: bool,
    pub concurrency: usize,
    pub rounds: Vec<Row>,
}

impl Rounds {
    fn new(route: Route, page: bool, concurrency: usize) -> Self {
        Rounds {
            route,
            page,
            concurrency,
            rounds: Vec::new(),
        }
    }

    fn name(&self) -> String {
        match (self.route, self.page) {
            (Route::Promptship, true) => "promptship, chat page (htmx)".into(),
            (Route::Promptship, false) => "promptship /v1".into(),
            (route, _) => route.name().into(),
        }
    }

    fn streams_per_sec(&self) -> Option<f64> {
        median(self.rounds.iter().map(|row| row.stats.rps))
    }

    /// CPU time of the server (nginx's master and worker, or promptship) per stream.
    fn cpu_us(&self) -> Option<f64> {
        median(self.rounds.iter().filter_map(|row| cpu_us(self.route, row)))
    }

    fn ttft_ms(&self) -> Option<f64> {
        median(
            self.rounds
                .iter()
                .filter_map(|row| row.stats.ttft.p50)
                .map(|d| d.as_secs_f64() * 1000.0),
        )
    }

    fn error_count(&self) -> u64 {
        self.rounds.iter().map(|row| row.stats.error_count()).sum()
    }
}

fn cpu_us(route: Route, row: &Row) -> Option<f64> {
    let cpu = row.cpu?;
    let cores = match route {
        Route::Nginx => cpu.nginx,
        Route::Promptship => cpu.promptship,
        Route::Direct => cpu.mock,
    };
    (row.stats.rps > 0.0).then(|| cores / row.stats.rps * 1e6)
}

/// One chunk count's runs.
pub struct ChunkRun {
    pub chunks: usize,
    pub paths: Vec<Rounds>,
}

impl ChunkRun {
    fn find(&self, route: Route, page: bool, concurrency: usize) -> Option<&Rounds> {
        self.paths
            .iter()
            .find(|p| p.route == route && p.page == page && p.concurrency == concurrency)
    }

    /// promptship's streams/s over nginx's at c=64: the median of the rounds' ratios.
    fn share(&self) -> Option<f64> {
        let app = self.find(Route::Promptship, false, BUSY)?;
        let nginx = self.find(Route::Nginx, false, BUSY)?;
        median(
            app.rounds
                .iter()
                .zip(&nginx.rounds)
                .map(|(app, nginx)| app.stats.rps / nginx.stats.rps.max(f64::MIN_POSITIVE)),
        )
    }

    /// promptship's time to first token at c=1 over the mock's own, in ms: the median of
    /// the rounds' differences.
    fn added_ttft_ms(&self) -> Option<f64> {
        let app = self.find(Route::Promptship, false, 1)?;
        let direct = self.find(Route::Direct, false, 1)?;
        median(app.rounds.iter().zip(&direct.rounds).filter_map(|(a, d)| {
            Some((a.stats.ttft.p50?.as_secs_f64() - d.stats.ttft.p50?.as_secs_f64()) * 1000.0)
        }))
    }
}

/// The burst of streams and the memory around it, in KiB.
#[derive(Default)]
pub struct Burst {
    /// RSS once ready, before any request.
    pub started_kib: u64,
    /// RSS at rest after a few streams one at a time: what a deployment idles at between
    /// bursts (the request path's code paged in, a warm upstream connection).
    pub idle_kib: u64,
    /// Largest RSS sampled every 100 ms during the burst.
    pub sampled_kib: u64,
    /// VmHWM: the process's peak, read after the burst.
    pub peak_kib: u64,
    /// RSS `SETTLE` after the burst.
    pub after_kib: u64,
    /// Idle and after: the heap's and stacks' share, the files' share and threads.
    pub split: [Option<(u64, u64, u64)>; 2],
    pub row: Option<Row>,
}

#[derive(Default)]
pub struct Figures {
    /// Why the run could not be placed (one core, no `taskset`), when it could not.
    pub skipped: Option<String>,
    pub runs: Vec<ChunkRun>,
    pub burst: Burst,
    pub window: Duration,
    pub rounds: usize,
}

impl Figures {
    pub fn rows(&self) -> impl Iterator<Item = &Row> {
        self.runs
            .iter()
            .flat_map(|run| &run.paths)
            .flat_map(|path| &path.rounds)
            .chain(self.burst.row.as_ref())
    }

    fn run(&self, chunks: usize) -> Option<&ChunkRun> {
        self.runs.iter().find(|run| run.chunks == chunks)
    }

    /// (per call, per event) CPU µs of a path at c=64, from the runs at 20 and 1 chunks.
    fn costs(&self, route: Route, page: bool) -> Option<(f64, f64)> {
        let [many, one] = CHUNKS;
        let at = |chunks| self.run(chunks)?.find(route, page, BUSY)?.cpu_us();
        let (at_many, at_one) = (at(many)?, at(one)?);
        let per_event = (at_many - at_one) / (many - one) as f64;
        Some((at_one - per_event, per_event))
    }

    pub fn markdown(&self, out: &mut String) {
        if let Some(why) = &self.skipped {
            let _ = writeln!(
                out,
                "## One core, one HTTP chunk per event\n\nNot run: {why}.\n"
            );
            return;
        }
        if self.runs.is_empty() {
            return;
        }
        let _ = writeln!(
            out,
            "## One core, one HTTP chunk per event\n\nEach server alone on core {SERVERS} \
             (nginx: one worker, `proxy_buffering off`, upstream keep-alive); the mock and \
             the load generator on core {LOAD}. Zero delay, every event its own HTTP chunk. \
             {} round(s) of {:.0} s per path, taken in turn; medians. CPU is the server's \
             user and system time per stream.\n",
            self.rounds,
            self.window.as_secs_f64()
        );
        let _ = writeln!(
            out,
            "| chunks | path | c | streams/s | CPU µs/stream | TTFT p50 | errors | streams/s per round |\n|--:|---|--:|--:|--:|--:|--:|---|"
        );
        for run in &self.runs {
            for path in &run.paths {
                let rounds: Vec<String> = path
                    .rounds
                    .iter()
                    .map(|row| format!("{:.0}", row.stats.rps))
                    .collect();
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} | {} | {} |",
                    run.chunks,
                    path.name(),
                    path.concurrency,
                    path.streams_per_sec()
                        .map_or("–".into(), |r| format!("{r:.0}")),
                    path.cpu_us().map_or("–".into(), |us| format!("{us:.0}")),
                    path.ttft_ms().map_or("–".into(), |ms| format!("{ms:.2}")),
                    path.error_count(),
                    rounds.join(" · ")
                );
            }
        }
        let _ = writeln!(out, "\nTTFT in ms.\n");
        let _ = writeln!(
            out,
            "CPU per call and per content event at c={BUSY} (from the {} and {} chunk runs):\n",
            CHUNKS[0], CHUNKS[1]
        );
        let _ = writeln!(out, "| path | per call | per event |\n|---|--:|--:|");
        for (route, page) in [
            (Route::Nginx, false),
            (Route::Promptship, false),
            (Route::Promptship, true),
        ] {
            if let Some((call, event)) = self.costs(route, page) {
                let name = Rounds::new(route, page, BUSY).name();
                // A call that costs a thousand times an event hides the event in the
                // rounds' spread: the difference can come out below zero.
                let event = if event < 0.0 {
                    "below the rounds' spread".to_string()
                } else {
                    format!("{event:.1} µs")
                };
                let _ = writeln!(out, "| {name} | {call:.0} µs | {event} |");
            }
        }
        let b = &self.burst;
        if let Some(row) = &b.row {
            let _ = writeln!(
                out,
                "\n{BURST} streams at once ({} chunks) against promptship started afresh on \
                 the same database: {:.0} streams/s, TTFT p50 {} ms, p99 {} ms, {} errors. \
                 RSS just started {}, idle (at rest {} s after a second of streams one at \
                 a time) {}, largest sampled during the burst {}, peak (VmHWM) {}, {} s \
                 after {}.\n",
                CHUNKS[0],
                row.stats.rps,
                ms(row.stats.ttft.p50),
                ms(row.stats.ttft.p99),
                errors(&row.stats),
                mib(b.started_kib),
                SETTLE.as_secs(),
                mib(b.idle_kib),
                mib(b.sampled_kib),
                mib(b.peak_kib),
                SETTLE.as_secs(),
                mib(b.after_kib)
            );
            for (when, split) in ["Idle", "After"].iter().zip(&b.split) {
                if let Some((anon, file, threads)) = split {
                    let _ = writeln!(
                        out,
                        "{when}: heap and stacks {}, files (mostly the binary) {}, {threads} threads.",
                        mib(*anon),
                        mib(*file)
                    );
                }
            }
            let _ = writeln!(out);
        }
    }

    /// Each target measured, the figure it is judged by, and whether it is met.
    pub fn checks(&self) -> Vec<(String, String, bool)> {
        let mut checks = Vec::new();
        let Some(run) = self.run(CHUNKS[0]) else {
            return checks;
        };
        let chunks = run.chunks;
        if let Some(us) = run
            .find(Route::Promptship, false, BUSY)
            .and_then(Rounds::cpu_us)
        {
            checks.push((
                format!(
                    "one core, {chunks} chunks, c={BUSY}: CPU per /v1 stream ≤ {MAX_CPU_US:.0} µs"
                ),
                format!("{us:.0} µs"),
                us <= MAX_CPU_US,
            ));
        }
        if let Some(share) = run.share() {
            checks.push((
                format!(
                    "one core, {chunks} chunks, c={BUSY}: promptship streams/s ≥ 50% of nginx's"
                ),
                format!("{:.0}%", share * 100.0),
                share >= MIN_SHARE,
            ));
        }
        if let Some(added) = run.added_ttft_ms() {
            checks.push((
                format!("one core, {chunks} chunks, c=1: added TTFT p50 ≤ {MAX_ADDED_TTFT_MS} ms"),
                format!("{added:+.2} ms"),
                added <= MAX_ADDED_TTFT_MS,
            ));
        }
        let b = &self.burst;
        if b.peak_kib > 0 {
            checks.push((
                format!("one core: peak RSS with {BURST} streams ≤ {MAX_PEAK_MIB} MiB"),
                mib(b.peak_kib),
                b.peak_kib <= MAX_PEAK_MIB * 1024,
            ));
            // Near idle: within a quarter of what the burst added.
            let near = b.idle_kib + (b.peak_kib.saturating_sub(b.idle_kib)) / 4;
            checks.push((
                format!(
                    "one core: RSS {} s after the burst back near idle ({} + ¼ of the burst's rise)",
                    SETTLE.as_secs(),
                    mib(b.idle_kib)
                ),
                mib(b.after_kib),
                b.after_kib <= near,
            ));
        }
        checks
    }
}

/// The cores this process may run on, as `taskset` lists them.
fn own_cores() -> anyhow::Result<String> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("Cpus_allowed_list:"))
        .map(|list| list.trim().to_string())
        .context("no Cpus_allowed_list in /proc/self/status")
}

/// Moves every thread of this process to `cores` (a `taskset` list).
fn pin_self(cores: &str) -> anyhow::Result<()> {
    let status = Command::new("taskset")
        .args(["-a", "-p", "-c", cores, &std::process::id().to_string()])
        .stdout(std::process::Stdio::null())
        .status()
        .context("cannot run taskset (util-linux)")?;
    if !status.success() {
        bail!("taskset -a -p -c {cores} failed: {status}");
    }
    Ok(())
}

/// Why the run cannot be placed here, if it cannot.
fn cannot_place() -> Option<String> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cores < 2 {
        return Some(format!("it needs two cores, this process may use {cores}"));
    }
    let taskset = Command::new("taskset")
        .arg("-V")
        .stdout(std::process::Stdio::null())
        .status();
    if !taskset.is_ok_and(|status| status.success()) {
        return Some("`taskset` (util-linux) is not installed".into());
    }
    None
}

/// Runs everything, with this process on core `LOAD`, and puts it back where it was.
pub async fn run(settings: &Settings, dir: &Path) -> anyhow::Result<Figures> {
    let window = settings.window(false);
    let mut figures = Figures {
        window: window.measure,
        rounds: settings.rounds,
        ..Figures::default()
    };
    if let Some(why) = cannot_place() {
        progress(format!("one core: not run: {why}"));
        figures.skipped = Some(why);
        return Ok(figures);
    }
    let cores = own_cores()?;
    pin_self(&LOAD.to_string())?;
    let result = measure(settings, window, dir, &mut figures).await;
    pin_self(&cores)?;
    result.map(|()| figures)
}

async fn measure(
    settings: &Settings,
    window: Window,
    dir: &Path,
    figures: &mut Figures,
) -> anyhow::Result<()> {
    for chunks in CHUNKS {
        let dir = dir.join(format!("one-core-{chunks}"));
        std::fs::create_dir_all(&dir)?;
        progress(format!(
            "one core, {chunks} chunks: starting the mock, nginx and promptship"
        ));
        let mock = MockServer::start(Shape::Events(chunks), &dir, Some(LOAD))?;
        let nginx = Nginx::start(mock.port, &dir, Some(SERVERS))?;
        let mut promptship = Promptship::new(&dir, mock.port, Some(SERVERS))?;
        promptship.start().await?;
        let account = Account::sign_up(&promptship.base).await?;
        let pids = cpu::Pids {
            mock: mock.pid(),
            nginx: Some(nginx.pid()),
            promptship: promptship.pid(),
        };
        let direct = format!("http://127.0.0.1:{}", mock.port);
        let proxied = format!("http://127.0.0.1:{}", nginx.port);
        let mut paths = vec![
            Rounds::new(Route::Direct, false, 1),
            Rounds::new(Route::Nginx, false, 1),
            Rounds::new(Route::Promptship, false, 1),
            Rounds::new(Route::Nginx, false, BUSY),
            Rounds::new(Route::Promptship, false, BUSY),
            Rounds::new(Route::Promptship, true, BUSY),
        ];
        for round in 1..=settings.rounds {
            for path in &mut paths {
                progress(format!(
                    "one core, {chunks} chunks: {} c={} (round {round} of {})",
                    path.name(),
                    path.concurrency,
                    settings.rounds
                ));
                let job = match (path.route, path.page) {
                    (Route::Direct, _) => Job::chat(&direct, &account.model, account.bearer()),
                    (Route::Nginx, _) => Job::chat(&proxied, &account.model, account.bearer()),
                    (Route::Promptship, false) => {
                        Job::chat(&promptship.base, &account.model, account.bearer())
                    }
                    (Route::Promptship, true) => {
                        Job::page_turn(&promptship.base, account.cookie()?)
                    }
                };
                let cpu = cpu::watch(pids, window.warmup, window.measure);
                let stats = load::run(job, path.concurrency, window).await?;
                if stats.error_count() > 0 {
                    progress(format!("  errors: {:?}", stats.errors));
                }
                path.rounds.push(Row {
                    route: path.route,
                    concurrency: path.concurrency,
                    stats,
                    cpu: cpu.await.ok(),
                    rounds: Vec::new(),
                });
            }
        }
        if chunks == CHUNKS[0] {
            // A process of its own for the burst, on the database that has the key: its
            // peak is the streams', not a sign-up's (argon2 takes 19 MiB).
            promptship.stop()?;
            promptship.start().await?;
            figures.burst = burst(&promptship, &account, window, pids).await?;
        }
        progress("one core: stopping the servers");
        promptship.stop()?;
        drop(nginx);
        drop(mock);
        figures.runs.push(ChunkRun { chunks, paths });
    }
    Ok(())
}

async fn burst(
    promptship: &Promptship,
    account: &Account,
    window: Window,
    pids: cpu::Pids,
) -> anyhow::Result<Burst> {
    let pid = promptship.pid().context("promptship is not running")?;
    let pids = cpu::Pids {
        promptship: Some(pid),
        ..pids
    };
    let started_kib = procs::memory(pid).map_or(0, |m| m.rss_kib);
    progress("one core: a second of streams one at a time, then rest");
    let job = Job::chat(&promptship.base, &account.model, account.bearer());
    let warm = Window {
        warmup: Duration::ZERO,
        measure: Duration::from_secs(1),
    };
    load::run(job, 1, warm).await?;
    tokio::time::sleep(SETTLE).await;
    let idle = procs::memory(pid);
    let idle_kib = idle.as_ref().map_or(0, |m| m.rss_kib);
    progress(format!("one core: {BURST} streams at once"));
    let sampler = RssSampler::start(Some(pid));
    let cpu = cpu::watch(pids, window.warmup, window.measure);
    let job = Job::chat(&promptship.base, &account.model, account.bearer());
    let stats = load::run(job, BURST, window).await?;
    let sampled_kib = sampler.stop().await;
    let cpu: Option<CpuUse> = cpu.await.ok();
    let peak_kib = procs::memory(pid).map_or(0, |m| m.peak_kib);
    tokio::time::sleep(SETTLE).await;
    let after = procs::memory(pid);
    let after_kib = after.as_ref().map_or(0, |m| m.rss_kib);
    let split = [idle, after].map(|m| m.map(|m| (m.anon_kib, m.file_kib, m.threads)));
    Ok(Burst {
        started_kib,
        idle_kib,
        sampled_kib,
        peak_kib,
        after_kib,
        split,
        row: Some(Row {
            route: Route::Promptship,
            concurrency: BURST,
            stats,
            cpu,
            rounds: Vec::new(),
        }),
    })
}
