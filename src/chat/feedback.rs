//! Judging answers: the owner's thumbs, reason tags, comment and correction on an
//! answer, and the better of a question's answers (siblings made by regenerate). Only
//! the owner of a conversation can judge its answers; anyone else's are not found.

use serde::Deserialize;

use crate::{
    AppState,
    db::{
        Message,
        feedback::{Feedback, delete_feedback, find_own_answer, upsert_feedback},
        messages::update_preferred,
    },
    domain::{FeedbackTag, MessageStatus, Owner, has_control_characters},
    error::{AppError, FieldProblem, Thing},
    i18n::Text,
};

/// The longest comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 2_000;

/// Feedback as a client sends it, before it is checked.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackInput {
    /// `up`, `down`, or none.
    #[schema(value_type = Option<String>, example = "down")]
    pub rating: Option<String>,
    /// Reasons, from the closed list: accurate, helpful, wrong_facts, needless_refusal,
    /// too_long, unsafe, formatting.
    #[serde(default)]
    #[schema(example = json!(["wrong_facts"]))]
    pub tags: Vec<String>,
    /// A comment, up to 2,000 characters.
    pub comment: Option<String>,
    /// A better answer, written by you: up to the message length limit.
    pub correction: Option<String>,
}

impl FeedbackInput {
    /// The feedback it says, or every problem with it at once (a 422).
    pub fn check(self, max_correction_chars: usize) -> Result<Feedback, AppError> {
        let mut problems = Vec::new();
        let mut problem = |field: &str, message: Text| {
            problems.push(FieldProblem {
                field: field.into(),
                message,
            })
        };
        let rating = match self.rating.as_deref().map(str::trim) {
            None | Some("") => None,
            Some("up") => Some(1),
            Some("down") => Some(-1),
            Some(other) => {
                problem(
                    "rating",
                    Text::new("feedback-bad-rating").arg("rating", other),
                );
                None
            }
        };
        let mut tags = Vec::new();
        for name in &self.tags {
            match FeedbackTag::parse(name) {
                Some(tag) if !tags.contains(&tag) => tags.push(tag),
                Some(_) => {}
                None => problem(
                    "tags",
                    Text::new("feedback-bad-tag")
                        .arg("tag", name.as_str())
                        .arg("tags", FeedbackTag::ALL.map(FeedbackTag::as_str).join(", ")),
                ),
            }
        }
        let mut text = |field: &str, value: Option<String>, max: usize| {
            let value = value.filter(|v| !v.trim().is_empty())?;
            let chars = crate::domain::typed_chars(&value);
            if chars > max {
                problem(
                    field,
                    Text::new("feedback-too-long")
                        .arg("chars", chars)
                        .arg("max", max),
                );
            } else if has_control_characters(&value) {
                problem(field, Text::new("feedback-control"));
            }
            Some(value)
        };
        let comment = text("comment", self.comment, MAX_COMMENT_CHARS);
        let correction = text("correction", self.correction, max_correction_chars);
        let feedback = Feedback {
            rating,
            tags,
            comment,
            correction,
        };
        if problems.is_empty() && feedback == Feedback::default() {
            problems.push(FieldProblem {
                field: String::new(),
                message: Text::new("feedback-empty"),
            });
        }
        if problems.is_empty() {
            Ok(feedback)
        } else {
            Err(AppError::InvalidFields(problems))
        }
    }
}

/// An answer of the owner's that has ended: feedback on one still being written would
/// judge half an answer.
async fn ended_answer(
    conn: &mut sqlx::SqliteConnection,
    owner: &Owner,
    message_id: i64,
) -> Result<Message, AppError> {
    let answer = find_own_answer(conn, owner, message_id)
        .await?
        .ok_or(AppError::NotFound(Thing::Answer))?;
    if answer.status == MessageStatus::Streaming {
        return Err(AppError::Conflict(Text::new("feedback-still-writing")));
    }
    Ok(answer)
}

/// Saves the owner's feedback on one of their answers, replacing what they gave before.
pub async fn give(
    state: &AppState,
    owner: &Owner,
    message_id: i64,
    feedback: &Feedback,
) -> Result<Message, AppError> {
    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    let answer = ended_answer(&mut tx, owner, message_id).await?;
    upsert_feedback(&mut tx, message_id, feedback).await?;
    tx.commit().await?;
    metrics::counter!(
        "feedback_total",
        "rating" => match feedback.rating {
            Some(1) => "up",
            Some(_) => "down",
            None => "none",
        }
    )
    .increment(1);
    Ok(answer)
}

/// Takes back the owner's feedback on one of their answers (none given is fine).
pub async fn take_back(
    state: &AppState,
    owner: &Owner,
    message_id: i64,
) -> Result<Message, AppError> {
    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    let answer = ended_answer(&mut tx, owner, message_id).await?;
    delete_feedback(&mut tx, message_id).await?;
    tx.commit().await?;
    Ok(answer)
}

/// Marks one of a question's answers as the better one: the conversation goes on from
/// it, and a dataset prefers it over its siblings.
pub async fn prefer(state: &AppState, owner: &Owner, message_id: i64) -> Result<Message, AppError> {
    let mut conn = state.db.acquire().await?;
    let answer = ended_answer(&mut conn, owner, message_id).await?;
    update_preferred(&mut conn, &answer).await?;
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(rating: Option<&str>, tags: &[&str]) -> FeedbackInput {
        FeedbackInput {
            rating: rating.map(str::to_string),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            ..FeedbackInput::default()
        }
    }

    #[test]
    fn ratings_and_tags_are_read_and_repeats_collapse() {
        let feedback = input(Some("down"), &["wrong_facts", "too_long", "wrong_facts"])
            .check(100)
            .unwrap();
        assert_eq!(feedback.rating, Some(-1));
        assert_eq!(
            feedback.tags,
            [FeedbackTag::WrongFacts, FeedbackTag::TooLong]
        );
    }

    #[test]
    fn every_problem_is_named_at_once() {
        let Err(AppError::InvalidFields(problems)) = FeedbackInput {
            rating: Some("meh".into()),
            tags: vec!["rude".into()],
            correction: Some("x".repeat(11)),
            ..FeedbackInput::default()
        }
        .check(10) else {
            panic!("accepted")
        };
        let fields: Vec<_> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["rating", "tags", "correction"]);
        assert!(
            problems[1].message.to_string().contains("wrong_facts"),
            "{problems:?}"
        );
        assert!(
            problems[2].message.to_string().contains("limit is 10"),
            "{problems:?}"
        );
    }

    #[test]
    fn empty_feedback_and_blank_text_are_refused() {
        assert!(input(None, &[]).check(10).is_err());
        let blank = FeedbackInput {
            comment: Some("  \n".into()),
            ..FeedbackInput::default()
        };
        assert!(blank.check(10).is_err(), "a blank comment is no feedback");
    }
}
