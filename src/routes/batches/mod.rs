//! The dataset batch pages, for admins: the list with each batch's progress, the form
//! that starts one (an upload, or inputs the model proposes), and a batch's page with
//! its progress bar, polled by htmx while it runs, its controls and its items.

mod multipart;

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    body::Bytes,
    extract::{FromRequestParts, Path, State},
    http::{HeaderMap, StatusCode, request::Parts},
    response::{IntoResponse, Redirect, Response},
};
use serde_json::{Value, json};

use super::{keys::utc_minute, pages::Layout, pages::is_htmx};
use crate::{
    AppState,
    apps::Apps,
    auth::{Admin, Visitor},
    batches::{
        self, Target,
        generate::Seed,
        upload::{self, Format, RowError, UploadError},
    },
    db::batches::{
        Batch, BatchSource, BatchState, NewBatch, find_batch, insert_batch,
        insert_item, list_batches, list_items,
    },
    error::AppError,
};

/// Where the new batch form posts: `read_body` lets this path's body be as large as
/// `BATCH_MAX_UPLOAD_BYTES` plus [`FORM_ROOM`].
pub const UPLOAD_PATH: &str = "/admin/batches";

/// Room for the form's other fields beside the file.
pub const FORM_ROOM: usize = 64 * 1024;

/// Most concurrent items of one batch: a batch shares the model server with visitors.
const MAX_CONCURRENCY: i64 = 8;

/// Longest batch name, in characters.
const NAME_CHARS: usize = 200;

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
    target: String,
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
            target: target_label(&summary.batch),
            state: summary.batch.state.as_str(),
            done: summary.counts.done,
            failed: summary.counts.failed,
            total: summary.counts.total(),
            created: utc_minute(summary.batch.created_at),
            name: summary.batch.name,
        })
        .collect();
    Ok(BatchesPage {
        layout: Layout::load(&state, &visitor, None).await?,
        batches,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "batch_new.html")]
pub struct NewBatchPage {
    layout: Layout,
    /// `(name, title)` of every app served.
    apps: Vec<(String, String)>,
    form: NewBatchForm,
    /// Why the last submission was refused, and its bad rows.
    problem: Option<String>,
    rows: Vec<RowError>,
    max_upload: String,
    max_rows: usize,
}

/// What the form holds (sent back filled in when refused).
#[derive(Clone, Debug)]
pub struct NewBatchForm {
    name: String,
    /// An app's name; empty for the chat prompt.
    target: String,
    concurrency: i64,
    /// `upload` or `generate`.
    source: String,
    description: String,
    examples: String,
    count: usize,
}

impl Default for NewBatchForm {
    fn default() -> Self {
        Self {
            name: String::new(),
            target: String::new(),
            concurrency: 2,
            source: "upload".into(),
            description: String::new(),
            examples: String::new(),
            count: 20,
        }
    }
}

pub async fn show_new_batch(
    State(state): State<AppState>,
    Admin(_): Admin,
    visitor: Visitor,
) -> Result<NewBatchPage, AppError> {
    new_batch_page(&state, &visitor, NewBatchForm::default(), None, Vec::new()).await
}

async fn new_batch_page(
    state: &AppState,
    visitor: &Visitor,
    form: NewBatchForm,
    problem: Option<String>,
    rows: Vec<RowError>,
) -> Result<NewBatchPage, AppError> {
    let apps = state
        .apps
        .current()
        .iter()
        .map(|app| (app.name.clone(), app.title.clone()))
        .collect();
    Ok(NewBatchPage {
        layout: Layout::load(state, visitor, None).await?,
        apps,
        form,
        problem,
        rows,
        max_upload: describe_bytes(state.config.batch_max_upload_bytes),
        max_rows: state.config.batch_max_rows,
    })
}

/// Why a new batch is refused: the status, and what the form shows.
struct Refusal {
    status: StatusCode,
    problem: String,
    rows: Vec<RowError>,
}

impl Refusal {
    fn invalid(problem: impl Into<String>) -> Self {
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            problem: problem.into(),
            rows: Vec::new(),
        }
    }
}

/// Starts a batch from the form (`multipart/form-data`): checks everything, then saves
/// the batch with all its uploaded inputs in one transaction (or, for generated inputs,
/// the seed), and wakes the runner. A refusal shows the form again with every problem,
/// and saves nothing.
pub async fn create_batch(
    State(state): State<AppState>,
    Admin(admin): Admin,
    visitor: Visitor,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let Some(parts) = multipart::boundary(&headers).and_then(|b| multipart::parts(&body, &b))
    else {
        return Err(AppError::BadRequest(
            "Send the new batch form as multipart/form-data, as the page's form does.".into(),
        ));
    };
    let mut fields: HashMap<String, String> = HashMap::new();
    let mut file = None;
    let mut not_utf8 = None;
    for part in parts {
        if part.name == "file" {
            if !part.data.is_empty() {
                file = Some((part.filename.unwrap_or_default(), part.data));
            }
            continue;
        }
        match String::from_utf8(part.data) {
            Ok(text) => {
                fields.insert(part.name, text);
            }
            Err(_) => not_utf8 = Some(part.name),
        }
    }
    let form = read_form(&fields);
    let apps = state.apps.current();
    let outcome = match not_utf8 {
        Some(name) => Err(Refusal::invalid(format!(
            "The field `{name}` is not UTF-8 text: send it as UTF-8."
        ))),
        None => save_batch(&state, &apps, admin.id, &form, file).await,
    };
    match outcome {
        Ok(id) => {
            state.batches.wake();
            tracing::info!(admin = admin.id, batch = id, "admin started a dataset batch");
            Ok(Redirect::to(&format!("/admin/batches/{id}")).into_response())
        }
        Err(refusal) => {
            let page = new_batch_page(&state, &visitor, form, Some(refusal.problem), refusal.rows)
                .await?;
            Ok((refusal.status, page).into_response())
        }
    }
}

fn read_form(fields: &HashMap<String, String>) -> NewBatchForm {
    let field = |name: &str| fields.get(name).map(|v| v.trim().to_string());
    let defaults = NewBatchForm::default();
    NewBatchForm {
        name: field("name").unwrap_or_default(),
        target: field("target").unwrap_or_default(),
        concurrency: field("concurrency")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
        source: field("source").unwrap_or(defaults.source),
        description: field("description").unwrap_or_default(),
        examples: field("examples").unwrap_or_default(),
        count: field("count").and_then(|v| v.parse().ok()).unwrap_or(0),
    }
}

/// Checks the form and saves the batch; returns its id.
async fn save_batch(
    state: &AppState,
    apps: &Apps,
    admin_id: i64,
    form: &NewBatchForm,
    file: Option<(String, Vec<u8>)>,
) -> Result<i64, Refusal> {
    if form.name.is_empty() || form.name.chars().count() > NAME_CHARS {
        return Err(Refusal::invalid(format!(
            "Name the batch: 1 to {NAME_CHARS} characters."
        )));
    }
    if !(1..=MAX_CONCURRENCY).contains(&form.concurrency) {
        return Err(Refusal::invalid(format!(
            "Concurrency must be a whole number from 1 to {MAX_CONCURRENCY}."
        )));
    }
    let target = if form.target.is_empty() {
        Target::Chat {
            max_chars: state.config.max_message_chars,
        }
    } else {
        Target::App(apps.get(&form.target).ok_or_else(|| {
            Refusal::invalid(format!(
                "There is no app `{}`: pick one from the list.",
                form.target
            ))
        })?)
    };
    let max_rows = state.config.batch_max_rows;
    let saved = match form.source.as_str() {
        "upload" => {
            let Some((filename, bytes)) = file else {
                return Err(Refusal::invalid(
                    "Choose a CSV or JSONL file of inputs to upload.",
                ));
            };
            let cap = state.config.batch_max_upload_bytes;
            if bytes.len() > cap {
                return Err(Refusal {
                    status: StatusCode::PAYLOAD_TOO_LARGE,
                    problem: too_large(cap),
                    rows: Vec::new(),
                });
            }
            let format = Format::of_file(&filename).ok_or_else(|| {
                Refusal::invalid(format!(
                    "The file {filename:?} is neither .csv nor .jsonl: name it after its format."
                ))
            })?;
            let inputs = upload::read_inputs(&bytes, format, &target, max_rows).map_err(
                |error| match error {
                    UploadError::Rows(rows) => Refusal {
                        status: StatusCode::UNPROCESSABLE_ENTITY,
                        problem: UploadError::Rows(rows.clone()).to_string(),
                        rows,
                    },
                    other => Refusal::invalid(other.to_string()),
                },
            )?;
            insert_uploaded(state, admin_id, form, &target, &inputs).await
        }
        "generate" => {
            let seed = read_seed(form, &target, max_rows)?;
            insert_generated(state, admin_id, form, &target, &seed).await
        }
        _ => return Err(Refusal::invalid("Choose where the inputs come from.")),
    };
    saved.map_err(|error| {
        tracing::error!(%error, "cannot save a new batch");
        Refusal {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            problem: "The batch could not be saved: try again.".into(),
            rows: Vec::new(),
        }
    })
}

/// The seed of a generated batch, from the form: a description, example inputs (JSON
/// lines, each checked like an upload's row) and a count.
fn read_seed(form: &NewBatchForm, target: &Target<'_>, max_rows: usize) -> Result<Seed, Refusal> {
    if form.description.is_empty() {
        return Err(Refusal::invalid(
            "Describe the inputs the model should write.",
        ));
    }
    if !(1..=max_rows).contains(&form.count) {
        return Err(Refusal::invalid(format!(
            "The number of inputs must be from 1 to {max_rows}."
        )));
    }
    let examples = upload::read_inputs(form.examples.as_bytes(), Format::Jsonl, target, max_rows)
        .map_err(|error| match error {
            UploadError::Empty => Refusal::invalid(
                "Give at least one example input, as a JSON object on a line of its own.",
            ),
            UploadError::Rows(rows) => Refusal {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                problem: "Some example lines fail the schema: fix them.".into(),
                rows,
            },
            other => Refusal::invalid(other.to_string()),
        })?;
    Ok(Seed {
        description: form.description.clone(),
        examples,
        count: form.count,
        ..Seed::default()
    })
}

async fn insert_uploaded(
    state: &AppState,
    admin_id: i64,
    form: &NewBatchForm,
    target: &Target<'_>,
    inputs: &[Value],
) -> sqlx::Result<i64> {
    // One transaction: the batch and every input, or nothing.
    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    let id = insert_batch(
        &mut tx,
        &NewBatch {
            name: &form.name,
            app: target.app_name(),
            source: BatchSource::Upload,
            seed: None,
            state: BatchState::Running,
            concurrency: form.concurrency,
            created_by: admin_id,
        },
    )
    .await?;
    for (index, input) in inputs.iter().enumerate() {
        insert_item(&mut tx, id, index as i64 + 1, &input.to_string()).await?;
    }
    tx.commit().await?;
    Ok(id)
}

async fn insert_generated(
    state: &AppState,
    admin_id: i64,
    form: &NewBatchForm,
    target: &Target<'_>,
    seed: &Seed,
) -> sqlx::Result<i64> {
    let seed = json!(seed).to_string();
    let mut conn = state.db.acquire().await?;
    insert_batch(
        &mut conn,
        &NewBatch {
            name: &form.name,
            app: target.app_name(),
            source: BatchSource::Generate,
            seed: Some(&seed),
            state: BatchState::Generating,
            concurrency: form.concurrency,
            created_by: admin_id,
        },
    )
    .await
}

#[derive(Template, WebTemplate)]
#[template(path = "batch.html")]
pub struct BatchPage {
    layout: Layout,
    name: String,
    target: String,
    created: String,
    view: ProgressView,
}

/// The part of a batch's page that changes while it runs: what htmx polls.
#[derive(Template, WebTemplate)]
#[template(path = "partials/batch_progress.html")]
pub struct ProgressPartial {
    view: ProgressView,
}

pub struct ProgressView {
    id: i64,
    state: &'static str,
    reason: Option<String>,
    resume_at: Option<String>,
    /// Still changing by itself: the page polls.
    active: bool,
    done: i64,
    failed: i64,
    pending: i64,
    running: i64,
    total: i64,
    finished: i64,
    eta: Option<String>,
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
    error: Option<String>,
}

/// The `{id}` of a batch route; anything but a number is a batch that does not exist.
pub struct BatchId(i64);

impl<S: Send + Sync> FromRequestParts<S> for BatchId {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let Path(id) = Path::<i64>::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::NotFound("batch"))?;
        Ok(Self(id))
    }
}

async fn found(state: &AppState, id: i64) -> Result<Batch, AppError> {
    find_batch(&state.db, id)
        .await?
        .ok_or(AppError::NotFound("batch"))
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
        return Ok(ProgressPartial { view }.into_response());
    }
    Ok(BatchPage {
        layout: Layout::load(&state, &visitor, None).await?,
        target: target_label(&batch),
        created: utc_minute(batch.created_at),
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
            error: item.error,
        })
        .collect();
    Ok(ProgressView {
        id: batch.id,
        state: batch.state.as_str(),
        reason: batch.reason.clone(),
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
        return Err(AppError::Conflict(format!(
            "This batch is {}: only a running batch can be paused.",
            batch.state.as_str()
        )));
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
        return Err(AppError::Conflict(format!(
            "This batch is {}: only a paused batch can be resumed.",
            batch.state.as_str()
        )));
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
        return Err(AppError::Conflict(format!(
            "This batch is {}: it has nothing left to cancel.",
            batch.state.as_str()
        )));
    }
    tracing::info!(admin = admin.id, batch = id, "admin cancelled a batch");
    Ok(back_to(id))
}

fn back_to(id: i64) -> Redirect {
    Redirect::to(&format!("/admin/batches/{id}"))
}

/// "summarize", "chat".
fn target_label(batch: &Batch) -> String {
    match &batch.app {
        Some(app) => app.clone(),
        None => "chat".into(),
    }
}

/// What an upload over the cap is told.
pub fn too_large(cap: usize) -> String {
    format!(
        "The file is larger than {}, the most a batch accepts (BATCH_MAX_UPLOAD_BYTES): split it into smaller batches.",
        describe_bytes(cap)
    )
}

/// "5 MiB", "300 KiB", "512 bytes".
fn describe_bytes(bytes: usize) -> String {
    const KIB: usize = 1024;
    const MIB: usize = 1024 * KIB;
    if bytes >= MIB && bytes % MIB == 0 {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= MIB {
        format!("{:.1} MiB", bytes as f64 / MIB as f64)
    } else if bytes >= KIB {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// "about 40 s", "about 3 min", "about 2 h 5 min".
fn describe_eta(secs: i64) -> String {
    match secs {
        s if s < 60 => format!("about {s} s"),
        s if s < 3600 => format!("about {} min", (s + 59) / 60),
        s => format!("about {} h {} min", s / 3600, (s % 3600) / 60),
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
        assert_eq!(describe_eta(42), "about 42 s");
        assert_eq!(describe_eta(121), "about 3 min");
        assert_eq!(describe_eta(7_500), "about 2 h 5 min");
    }
}
