//! Online backups: `VACUUM INTO` writes a consistent copy while the service keeps
//! running (the live file is never copied raw), and the copy is checked before it counts.

use std::path::Path;

use anyhow::{Context, bail};
use sqlx::{ConnectOptions, SqlitePool, sqlite::SqliteConnectOptions};

/// Writes a checked copy of the database to `target`, which must not exist yet.
pub async fn backup(db: &SqlitePool, target: &Path) -> anyhow::Result<u64> {
    if target.exists() {
        bail!(
            "{} exists already: choose a new file name",
            target.display()
        );
    }
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the backup folder {}", dir.display()))?;
    }
    // Written beside the target and renamed once checked: the target's name only ever
    // holds a whole backup, whoever looks at the folder (a copy job, the pruning) when.
    let mut partial = target.as_os_str().to_owned();
    partial.push(".partial");
    let partial = std::path::PathBuf::from(partial);
    let _ = std::fs::remove_file(&partial);
    let written = async {
        let path = partial
            .to_str()
            .context("the backup path is not valid UTF-8")?;
        sqlx::query("VACUUM INTO ?")
            .bind(path)
            .execute(db)
            .await
            .with_context(|| format!("VACUUM INTO {} failed", target.display()))?;
        check(&partial).await?;
        std::fs::rename(&partial, target)
            .with_context(|| format!("cannot rename the backup to {}", target.display()))
    }
    .await;
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    written?;
    Ok(std::fs::metadata(target)?.len())
}

/// `PRAGMA integrity_check` on a database file, opened read-only.
pub async fn check(file: &Path) -> anyhow::Result<()> {
    let mut conn = SqliteConnectOptions::new()
        .filename(file)
        .read_only(true)
        .connect()
        .await
        .with_context(|| format!("cannot open {}", file.display()))?;
    let result: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await?;
    if result != "ok" {
        bail!("{} failed its integrity check: {result}", file.display());
    }
    Ok(())
}

/// Scheduled backups: the first one `interval` after start, then one every `interval`,
/// named by their UTC time, the newest `keep` kept; stops when `stop` is cancelled. A
/// failed backup is logged and tried again next time, never fatal to the service.
pub async fn run_scheduled(
    db: SqlitePool,
    backups: crate::config::Backups,
    stop: tokio_util::sync::CancellationToken,
) {
    let mut ticks = tokio::time::interval_at(
        tokio::time::Instant::now() + backups.interval,
        backups.interval,
    );
    // After a suspended VPS wakes up, one backup, not a burst of them.
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = ticks.tick() => {}
        }
        let file = backups
            .dir
            .join(scheduled_name(time::OffsetDateTime::now_utc()));
        match backup(&db, &file).await {
            Ok(bytes) => tracing::info!(file = %file.display(), bytes, "scheduled backup written"),
            Err(error) => tracing::error!("scheduled backup failed: {error:#}"),
        }
        if let Err(error) = prune(&backups.dir, backups.keep) {
            tracing::error!("cannot remove old backups: {error:#}");
        }
    }
}

const PREFIX: &str = "scheduled-";
const SUFFIX: &str = ".db";

/// `scheduled-20261128T093000.123Z.db`: sorts by time as text.
fn scheduled_name(now: time::OffsetDateTime) -> String {
    format!(
        "{PREFIX}{:04}{:02}{:02}T{:02}{:02}{:02}.{:03}Z{SUFFIX}",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        now.millisecond()
    )
}

/// Deletes all but the newest `keep` scheduled backups in `dir`; other files are left
/// alone, so a hand-made backup in the same folder is never removed.
pub fn prune(dir: &Path, keep: usize) -> anyhow::Result<()> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.starts_with(PREFIX) && name.ends_with(SUFFIX))
        .collect();
    names.sort_unstable();
    let old = names.len().saturating_sub(keep);
    for name in &names[..old] {
        std::fs::remove_file(dir.join(name)).with_context(|| format!("cannot remove {name}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheduled_names_sort_by_time() {
        let day = time::Date::from_calendar_date(2026, time::Month::November, 28).unwrap();
        let earlier = day.with_hms_milli(9, 5, 7, 4).unwrap().assume_utc();
        let later = day.with_hms(10, 0, 0).unwrap().assume_utc();
        assert_eq!(scheduled_name(earlier), "scheduled-20261128T090507.004Z.db");
        assert!(scheduled_name(earlier) < scheduled_name(later));
    }

    #[test]
    fn pruning_keeps_the_newest_and_leaves_other_files() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "scheduled-20261101T000000.000Z.db",
            "scheduled-20261102T000000.000Z.db",
            "scheduled-20261103T000000.000Z.db",
            "before-upgrade.db",
            "promptship-2026-11-01.db",
        ] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        prune(dir.path(), 2).unwrap();
        let mut left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "before-upgrade.db",
                "promptship-2026-11-01.db",
                "scheduled-20261102T000000.000Z.db",
                "scheduled-20261103T000000.000Z.db"
            ]
        );
    }
}
