//! SQL for the `conversations` table.

use serde::Serialize;
use sqlx::{SqliteConnection, SqlitePool};

#[derive(Clone, Debug, Serialize)]
pub struct Conversation {
    pub id: String,
    pub title: String,
    pub created_at: i64,
    pub updated_at: i64,
}

pub async fn insert_conversation(
    conn: &mut SqliteConnection,
    title: &str,
) -> sqlx::Result<Conversation> {
    let id = uuid::Uuid::new_v4().to_string();
    let now = super::now_ms();
    sqlx::query_as!(
        Conversation,
        r#"INSERT INTO conversations (id, title, created_at, updated_at)
           VALUES (?, ?, ?, ?)
           RETURNING id AS "id!", title, created_at, updated_at"#,
        id,
        title,
        now,
        now
    )
    .fetch_one(conn)
    .await
}

pub async fn find_conversation(
    conn: &mut SqliteConnection,
    id: &str,
) -> sqlx::Result<Option<Conversation>> {
    sqlx::query_as!(
        Conversation,
        r#"SELECT id AS "id!", title, created_at, updated_at FROM conversations WHERE id = ?"#,
        id
    )
    .fetch_optional(conn)
    .await
}

/// The most recently active conversations first.
pub async fn list_conversations(db: &SqlitePool, limit: i64) -> sqlx::Result<Vec<Conversation>> {
    sqlx::query_as!(
        Conversation,
        r#"SELECT id AS "id!", title, created_at, updated_at FROM conversations
           ORDER BY updated_at DESC LIMIT ?"#,
        limit
    )
    .fetch_all(db)
    .await
}

/// Returns whether the conversation exists.
pub async fn update_conversation_title(
    db: &SqlitePool,
    id: &str,
    title: &str,
) -> sqlx::Result<bool> {
    let now = super::now_ms();
    let result = sqlx::query!(
        "UPDATE conversations SET title = ?, updated_at = ? WHERE id = ?",
        title,
        now,
        id
    )
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

pub async fn update_conversation_activity(
    conn: &mut SqliteConnection,
    id: &str,
) -> sqlx::Result<()> {
    let now = super::now_ms();
    sqlx::query!(
        "UPDATE conversations SET updated_at = ? WHERE id = ?",
        now,
        id
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes the conversation and (by cascade) its messages; returns whether it existed.
pub async fn delete_conversation(db: &SqlitePool, id: &str) -> sqlx::Result<bool> {
    let result = sqlx::query!("DELETE FROM conversations WHERE id = ?", id)
        .execute(db)
        .await?;
    Ok(result.rows_affected() == 1)
}
