//! SQL for `api_keys`.

use serde::Serialize;
use sqlx::SqlitePool;

use crate::domain::now_ms;

/// A key as lists show it: never the key or its hash.
#[derive(Clone, Debug, Serialize)]
pub struct ApiKey {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// What a bearer token is checked against.
pub struct StoredKey {
    pub id: i64,
    pub user_id: i64,
    pub key_hash: String,
}

pub async fn insert_api_key(
    db: &SqlitePool,
    user_id: i64,
    name: &str,
    prefix: &str,
    key_hash: &str,
) -> sqlx::Result<ApiKey> {
    let now = now_ms();
    sqlx::query_as!(
        ApiKey,
        r#"INSERT INTO api_keys (user_id, name, prefix, key_hash, created_at) VALUES (?, ?, ?, ?, ?)
           RETURNING id, user_id, name, prefix, created_at, last_used_at, revoked_at"#,
        user_id,
        name,
        prefix,
        key_hash,
        now
    )
    .fetch_one(db)
    .await
}

/// A live (not revoked) key by its prefix.
pub async fn find_live_api_key(db: &SqlitePool, prefix: &str) -> sqlx::Result<Option<StoredKey>> {
    sqlx::query_as!(
        StoredKey,
        "SELECT id, user_id, key_hash FROM api_keys WHERE prefix = ? AND revoked_at IS NULL",
        prefix
    )
    .fetch_optional(db)
    .await
}

pub async fn list_api_keys(db: &SqlitePool, user_id: i64) -> sqlx::Result<Vec<ApiKey>> {
    sqlx::query_as!(
        ApiKey,
        "SELECT id, user_id, name, prefix, created_at, last_used_at, revoked_at
         FROM api_keys WHERE user_id = ? ORDER BY id DESC",
        user_id
    )
    .fetch_all(db)
    .await
}

/// Every live key, for the admin page.
pub async fn list_live_api_keys(db: &SqlitePool) -> sqlx::Result<Vec<ApiKey>> {
    sqlx::query_as!(
        ApiKey,
        "SELECT id, user_id, name, prefix, created_at, last_used_at, revoked_at
         FROM api_keys WHERE revoked_at IS NULL ORDER BY id DESC"
    )
    .fetch_all(db)
    .await
}

pub async fn update_api_key_used(db: &SqlitePool, id: i64) -> sqlx::Result<()> {
    let now = now_ms();
    sqlx::query!("UPDATE api_keys SET last_used_at = ? WHERE id = ?", now, id)
        .execute(db)
        .await?;
    Ok(())
}

/// Revokes a key; `user_id` limits it to the owner's keys (`None`: an admin, any key).
/// Returns whether a live key was revoked.
pub async fn update_api_key_revoked(
    db: &SqlitePool,
    id: i64,
    user_id: Option<i64>,
) -> sqlx::Result<bool> {
    let now = now_ms();
    let result = sqlx::query!(
        "UPDATE api_keys SET revoked_at = ?
         WHERE id = ? AND revoked_at IS NULL AND (?3 IS NULL OR user_id = ?3)",
        now,
        id,
        user_id
    )
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}
