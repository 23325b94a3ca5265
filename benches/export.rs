//! Export throughput: reviewed answers seeded by SQL into a temporary database, then
//! `promptship export --format openai-sft` done in-process, at 10k and 100k answers:
//! rows per second and the peak resident memory during the export (bounded: one page of
//! conversations and a 16-byte hash per example, whatever the size).
//!
//! ```text
//! cargo test --release --bench export -- --ignored --nocapture      # the figures
//! cargo test --bench export -- --ignored --nocapture                # debug build
//! BENCH_EXPORT_ROWS=20000 cargo test --bench export -- --ignored --nocapture
//! ```
//!
//! Peak memory is the process's VmHWM (Linux), reset before each export by writing 5 to
//! /proc/self/clear_refs, so the seeding does not count.

use std::time::Instant;

use promptship::{
    config::Site,
    db,
    export::{Exporter, Options, writer::write_files},
};

/// Rough length of a chat answer in characters (about 120 tokens).
const ANSWER: &str = "To stream server-sent events through a reverse proxy, turn off response buffering for the route, keep the connection open, and flush each chunk as it arrives. Nginx needs proxy_buffering off; Caddy flushes event streams by itself. Set a read timeout longer than the longest pause between two events, and send a comment line every fifteen seconds so idle connections are not closed.";

async fn seed(pool: &sqlx::SqlitePool, answers: i64) {
    let mut tx = pool.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO users (id, email, password_hash, created_at) VALUES (1, 'a@example.com', 'x', 0)",
    )
    .execute(&mut *tx)
    .await
    .unwrap();
    for sql in [
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
         INSERT INTO conversations (id, title, created_at, updated_at, user_id)
         SELECT 'c' || i, 'bench', 0, 0, 1 FROM n",
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
         INSERT INTO messages (id, conversation_id, role, content, status, created_at, updated_at)
         SELECT 2 * i - 1, 'c' || i, 'user',
                'Question ' || i || ': how do I stream server-sent events through nginx?',
                'complete', 0, 0 FROM n",
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
         INSERT INTO messages (id, conversation_id, role, content, status, created_at, updated_at, reply_to)
         SELECT 2 * i, 'c' || i, 'assistant', ?2 || ' (answer ' || i || ')', 'complete', 0, 0, 2 * i - 1
         FROM n",
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
         INSERT INTO reviews (message_id, state, content, updated_at)
         SELECT 2 * i, CASE WHEN i % 4 = 0 THEN 'edited' ELSE 'accepted' END,
                CASE WHEN i % 4 = 0 THEN 'Edited: ' || ?2 END, 0 FROM n",
    ] {
        sqlx::query(sql)
            .bind(answers)
            .bind(ANSWER)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
}

/// VmRSS and VmHWM of this process, in MiB.
fn memory() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    (field("VmRSS:"), field("VmHWM:"))
}

#[test]
#[ignore = "a benchmark: cargo test --release --bench export -- --ignored --nocapture"]
fn export_throughput_and_peak_memory() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let largest: i64 = std::env::var("BENCH_EXPORT_ROWS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/promptship.toml"))
        .unwrap()
        .replace("data_policy = \"off\"", "data_policy = \"accounts\"");
    let site = Site::parse("promptship.toml", &text).unwrap();
    let mut report = String::from(
        "| answers | seconds | rows/s | RSS before (MiB) | peak RSS during (MiB) | train.jsonl (MiB) |\n\
         | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for answers in [largest / 10, largest] {
        let dir = tempfile::tempdir().unwrap();
        runtime.block_on(async {
            let pool = db::connect(&format!("sqlite://{}/bench.db", dir.path().display()))
                .await
                .unwrap();
            db::migrate(&pool).await.unwrap();
            seed(&pool, answers).await;
            let _ = std::fs::write("/proc/self/clear_refs", "5");
            let (before, _) = memory();
            let options = Options::parse("openai-sft", None, None, None, None).unwrap();
            let exporter = Exporter::new(pool.clone(), &site, options).unwrap();
            let out = dir.path().join("out");
            let started = Instant::now();
            let manifest = write_files(exporter, &out).await.unwrap();
            let seconds = started.elapsed().as_secs_f64();
            let (_, peak) = memory();
            assert_eq!(manifest.examples, answers as u64);
            let size = std::fs::metadata(out.join("train.jsonl")).unwrap().len() as f64 / 1048576.0;
            report.push_str(&format!(
                "| {answers} | {seconds:.2} | {:.0} | {before:.1} | {peak:.1} | {size:.1} |\n",
                answers as f64 / seconds
            ));
            pool.close().await;
        });
    }
    println!("\n{report}");
}
