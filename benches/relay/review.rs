//! The review queue's pages (issue 17): an answer's page at the end of a conversation of
//! 50 messages, and the list of 50 answers (a full page), each at the page
//! concurrencies, signed in as an admin made with `promptship create-admin`. The
//! answers are made a dataset batch's, so the shipped `data_policy = "off"` lists them.

use std::{fmt::Write as _, path::Path, sync::Arc};

use anyhow::{Context, ensure};
use reqwest::{
    StatusCode, Url,
    cookie::{CookieStore, Jar},
    header::HeaderValue,
};

use crate::{
    app::Account,
    cpu,
    load::{self, Job, Window},
    report::{Route, Row, ms},
};

const ADMIN: &str = "reviewer@example.com";
const PASSWORD: &str = "x9Lr-Qe4t-Zu7m-Hs2v";

/// The review pages measured in one run, by name.
#[derive(Default)]
pub struct Figures {
    pub pages: Vec<(&'static str, Row)>,
}

impl Figures {
    pub fn rows(&self) -> impl Iterator<Item = &Row> {
        self.pages.iter().map(|(_, row)| row)
    }

    pub fn markdown(&self, out: &mut String) {
        if self.pages.is_empty() {
            return;
        }
        let _ = writeln!(out, "## Review pages (signed in as an admin)\n");
        let _ = writeln!(
            out,
            "| page | c | req/s | p50 | p99 | errors |\n|---|--:|--:|--:|--:|--:|"
        );
        for (name, row) in &self.pages {
            let s = &row.stats;
            let _ = writeln!(
                out,
                "| {name} | {} | {:.0} | {} | {} | {} |",
                row.concurrency,
                s.rps,
                ms(s.total.p50),
                ms(s.total.p99),
                s.error_count()
            );
        }
        let _ = writeln!(out, "\nTimes in ms.\n");
    }
}

/// Makes the admin, fills two conversations of 50 messages as a dataset batch, and
/// loads the answer page and the list at each concurrency.
pub async fn pages(
    base: &str,
    dir: &Path,
    account: &Account,
    concurrencies: &[usize],
    window: Window,
    pids: cpu::Pids,
) -> anyhow::Result<Vec<(&'static str, Row)>> {
    crate::progress("review pages: an admin and 50 answers of a dataset batch");
    let database = format!("sqlite://{}", dir.join("bench.db").display());
    let made = std::process::Command::new(crate::server_binary())
        .args(["create-admin", "--email", ADMIN])
        .current_dir(dir)
        .env("DATABASE_URL", &database)
        .env("ADMIN_PASSWORD", PASSWORD)
        .output()
        .context("cannot run promptship create-admin")?;
    ensure!(
        made.status.success(),
        "promptship create-admin failed: {}",
        String::from_utf8_lossy(&made.stderr)
    );
    let cookie = log_in(base).await?;
    let conversations = [
        account.fill_conversation().await?,
        account.fill_conversation().await?,
    ];
    let db = sqlx::SqlitePool::connect(&database).await?;
    let batch: i64 = sqlx::query_scalar(
        "INSERT INTO batches (name, source, state, concurrency, created_at, updated_at)
         VALUES ('bench', 'upload', 'done', 1, 0, 0) RETURNING id",
    )
    .fetch_one(&db)
    .await?;
    for id in &conversations {
        sqlx::query("UPDATE conversations SET batch_id = ? WHERE id = ?")
            .bind(batch)
            .bind(id)
            .execute(&db)
            .await?;
    }
    let answer: i64 = sqlx::query_scalar(
        "SELECT max(id) FROM messages WHERE conversation_id = ? AND role = 'assistant'",
    )
    .bind(&conversations[0])
    .fetch_one(&db)
    .await?;
    db.close().await;

    let targets = [
        (
            "answer page (49 messages before it)",
            format!("/review/{answer}"),
        ),
        ("list (50 answers)", "/review".to_string()),
    ];
    let mut rows = Vec::new();
    for (name, path) in targets {
        let listed = reqwest::Client::builder()
            .no_proxy()
            .build()?
            .get(format!("{base}{path}"))
            .header(reqwest::header::COOKIE, cookie.clone())
            .send()
            .await?;
        ensure!(
            listed.status() == StatusCode::OK,
            "GET {path}: {}",
            listed.status()
        );
        let html = listed.text().await?;
        if path == "/review" {
            let shown = html.matches("data-answer=").count();
            ensure!(shown == 50, "the list shows {shown} answers, not 50");
        }
        for &c in concurrencies {
            crate::progress(format!("review {name} c={c}"));
            let cpu = cpu::watch(pids, window.warmup, window.measure);
            let job = Job::page(format!("{base}{path}"), cookie.clone());
            let stats = load::run(job, c, window).await?;
            crate::log_errors(name, Route::Promptship, c, &stats);
            rows.push((
                name,
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

/// Logs the admin in; returns the session cookie.
async fn log_in(base: &str) -> anyhow::Result<HeaderValue> {
    let jar = Arc::new(Jar::default());
    let browser = reqwest::Client::builder()
        .no_proxy()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let response = browser
        .post(format!("{base}/login"))
        .form(&[("email", ADMIN), ("password", PASSWORD)])
        .send()
        .await?;
    ensure!(
        response.status() == StatusCode::SEE_OTHER,
        "POST /login answered {}",
        response.status()
    );
    jar.cookies(&Url::parse(base)?)
        .context("no session cookie after logging in")
}
