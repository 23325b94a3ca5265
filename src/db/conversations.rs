//! SQL for the `conversations` table. Every query takes the owner: a conversation is
//! reachable only by the user or guest it belongs to, and is simply not found otherwise.

use serde::Serialize;
use sqlx::{SqliteConnection, SqlitePool};

use crate::domain::{Owner, now_ms};

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Conversation {
    /// A random UUID.
    pub id: String,
    pub title: String,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds of the last message.
    pub updated_at: i64,
    /// The prompt app that started it; `None` for a chat.
    pub app: Option<String>,
    /// The SHA-256 of the app file it ran.
    pub app_version: Option<String>,
}

/// The app a conversation is a run of: which one, which version, with what input.
pub struct RunOf<'a> {
    pub app: &'a str,
    pub version: &'a str,
    /// The run's input, as JSON.
    pub input: &'a str,
}

/// A new conversation: a chat, or the run of an app.
pub async fn insert_conversation(
    conn: &mut SqliteConnection,
    owner: &Owner,
    title: &str,
    run: Option<RunOf<'_>>,
) -> sqlx::Result<Conversation> {
    let id = uuid::Uuid::new_v4().to_string();
    let now = now_ms();
    let (user_id, guest_id) = (owner.user_id(), owner.guest_id());
    let (app, app_version, app_input) = match &run {
        Some(run) => (Some(run.app), Some(run.version), Some(run.input)),
        None => (None, None, None),
    };
    sqlx::query_as!(
        Conversation,
        r#"INSERT INTO conversations (id, title, created_at, updated_at, user_id, guest_id,
                                      app, app_version, app_input)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           RETURNING id AS "id!", title, created_at, updated_at, app, app_version"#,
        id,
        title,
        now,
        now,
        user_id,
        guest_id,
        app,
        app_version,
        app_input
    )
    .fetch_one(conn)
    .await
}

pub async fn find_conversation(
    conn: &mut SqliteConnection,
    owner: &Owner,
    id: &str,
) -> sqlx::Result<Option<Conversation>> {
    let (user_id, guest_id) = (owner.user_id(), owner.guest_id());
    sqlx::query_as!(
        Conversation,
        r#"SELECT id AS "id!", title, created_at, updated_at, app, app_version FROM conversations
           WHERE id = ? AND user_id IS ? AND guest_id IS ?"#,
        id,
        user_id,
        guest_id
    )
    .fetch_optional(conn)
    .await
}

/// The owner's most recently active conversations first, `limit` of them after `offset`
/// (without the runs of dataset batches: the batch's page lists those).
/// On the pool, or on a connection a page already holds.
pub async fn list_conversations(
    db: impl sqlx::SqliteExecutor<'_>,
    owner: &Owner,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<Conversation>> {
    let (user_id, guest_id) = (owner.user_id(), owner.guest_id());
    sqlx::query_as!(
        Conversation,
        r#"SELECT id AS "id!", title, created_at, updated_at, app, app_version FROM conversations
           WHERE user_id IS ? AND guest_id IS ? AND batch_id IS NULL
           ORDER BY updated_at DESC, id LIMIT ? OFFSET ?"#,
        user_id,
        guest_id,
        limit,
        offset
    )
    .fetch_all(db)
    .await
}

/// The input an app run was made with (JSON), for the owner; `None` for a chat or
/// anyone else's conversation.
pub async fn find_run_input(
    conn: &mut SqliteConnection,
    owner: &Owner,
    id: &str,
) -> sqlx::Result<Option<String>> {
    let (user_id, guest_id) = (owner.user_id(), owner.guest_id());
    Ok(sqlx::query_scalar!(
        "SELECT app_input FROM conversations WHERE id = ? AND user_id IS ? AND guest_id IS ?",
        id,
        user_id,
        guest_id
    )
    .fetch_optional(conn)
    .await?
    .flatten())
}

/// How many conversations the owner has.
pub async fn count_conversations(conn: &mut SqliteConnection, owner: &Owner) -> sqlx::Result<i64> {
    let (user_id, guest_id) = (owner.user_id(), owner.guest_id());
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!: i64" FROM conversations
           WHERE user_id IS ? AND guest_id IS ?"#,
        user_id,
        guest_id
    )
    .fetch_one(conn)
    .await
}

/// Returns whether the owner has this conversation.
pub async fn update_conversation_title(
    db: &SqlitePool,
    owner: &Owner,
    id: &str,
    title: &str,
) -> sqlx::Result<bool> {
    let now = now_ms();
    let (user_id, guest_id) = (owner.user_id(), owner.guest_id());
    let result = sqlx::query!(
        "UPDATE conversations SET title = ?, updated_at = ?
         WHERE id = ? AND user_id IS ? AND guest_id IS ?",
        title,
        now,
        id,
        user_id,
        guest_id
    )
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

pub async fn update_conversation_activity(
    conn: &mut SqliteConnection,
    id: &str,
) -> sqlx::Result<()> {
    let now = now_ms();
    sqlx::query!(
        "UPDATE conversations SET updated_at = ? WHERE id = ?",
        now,
        id
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes the conversation and (by cascade) its messages; returns whether the owner had it.
pub async fn delete_conversation(db: &SqlitePool, owner: &Owner, id: &str) -> sqlx::Result<bool> {
    let (user_id, guest_id) = (owner.user_id(), owner.guest_id());
    let result = sqlx::query!(
        "DELETE FROM conversations WHERE id = ? AND user_id IS ? AND guest_id IS ?",
        id,
        user_id,
        guest_id
    )
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}
