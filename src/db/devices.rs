//! SQL for `login_devices`: browsers that have logged in to an account before, known by
//! the SHA-256 of their device cookie.

use sqlx::SqlitePool;

use crate::domain::now_ms;

/// A browser trusted for one account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoginDevice {
    pub id: i64,
    pub user_id: i64,
}

pub async fn insert_device(
    db: &SqlitePool,
    user_id: i64,
    token_hash: &str,
) -> sqlx::Result<LoginDevice> {
    let now = now_ms();
    sqlx::query_as!(
        LoginDevice,
        "INSERT INTO login_devices (user_id, token_hash, created_at, last_used_at)
         VALUES (?1, ?2, ?3, ?3)
         RETURNING id, user_id",
        user_id,
        token_hash,
        now
    )
    .fetch_one(db)
    .await
}

/// The device with this cookie hash if it belongs to the account with this email and was
/// used since `used_since`. One query whether the email exists or not, so the lookup
/// tells nothing about which emails have accounts.
pub async fn find_device_user(
    db: &SqlitePool,
    token_hash: &str,
    email: &str,
    used_since: i64,
) -> sqlx::Result<Option<LoginDevice>> {
    sqlx::query_as!(
        LoginDevice,
        r#"SELECT d.id AS "id!", d.user_id AS "user_id!"
           FROM login_devices AS d JOIN users AS u ON u.id = d.user_id
           WHERE d.token_hash = ? AND u.email = ? AND d.last_used_at >= ?"#,
        token_hash,
        email,
        used_since
    )
    .fetch_optional(db)
    .await
}

pub async fn update_device_used(db: &SqlitePool, id: i64) -> sqlx::Result<()> {
    let now = now_ms();
    sqlx::query!(
        "UPDATE login_devices SET last_used_at = ? WHERE id = ?",
        now,
        id
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Deletes the user's devices unused since `used_since`, and all but the `keep` most
/// recently used. Returns how many went.
pub async fn delete_old_devices(
    db: &SqlitePool,
    user_id: i64,
    used_since: i64,
    keep: i64,
) -> sqlx::Result<u64> {
    let result = sqlx::query!(
        "DELETE FROM login_devices
         WHERE user_id = ?1
           AND (last_used_at < ?2
                OR id NOT IN (SELECT id FROM login_devices WHERE user_id = ?1
                              ORDER BY last_used_at DESC, id DESC LIMIT ?3))",
        user_id,
        used_since,
        keep
    )
    .execute(db)
    .await?;
    Ok(result.rows_affected())
}

/// Deletes every device unused since `used_since` (they are trusted no more); returns
/// how many went.
pub async fn delete_stale_devices(db: &SqlitePool, used_since: i64) -> sqlx::Result<u64> {
    let result = sqlx::query!(
        "DELETE FROM login_devices WHERE last_used_at < ?",
        used_since
    )
    .execute(db)
    .await?;
    Ok(result.rows_affected())
}
