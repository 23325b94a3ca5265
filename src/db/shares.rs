//! SQL for the `shares` table: one read-only snapshot link per conversation (a chat or an
//! app run). The owner reaches a share through its conversation; anyone reaches it by its
//! token; the showcase lists those an admin pinned.

use sqlx::{SqliteConnection, SqlitePool};

use crate::domain::{Owner, now_ms};

/// A share as the public page needs it.
#[derive(Clone, Debug)]
pub struct Share {
    pub id: i64,
    pub token: String,
    pub title: String,
    /// JSON: what the page shows (see `share::Snapshot`).
    pub snapshot: String,
    pub created_at: i64,
    /// Unix milliseconds of the last snapshot; the preview image's version.
    pub updated_at: i64,
    pub pinned_at: Option<i64>,
}

/// A share on its owner's "Shared links" page.
#[derive(Clone, Debug)]
pub struct OwnShare {
    pub id: i64,
    pub token: String,
    pub conversation_id: String,
    pub title: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A pinned share as the landing page's showcase shows it.
#[derive(Clone, Debug)]
pub struct Pinned {
    pub token: String,
    pub title: String,
    /// The app's icon, for an app run.
    pub icon: Option<String>,
    pub excerpt: String,
}

/// Saves a conversation's snapshot: a new share with `token`, or the conversation's
/// existing share refreshed on its own token. `updated_at` always moves forward, so the
/// preview image's version changes with every update.
pub async fn upsert_share(
    conn: &mut SqliteConnection,
    conversation_id: &str,
    token: &str,
    title: &str,
    snapshot: &str,
) -> sqlx::Result<Share> {
    let now = now_ms();
    sqlx::query_as!(
        Share,
        r#"INSERT INTO shares (token, conversation_id, title, snapshot, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (conversation_id) DO UPDATE
           SET title = excluded.title, snapshot = excluded.snapshot,
               updated_at = max(excluded.updated_at, shares.updated_at + 1)
           RETURNING id AS "id!", token, title, snapshot, created_at, updated_at, pinned_at"#,
        token,
        conversation_id,
        title,
        snapshot,
        now,
        now
    )
    .fetch_one(conn)
    .await
}

/// The share with this token: one lookup by its unique index, whether or not it exists.
pub async fn find_share(
    db: impl sqlx::SqliteExecutor<'_>,
    token: &str,
) -> sqlx::Result<Option<Share>> {
    sqlx::query_as!(
        Share,
        r#"SELECT id AS "id!", token, title, snapshot, created_at, updated_at, pinned_at
           FROM shares WHERE token = ?"#,
        token
    )
    .fetch_optional(db)
    .await
}

/// The owner's shares, most recently updated first.
pub async fn list_shares(
    db: impl sqlx::SqliteExecutor<'_>,
    owner: &Owner,
) -> sqlx::Result<Vec<OwnShare>> {
    let (user_id, guest_id) = (owner.user_id(), owner.guest_id());
    sqlx::query_as!(
        OwnShare,
        r#"SELECT s.id AS "id!", s.token, s.conversation_id, s.title, s.created_at, s.updated_at
           FROM shares s JOIN conversations c ON c.id = s.conversation_id
           WHERE c.user_id IS ? AND c.guest_id IS ?
           ORDER BY s.updated_at DESC, s.id DESC"#,
        user_id,
        guest_id
    )
    .fetch_all(db)
    .await
}

/// Revokes a share of the owner's; returns whether there was one.
pub async fn delete_share(db: &SqlitePool, owner: &Owner, id: i64) -> sqlx::Result<bool> {
    let (user_id, guest_id) = (owner.user_id(), owner.guest_id());
    let result = sqlx::query!(
        "DELETE FROM shares WHERE id = ? AND conversation_id IN
           (SELECT id FROM conversations WHERE user_id IS ? AND guest_id IS ?)",
        id,
        user_id,
        guest_id
    )
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Pins a share to the showcase (from now) or unpins it (`pinned` false); returns its
/// token, or `None` when there is no such share.
pub async fn update_share_pinned(
    db: &SqlitePool,
    id: i64,
    pinned: bool,
) -> sqlx::Result<Option<String>> {
    let pinned_at = pinned.then(now_ms);
    sqlx::query_scalar!(
        "UPDATE shares SET pinned_at = ? WHERE id = ? RETURNING token",
        pinned_at,
        id
    )
    .fetch_optional(db)
    .await
}

/// The showcase: pinned shares, most recently pinned first. Only the small parts of the
/// snapshot a card shows are read out of its JSON.
pub async fn list_pinned_shares(
    db: impl sqlx::SqliteExecutor<'_>,
    limit: i64,
) -> sqlx::Result<Vec<Pinned>> {
    sqlx::query_as!(
        Pinned,
        r#"SELECT token, title,
                  json_extract(snapshot, '$.run.icon') AS "icon: String",
                  coalesce(json_extract(snapshot, '$.excerpt'), '') AS "excerpt!: String"
           FROM shares WHERE pinned_at IS NOT NULL
           ORDER BY pinned_at DESC, id DESC LIMIT ?"#,
        limit
    )
    .fetch_all(db)
    .await
}
