//! The new batch form: its page, and the upload or seed it posts, checked whole before
//! anything is saved.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::{Multipart, State, multipart::MultipartRejection},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde_json::{Value, json};

use super::{describe_bytes, too_large};
use crate::{
    AppState,
    apps::Apps,
    auth::{Admin, Visitor},
    batches::{
        Target,
        generate::Seed,
        upload::{self, Format, RowError, UploadError},
    },
    db::batches::{BatchSource, BatchState, NewBatch, insert_batch, insert_item},
    error::AppError,
    i18n::Text,
    routes::pages::Layout,
};

/// Most concurrent items of one batch: a batch shares the model server with visitors.
const MAX_CONCURRENCY: i64 = 8;

/// Longest batch name, in characters.
const NAME_CHARS: usize = 200;

#[derive(Template, WebTemplate)]
#[template(path = "batch_new.html")]
pub struct NewBatchPage {
    layout: Layout,
    /// `(name, title)` of every app served.
    apps: Vec<(String, String)>,
    form: NewBatchForm,
    /// Why the last submission was refused, and its bad rows.
    problem: Option<Text>,
    rows: Vec<RowError>,
    max_upload: String,
    max_rows: usize,
    name_chars: usize,
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
    problem: Option<Text>,
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
        name_chars: NAME_CHARS,
    })
}

/// Why a new batch is refused: the status, and what the form shows.
struct Refusal {
    status: StatusCode,
    problem: Text,
    rows: Vec<RowError>,
}

impl Refusal {
    fn invalid(problem: Text) -> Self {
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            problem,
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
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, AppError> {
    let parts = read_parts(multipart).await?;
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
        Some(name) => Err(Refusal::invalid(
            Text::new("batch-field-not-utf8").arg("field", name),
        )),
        None => save_batch(&state, &apps, admin.id, &form, file).await,
    };
    match outcome {
        Ok(id) => {
            state.batches.wake();
            tracing::info!(
                admin = admin.id,
                batch = id,
                "admin started a dataset batch"
            );
            Ok(Redirect::to(&format!("/admin/batches/{id}")).into_response())
        }
        Err(refusal) => {
            let page =
                new_batch_page(&state, &visitor, form, Some(refusal.problem), refusal.rows).await?;
            Ok((refusal.status, page).into_response())
        }
    }
}

/// One field of the form: its name, the file's name for a file, and the bytes.
struct Part {
    name: String,
    filename: Option<String>,
    data: Vec<u8>,
}

/// The form's fields, read whole: the body is within the upload cap already
/// (`DefaultBodyLimit` on the route).
async fn read_parts(
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Vec<Part>, AppError> {
    let unreadable = |detail: String| {
        AppError::BadRequest(Text::new("batch-not-multipart").arg("detail", detail))
    };
    let mut multipart = multipart.map_err(|e| unreadable(e.body_text()))?;
    let mut parts = Vec::new();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| unreadable(e.body_text()))?
    {
        let name = field.name().unwrap_or_default().to_string();
        let filename = field.file_name().map(str::to_string);
        let data = field.bytes().await.map_err(|e| unreadable(e.body_text()))?;
        parts.push(Part {
            name,
            filename,
            data: data.to_vec(),
        });
    }
    Ok(parts)
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
        return Err(Refusal::invalid(
            Text::new("batch-name").arg("max", NAME_CHARS),
        ));
    }
    if !(1..=MAX_CONCURRENCY).contains(&form.concurrency) {
        return Err(Refusal::invalid(
            Text::new("batch-bad-concurrency").arg("max", MAX_CONCURRENCY),
        ));
    }
    let target = if form.target.is_empty() {
        Target::Chat {
            max_chars: state.config.max_message_chars,
        }
    } else {
        Target::App(apps.get(&form.target).ok_or_else(|| {
            Refusal::invalid(Text::new("batch-no-app").arg("app", form.target.as_str()))
        })?)
    };
    let max_rows = state.config.batch_max_rows;
    let saved = match form.source.as_str() {
        "upload" => {
            let Some((filename, bytes)) = file else {
                return Err(Refusal::invalid(Text::new("batch-no-file")));
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
                Refusal::invalid(
                    Text::new("batch-file-format").arg("file", format!("{filename:?}")),
                )
            })?;
            let inputs = upload::read_inputs(&bytes, format, &target, max_rows).map_err(
                |error| match error {
                    UploadError::Rows(rows) => Refusal {
                        status: StatusCode::UNPROCESSABLE_ENTITY,
                        problem: Text::new("upload-rows").arg("count", rows.len()),
                        rows,
                    },
                    other => Refusal::invalid(other.text()),
                },
            )?;
            insert_uploaded(state, admin_id, form, &target, &inputs).await
        }
        "generate" => {
            let seed = read_seed(form, &target, max_rows)?;
            insert_generated(state, admin_id, form, &target, &seed).await
        }
        _ => return Err(Refusal::invalid(Text::new("batch-no-source"))),
    };
    saved.map_err(|error| {
        tracing::error!(%error, "cannot save a new batch");
        Refusal {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            problem: Text::new("batch-not-saved"),
            rows: Vec::new(),
        }
    })
}

/// The seed of a generated batch, from the form: a description, example inputs (JSON
/// lines, each checked like an upload's row) and a count.
fn read_seed(form: &NewBatchForm, target: &Target<'_>, max_rows: usize) -> Result<Seed, Refusal> {
    if form.description.is_empty() {
        return Err(Refusal::invalid(Text::new("batch-no-description")));
    }
    if !(1..=max_rows).contains(&form.count) {
        return Err(Refusal::invalid(
            Text::new("batch-bad-count").arg("max", max_rows),
        ));
    }
    let examples = upload::read_inputs(form.examples.as_bytes(), Format::Jsonl, target, max_rows)
        .map_err(|error| match error {
        UploadError::Empty => Refusal::invalid(Text::new("batch-no-examples")),
        UploadError::Rows(rows) => Refusal {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            problem: Text::new("batch-bad-examples"),
            rows,
        },
        other => Refusal::invalid(other.text()),
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
