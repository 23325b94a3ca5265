//! The dataset batch pages, for admins: the list with each batch's progress, the form
//! that starts one (an upload, or inputs the model proposes), and a batch's page with
//! its progress bar, polled by htmx while it runs, its controls and its items.

mod form;

pub use form::{create_batch, show_new_batch};

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::{FromRequestParts, Path, State},
    http::{HeaderMap, request::Parts},
    response::{IntoResponse, Redirect, Response},
};

use super::{keys::utc_minute, pages::Layout, pages::is_htmx};
use crate::{
    AppState,
    auth::{Admin, Visitor},
    batches::{self, generate::Seed},
    chat,
    db::batches::{Batch, BatchSource, BatchState, find_batch, list_batches, list_items},
    error::{AppError, Thing},
    i18n::{Lang, Text},
};

/// Where the new batch form posts: `read_body` lets this path's body be as large as
/// `BATCH_MAX_UPLOAD_BYTES` plus [`FORM_ROOM`].
pub const UPLOAD_PATH: &str = "/admin/batches";

/// Room for the form's other fields beside the file.
pub const FORM_ROOM: usize = 64 * 1024;

/// Batches on the list, and items on a batch's page.
const LIST_ROWS: i64 = 200;
const ITEM_ROWS: i64 = 500;

#[derive(Template, WebTemplate)]
#[template(path = "batches.html")]
pub struct BatchesPage {
    layout: Layout,
    batches: Vec<BatchRow>,
}

/// One batch on the list.
pub struct BatchRow {
    id: i64,
    name: String,
    /// The app it runs; `None` for the chat prompt.
    app: Option<String>,
    state: &'static str,
    done: i64,
    failed: i64,
    total: i64,
    created: String,
}

pub async fn show_batches(
    State(state): State<AppState>,
    Admin(_): Admin,
    visitor: Visitor,
) -> Result<BatchesPage, AppError> {
    let batches = list_batches(&state.db, LIST_ROWS)
        .await?
        .into_iter()
        .map(|summary| BatchRow {
            id: summary.batch.id,
            state: summary.batch.state.as_str(),
            done: summary.counts.done,
            failed: summary.counts.failed,
            total: summary.counts.total(),
            created: utc_minute(summary.batch.created_at),
            app: summary.batch.app,
            name: summary.batch.name,
        })
        .collect();
    Ok(BatchesPage {
        layout: Layout::load(&state, &visitor, None).await?,
        batches,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "batch.html")]
pub struct BatchPage {
    layout: Layout,
    name: String,
    /// The app it runs; `None` for the chat prompt.
    app: Option<String>,
    created: String,
    view: ProgressView,
}

/// The part of a batch's page that changes while it runs: what htmx polls.
#[derive(Template, WebTemplate)]
#[template(path = "partials/batch_progress.html")]
pub struct ProgressPartial {
    view: ProgressView,
    lang: Lang,
}

pub struct ProgressView {
    id: i64,
    state: &'static str,
    reason: Option<Text>,
    resume_at: Option<String>,
    /// Still changing by itself: the page polls.
    active: bool,
    done: i64,
    failed: i64,
    pending: i64,
    running: i64,
    total: i64,
    finished: i64,
    eta: Option<Text>,
    /// For a generated batch: how many inputs were asked for, and dropped.
    wanted: Option<usize>,
    dropped: Option<(usize, usize)>,
    can_pause: bool,
    can_resume: bool,
    can_cancel: bool,
    items: Vec<ItemRow>,
}

pub struct ItemRow {
    position: i64,
    input: String,
    state: &'static str,
    link: Option<String>,
    error: Option<Text>,
}

/// The `{id}` of a batch route; anything but a number is a batch that does not exist.
pub struct BatchId(i64);

impl<S: Send + Sync> FromRequestParts<S> for BatchId {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let Path(id) = Path::<i64>::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::NotFound(Thing::Batch))?;
        Ok(Self(id))
    }
}

async fn found(state: &AppState, id: i64) -> Result<Batch, AppError> {
    find_batch(&state.db, id)
        .await?
        .ok_or(AppError::NotFound(Thing::Batch))
}

/// A batch's page; to htmx (polling), only its progress.
pub async fn show_batch(
    State(state): State<AppState>,
    Admin(_): Admin,
    visitor: Visitor,
    BatchId(id): BatchId,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let batch = found(&state, id).await?;
    let view = progress_view(&state, &batch).await?;
    if is_htmx(&headers) {
        let lang = visitor.lang;
        return Ok(ProgressPartial { view, lang }.into_response());
    }
    Ok(BatchPage {
        layout: Layout::load(&state, &visitor, None).await?,
        created: utc_minute(batch.created_at),
        app: batch.app,
        name: batch.name,
        view,
    }
    .into_response())
}

async fn progress_view(state: &AppState, batch: &Batch) -> Result<ProgressView, AppError> {
    let progress = batches::progress(state, batch).await?;
    let counts = progress.counts;
    let seed = (batch.source == BatchSource::Generate).then(|| Seed::parse(batch));
    let items = list_items(&state.db, batch.id, ITEM_ROWS, 0)
        .await?
        .into_iter()
        .map(|item| ItemRow {
            position: item.position,
            input: short(&item.input, 160),
            state: item.state.as_str(),
            link: match (&item.conversation_id, &batch.app) {
                (Some(id), Some(app)) => Some(format!("/apps/{app}/runs/{id}")),
                (Some(id), None) => Some(format!("/conversations/{id}")),
                (None, _) => None,
            },
            error: item.error.as_deref().map(chat::stored_error),
        })
        .collect();
    Ok(ProgressView {
        id: batch.id,
        state: batch.state.as_str(),
        // An admin's pause was stored in English before reasons were stored by id.
        reason: batch
            .reason
            .as_deref()
            .map(|reason| Text::from_stored(reason, &[Text::new("batch-paused-by-admin")])),
        resume_at: batch.resume_at.map(utc_minute),
        active: batch.state.is_active() || counts.running > 0,
        done: counts.done,
        failed: counts.failed,
        pending: counts.pending,
        running: counts.running,
        total: counts.total(),
        finished: counts.finished(),
        eta: progress.eta_secs.map(describe_eta),
        wanted: seed.as_ref().map(|s| s.count),
        dropped: seed.as_ref().map(|s| (s.duplicates, s.invalid)),
        can_pause: batch.state.is_active(),
        can_resume: batch.state == BatchState::Paused,
        can_cancel: matches!(
            batch.state,
            BatchState::Generating | BatchState::Running | BatchState::Paused
        ),
        items,
    })
}

pub async fn pause_batch(
    State(state): State<AppState>,
    Admin(admin): Admin,
    BatchId(id): BatchId,
) -> Result<Redirect, AppError> {
    let batch = found(&state, id).await?;
    if !batches::pause(&state, &batch).await? {
        return Err(AppError::Conflict(
            Text::new("batch-cannot-pause").arg("state", state_text(batch.state)),
        ));
    }
    tracing::info!(admin = admin.id, batch = id, "admin paused a batch");
    Ok(back_to(id))
}

pub async fn resume_batch(
    State(state): State<AppState>,
    Admin(admin): Admin,
    BatchId(id): BatchId,
) -> Result<Redirect, AppError> {
    let batch = found(&state, id).await?;
    if !batches::resume(&state, &batch).await? {
        return Err(AppError::Conflict(
            Text::new("batch-cannot-resume").arg("state", state_text(batch.state)),
        ));
    }
    tracing::info!(admin = admin.id, batch = id, "admin resumed a batch");
    Ok(back_to(id))
}

pub async fn cancel_batch(
    State(state): State<AppState>,
    Admin(admin): Admin,
    BatchId(id): BatchId,
) -> Result<Redirect, AppError> {
    let batch = found(&state, id).await?;
    if !batches::cancel(&state, &batch).await? {
        return Err(AppError::Conflict(
            Text::new("batch-cannot-cancel").arg("state", state_text(batch.state)),
        ));
    }
    tracing::info!(admin = admin.id, batch = id, "admin cancelled a batch");
    Ok(back_to(id))
}

fn back_to(id: i64) -> Redirect {
    Redirect::to(&format!("/admin/batches/{id}"))
}

/// A batch's state in words ("running", "실행 중").
fn state_text(state: BatchState) -> Text {
    Text::new("batch-state").arg("state", state.as_str())
}

/// What an upload over the cap is told.
pub fn too_large(cap: usize) -> Text {
    Text::new("batch-file-too-large").arg("size", describe_bytes(cap))
}

/// "5 MiB", "300 KiB", "512 bytes".
fn describe_bytes(bytes: usize) -> String {
    const KIB: usize = 1024;
    const MIB: usize = 1024 * KIB;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= MIB {
        format!("{:.1} MiB", bytes as f64 / MIB as f64)
    } else if bytes >= KIB {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// The time left: "about 40 s left", "about 3 min left", "about 2 h 5 min left".
fn describe_eta(secs: i64) -> Text {
    match secs {
        s if s < 60 => Text::new("batch-eta-seconds").arg("s", s),
        s if s < 3600 => Text::new("batch-eta-minutes").arg("min", (s + 59) / 60),
        s => Text::new("batch-eta-hours")
            .arg("h", s / 3600)
            .arg("min", (s % 3600) / 60),
    }
}

fn short(text: &str, chars: usize) -> String {
    let mut shortened: String = text.chars().take(chars).collect();
    if text.chars().count() > chars {
        shortened.push('…');
    }
    shortened
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_etas_read_naturally() {
        assert_eq!(describe_bytes(5 * 1024 * 1024), "5 MiB");
        assert_eq!(describe_bytes(300 * 1024), "300 KiB");
        assert_eq!(describe_bytes(100), "100 bytes");
        assert_eq!(describe_eta(42).to_string(), "about 42 s left");
        assert_eq!(describe_eta(121).to_string(), "about 3 min left");
        assert_eq!(describe_eta(7_500).to_string(), "about 2 h 5 min left");
        assert_eq!(describe_eta(7_500).in_lang(Lang::Ko), "약 2시간 5분 남음");
    }
}
