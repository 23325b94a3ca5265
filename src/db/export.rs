//! SQL for dataset exports: which conversations may leave the service as training data,
//! and their answers read in keyset pages (by message id), so an export of any size
//! holds one page at a time.

use sqlx::SqlitePool;

use super::reviews::policy_rank;
use crate::domain::{DataPolicy, MessageStatus, ReviewState, Role};

/// A message of a conversation that has at least one exportable answer in the page,
/// with its review and its owner's feedback.
#[derive(Clone, Debug)]
pub struct ExportRow {
    pub id: i64,
    pub conversation_id: String,
    pub role: Role,
    pub content: String,
    pub status: MessageStatus,
    pub reply_to: Option<i64>,
    pub preferred: bool,
    pub created_at: i64,
    /// One of the page's answers: a complete answer that passes every filter.
    pub in_page: bool,
    /// The conversation's prompt app; `None` for a chat.
    pub app: Option<String>,
    /// The SHA-256 of the app file it ran.
    pub app_version: Option<String>,
    /// `None` when the answer has no review row (pending).
    pub review: Option<ReviewState>,
    /// The reviewer's edit.
    pub review_content: Option<String>,
    pub rating: Option<i64>,
    /// The owner's "better answer".
    pub correction: Option<String>,
}

/// What an export reads.
pub struct PageFilter<'a> {
    pub policy: DataPolicy,
    /// `chat` for chats, else an app's name; `None` for all.
    pub app: Option<&'a str>,
    /// Unix ms: answers written at or after it.
    pub since: i64,
}

/// The next `limit` exportable answers after message `after` (complete, in an eligible
/// conversation, passing the filters), as every message of their conversations, ordered
/// by conversation then id (an answer needs its conversation up to its question, and its
/// siblings for preference pairs). Empty when no answer is left.
///
/// Eligibility is the one predicate of the review and export (`conversation_consent`,
/// see [`policy_rank`]): a conversation made by a dataset batch; or, under `accounts` or
/// `all`, one of a user who has not opted out; or, under `all`, one of a guest. Under
/// `off` the export takes nothing at all.
pub async fn list_export_page(
    db: &SqlitePool,
    filter: &PageFilter<'_>,
    after: i64,
    limit: i64,
) -> sqlx::Result<Vec<ExportRow>> {
    let rank = policy_rank(filter.policy);
    sqlx::query_as!(
        ExportRow,
        r#"WITH page AS (
               SELECT m.id, m.conversation_id FROM messages m
               JOIN conversations c ON c.id = m.conversation_id
               JOIN conversation_consent cc ON cc.conversation_id = m.conversation_id
               WHERE m.role = 'assistant' AND m.status = 'complete' AND m.id > ?1
                 AND m.created_at >= ?2
                 AND (?3 IS NULL OR coalesce(c.app, 'chat') = ?3)
                 AND ?4 > 0 AND cc.least_policy <= ?4
               ORDER BY m.id LIMIT ?5
           )
           SELECT m.id, m.conversation_id, m.role AS "role: Role", m.content,
                  m.status AS "status: MessageStatus", m.reply_to,
                  m.preferred AS "preferred: bool", m.created_at,
                  m.id IN (SELECT id FROM page) AS "in_page!: bool",
                  c.app, c.app_version,
                  r.state AS "review?: ReviewState", r.content AS review_content,
                  f.rating AS "rating?", f.correction
           FROM messages m
           JOIN conversations c ON c.id = m.conversation_id
           LEFT JOIN reviews r ON r.message_id = m.id
           LEFT JOIN feedback f ON f.message_id = m.id
           WHERE m.conversation_id IN (SELECT conversation_id FROM page)
           ORDER BY m.conversation_id, m.id"#,
        after,
        filter.since,
        filter.app,
        rank,
        limit
    )
    .fetch_all(db)
    .await
}
