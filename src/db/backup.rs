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
    let path = target
        .to_str()
        .context("the backup path is not valid UTF-8")?;
    sqlx::query("VACUUM INTO ?")
        .bind(path)
        .execute(db)
        .await
        .with_context(|| format!("VACUUM INTO {} failed", target.display()))?;
    check(target).await?;
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
