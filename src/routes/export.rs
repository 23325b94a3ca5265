//! The admin page's export download: `GET /admin/export` streams `train.jsonl` as it is
//! made, `GET /admin/export/manifest` runs the same export for its manifest alone.

use axum::{
    Json,
    body::Body,
    extract::State,
    http::header,
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::extract::AppQuery;
use crate::{
    AppState,
    auth::Admin,
    error::AppError,
    export::{
        Exporter, Options,
        manifest::Manifest,
        writer::{manifest_only, stream_lines},
    },
};

/// The admin page's export form (a GET, so the browser downloads the answer).
#[derive(Deserialize)]
pub struct ExportQuery {
    #[serde(default)]
    format: String,
    status: Option<String>,
    app: Option<String>,
    since: Option<String>,
}

impl ExportQuery {
    fn exporter(&self, state: &AppState) -> Result<Exporter, AppError> {
        let options = Options::parse(
            &self.format,
            self.status.as_deref(),
            self.app.as_deref(),
            self.since.as_deref(),
            None,
        )?;
        Exporter::new(state.db.clone(), &state.site, options)
    }
}

pub async fn download_export(
    State(state): State<AppState>,
    Admin(admin): Admin,
    AppQuery(query): AppQuery<ExportQuery>,
) -> Result<Response, AppError> {
    let mut exporter = query.exporter(&state)?;
    // Read up to the first line before answering: an export with nothing in it is a
    // refusal that says so, not an empty file.
    let first = exporter.first_lines().await?;
    let format = exporter.options().format.as_str();
    tracing::info!(admin = admin.id, format, "admin downloaded an export");
    let file = format!("promptship-{format}-{}-train.jsonl", state.clock.today());
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/jsonl; charset=utf-8".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        Body::from_stream(stream_lines(exporter, first)),
    )
        .into_response())
}

pub async fn show_export_manifest(
    State(state): State<AppState>,
    Admin(_): Admin,
    AppQuery(query): AppQuery<ExportQuery>,
) -> Result<Json<Manifest>, AppError> {
    Ok(Json(manifest_only(query.exporter(&state)?).await?))
}
