//! The Markdown report: what was measured, on what machine, and how it compares with
//! the targets.

use std::{fmt::Write as _, process::Command, time::Duration};

use crate::{apps, cpu::CpuUse, load::Stats, one_core, review};

/// Cores busy outside the benchmark above which a run is marked as disturbed.
const NOISY_CORES: f64 = 0.25;

/// Which hop the load generator talked to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    Direct,
    Nginx,
    Promptship,
}

impl Route {
    pub fn name(self) -> &'static str {
        match self {
            Route::Direct => "direct",
            Route::Nginx => "nginx",
            Route::Promptship => "promptship",
        }
    }
}

pub struct Row {
    pub route: Route,
    pub concurrency: usize,
    pub stats: Stats,
    /// Cores busy during the measured window.
    pub cpu: Option<CpuUse>,
    /// Requests/s of every round, in the order they ran; the rest of the row is the
    /// median round's.
    pub rounds: Vec<f64>,
}

impl Row {
    /// The round with the median requests/s (the slower of the middle two when even),
    /// holding every round's requests/s and errors: an error in any round is reported.
    pub fn median(mut runs: Vec<Row>) -> Option<Row> {
        let rounds: Vec<f64> = runs.iter().map(|row| row.stats.rps).collect();
        let mut errors = std::collections::BTreeMap::new();
        for row in &runs {
            for (kind, count) in &row.stats.errors {
                *errors.entry(kind.clone()).or_insert(0) += count;
            }
        }
        runs.sort_by(|a, b| a.stats.rps.total_cmp(&b.stats.rps));
        let mut median = runs.swap_remove(runs.len().checked_sub(1)? / 2);
        median.stats.errors = errors;
        median.rounds = rounds;
        Some(median)
    }
}

/// The streaming runs against one upstream mode.
#[derive(Default)]
pub struct Mode {
    pub rows: Vec<Row>,
    pub window: Duration,
}

impl Mode {
    pub fn find(&self, route: Route, concurrency: usize) -> Option<&Stats> {
        self.row(route, concurrency).map(|r| &r.stats)
    }

    fn row(&self, route: Route, concurrency: usize) -> Option<&Row> {
        self.rows
            .iter()
            .find(|r| r.route == route && r.concurrency == concurrency)
    }

    /// promptship's requests/s over nginx's at `concurrency`: the median of the rounds'
    /// ratios (each round ran both in turn, close in time).
    fn share(&self, concurrency: usize) -> Option<f64> {
        let app = self.row(Route::Promptship, concurrency)?;
        let nginx = self.row(Route::Nginx, concurrency)?;
        median(
            app.rounds
                .iter()
                .zip(&nginx.rounds)
                .map(|(app, nginx)| app / nginx.max(f64::MIN_POSITIVE)),
        )
    }

    fn concurrencies(&self) -> Vec<usize> {
        let mut all: Vec<usize> = self.rows.iter().map(|r| r.concurrency).collect();
        all.dedup();
        all
    }
}

/// Sizes and times of the promptship process, in KiB and durations.
#[derive(Default)]
pub struct Footprint {
    pub binary_bytes: u64,
    /// `None` when the zero-delay mode, which measures them, did not run.
    pub ready_fresh: Option<Duration>,
    pub ready_existing: Option<Duration>,
    pub rss_idle_kib: u64,
    pub rss_after_zero_kib: u64,
    pub peak_zero_kib: u64,
    pub rss_after_paced_kib: u64,
    pub peak_paced_kib: u64,
    /// Largest RSS sampled while the most streams were open.
    pub rss_streams_kib: u64,
}

/// What the checkpoints of the turns' answers wrote (src/chat/checkpoint.rs), from
/// promptship's `/metrics`, over the turns' runs.
#[derive(Default)]
pub struct Checkpoints {
    /// Answers finished.
    pub answers: f64,
    /// Answer rows saved by checkpoints.
    pub rows: f64,
    /// Transactions that saved them.
    pub writes: f64,
    /// Seconds the runs took, warm-up included.
    pub secs: f64,
}

pub struct Report {
    pub date: String,
    /// `BENCH_BIN`, when the binary is not the one cargo built for the bench.
    pub binary: Option<String>,
    pub quick: bool,
    pub secs: f64,
    pub warmup: Duration,
    /// Zero-delay rounds per path and concurrency.
    pub rounds: usize,
    pub fd_limit: String,
    pub load_average: String,
    pub zero: Mode,
    pub paced: Mode,
    /// The most concurrent streams of the paced runs (1,000, or 200 when quick).
    pub most_streams: usize,
    pub footprint: Footprint,
    pub pages: Mode,
    /// The landing, login and chat pages each under `PAGE_LOAD_CLIENTS` for a long
    /// window (RELIABILITY.md check 1): by page name.
    pub page_load: Vec<(&'static str, Row)>,
    pub page_load_window: Duration,
    /// Chat turns through the JSON API against the paced upstream, and what their
    /// checkpoints wrote.
    pub turns: Mode,
    pub checkpoints: Checkpoints,
    /// The prompt apps: load time, pages, runs and compiled templates.
    pub apps: apps::Figures,
    /// The review queue's pages.
    pub review: review::Figures,
    /// promptship and nginx each on one core, one HTTP chunk per event.
    pub one_core: one_core::Figures,
    pub elapsed: Duration,
    /// Where logs were kept because promptship failed requests.
    pub kept_logs: Vec<String>,
}

impl Report {
    fn all_rows(&self) -> impl Iterator<Item = &Row> {
        [&self.zero, &self.paced, &self.pages, &self.turns]
            .into_iter()
            .flat_map(|mode| &mode.rows)
            .chain(self.page_load.iter().map(|(_, row)| row))
            .chain(self.apps.rows())
            .chain(self.review.rows())
            .chain(self.one_core.rows())
    }

    fn noisy_runs(&self) -> usize {
        self.all_rows()
            .filter(|row| row.cpu.is_some_and(|cpu| cpu.other > NOISY_CORES))
            .count()
    }

    pub fn server_errors(&self) -> u64 {
        self.all_rows()
            .filter(|row| row.route == Route::Promptship)
            .map(|row| row.stats.error_count())
            .sum()
    }

    pub fn markdown(&self) -> String {
        let mut out = String::new();
        self.header(&mut out);
        mode_table(
            &mut out,
            "Zero-delay upstream (whole answer at once)",
            &self.zero,
        );
        rounds_table(&mut out, &self.zero);
        mode_table(
            &mut out,
            "Paced upstream (first token after 200 ms, then 50 tokens 20 ms apart)",
            &self.paced,
        );
        self.overhead(&mut out);
        self.one_core.markdown(&mut out);
        self.footprint_table(&mut out);
        self.page_table(&mut out);
        self.page_load_table(&mut out);
        self.turn_table(&mut out);
        self.apps.markdown(&mut out, &self.page_load, &self.turns);
        self.review.markdown(&mut out);
        self.cpu_table(&mut out);
        self.targets(&mut out);
        let _ = writeln!(out, "Run time: {:.0} s.", self.elapsed.as_secs_f64());
        for path in &self.kept_logs {
            let _ = writeln!(
                out,
                "\npromptship failed requests; its logs were kept in {path}."
            );
        }
        out
    }

    fn header(&self, out: &mut String) {
        let quick = if self.quick { ", BENCH_QUICK=1" } else { "" };
        let measure = format!(
            "{} s (paced runs: {} s{quick})",
            self.secs,
            self.paced.window.as_secs_f64()
        );
        let _ = writeln!(out, "# promptship relay benchmark\n");
        if cfg!(debug_assertions) {
            // CI's smoke run (`--profile dev`) checks that every scenario runs; only
            // the release profile measures anything.
            let _ = writeln!(
                out,
                "**Unoptimized build (`--profile dev`): a smoke run, the figures say \
                 nothing about speed or size.**\n"
            );
        }
        let _ = writeln!(out, "- Date: {}", self.date);
        let _ = writeln!(out, "- Machine: {}", machine());
        let _ = match &self.binary {
            Some(path) => writeln!(out, "- Binary: `{path}` (BENCH_BIN)"),
            None => writeln!(
                out,
                "- Binary: cargo's for the bench, with the dev-dependencies' features \
                 (BENCH_BIN names a deployment's)"
            ),
        };
        let _ = writeln!(
            out,
            "- Other work on the machine: load average {} at the start; {} of {} runs \
             had more than {NOISY_CORES} core busy outside the benchmark (see CPU below)",
            self.load_average,
            self.noisy_runs(),
            self.all_rows().count()
        );
        let _ = writeln!(
            out,
            "- BENCH_SECS: {measure}, warm-up {:.1} s; zero-delay figures are the median \
             of {} rounds (BENCH_ROUNDS), each running every path in turn",
            self.warmup.as_secs_f64(),
            self.rounds
        );
        let _ = writeln!(
            out,
            "- Load generator: in-process tokio runtime, one keep-alive connection per \
             worker; soft open-files limit {}",
            self.fd_limit
        );
        let _ = writeln!(
            out,
            "- Paths: direct = load → mock; nginx = load → nginx → mock; promptship = \
             load → promptship → mock (API key, budget, usage write). All on this machine.\n"
        );
    }

    fn overhead(&self, out: &mut String) {
        let _ = writeln!(out, "## promptship over direct\n");
        let _ = writeln!(
            out,
            "| upstream | c | added TTFT p50 | added TTFT p99 | added total p50 | \
             added total p99 | promptship req/s vs nginx |"
        );
        let _ = writeln!(out, "|---|--:|--:|--:|--:|--:|--:|");
        for (name, mode) in [("zero-delay", &self.zero), ("paced", &self.paced)] {
            for c in mode.concurrencies() {
                let (Some(direct), Some(share), Some(app)) = (
                    mode.find(Route::Direct, c),
                    mode.share(c),
                    mode.find(Route::Promptship, c),
                ) else {
                    continue;
                };
                let _ = writeln!(
                    out,
                    "| {name} | {c} | {} | {} | {} | {} | {} |",
                    added(app.ttft.p50, direct.ttft.p50),
                    added(app.ttft.p99, direct.ttft.p99),
                    added(app.total.p50, direct.total.p50),
                    added(app.total.p99, direct.total.p99),
                    percent(share),
                );
            }
        }
        let _ = writeln!(out);
    }

    fn footprint_table(&self, out: &mut String) {
        let f = &self.footprint;
        let rows = [
            (
                "Release binary size".to_string(),
                format!("{:.1} MiB", f.binary_bytes as f64 / 1048576.0),
            ),
            (
                "Start to ready, fresh database".into(),
                format!("{} ms", ms(f.ready_fresh)),
            ),
            (
                "Start to ready, existing database".into(),
                format!("{} ms", ms(f.ready_existing)),
            ),
            ("RSS idle (just ready)".into(), mib(f.rss_idle_kib)),
            (
                "RSS after the zero-delay runs and chat pages".into(),
                mib(f.rss_after_zero_kib),
            ),
            (
                "Peak RSS (VmHWM), zero-delay process".into(),
                mib(f.peak_zero_kib),
            ),
            (
                "RSS after the paced runs".into(),
                mib(f.rss_after_paced_kib),
            ),
            (
                "Peak RSS (VmHWM), paced process".into(),
                mib(f.peak_paced_kib),
            ),
            (
                format!(
                    "RSS with {} open streams (max, sampled every 100 ms)",
                    thousands(self.most_streams)
                ),
                mib(f.rss_streams_kib),
            ),
        ];
        let _ = writeln!(out, "## Footprint\n");
        let _ = writeln!(out, "| | |\n|---|--:|");
        for (name, value) in rows {
            let _ = writeln!(out, "| {name} | {value} |");
        }
        let _ = writeln!(
            out,
            "\nThe peaks include one sign-up: argon2 hashes with 19 MiB of memory.\n"
        );
    }

    fn page_table(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "## Chat page (GET /conversations/{{id}}, 50 messages, signed in)\n"
        );
        let _ = writeln!(
            out,
            "| c | req/s | p50 | p99 | errors |\n|--:|--:|--:|--:|--:|"
        );
        for row in &self.pages.rows {
            let s = &row.stats;
            let _ = writeln!(
                out,
                "| {} | {:.0} | {} | {} | {} |",
                row.concurrency,
                s.rps,
                ms(s.total.p50),
                ms(s.total.p99),
                errors(s)
            );
        }
        let _ = writeln!(out);
    }

    fn page_load_table(&self, out: &mut String) {
        let Some((_, first)) = self.page_load.first() else {
            return;
        };
        let _ = writeln!(
            out,
            "## Pages under {} clients for {:.0} s (signed in)\n",
            first.concurrency,
            self.page_load_window.as_secs_f64()
        );
        let _ = writeln!(
            out,
            "| page | req/s | p50 | p99 | non-2xx and errors | promptship cores |\n|---|--:|--:|--:|--:|--:|"
        );
        for (name, row) in &self.page_load {
            let s = &row.stats;
            let _ = writeln!(
                out,
                "| {name} | {:.0} | {} | {} | {} | {} |",
                s.rps,
                ms(s.total.p50),
                ms(s.total.p99),
                errors(s),
                row.cpu
                    .map_or("?".into(), |cpu| format!("{:.2}", cpu.promptship))
            );
        }
        let _ = writeln!(out);
    }

    fn turn_table(&self, out: &mut String) {
        if self.turns.rows.is_empty() {
            return;
        }
        let _ = writeln!(
            out,
            "## Chat turns (POST /api/v1/conversations/{{id}}/messages, streamed, paced upstream)\n"
        );
        let _ = writeln!(
            out,
            "| c | turns/s | TTFT p50 | TTFT p99 | total p50 | total p99 | errors |\n|--:|--:|--:|--:|--:|--:|--:|"
        );
        for row in &self.turns.rows {
            let s = &row.stats;
            let _ = writeln!(
                out,
                "| {} | {:.1} | {} | {} | {} | {} | {} |",
                row.concurrency,
                s.rps,
                ms(s.ttft.p50),
                ms(s.ttft.p99),
                ms(s.total.p50),
                ms(s.total.p99),
                errors(s)
            );
        }
        let c = &self.checkpoints;
        let per = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
        let _ = writeln!(
            out,
            "\nCheckpoints of the answers being written: {:.0} answers, {:.0} rows saved in \
             {:.0} transactions over {:.1} s — {:.2} rows per answer (answers take about \
             1.2 s), {:.1} rows per transaction, {:.1} transactions/s.\n",
            c.answers,
            c.rows,
            c.writes,
            c.secs,
            per(c.rows, c.answers),
            per(c.rows, c.writes),
            per(c.writes, c.secs)
        );
    }

    fn cpu_table(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "## CPU during the measured windows (cores busy, of {})\n",
            report_cpus()
        );
        let _ = writeln!(
            out,
            "| run | path | c | load generator | mock | nginx | promptship | other |"
        );
        let _ = writeln!(out, "|---|---|--:|--:|--:|--:|--:|--:|");
        let modes = [
            ("zero-delay", &self.zero),
            ("paced", &self.paced),
            ("chat page", &self.pages),
            ("chat turns", &self.turns),
        ];
        let runs = modes
            .into_iter()
            .flat_map(|(name, mode)| mode.rows.iter().map(move |row| (name.to_string(), row)))
            .chain(
                self.page_load
                    .iter()
                    .map(|(page, row)| (page.to_string(), row)),
            )
            .chain(
                self.apps
                    .pages
                    .iter()
                    .map(|(path, row)| (path.clone(), row)),
            )
            .chain(
                self.apps
                    .runs
                    .iter()
                    .map(|(app, row)| (format!("{app} runs"), row)),
            )
            .chain(
                self.review
                    .pages
                    .iter()
                    .map(|(page, row)| (format!("review {page}"), row)),
            );
        for (name, row) in runs {
            let Some(cpu) = row.cpu else { continue };
            let flag = if cpu.other > NOISY_CORES { " ⚠" } else { "" };
            let _ = writeln!(
                out,
                "| {name} | {} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2}{flag} |",
                row.route.name(),
                row.concurrency,
                cpu.load,
                cpu.mock,
                cpu.nginx,
                cpu.promptship,
                cpu.other
            );
        }
        let _ = writeln!(
            out,
            "\n\"other\" is the rest of the machine (including work of other users); a \
             path is only measured fairly when it is near 0 (⚠: above {NOISY_CORES} core).\n"
        );
    }

    fn targets(&self, out: &mut String) {
        let _ = writeln!(out, "## Targets\n");
        let _ = writeln!(out, "| target | measured | |\n|---|--:|:-:|");
        for (target, figure, met) in self.checks() {
            let mark = if met { "✓" } else { "✗" };
            let _ = writeln!(out, "| {target} | {figure} | {mark} |");
        }
        let _ = writeln!(out);
    }

    /// Each target measured in this run (`BENCH_ONLY` skips some), the figure it is
    /// judged by, and whether it is met.
    fn checks(&self) -> Vec<(String, String, bool)> {
        let mut checks = Vec::new();
        let f = &self.footprint;
        let n = self.most_streams;
        if let (Some((direct, app)), Some(share)) = (pair(&self.zero, 64), self.zero.share(64)) {
            checks.push((
                "zero-delay c=64: promptship req/s ≥ 50% of nginx's".into(),
                percent(share),
                share >= 0.5,
            ));
            let extra = difference(app.ttft.p50, direct.ttft.p50);
            checks.push((
                "zero-delay c=64: added TTFT p50 ≤ 2 ms".into(),
                added(app.ttft.p50, direct.ttft.p50),
                extra.is_some_and(|ms| ms <= 2.0),
            ));
        }
        if let Some((direct, app)) = pair(&self.paced, n) {
            let extra = difference(app.ttft.p99, direct.ttft.p99);
            checks.push((
                format!("paced c={n}: added TTFT p99 ≤ 5 ms"),
                added(app.ttft.p99, direct.ttft.p99),
                extra.is_some_and(|ms| ms <= 5.0),
            ));
            checks.push((
                format!("paced c={n}: 0 promptship errors"),
                app.error_count().to_string(),
                app.error_count() == 0,
            ));
        }
        if f.rss_idle_kib > 0 {
            checks.push(limit("RSS idle ≤ 15 MiB", f.rss_idle_kib, 15));
        }
        if f.rss_streams_kib > 0 {
            checks.push(limit(
                &format!("RSS with {} streams ≤ 60 MiB", thousands(n)),
                f.rss_streams_kib,
                60,
            ));
        }
        if let Some(page) = self.pages.find(Route::Promptship, 64) {
            checks.push((
                "chat page at c=64 ≥ 5,000 req/s".into(),
                format!("{:.0} req/s", page.rps),
                page.rps >= 5000.0,
            ));
        }
        if let Some(ready) = f.ready_existing {
            checks.push((
                "start to ready, existing database ≤ 100 ms".into(),
                format!("{} ms", ms(Some(ready))),
                ready <= Duration::from_millis(100),
            ));
        }
        checks.extend(self.apps.checks());
        checks.extend(self.one_core.checks());
        checks.push((
            "release binary ≤ 25 MiB".into(),
            format!("{:.1} MiB", f.binary_bytes as f64 / 1048576.0),
            f.binary_bytes <= 25 * 1024 * 1024,
        ));
        checks
    }
}

fn mode_table(out: &mut String, title: &str, mode: &Mode) {
    let _ = writeln!(out, "## {title}\n");
    let _ = writeln!(
        out,
        "| path | c | req/s | TTFT p50 | TTFT p99 | total p50 | total p99 | errors |"
    );
    let _ = writeln!(out, "|---|--:|--:|--:|--:|--:|--:|--:|");
    for row in &mode.rows {
        let s = &row.stats;
        let _ = writeln!(
            out,
            "| {} | {} | {:.0} | {} | {} | {} | {} | {} |",
            row.route.name(),
            row.concurrency,
            s.rps,
            ms(s.ttft.p50),
            ms(s.ttft.p99),
            ms(s.total.p50),
            ms(s.total.p99),
            errors(s)
        );
    }
    let _ = writeln!(out, "\nTimes in ms.\n");
}

/// Every round's requests/s, when there were several: the spread the medians hide.
fn rounds_table(out: &mut String, mode: &Mode) {
    if mode.rows.iter().all(|row| row.rounds.len() < 2) {
        return;
    }
    let _ = writeln!(out, "Requests/s of each round, in the order they ran:\n");
    let _ = writeln!(out, "| path | c | rounds |\n|---|--:|---|");
    for row in &mode.rows {
        let rounds: Vec<String> = row.rounds.iter().map(|rps| format!("{rps:.0}")).collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            row.route.name(),
            row.concurrency,
            rounds.join(" · ")
        );
    }
    let _ = writeln!(out);
}

/// The direct path's figures and promptship's, at `c`.
fn pair(mode: &Mode, c: usize) -> Option<(&Stats, &Stats)> {
    Some((
        mode.find(Route::Direct, c)?,
        mode.find(Route::Promptship, c)?,
    ))
}

fn limit(target: &str, kib: u64, max_mib: u64) -> (String, String, bool) {
    (target.into(), mib(kib), kib > 0 && kib <= max_mib * 1024)
}

/// The error count, and its kinds when there are any.
pub fn errors(stats: &Stats) -> String {
    if stats.errors.is_empty() {
        return "0".into();
    }
    let kinds: Vec<String> = stats
        .errors
        .iter()
        .map(|(kind, count)| format!("{kind} ×{count}"))
        .collect();
    format!("{} ({})", stats.error_count(), kinds.join(", "))
}

pub fn ms(duration: Option<Duration>) -> String {
    duration.map_or("–".into(), |d| format!("{:.2}", d.as_secs_f64() * 1000.0))
}

fn difference(a: Option<Duration>, b: Option<Duration>) -> Option<f64> {
    Some((a?.as_secs_f64() - b?.as_secs_f64()) * 1000.0)
}

fn added(a: Option<Duration>, b: Option<Duration>) -> String {
    difference(a, b).map_or("–".into(), |d| format!("{d:+.2} ms"))
}

fn percent(share: f64) -> String {
    format!("{:.0}%", share * 100.0)
}

/// The median, the lower of the middle two when even.
pub fn median(values: impl Iterator<Item = f64>) -> Option<f64> {
    let mut values: Vec<f64> = values.collect();
    values.sort_by(f64::total_cmp);
    values.get(values.len().checked_sub(1)? / 2).copied()
}

pub fn mib(kib: u64) -> String {
    if kib == 0 {
        return "–".into();
    }
    format!("{:.2} MiB", kib as f64 / 1024.0)
}

fn thousands(n: usize) -> String {
    if n >= 1000 {
        format!("{},{:03}", n / 1000, n % 1000)
    } else {
        n.to_string()
    }
}

fn report_cpus() -> String {
    command("nproc", &[])
}

/// `2 × AMD EPYC, 23.5 GiB, Linux 6.1.0`.
fn machine() -> String {
    let cpus = command("nproc", &[]);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .and_then(|rest| rest.split_once(':'))
        .map_or("unknown CPU", |(_, name)| name.trim());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory = meminfo
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse::<f64>().ok())
        .map_or("unknown memory".into(), |kib| {
            format!("{:.1} GiB RAM", kib / 1048576.0)
        });
    let kernel = command("uname", &["-r"]);
    format!("{cpus} × {model}, {memory}, Linux {kernel}")
}

/// The trimmed stdout of a small command, or `?`.
pub fn command(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .filter(|text| !text.is_empty())
        .unwrap_or_else(|| "?".into())
}
