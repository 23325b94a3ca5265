//! SQLite: opening the pool with the pragmas we rely on, migrations, and the SQL of each
//! table in its own file.

pub mod account_data;
pub mod admin;
pub mod api_keys;
pub mod backup;
pub mod batches;
pub mod conversations;
pub mod devices;
pub mod export;
pub mod feedback;
pub mod figures;
pub mod guests;
pub mod images;
pub mod ledger;
pub mod messages;
pub mod reviews;
pub mod settings;
pub mod shares;
pub mod users;

use std::{str::FromStr, time::Duration};

use anyhow::Context;
use sqlx::{
    SqlitePool,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

pub use conversations::Conversation;
pub use messages::Message;

/// Migrations compiled into the binary, so deploying is copying one file.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

/// Opens (creating if missing) the database at `url` with the durability settings below.
pub async fn connect(url: &str) -> anyhow::Result<SqlitePool> {
    let options = SqliteConnectOptions::from_str(url)
        .with_context(|| format!("DATABASE_URL {url:?} is not a valid SQLite URL"))?
        .create_if_missing(true)
        // WAL lets pages read while an answer is being saved.
        .journal_mode(SqliteJournalMode::Wal)
        // NORMAL in WAL mode never corrupts the file; a power cut may lose the last
        // transactions before a checkpoint, a process crash (kill -9) loses nothing.
        .synchronous(SqliteSynchronous::Normal)
        // Writers queue for the lock instead of failing at once with SQLITE_BUSY.
        .busy_timeout(Duration::from_secs(5))
        // 1 MiB of page cache per connection instead of 2: eight connections' caches
        // were a fifth of the idle footprint; the OS page cache still holds the file.
        .pragma("cache_size", "-1024")
        .foreign_keys(true);
    if let Some(dir) = options.get_filename().parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the database folder {}", dir.display()))?;
    }
    SqlitePoolOptions::new()
        .max_connections(8)
        // sqlx pings a connection before lending it, a round trip to the connection's
        // thread on every acquire. A SQLite connection is a file this process holds
        // open: unlike a network one it cannot go stale, and a broken one fails its
        // query, which reports the error as the ping would have.
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .with_context(|| format!("cannot open the database {url}"))
}

/// Applies pending migrations; running it again is a no-op.
pub async fn migrate(db: &SqlitePool) -> anyhow::Result<()> {
    MIGRATOR.run(db).await.context("database migrations failed")
}

/// Closes the pool and folds the WAL back into the database file, so a copy of the file
/// after shutdown is complete on its own.
pub async fn close(db: &SqlitePool) {
    if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(db)
        .await
    {
        tracing::warn!(%error, "WAL checkpoint at shutdown failed");
    }
    db.close().await;
}

#[cfg(test)]
mod tests {
    /// Tables the app deletes rows from (a conversation, and with it its messages).
    const DELETED_FROM: [&str; 2] = ["conversations", "messages"];

    /// A foreign key to a table rows are deleted from must lead an index: each delete
    /// looks up the rows that refer to it, and without one that is a scan of the whole
    /// referring table (the ledger grows by an entry per model call).
    #[tokio::test]
    async fn foreign_keys_to_tables_rows_are_deleted_from_lead_an_index() {
        let dir = tempfile::tempdir().unwrap();
        let db = super::connect(&format!("sqlite://{}/schema.db", dir.path().display()))
            .await
            .unwrap();
        super::migrate(&db).await.unwrap();
        let keys: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT t.name, k.\"table\", k.\"from\"
             FROM sqlite_schema AS t, pragma_foreign_key_list(t.name) AS k
             WHERE t.type = 'table'",
        )
        .fetch_all(&db)
        .await
        .unwrap();
        let checked: Vec<_> = keys
            .iter()
            .filter(|(_, parent, _)| DELETED_FROM.contains(&parent.as_str()))
            .collect();
        assert!(checked.len() >= 2, "no foreign keys found: {keys:?}");
        for (table, parent, column) in checked {
            let indexed: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM pragma_index_list(?1) AS l,
                                              pragma_index_info(l.name) AS i
                                WHERE i.seqno = 0 AND i.name = ?2)",
            )
            .bind(table)
            .bind(column)
            .fetch_one(&db)
            .await
            .unwrap();
            // An `INTEGER PRIMARY KEY` is the rowid itself: the fastest lookup of all.
            let rowid: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM pragma_table_info(?1)
                                WHERE name = ?2 AND pk = 1 AND upper(type) = 'INTEGER')
                 AND (SELECT COUNT(*) FROM pragma_table_info(?1) WHERE pk > 0) = 1",
            )
            .bind(table)
            .bind(column)
            .fetch_one(&db)
            .await
            .unwrap();
            assert!(
                indexed || rowid,
                "{table}.{column} refers to {parent}, but no index of {table} starts with it"
            );
        }
    }
}
