//! SQL for the `messages` table.

use serde::Serialize;
use sqlx::{Connection, SqliteConnection, SqlitePool};

use crate::domain::{MessageStatus, Role, now_ms};

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Message {
    pub id: i64,
    pub conversation_id: String,
    pub role: Role,
    pub content: String,
    pub status: MessageStatus,
    /// What the user is told when the answer is not complete.
    // The row keeps it in no language, as a stored `Text` (`chat::answer_error` reads
    // it); a client gets it in words (`chat::worded`).
    pub error: Option<String>,
    pub model: Option<String>,
    pub prompt_tokens: Option<i64>,
    pub completion_tokens: Option<i64>,
    /// Milliseconds from the upstream call to the first token.
    pub first_token_ms: Option<i64>,
    /// Milliseconds from the upstream call to the end of the answer.
    pub duration_ms: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// An image app's answer: the SHA-256 of its picture, served at `/images/{hash}`.
    pub image: Option<String>,
    /// An answer's question: the user message it answers. Answers to the same question
    /// are siblings (regenerate adds one).
    pub reply_to: Option<i64>,
    /// The sibling its owner marked as the better answer.
    pub preferred: bool,
}

/// The conversation as it goes on: every message but the answers not chosen. Of a
/// question's answers, the one marked preferred is chosen, otherwise the newest. The
/// order is kept (oldest first).
pub fn thread(messages: &[Message]) -> Vec<&Message> {
    let mut chosen: std::collections::HashMap<i64, &Message> = std::collections::HashMap::new();
    for message in messages {
        if let (Role::Assistant, Some(question)) = (message.role, message.reply_to) {
            let entry = chosen.entry(question).or_insert(message);
            if message.preferred || !entry.preferred && message.id > entry.id {
                *entry = message;
            }
        }
    }
    messages
        .iter()
        .filter(|m| match (m.role, m.reply_to) {
            (Role::Assistant, Some(question)) => chosen[&question].id == m.id,
            _ => true,
        })
        .collect()
}

/// How an answer ended, as saved on its row.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub content: String,
    pub status: MessageStatus,
    /// Why it is not complete: a stored `Text` (`Text::stored`), in no language.
    pub error: Option<String>,
    pub prompt_tokens: Option<i64>,
    pub completion_tokens: Option<i64>,
    pub first_token_ms: Option<i64>,
    pub duration_ms: i64,
    /// An image app's picture (its hash), stored with [`insert_image`](super::images::insert_image).
    pub image: Option<String>,
}

pub async fn insert_message(
    conn: &mut SqliteConnection,
    conversation_id: &str,
    role: Role,
    content: &str,
    status: MessageStatus,
    model: Option<&str>,
) -> sqlx::Result<Message> {
    let now = now_ms();
    sqlx::query_as!(
        Message,
        // An answer answers the conversation's latest user message.
        r#"INSERT INTO messages (conversation_id, role, content, status, model, created_at, updated_at,
                                 reply_to)
           VALUES (?, ?, ?, ?, ?, ?, ?,
                   CASE WHEN ? = 'assistant'
                        THEN (SELECT max(id) FROM messages WHERE conversation_id = ? AND role = 'user')
                   END)
           RETURNING id, conversation_id, role AS "role: Role", content,
                     status AS "status: MessageStatus", error, model, prompt_tokens,
                     completion_tokens, first_token_ms, duration_ms, created_at, updated_at, image,
                  reply_to, preferred AS "preferred: bool""#,
        conversation_id,
        role,
        content,
        status,
        model,
        now,
        now,
        role,
        conversation_id
    )
    .fetch_one(conn)
    .await
}

/// Sets an answer's picture (its hash in `images`), for an answer copied from a share.
pub async fn update_message_image(
    conn: &mut SqliteConnection,
    id: i64,
    hash: &str,
) -> sqlx::Result<()> {
    sqlx::query!("UPDATE messages SET image = ? WHERE id = ?", hash, id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The conversation's messages, oldest first.
pub async fn list_messages(
    conn: &mut SqliteConnection,
    conversation_id: &str,
) -> sqlx::Result<Vec<Message>> {
    sqlx::query_as!(
        Message,
        r#"SELECT id, conversation_id, role AS "role: Role", content,
                  status AS "status: MessageStatus", error, model, prompt_tokens,
                  completion_tokens, first_token_ms, duration_ms, created_at, updated_at, image,
                  reply_to, preferred AS "preferred: bool"
           FROM messages WHERE conversation_id = ? ORDER BY id"#,
        conversation_id
    )
    .fetch_all(conn)
    .await
}

pub async fn find_message(db: &SqlitePool, id: i64) -> sqlx::Result<Option<Message>> {
    sqlx::query_as!(
        Message,
        r#"SELECT id, conversation_id, role AS "role: Role", content,
                  status AS "status: MessageStatus", error, model, prompt_tokens,
                  completion_tokens, first_token_ms, duration_ms, created_at, updated_at, image,
                  reply_to, preferred AS "preferred: bool"
           FROM messages WHERE id = ?"#,
        id
    )
    .fetch_optional(db)
    .await
}

/// Saves how an answer ended.
pub async fn update_message_outcome(
    db: impl sqlx::SqliteExecutor<'_>,
    id: i64,
    outcome: &Outcome,
) -> sqlx::Result<()> {
    let now = now_ms();
    sqlx::query!(
        "UPDATE messages
         SET content = ?, status = ?, error = ?, prompt_tokens = ?, completion_tokens = ?,
             first_token_ms = ?, duration_ms = ?, updated_at = ?, image = ?
         WHERE id = ?",
        outcome.content,
        outcome.status,
        outcome.error,
        outcome.prompt_tokens,
        outcome.completion_tokens,
        outcome.first_token_ms,
        outcome.duration_ms,
        now,
        outcome.image,
        id
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Saves the text of answers still being written (a checkpoint, so that a crash loses
/// at most the last second of each), in one transaction. An answer that has ended in the
/// meantime is left as it was saved.
pub async fn update_streaming_contents(
    conn: &mut SqliteConnection,
    answers: &[(i64, String)],
) -> sqlx::Result<()> {
    let now = now_ms();
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    for (id, content) in answers {
        sqlx::query!(
            "UPDATE messages SET content = ?, updated_at = ? WHERE id = ? AND status = 'streaming'",
            content,
            now,
            id
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

/// Unmarks the preferred answer to a question (a regenerated answer takes over).
pub async fn clear_preferred(conn: &mut SqliteConnection, question: i64) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE messages SET preferred = 0 WHERE reply_to = ? AND preferred = 1",
        question
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks one answer as the better of its siblings (and unmarks the others), in one
/// transaction; returns whether the answer exists.
pub async fn update_preferred(conn: &mut SqliteConnection, answer: &Message) -> sqlx::Result<bool> {
    let Some(question) = answer.reply_to else {
        return Ok(false);
    };
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    clear_preferred(&mut tx, question).await?;
    let result = sqlx::query!(
        "UPDATE messages SET preferred = 1 WHERE id = ? AND role = 'assistant'",
        answer.id
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(result.rows_affected() == 1)
}

/// Marks answers left `streaming` by a crash or kill as interrupted; run at start, when no
/// answer can be in progress.
pub async fn interrupt_streaming_messages(db: &SqlitePool) -> sqlx::Result<u64> {
    let now = now_ms();
    let result = sqlx::query!(
        "UPDATE messages
         SET status = 'interrupted', updated_at = ?,
             error = 'The server restarted while this answer was being written.'
         WHERE status = 'streaming'",
        now
    )
    .execute(db)
    .await?;
    Ok(result.rows_affected())
}
