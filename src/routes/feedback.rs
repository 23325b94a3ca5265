//! Feedback on answers: the forms under each answer (thumbs, tags, a comment, a better
//! answer; "this one is better" between siblings) and the JSON API
//! (`/api/v1/messages/{id}/feedback`). Without JavaScript a form redirects back to the
//! answer; with htmx the feedback block is swapped in place.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Json,
    extract::{FromRequestParts, Path, State},
    http::{HeaderMap, StatusCode, request::Parts},
    response::{IntoResponse, Redirect, Response},
};

use super::{
    bodies::ApiError,
    extract::{AppForm, AppJson},
    pages::is_htmx,
};
use crate::{
    AppState,
    auth::Visitor,
    chat::feedback::{self, FeedbackInput, MAX_COMMENT_CHARS},
    db::{
        Message,
        conversations::find_conversation,
        feedback::{Feedback, find_feedback, find_own_answer},
    },
    domain::{FeedbackTag, Owner},
    error::{AppError, Thing},
    i18n::{Lang, Text},
};

/// The `{id}` of a message route; anything but a message id is an answer that does not
/// exist (404), as a well-formed unknown id is.
pub struct MessageId(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for MessageId {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let Path(id) = Path::<i64>::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::NotFound(Thing::Answer))?;
        Ok(Self(id))
    }
}

/// An answer's feedback block as a page shows it.
pub struct FeedbackView {
    pub message_id: i64,
    pub up: bool,
    pub down: bool,
    /// Every tag: (name, chosen). The page words it (`feedback-tag`).
    pub tags: Vec<(&'static str, bool)>,
    pub comment: String,
    pub correction: String,
    /// Whether there is feedback to remove.
    pub given: bool,
    /// Whether more than a rating was given (the details are worth showing).
    pub detailed: bool,
    /// The details open, as after saving them.
    pub open: bool,
    pub max_comment: usize,
    pub max_correction: usize,
    /// What just happened ("Saved."), after an htmx post.
    pub notice: Option<Text>,
}

impl FeedbackView {
    pub fn new(message_id: i64, feedback: Option<&Feedback>, max_correction: usize) -> Self {
        let given = feedback.is_some();
        let feedback = feedback.cloned().unwrap_or_default();
        let detailed = !feedback.tags.is_empty()
            || feedback.comment.is_some()
            || feedback.correction.is_some();
        Self {
            message_id,
            up: feedback.rated_up(),
            down: feedback.rated_down(),
            tags: FeedbackTag::ALL
                .iter()
                .map(|tag| (tag.as_str(), feedback.has(tag)))
                .collect(),
            comment: feedback.comment.unwrap_or_default(),
            correction: feedback.correction.unwrap_or_default(),
            given,
            detailed,
            open: false,
            max_comment: MAX_COMMENT_CHARS,
            max_correction,
            notice: None,
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(source = "{% include \"partials/feedback.html\" %}", ext = "html")]
struct FeedbackFragment {
    verdict: FeedbackView,
    lang: Lang,
}

/// A form's fields in order (tags repeat).
type Fields = Vec<(String, String)>;

/// Reads the feedback form. The thumbs form (`keep=1`) changes the rating and keeps the
/// rest of what was given before; pressing the chosen thumb again clears it.
fn input_from_form(fields: Fields, before: Option<Feedback>) -> (FeedbackInput, bool) {
    let mut input = FeedbackInput::default();
    let mut keep = false;
    for (name, value) in fields {
        match name.as_str() {
            "rating" => input.rating = Some(value),
            "tags" => input.tags.push(value),
            "comment" => input.comment = Some(value),
            "correction" => input.correction = Some(value),
            "keep" => keep = true,
            _ => {}
        }
    }
    if keep && let Some(before) = before {
        input.tags = before.tags.iter().map(|t| t.as_str().to_string()).collect();
        input.comment = before.comment;
        input.correction = before.correction;
    }
    (input, keep)
}

/// Where a form goes back to without JavaScript: the run page for an app's answer (its
/// first), the conversation otherwise.
async fn back_to(state: &AppState, owner: &Owner, answer: &Message) -> Result<Redirect, AppError> {
    let conversation = find_conversation(
        &mut *state.db.acquire().await?,
        owner,
        &answer.conversation_id,
    )
    .await?
    .ok_or(AppError::NotFound(Thing::Answer))?;
    let anchor = format!("#message-{}", answer.id);
    Ok(Redirect::to(&match conversation.app {
        Some(app) => format!("/apps/{app}/runs/{}", conversation.id),
        None => format!("/conversations/{}{anchor}", conversation.id),
    }))
}

/// The feedback block after a change, for htmx.
async fn fragment(
    state: &AppState,
    lang: Lang,
    message_id: i64,
    open: bool,
    notice: Text,
) -> Result<Response, AppError> {
    let feedback = find_feedback(&mut *state.db.acquire().await?, message_id).await?;
    let mut verdict = FeedbackView::new(
        message_id,
        feedback.as_ref(),
        state.config.max_message_chars,
    );
    verdict.open = open;
    verdict.notice = Some(notice);
    Ok(FeedbackFragment { verdict, lang }.into_response())
}

pub async fn give_feedback(
    State(state): State<AppState>,
    visitor: Visitor,
    MessageId(id): MessageId,
    headers: HeaderMap,
    AppForm(fields): AppForm<Fields>,
) -> Result<Response, AppError> {
    let owner = visitor.owner().ok_or(AppError::NotFound(Thing::Answer))?;
    let before = find_feedback(&mut *state.db.acquire().await?, id).await?;
    let (input, thumbs) = input_from_form(fields, before);
    let cleared = thumbs && input.rating.as_deref() == Some("");
    let answer = match input.check(state.config.max_message_chars) {
        Ok(feedback) => feedback::give(&state, &owner, id, &feedback).await?,
        // Un-pressing the only thing given takes the feedback back.
        Err(AppError::InvalidFields(_)) if cleared => {
            feedback::take_back(&state, &owner, id).await?
        }
        Err(error) => return Err(error),
    };
    if is_htmx(&headers) {
        let saved = Text::new("feedback-saved");
        return fragment(&state, visitor.lang, id, !thumbs, saved).await;
    }
    Ok(back_to(&state, &owner, &answer).await?.into_response())
}

pub async fn take_back_feedback(
    State(state): State<AppState>,
    visitor: Visitor,
    MessageId(id): MessageId,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let owner = visitor.owner().ok_or(AppError::NotFound(Thing::Answer))?;
    let answer = feedback::take_back(&state, &owner, id).await?;
    if is_htmx(&headers) {
        let removed = Text::new("feedback-removed");
        return fragment(&state, visitor.lang, id, false, removed).await;
    }
    Ok(back_to(&state, &owner, &answer).await?.into_response())
}

pub async fn prefer_answer(
    State(state): State<AppState>,
    visitor: Visitor,
    MessageId(id): MessageId,
) -> Result<Redirect, AppError> {
    let owner = visitor.owner().ok_or(AppError::NotFound(Thing::Answer))?;
    let answer = feedback::prefer(&state, &owner, id).await?;
    back_to(&state, &owner, &answer).await
}

// ---------------------------------------------------------------------------------
// JSON API

/// Your feedback on one of your answers.
#[utoipa::path(get, path = "/api/v1/messages/{id}/feedback", tag = "feedback",
    params(("id" = i64, Path, description = "The answer's id")),
    responses(
        (status = 200, body = Feedback),
        (status = 401, body = ApiError, description = "Invalid API key"),
        (status = 404, body = ApiError, description = "No such answer of yours, or no feedback on it"),
    ),
    security((), ("api_key" = [])))]
pub async fn show_feedback(
    State(state): State<AppState>,
    visitor: Visitor,
    MessageId(id): MessageId,
) -> Result<Json<Feedback>, AppError> {
    let owner = visitor.owner().ok_or(AppError::NotFound(Thing::Answer))?;
    let mut conn = state.db.acquire().await?;
    find_own_answer(&mut conn, &owner, id)
        .await?
        .ok_or(AppError::NotFound(Thing::Answer))?;
    let feedback = find_feedback(&mut conn, id)
        .await?
        .ok_or(AppError::NotFound(Thing::Feedback))?;
    Ok(Json(feedback))
}

/// Judge one of your answers: a rating, reason tags, a comment and a better answer of
/// your own. Replaces the feedback you gave before.
#[utoipa::path(put, path = "/api/v1/messages/{id}/feedback", tag = "feedback",
    params(("id" = i64, Path, description = "The answer's id")),
    request_body = FeedbackInput,
    responses(
        (status = 200, body = Feedback, description = "The feedback as saved"),
        (status = 400, body = ApiError, description = "The body is not JSON"),
        (status = 401, body = ApiError, description = "Invalid API key"),
        (status = 404, body = ApiError, description = "No such answer of yours"),
        (status = 408, body = ApiError, description = "The body took too long to arrive"),
        (status = 409, body = ApiError, description = "The answer is still being written"),
        (status = 413, body = ApiError), (status = 415, body = ApiError),
        (status = 422, body = ApiError, description = "An unknown rating or tag, an over-long comment or correction, or nothing given"),
        (status = 429, body = ApiError, description = "Too many requests from your address; see Retry-After"),
    ),
    security((), ("api_key" = [])))]
pub async fn put_feedback(
    State(state): State<AppState>,
    visitor: Visitor,
    MessageId(id): MessageId,
    AppJson(input): AppJson<FeedbackInput>,
) -> Result<Json<Feedback>, AppError> {
    let owner = visitor.owner().ok_or(AppError::NotFound(Thing::Answer))?;
    let feedback = input.check(state.config.max_message_chars)?;
    feedback::give(&state, &owner, id, &feedback).await?;
    Ok(Json(feedback))
}

/// Take back your feedback on one of your answers (none given is fine).
#[utoipa::path(delete, path = "/api/v1/messages/{id}/feedback", tag = "feedback",
    params(("id" = i64, Path, description = "The answer's id")),
    responses(
        (status = 204, description = "No feedback on the answer any more"),
        (status = 401, body = ApiError, description = "Invalid API key"),
        (status = 404, body = ApiError, description = "No such answer of yours"),
        (status = 409, body = ApiError, description = "The answer is still being written"),
        (status = 429, body = ApiError, description = "Too many requests from your address; see Retry-After"),
    ),
    security((), ("api_key" = [])))]
pub async fn delete_feedback(
    State(state): State<AppState>,
    visitor: Visitor,
    MessageId(id): MessageId,
) -> Result<StatusCode, AppError> {
    let owner = visitor.owner().ok_or(AppError::NotFound(Thing::Answer))?;
    feedback::take_back(&state, &owner, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Fields {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_thumbs_form_keeps_what_was_given_before() {
        let before = Feedback {
            rating: Some(1),
            tags: vec![FeedbackTag::Helpful],
            comment: Some("nice".into()),
            correction: None,
        };
        let (input, thumbs) =
            input_from_form(fields(&[("keep", "1"), ("rating", "down")]), Some(before));
        assert!(thumbs);
        let feedback = input.check(100).unwrap();
        assert_eq!(feedback.rating, Some(-1));
        assert_eq!(feedback.tags, [FeedbackTag::Helpful]);
        assert_eq!(feedback.comment.as_deref(), Some("nice"));
    }

    #[test]
    fn the_details_form_reads_repeated_tags() {
        let (input, thumbs) = input_from_form(
            fields(&[
                ("rating", ""),
                ("tags", "too_long"),
                ("tags", "formatting"),
                ("comment", ""),
                ("correction", "Shorter."),
            ]),
            None,
        );
        assert!(!thumbs);
        let feedback = input.check(100).unwrap();
        assert_eq!(feedback.rating, None);
        assert_eq!(
            feedback.tags,
            [FeedbackTag::TooLong, FeedbackTag::Formatting]
        );
        assert_eq!(feedback.comment, None);
        assert_eq!(feedback.correction.as_deref(), Some("Shorter."));
    }
}
