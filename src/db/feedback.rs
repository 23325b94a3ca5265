//! SQL for `feedback`: an answer's owner judging it. One row per answer, replaced when
//! the owner changes their mind.

use serde::Serialize;
use sqlx::SqliteConnection;

use super::Message;
use crate::domain::{FeedbackTag, MessageStatus, Owner, Role, now_ms};

/// The owner's judgement of an answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Feedback {
    /// `1` (thumbs up), `-1` (thumbs down) or none.
    pub rating: Option<i64>,
    pub tags: Vec<FeedbackTag>,
    pub comment: Option<String>,
    /// The answer the owner would have wanted: the ideal answer in a dataset export.
    pub correction: Option<String>,
}

impl Feedback {
    pub fn rated_up(&self) -> bool {
        self.rating == Some(1)
    }

    pub fn rated_down(&self) -> bool {
        self.rating == Some(-1)
    }

    pub fn has(&self, tag: &FeedbackTag) -> bool {
        self.tags.contains(tag)
    }
}

/// Tags as stored: their names, separated by spaces.
fn tags_column(tags: &[FeedbackTag]) -> String {
    tags.iter()
        .map(|t| t.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Tags as read back; a name no longer in the list (a tag removed in a later version)
/// is dropped rather than failing the page.
fn parse_tags(column: &str) -> Vec<FeedbackTag> {
    column
        .split_whitespace()
        .filter_map(FeedbackTag::parse)
        .collect()
}

/// An answer in one of the owner's conversations, or `None` (someone else's, a question,
/// or no such message): feedback can only be given on one's own answers.
pub async fn find_own_answer(
    conn: &mut SqliteConnection,
    owner: &Owner,
    message_id: i64,
) -> sqlx::Result<Option<Message>> {
    let (user_id, guest_id) = (owner.user_id(), owner.guest_id());
    let message = sqlx::query_as!(
        Message,
        r#"SELECT m.id, m.conversation_id, m.role AS "role: Role", m.content,
                  m.status AS "status: MessageStatus", m.error, m.model, m.prompt_tokens,
                  m.completion_tokens, m.first_token_ms, m.duration_ms, m.created_at,
                  m.updated_at, m.image, m.reply_to, m.preferred AS "preferred: bool"
           FROM messages m JOIN conversations c ON c.id = m.conversation_id
           WHERE m.id = ? AND m.role = 'assistant' AND c.user_id IS ? AND c.guest_id IS ?"#,
        message_id,
        user_id,
        guest_id
    )
    .fetch_optional(conn)
    .await?;
    Ok(message)
}

/// Saves the owner's feedback on an answer, replacing any before.
pub async fn upsert_feedback(
    conn: &mut SqliteConnection,
    message_id: i64,
    feedback: &Feedback,
) -> sqlx::Result<()> {
    let now = now_ms();
    let tags = tags_column(&feedback.tags);
    sqlx::query!(
        "INSERT INTO feedback (message_id, rating, tags, comment, correction, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (message_id) DO UPDATE
         SET rating = excluded.rating, tags = excluded.tags, comment = excluded.comment,
             correction = excluded.correction, updated_at = excluded.updated_at",
        message_id,
        feedback.rating,
        tags,
        feedback.comment,
        feedback.correction,
        now,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete_feedback(conn: &mut SqliteConnection, message_id: i64) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM feedback WHERE message_id = ?", message_id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn find_feedback(
    conn: &mut SqliteConnection,
    message_id: i64,
) -> sqlx::Result<Option<Feedback>> {
    let row = sqlx::query!(
        "SELECT rating, tags, comment, correction FROM feedback WHERE message_id = ?",
        message_id
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| Feedback {
        rating: r.rating,
        tags: parse_tags(&r.tags),
        comment: r.comment,
        correction: r.correction,
    }))
}

/// The feedback on a conversation's answers, by answer id.
pub async fn list_conversation_feedback(
    conn: &mut SqliteConnection,
    conversation_id: &str,
) -> sqlx::Result<Vec<(i64, Feedback)>> {
    let rows = sqlx::query!(
        "SELECT f.message_id, f.rating, f.tags, f.comment, f.correction
         FROM feedback f JOIN messages m ON m.id = f.message_id
         WHERE m.conversation_id = ?",
        conversation_id
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.message_id,
                Feedback {
                    rating: r.rating,
                    tags: parse_tags(&r.tags),
                    comment: r.comment,
                    correction: r.correction,
                },
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip_and_unknown_names_are_dropped() {
        let tags = [FeedbackTag::WrongFacts, FeedbackTag::TooLong];
        assert_eq!(tags_column(&tags), "wrong_facts too_long");
        assert_eq!(parse_tags("wrong_facts  gone too_long"), tags);
        assert!(parse_tags("").is_empty());
    }
}
