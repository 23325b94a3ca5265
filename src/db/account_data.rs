//! SQL for a user's own data: "Download my data" reads it in keyset pages, so a file of
//! any size holds one page in memory; "Delete my account" removes it in one transaction
//! and leaves the ledger's amounts, anonymised.
//!
//! What deleting a user does to every table that names one (`REFERENCES users`):
//! - `conversations` (ON DELETE CASCADE): the user's chats and app runs go, and with
//!   their messages the messages' `feedback`, `reviews`, `review_events`, `images` and
//!   `shares`. The runs of a dataset batch are the operator's data, not the person's:
//!   they stay with their batch, owned by no one.
//! - `api_keys`, `login_devices` (CASCADE): gone.
//! - `usage` (SET NULL): the ledger keeps every call's day, model, tokens and cost, so the
//!   admin page's totals do not change; it loses who made it (`user_id`, and `ip`,
//!   blanked here) and stops counting it against anyone's allowance (`counted = 0`).
//! - `invites.created_by` / `used_by`, `reviews.claimed_by` / `reviewed_by`,
//!   `review_events.reviewer_id`, `batches.created_by` (SET NULL): decisions on other
//!   people's answers and the site's own batches stay, anonymised; a batch whose creator
//!   is gone stops (its items fail saying so).
//! - Sessions (`tower_sessions`, not a migration's table): the user's are deleted here.

use sqlx::{Connection, SqliteConnection, SqlitePool};

use super::{messages::Message, users::UserRole};
use crate::domain::{MessageStatus, Role};

/// A conversation of the user's with one of its messages (`None` fields for a
/// conversation without messages): a row of [`list_own_conversations_page`].
#[derive(Clone, Debug)]
pub struct ConversationRow {
    pub conversation_id: String,
    pub title: String,
    pub conversation_created_at: i64,
    pub conversation_updated_at: i64,
    pub app: Option<String>,
    pub app_version: Option<String>,
    /// The run's input (JSON text), for an app run.
    pub app_input: Option<String>,
    pub message: Option<Message>,
}

/// The next `limit` of the user's conversations after `after` (by id), each with all its
/// messages (siblings too), ordered by conversation then message. One statement, so a
/// page is one consistent snapshot. Dataset batch runs are left out (the operator's).
pub async fn list_own_conversations_page(
    db: &SqlitePool,
    user_id: i64,
    after: &str,
    limit: i64,
) -> sqlx::Result<Vec<ConversationRow>> {
    let rows = sqlx::query!(
        r#"WITH page AS (
               SELECT id FROM conversations
               WHERE user_id = ? AND batch_id IS NULL AND id > ?
               ORDER BY id LIMIT ?
           )
           SELECT c.id AS "conversation_id!", c.title, c.created_at AS conversation_created_at,
                  c.updated_at AS conversation_updated_at, c.app, c.app_version, c.app_input,
                  m.id AS "id?", m.role AS "role?: Role", m.content AS "content?",
                  m.status AS "status?: MessageStatus", m.error, m.model, m.prompt_tokens,
                  m.completion_tokens, m.first_token_ms, m.duration_ms,
                  m.created_at AS "created_at?", m.updated_at AS "updated_at?", m.image,
                  m.reply_to, m.preferred AS "preferred?: bool"
           FROM conversations c LEFT JOIN messages m ON m.conversation_id = c.id
           WHERE c.id IN (SELECT id FROM page)
           ORDER BY c.id, m.id"#,
        user_id,
        after,
        limit
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let message = match (r.id, r.role, r.content, r.status) {
                (Some(id), Some(role), Some(content), Some(status)) => Some(Message {
                    id,
                    conversation_id: r.conversation_id.clone(),
                    role,
                    content,
                    status,
                    error: r.error,
                    model: r.model,
                    prompt_tokens: r.prompt_tokens,
                    completion_tokens: r.completion_tokens,
                    first_token_ms: r.first_token_ms,
                    duration_ms: r.duration_ms,
                    created_at: r.created_at.unwrap_or_default(),
                    updated_at: r.updated_at.unwrap_or_default(),
                    image: r.image,
                    reply_to: r.reply_to,
                    preferred: r.preferred.unwrap_or_default(),
                }),
                _ => None,
            };
            ConversationRow {
                conversation_id: r.conversation_id,
                title: r.title,
                conversation_created_at: r.conversation_created_at,
                conversation_updated_at: r.conversation_updated_at,
                app: r.app,
                app_version: r.app_version,
                app_input: r.app_input,
                message,
            }
        })
        .collect())
}

/// The user's feedback on an answer.
#[derive(Clone, Debug)]
pub struct FeedbackRow {
    pub message_id: i64,
    pub conversation_id: String,
    pub rating: Option<i64>,
    /// Tag names, separated by spaces.
    pub tags: String,
    pub comment: Option<String>,
    pub correction: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The next `limit` of the user's feedback after answer `after` (by answer id).
pub async fn list_own_feedback_page(
    db: &SqlitePool,
    user_id: i64,
    after: i64,
    limit: i64,
) -> sqlx::Result<Vec<FeedbackRow>> {
    sqlx::query_as!(
        FeedbackRow,
        r#"SELECT f.message_id, m.conversation_id, f.rating, f.tags, f.comment, f.correction,
                  f.created_at, f.updated_at
           FROM feedback f
           JOIN messages m ON m.id = f.message_id
           JOIN conversations c ON c.id = m.conversation_id
           WHERE c.user_id = ? AND c.batch_id IS NULL AND f.message_id > ?
           ORDER BY f.message_id LIMIT ?"#,
        user_id,
        after,
        limit
    )
    .fetch_all(db)
    .await
}

/// A share link of the user's.
#[derive(Clone, Debug)]
pub struct ShareRow {
    pub id: i64,
    pub token: String,
    pub conversation_id: String,
    pub title: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The next `limit` of the user's share links after share `after` (by id).
pub async fn list_own_shares_page(
    db: &SqlitePool,
    user_id: i64,
    after: i64,
    limit: i64,
) -> sqlx::Result<Vec<ShareRow>> {
    sqlx::query_as!(
        ShareRow,
        r#"SELECT s.id, s.token, s.conversation_id, s.title, s.created_at, s.updated_at
           FROM shares s JOIN conversations c ON c.id = s.conversation_id
           WHERE c.user_id = ? AND s.id > ?
           ORDER BY s.id LIMIT ?"#,
        user_id,
        after,
        limit
    )
    .fetch_all(db)
    .await
}

/// What the user's model calls of one day came to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DayUsage {
    pub requests: i64,
    pub tokens: i64,
    pub cost_microusd: i64,
}

pub async fn sum_user_usage_of_day(
    db: &SqlitePool,
    user_id: i64,
    day: &str,
) -> sqlx::Result<DayUsage> {
    sqlx::query_as!(
        DayUsage,
        r#"SELECT count(*) AS "requests!: i64",
                  coalesce(sum(prompt_tokens + completion_tokens), 0) AS "tokens!: i64",
                  coalesce(sum(cost_microusd), 0) AS "cost_microusd!: i64"
           FROM usage WHERE day = ? AND user_id = ?"#,
        day,
        user_id
    )
    .fetch_one(db)
    .await
}

/// How deleting an account went.
#[derive(Debug, PartialEq, Eq)]
pub enum Deletion {
    /// The user and everything theirs are gone.
    Deleted { conversations: u64, sessions: u64 },
    /// The user is the last admin: nothing was deleted.
    LastAdmin,
    /// No such user (deleted already).
    Missing,
}

/// Deletes the user and everything theirs (see this file's header for each table), in
/// one transaction. `password_hash` finds their sessions: the login data of a session
/// holds it (as a MessagePack array of its ASCII bytes, which are the bytes themselves),
/// and no other user's session can hold it (it is salted).
pub async fn delete_user_account(
    db: &SqlitePool,
    user_id: i64,
    password_hash: &str,
) -> sqlx::Result<Deletion> {
    let mut conn = db.acquire().await?;
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    let Some(role) = sqlx::query_scalar!(
        r#"SELECT role AS "role: UserRole" FROM users WHERE id = ?"#,
        user_id
    )
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Ok(Deletion::Missing);
    };
    // Read in the write transaction, so two admins cannot both leave at once.
    if role == UserRole::Admin && count_other_admins(&mut tx, user_id).await? == 0 {
        return Ok(Deletion::LastAdmin);
    }
    sqlx::query!(
        "UPDATE usage SET counted = 0, ip = '' WHERE user_id = ?",
        user_id
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "UPDATE conversations SET user_id = NULL WHERE user_id = ? AND batch_id IS NOT NULL",
        user_id
    )
    .execute(&mut *tx)
    .await?;
    let conversations = sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!: i64" FROM conversations WHERE user_id = ?"#,
        user_id
    )
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query!("DELETE FROM users WHERE id = ?", user_id)
        .execute(&mut *tx)
        .await?;
    // The session store makes its table at start, outside the migrations, so this query
    // cannot be checked at compile time.
    let sessions = sqlx::query("DELETE FROM tower_sessions WHERE instr(data, ?) > 0")
        .bind(password_hash.as_bytes())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(Deletion::Deleted {
        conversations: conversations as u64,
        sessions,
    })
}

/// Enabled admins other than `user_id`.
async fn count_other_admins(conn: &mut SqliteConnection, user_id: i64) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!: i64" FROM users
           WHERE role = 'admin' AND disabled = 0 AND id <> ?"#,
        user_id
    )
    .fetch_one(conn)
    .await
}
