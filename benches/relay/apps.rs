//! The prompt apps' figures (issue 16): how long loading 20 app files takes, the app pages
//! under 50 clients, app runs through the relay (a text app and a structured one) beside
//! the chat turns, and the count of compiled templates, which no request may raise.

use std::{
    fmt::Write as _,
    path::Path,
    time::{Duration, Instant},
};

use anyhow::{Context, ensure};
use promptship::{
    apps::{self, Apps},
    config::Site,
};
use reqwest::header::HeaderValue;
use serde_json::{Value, json};

use crate::{
    cpu,
    load::{self, Job, Window},
    report::{Mode, Route, Row, ms},
};

/// Issue 16: the apps loaded at start cost at most this for 20 files.
const LOAD_TARGET: Duration = Duration::from_millis(5);
/// Copies of each shipped app in the timed folder: 5 apps, 20 files.
const COPIES: usize = 4;
/// promptship's count of templates compiled, in `/metrics` (src/apps/load.rs).
pub const TEMPLATES_COMPILED: &str = "app_templates_compiled_total";
/// The apps whose pages and runs are measured: a text app and a structured one.
const APPS: [&str; 2] = ["translate", "extract"];

/// Everything measured of the apps in one benchmark run.
#[derive(Default)]
pub struct Figures {
    pub load: Option<LoadTiming>,
    /// Each app's page under `PAGE_LOAD_CLIENTS`, by its path.
    pub pages: Vec<(String, Row)>,
    pub page_window: Duration,
    /// Streamed runs of each app against the paced upstream, by app name.
    pub runs: Vec<(&'static str, Row)>,
    /// Templates compiled by each promptship process: its mode, the count once ready,
    /// and the count after every request of the mode.
    pub compiled: Vec<(&'static str, f64, f64)>,
}

/// `Apps::load` of a folder of 20 files, in this process (a release build).
pub struct LoadTiming {
    pub files: usize,
    pub loads: usize,
    /// The first load: what a server's start pays, lazily built tables included.
    pub first: Duration,
    pub median: Duration,
    pub fastest: Duration,
    pub slowest: Duration,
    pub compiled_per_load: usize,
}

/// Copies each shipped app `COPIES` times into a temp folder, under new names (the `name:`
/// of the front matter must be the file's), and times `loads` loads of it.
pub fn time_load(loads: usize) -> anyhow::Result<LoadTiming> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let site = Site::load(Some(&root.join("promptship.toml")))?;
    let dir = tempfile::Builder::new().prefix("apps-load-").tempdir()?;
    let mut files = 0;
    for entry in std::fs::read_dir(root.join("apps"))? {
        let path = entry?.path();
        if path.extension().is_none_or(|e| e != "prompt") {
            continue;
        }
        let stem = path.file_stem().context("a file name")?.to_string_lossy();
        let text = std::fs::read_to_string(&path)?;
        for copy in 1..=COPIES {
            let name = format!("{stem}-{copy}");
            std::fs::write(
                dir.path().join(format!("{name}.prompt")),
                renamed(&text, &name),
            )?;
            files += 1;
        }
    }
    let mut times = Vec::with_capacity(loads);
    let mut compiled_per_load = 0;
    for _ in 0..loads.max(1) {
        let before = apps::templates_compiled();
        let started = Instant::now();
        let loaded = Apps::load(dir.path(), &site)?;
        times.push(started.elapsed());
        compiled_per_load = apps::templates_compiled() - before;
        ensure!(
            loaded.len() == files,
            "{} of {files} apps loaded",
            loaded.len()
        );
    }
    let first = times[0];
    times.sort_unstable();
    Ok(LoadTiming {
        files,
        loads: times.len(),
        first,
        median: times[(times.len() - 1) / 2],
        fastest: times[0],
        slowest: times[times.len() - 1],
        compiled_per_load,
    })
}

/// `text` with its front matter's `name:` line naming `name`.
fn renamed(text: &str, name: &str) -> String {
    let mut done = false;
    let lines: Vec<String> = text
        .lines()
        .map(|line| {
            if !done && line.starts_with("name:") {
                done = true;
                format!("name: {name}")
            } else {
                line.to_string()
            }
        })
        .collect();
    lines.join("\n") + "\n"
}

/// Each app's page (its form) under `clients` signed-in clients for the window.
pub async fn pages(
    base: &str,
    cookie: &HeaderValue,
    clients: usize,
    window: Window,
    pids: cpu::Pids,
) -> anyhow::Result<Vec<(String, Row)>> {
    let mut rows = Vec::new();
    for app in APPS {
        let path = format!("/apps/{app}");
        crate::progress(format!(
            "{path}: {clients} clients for {:.0} s",
            window.measure.as_secs_f64()
        ));
        let cpu = cpu::watch(pids, window.warmup, window.measure);
        let job = Job::page(format!("{base}{path}"), cookie.clone());
        let stats = load::run(job, clients, window).await?;
        crate::log_errors(&path, Route::Promptship, clients, &stats);
        rows.push((
            path,
            Row {
                route: Route::Promptship,
                concurrency: clients,
                rounds: vec![stats.rps],
                stats,
                cpu: cpu.await.ok(),
            },
        ));
    }
    Ok(rows)
}

/// The input each app is run with: a short text, as a visitor's.
fn input(app: &str) -> Value {
    match app {
        "translate" => json!({
            "text": "안녕하세요. 다음 주 화요일에 서울에서 발표가 있습니다. 시간이 되시면 꼭 와 주세요!",
            "direction": "ko-en",
            "tone": "polite",
        }),
        _ => json!({
            "text": "Mina Park, Research lead, Hanbit Labs. mina.park@example.com, +82 10-1234-5678",
            "kind": "contact",
            "fields": ["name", "email", "phone", "company", "title", "address"],
        }),
    }
}

/// Streamed runs of each app at each concurrency, every worker starting a new run as
/// soon as its last one is done.
pub async fn runs(
    base: &str,
    cookie: &HeaderValue,
    concurrencies: &[usize],
    window: Window,
    pids: cpu::Pids,
) -> anyhow::Result<Vec<(&'static str, Row)>> {
    let mut rows = Vec::new();
    for &c in concurrencies {
        for app in APPS {
            crate::progress(format!("{app} runs c={c}"));
            let url = format!("{base}/api/v1/apps/{app}/runs");
            let cpu = cpu::watch(pids, window.warmup, window.measure);
            let job = Job::app_run(url, cookie.clone(), &input(app));
            let stats = load::run(job, c, window).await?;
            crate::log_errors(&format!("{app} runs"), Route::Promptship, c, &stats);
            rows.push((
                app,
                Row {
                    route: Route::Promptship,
                    concurrency: c,
                    rounds: vec![stats.rps],
                    stats,
                    cpu: cpu.await.ok(),
                },
            ));
        }
    }
    Ok(rows)
}

impl Figures {
    pub fn rows(&self) -> impl Iterator<Item = &Row> {
        self.pages
            .iter()
            .map(|(_, row)| row)
            .chain(self.runs.iter().map(|(_, row)| row))
    }

    /// The apps' section, with the chat figures of the same run beside them: the
    /// landing and chat pages under the same clients, and the chat turns.
    pub fn markdown(&self, out: &mut String, chat_pages: &[(&'static str, Row)], turns: &Mode) {
        if self.load.is_none() && self.pages.is_empty() && self.runs.is_empty() {
            return;
        }
        let _ = writeln!(out, "## Prompt apps\n");
        if let Some(load) = &self.load {
            let _ = writeln!(
                out,
                "`Apps::load` of {} files (the shipped apps, {COPIES} copies of each), in the \
                 bench process: median {} ms of {} loads (fastest {}, slowest {}; the \
                 first, with what is built once per process, {} ms); {} templates compiled \
                 a load. Target: {} ms.\n",
                load.files,
                ms(Some(load.median)),
                load.loads,
                ms(Some(load.fastest)),
                ms(Some(load.slowest)),
                ms(Some(load.first)),
                load.compiled_per_load,
                ms(Some(LOAD_TARGET)),
            );
        }
        self.page_table(out, chat_pages);
        self.run_table(out, turns);
        for (mode, at_start, after) in &self.compiled {
            let _ = writeln!(
                out,
                "Templates compiled by the {mode} process (`{TEMPLATES_COMPILED}`): {at_start:.0} \
                 once ready, {after:.0} after all its requests."
            );
        }
        let _ = writeln!(out);
    }

    fn page_table(&self, out: &mut String, chat_pages: &[(&'static str, Row)]) {
        let Some((_, first)) = self.pages.first() else {
            return;
        };
        let _ = writeln!(
            out,
            "### App pages under {} clients for {:.0} s (signed in), beside the chat's\n",
            first.concurrency,
            self.page_window.as_secs_f64()
        );
        let _ = writeln!(
            out,
            "| page | req/s | p50 | p99 | non-2xx and errors | promptship cores | CPU per page |\n\
             |---|--:|--:|--:|--:|--:|--:|"
        );
        let chat = chat_pages.iter().map(|(name, row)| (name.to_string(), row));
        let apps = self.pages.iter().map(|(name, row)| (name.clone(), row));
        for (name, row) in apps.chain(chat) {
            let s = &row.stats;
            let _ = writeln!(
                out,
                "| {name} | {:.0} | {} | {} | {} | {} | {} |",
                s.rps,
                ms(s.total.p50),
                ms(s.total.p99),
                crate::report::errors(s),
                cores(row),
                cpu_per(row)
            );
        }
        let _ = writeln!(out, "\nTimes in ms.\n");
    }

    fn run_table(&self, out: &mut String, turns: &Mode) {
        if self.runs.is_empty() {
            return;
        }
        let _ = writeln!(
            out,
            "### App runs through the relay (streamed, paced upstream), beside chat turns\n"
        );
        let _ = writeln!(
            out,
            "| request | c | per s | TTFT p50 | TTFT p99 | total p50 | total p99 | errors | \
             promptship cores | CPU per run |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
        );
        let chat = turns.rows.iter().map(|row| ("chat turn", row));
        let apps = self.runs.iter().map(|(app, row)| {
            (
                if *app == "translate" {
                    "translate run (text)"
                } else {
                    "extract run (JSON, schema-checked)"
                },
                row,
            )
        });
        let mut all: Vec<(&str, &Row)> = chat.chain(apps).collect();
        all.sort_by_key(|(_, row)| row.concurrency);
        for (name, row) in all {
            let s = &row.stats;
            let _ = writeln!(
                out,
                "| {name} | {} | {:.1} | {} | {} | {} | {} | {} | {} | {} |",
                row.concurrency,
                s.rps,
                ms(s.ttft.p50),
                ms(s.ttft.p99),
                ms(s.total.p50),
                ms(s.total.p99),
                crate::report::errors(s),
                cores(row),
                cpu_per(row)
            );
        }
        let _ = writeln!(
            out,
            "\nTimes in ms. A chat turn adds a message to a conversation of its own; a run \
             makes a conversation, renders the app's template, saves the prompt's messages \
             and, for a structured app, checks the whole answer against the output schema.\n"
        );
    }

    /// The apps' targets measured in this run.
    pub fn checks(&self) -> Vec<(String, String, bool)> {
        let mut checks = Vec::new();
        if let Some(load) = &self.load {
            checks.push((
                format!("apps load, {} files: median ≤ 5 ms", load.files),
                format!("{} ms", ms(Some(load.median))),
                load.median <= LOAD_TARGET,
            ));
        }
        if !self.compiled.is_empty() {
            let raised: f64 = self
                .compiled
                .iter()
                .map(|(_, at_start, after)| after - at_start)
                .sum();
            checks.push((
                "templates compiled by requests: 0".into(),
                format!("{raised:.0}"),
                raised == 0.0,
            ));
        }
        checks
    }
}

fn cores(row: &Row) -> String {
    row.cpu
        .map_or("?".into(), |cpu| format!("{:.2}", cpu.promptship))
}

/// promptship's CPU time per request in the window.
fn cpu_per(row: &Row) -> String {
    match row.cpu {
        Some(cpu) if row.stats.rps > 0.0 => {
            format!("{:.0} µs", cpu.promptship / row.stats.rps * 1e6)
        }
        _ => "?".into(),
    }
}
