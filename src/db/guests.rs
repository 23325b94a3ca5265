//! SQL for `guests`: when each guest was last seen, and the sweep of those gone for good.

use sqlx::{SqliteConnection, SqlitePool};

/// Records that a guest was seen at `now` (Unix ms), adding them if they are new.
pub async fn upsert_guest_seen(
    conn: &mut SqliteConnection,
    id: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO guests (id, created_at, last_seen_at) VALUES (?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET last_seen_at = excluded.last_seen_at",
        id,
        now,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A guest who became an account: their conversations are the account's now.
pub async fn delete_guest(db: &SqlitePool, id: &str) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM guests WHERE id = ?", id)
        .execute(db)
        .await?;
    Ok(())
}

/// Deletes the guests last seen before `seen_before` (Unix ms) with their conversations
/// (and, by cascade, their messages); returns how many guests and conversations went.
/// Their ledger entries stay: the ledger's totals must not change.
pub async fn delete_gone_guests(db: &SqlitePool, seen_before: i64) -> sqlx::Result<(u64, u64)> {
    let mut tx = db.begin_with("BEGIN IMMEDIATE").await?;
    let conversations = sqlx::query!(
        "DELETE FROM conversations
         WHERE guest_id IN (SELECT id FROM guests WHERE last_seen_at < ?)",
        seen_before
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let guests = sqlx::query!("DELETE FROM guests WHERE last_seen_at < ?", seen_before)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok((guests, conversations))
}
