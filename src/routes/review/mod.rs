//! The review queue (`/review`): admins and reviewers work through eligible answers one
//! at a time (`/review/next` claims one under a lease) or from a list, and accept, edit
//! or reject each; every decision is audited. Anyone else gets 404, so the queue is not
//! even shown to exist. Every form is a plain POST that redirects (303) to the next answer.

mod filters;

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::{FromRequestParts, Path, State},
    http::{HeaderMap, request::Parts},
    response::Redirect,
};
use serde::Deserialize;

use self::filters::Filters;
use super::{
    extract::{AppForm, AppQuery},
    keys::utc_minute,
    pages::{Layout, MessageView},
};
use crate::{
    AppState,
    auth::Visitor,
    db::{
        Message,
        messages::{list_messages, thread},
        reviews::{
            Decision, QueueRow, ReviewEvent, ReviewItem, Verdict, claim_next, find_review_item,
            list_queue, list_review_events, update_claim_released, update_review,
        },
        users::User,
    },
    domain::{DataPolicy, FeedbackTag, ReviewState, Role, has_control_characters, typed_chars},
    error::{AppError, Thing},
    i18n::Text,
};

/// Answers on one page of the list.
const PAGE_SIZE: i64 = 50;

/// A visitor who may review: an admin or a reviewer. Anyone else is told the page does
/// not exist.
pub struct Reviewer {
    pub visitor: Visitor,
    pub user: User,
}

impl FromRequestParts<AppState> for Reviewer {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let visitor = Visitor::from_request_parts(parts, state).await?;
        match visitor.user.clone() {
            Some(user) if user.can_review() => Ok(Self { visitor, user }),
            _ => Err(AppError::NotFound(Thing::Page)),
        }
    }
}

/// The `{id}` of an answer; anything but a number is an answer that does not exist.
pub struct AnswerId(i64);

impl<S: Send + Sync> FromRequestParts<S> for AnswerId {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let Path(id) = Path::<i64>::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::NotFound(Thing::Answer))?;
        Ok(Self(id))
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "review.html")]
pub struct QueuePage {
    layout: Layout,
    filters: Filters,
    /// The filters as a query string, for links.
    query: String,
    /// The site's prompt apps, for the app filter.
    apps: Vec<String>,
    rows: Vec<RowView>,
    page: i64,
    has_more: bool,
    /// Under `data_policy = "off"` only dataset batches are reviewed.
    policy_off: bool,
}

/// An answer as the list shows it.
pub struct RowView {
    id: i64,
    title: String,
    /// The app's name; `None` for a chat.
    app: Option<String>,
    model: String,
    created: String,
    preview: String,
    state: &'static str,
    /// `up`, `down` or empty.
    rating: &'static str,
    has_correction: bool,
    /// Who holds it, until when (UTC).
    holder: Option<(String, String)>,
}

impl RowView {
    fn new(row: QueueRow) -> Self {
        Self {
            id: row.id,
            title: row.title,
            app: row.app,
            model: row.model.unwrap_or_default(),
            created: utc_minute(row.created_at),
            preview: row.preview,
            state: row.state.as_str(),
            rating: rating_name(row.rating),
            has_correction: row.has_correction,
            holder: row
                .claimed_by
                .zip(row.claimed_until)
                .map(|(who, until)| (who, utc_minute(until))),
        }
    }
}

fn rating_name(rating: Option<i64>) -> &'static str {
    match rating {
        Some(1) => "up",
        Some(-1) => "down",
        _ => "",
    }
}

/// The list: eligible answers matching the filters, oldest first, a page at a time.
pub async fn show_queue(
    State(state): State<AppState>,
    reviewer: Reviewer,
    AppQuery(filters): AppQuery<Filters>,
) -> Result<QueuePage, AppError> {
    let filter = filters.to_filter()?;
    let page = filters.page()?;
    let now = state.clock.now_ms();
    // One more than a page, to know whether there is a next one.
    let mut rows = list_queue(
        &state.db,
        &filter,
        state.site.data_policy,
        now,
        PAGE_SIZE + 1,
        (page - 1) * PAGE_SIZE,
    )
    .await?;
    let has_more = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    Ok(QueuePage {
        layout: Layout::load(&state, &reviewer.visitor, None).await?,
        query: filters.query(),
        filters,
        apps: state
            .apps
            .current()
            .iter()
            .map(|app| app.name.clone())
            .collect(),
        rows: rows.into_iter().map(RowView::new).collect(),
        page,
        has_more,
        policy_off: state.site.data_policy == DataPolicy::Off,
    })
}

/// One at a time: claims the next free answer matching the filters (pending ones unless
/// the filters say otherwise) and goes to it; back to the list when none is left.
pub async fn claim_next_answer(
    State(state): State<AppState>,
    reviewer: Reviewer,
    headers: HeaderMap,
    AppQuery(filters): AppQuery<Filters>,
) -> Result<Redirect, AppError> {
    let query = filters.query();
    // A GET that claims: a link on another site must not make a reviewer hold answers
    // (the session cookie rides along on a top-level navigation). It lands on the list.
    if headers
        .get("sec-fetch-site")
        .is_some_and(|site| site != "same-origin" && site != "none")
    {
        return Ok(Redirect::to(&with_query("/review", &query)));
    }
    let mut filter = filters.to_filter()?;
    filter.state.get_or_insert(ReviewState::Pending);
    let now = state.clock.now_ms();
    let until = now + state.config.review_lease.as_millis() as i64;
    let claimed = claim_next(
        &mut *state.db.acquire().await?,
        reviewer.user.id,
        &filter,
        state.site.data_policy,
        filters.after(),
        now,
        until,
    )
    .await?;
    Ok(match claimed {
        Some(id) => Redirect::to(&with_query(&format!("/review/{id}"), &query)),
        None => Redirect::to(&with_query(
            "/review",
            &[query.as_str(), "done=1"].join("&"),
        )),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "review_item.html")]
pub struct ItemPage {
    layout: Layout,
    item: ReviewItem,
    /// The filters the reviewer came with, kept in every form.
    query: String,
    /// The conversation up to the question, then the question.
    thread: Vec<MessageView>,
    answer: MessageView,
    /// Other answers to the same question.
    siblings: Vec<SiblingView>,
    events: Vec<EventView>,
    /// The lease: whether this reviewer holds it, or who else does, until when.
    held_by_me: bool,
    held_by_other: Option<String>,
    held_until: String,
    /// What the edit box starts with: the reviewer's edit, the owner's correction, or the
    /// answer.
    prefill: String,
    /// The owner's tags, by name (the page words them).
    owner_tags: Vec<&'static str>,
    rating: &'static str,
    /// The rejection's reason, a tag's name.
    reason: Option<&'static str>,
    /// Every tag's name, in the order of the reason keys 1–7.
    tags: Vec<&'static str>,
    max_chars: usize,
}

pub struct SiblingView {
    message: MessageView,
    preferred: bool,
}

/// One line of the audit trail, times in UTC.
pub struct EventView {
    event: ReviewEvent,
    at: String,
    reason: Option<&'static str>,
}

pub async fn show_answer(
    State(state): State<AppState>,
    reviewer: Reviewer,
    AnswerId(id): AnswerId,
    AppQuery(filters): AppQuery<Filters>,
) -> Result<ItemPage, AppError> {
    let now = state.clock.now_ms();
    let item = find_review_item(&state.db, id, state.site.data_policy, now)
        .await?
        .ok_or(AppError::NotFound(Thing::Answer))?;
    let messages = list_messages(&mut *state.db.acquire().await?, &item.conversation_id).await?;
    let answer = messages
        .iter()
        .find(|m| m.id == id)
        .ok_or(AppError::NotFound(Thing::Answer))?;
    let question = answer.reply_to.unwrap_or(0);
    let view = |m: &Message| MessageView::new(m, &state.rendered);
    let thread = thread(&messages)
        .into_iter()
        .filter(|m| m.role != Role::System && m.id < question)
        .chain(messages.iter().filter(|m| m.id == question))
        .map(view)
        .collect();
    let siblings = messages
        .iter()
        .filter(|m| m.role == Role::Assistant && m.reply_to == answer.reply_to && m.id != id)
        .map(|m| SiblingView {
            message: view(m),
            preferred: m.preferred,
        })
        .collect();
    let events = list_review_events(&state.db, id)
        .await?
        .into_iter()
        .map(|event| EventView {
            at: utc_minute(event.created_at),
            reason: event.reason.as_deref().and_then(tag_name),
            event,
        })
        .collect();
    let prefill = item
        .edit
        .clone()
        .or_else(|| item.correction.clone().filter(|c| !c.trim().is_empty()))
        .unwrap_or_else(|| answer.content.clone());
    let held_by_me = item.claimed_by_id == Some(reviewer.user.id);
    Ok(ItemPage {
        layout: Layout::load(&state, &reviewer.visitor, None).await?,
        query: filters.query(),
        thread,
        answer: view(answer),
        siblings,
        events,
        held_by_me,
        held_by_other: item.claimed_by.clone().filter(|_| !held_by_me),
        held_until: item.claimed_until.map(utc_minute).unwrap_or_default(),
        prefill,
        owner_tags: item
            .tags
            .as_deref()
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(tag_name)
            .collect(),
        rating: rating_name(item.rating),
        reason: item.reason.as_deref().and_then(tag_name),
        tags: FeedbackTag::ALL
            .into_iter()
            .map(FeedbackTag::as_str)
            .collect(),
        max_chars: state.config.max_message_chars,
        item,
    })
}

/// A stored tag's name, if it is a tag (the page words it in the reader's language).
fn tag_name(name: &str) -> Option<&'static str> {
    FeedbackTag::parse(name).map(FeedbackTag::as_str)
}

pub async fn accept_answer(
    State(state): State<AppState>,
    reviewer: Reviewer,
    AnswerId(id): AnswerId,
    AppQuery(filters): AppQuery<Filters>,
) -> Result<Redirect, AppError> {
    decide(&state, &reviewer, id, &filters, Verdict::Accept).await
}

#[derive(Deserialize)]
pub struct EditForm {
    #[serde(default)]
    content: String,
}

pub async fn edit_answer(
    State(state): State<AppState>,
    reviewer: Reviewer,
    AnswerId(id): AnswerId,
    AppQuery(filters): AppQuery<Filters>,
    AppForm(form): AppForm<EditForm>,
) -> Result<Redirect, AppError> {
    let content = validate_edit(&form.content, state.config.max_message_chars)?;
    decide(&state, &reviewer, id, &filters, Verdict::Edit(content)).await
}

#[derive(Deserialize)]
pub struct RejectForm {
    #[serde(default)]
    reason: String,
}

pub async fn reject_answer(
    State(state): State<AppState>,
    reviewer: Reviewer,
    AnswerId(id): AnswerId,
    AppQuery(filters): AppQuery<Filters>,
    AppForm(form): AppForm<RejectForm>,
) -> Result<Redirect, AppError> {
    let reason = match form.reason.trim() {
        "" => {
            return Err(AppError::Invalid(Text::new("error-reject-no-reason")));
        }
        name => FeedbackTag::parse(name).ok_or_else(|| {
            let names: Vec<&str> = FeedbackTag::ALL.iter().map(|t| t.as_str()).collect();
            AppError::Invalid(
                Text::new("error-reject-reason")
                    .arg("reason", name)
                    .arg("reasons", names.join(", ")),
            )
        })?,
    };
    decide(&state, &reviewer, id, &filters, Verdict::Reject(reason)).await
}

/// Skip: gives the answer back to the queue (if this reviewer held it) and moves on.
pub async fn skip_answer(
    State(state): State<AppState>,
    reviewer: Reviewer,
    AnswerId(id): AnswerId,
    AppQuery(filters): AppQuery<Filters>,
) -> Result<Redirect, AppError> {
    let found = update_claim_released(
        &mut *state.db.acquire().await?,
        id,
        reviewer.user.id,
        state.site.data_policy,
        state.clock.now_ms(),
    )
    .await?;
    if !found {
        return Err(AppError::NotFound(Thing::Answer));
    }
    Ok(next_after(id, &filters))
}

async fn decide(
    state: &AppState,
    reviewer: &Reviewer,
    id: i64,
    filters: &Filters,
    verdict: Verdict<'_>,
) -> Result<Redirect, AppError> {
    let decision = update_review(
        &mut *state.db.acquire().await?,
        id,
        reviewer.user.id,
        state.site.data_policy,
        verdict,
        state.clock.now_ms(),
    )
    .await?;
    match decision {
        Decision::Saved => {
            let state = match verdict {
                Verdict::Accept => ReviewState::Accepted,
                Verdict::Edit(_) => ReviewState::Edited,
                Verdict::Reject(_) => ReviewState::Rejected,
            };
            tracing::info!(
                reviewer = reviewer.user.id,
                answer = id,
                state = state.as_str(),
                "answer reviewed"
            );
            Ok(next_after(id, filters))
        }
        Decision::NotFound => Err(AppError::NotFound(Thing::Answer)),
        Decision::Held { by, until } => Err(AppError::Conflict(
            Text::new("error-review-held")
                .arg("by", by)
                .arg("until", utc_minute(until)),
        )),
    }
}

/// The next answer after `id`, with the same filters.
fn next_after(id: i64, filters: &Filters) -> Redirect {
    let query = [filters.query(), format!("after={id}")]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("&");
    Redirect::to(&format!("/review/next?{query}"))
}

fn with_query(path: &str, query: &str) -> String {
    let query = query.trim_start_matches('&');
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{query}")
    }
}

/// Checks a reviewer's edit: the answer as it should have been.
fn validate_edit(content: &str, max_chars: usize) -> Result<&str, AppError> {
    if content.trim().is_empty() {
        return Err(AppError::Invalid(Text::new("error-edit-empty")));
    }
    if has_control_characters(content) {
        return Err(AppError::Invalid(Text::new("error-edit-control")));
    }
    let chars = typed_chars(content);
    if chars > max_chars {
        return Err(AppError::Invalid(
            Text::new("error-edit-long")
                .arg("chars", chars)
                .arg("over", chars - max_chars)
                .arg("max", max_chars),
        ));
    }
    Ok(content)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edit_must_have_text_no_control_characters_and_fit_the_limit() {
        assert_eq!(validate_edit("Better.", 10).unwrap(), "Better.");
        assert_eq!(validate_edit("줄\n바꿈\t", 10).unwrap(), "줄\n바꿈\t");
        for bad in ["", "  \n ", "nul\0", "escape\u{1b}[31m", "eleven char"] {
            assert!(
                matches!(validate_edit(bad, 10), Err(AppError::Invalid(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn next_keeps_the_filters_and_moves_past_the_answer() {
        let filters = Filters {
            app: "chat".into(),
            page: "2".into(),
            ..Filters::default()
        };
        let location = |r: Redirect| {
            use axum::response::IntoResponse;
            r.into_response().headers()["location"]
                .to_str()
                .unwrap()
                .to_string()
        };
        assert_eq!(
            location(next_after(7, &filters)),
            "/review/next?app=chat&after=7"
        );
        assert_eq!(
            location(next_after(7, &Filters::default())),
            "/review/next?after=7"
        );
    }
}
