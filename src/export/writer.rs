//! Where an export's lines go: files in a folder (`promptship export`), or a download
//! streamed as it is made (the admin page).

use std::path::Path;

use bytes::Bytes;
use futures_util::Stream;
use tokio::io::{AsyncWriteExt, BufWriter};

use super::{Exporter, Line, checks::goes_to_train, manifest::Manifest};
use crate::{error::AppError, i18n::Text};

pub const TRAIN: &str = "train.jsonl";
pub const VALIDATION: &str = "validation.jsonl";

/// Writes the export into `dir` (made if missing): `train.jsonl` (and `validation.jsonl`
/// with a split), `manifest.json` and `dataset_info.json`. Nothing is made when no
/// answer matches, and existing files are never overwritten.
pub async fn write_files(mut exporter: Exporter, dir: &Path) -> Result<Manifest, AppError> {
    let first = exporter.first_lines().await?;
    let split = exporter.options().split;
    let mut names = vec![TRAIN];
    if split.is_some() {
        names.push(VALIDATION);
    }
    for name in names.iter().chain(&["manifest.json", "dataset_info.json"]) {
        if dir.join(name).exists() {
            return Err(AppError::Invalid(
                Text::new("export-out-exists").arg("path", dir.join(name).display().to_string()),
            ));
        }
    }
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(|e| io_error(dir, e))?;
    let mut train = create(&dir.join(TRAIN)).await?;
    let mut validation = match split {
        Some(_) => Some(create(&dir.join(VALIDATION)).await?),
        None => None,
    };
    let (mut in_train, mut in_validation) = (0, 0);
    let mut lines = first;
    loop {
        for line in &lines {
            let file = match (&mut validation, split) {
                (Some(file), Some(share)) if !goes_to_train(&line.fingerprint, share) => {
                    in_validation += 1;
                    file
                }
                _ => {
                    in_train += 1;
                    &mut train
                }
            };
            write_line(file, line).await.map_err(|e| io_error(dir, e))?;
        }
        match exporter.next_lines().await? {
            Some(next) => lines = next,
            None => break,
        }
    }
    train.flush().await.map_err(|e| io_error(dir, e))?;
    if let Some(file) = &mut validation {
        file.flush().await.map_err(|e| io_error(dir, e))?;
    }
    let mut manifest = exporter.manifest;
    manifest.files.insert(TRAIN.into(), in_train);
    if validation.is_some() {
        manifest.files.insert(VALIDATION.into(), in_validation);
    }
    let info = super::manifest::dataset_info(
        super::Format::parse(manifest.format).expect("the manifest names its format"),
        &names,
    );
    for (name, value) in [
        (
            "manifest.json",
            serde_json::to_value(&manifest).map_err(anyhow::Error::from)?,
        ),
        ("dataset_info.json", info),
    ] {
        let text = serde_json::to_string_pretty(&value).map_err(anyhow::Error::from)? + "\n";
        tokio::fs::write(dir.join(name), text)
            .await
            .map_err(|e| io_error(dir, e))?;
    }
    Ok(manifest)
}

async fn create(path: &Path) -> Result<BufWriter<tokio::fs::File>, AppError> {
    let file = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .await
        .map_err(|e| io_error(path, e))?;
    Ok(BufWriter::with_capacity(64 * 1024, file))
}

async fn write_line(file: &mut BufWriter<tokio::fs::File>, line: &Line) -> std::io::Result<()> {
    file.write_all(line.text.as_bytes()).await?;
    file.write_all(b"\n").await
}

fn io_error(path: &Path, error: std::io::Error) -> AppError {
    AppError::Internal(anyhow::anyhow!("cannot write {}: {error}", path.display()))
}

/// The export as a stream of JSON lines, a page per chunk, starting with the lines
/// already read (`Exporter::first_lines`, which has checked there are some).
pub fn stream_lines(
    exporter: Exporter,
    first: Vec<Line>,
) -> impl Stream<Item = Result<Bytes, AppError>> + Send + 'static {
    futures_util::stream::unfold(
        (exporter, Some(first)),
        |(mut exporter, pending)| async move {
            let lines = match pending {
                Some(lines) => lines,
                None => loop {
                    match exporter.next_lines().await {
                        Ok(Some(lines)) if lines.is_empty() => continue,
                        Ok(Some(lines)) => break lines,
                        Ok(None) => return None,
                        Err(error) => {
                            tracing::error!(%error, "an export download failed mid-stream");
                            return Some((Err(error), (exporter, None)));
                        }
                    }
                },
            };
            let mut chunk = String::with_capacity(lines.iter().map(|l| l.text.len() + 1).sum());
            for line in &lines {
                chunk.push_str(&line.text);
                chunk.push('\n');
            }
            Some((Ok(Bytes::from(chunk)), (exporter, None)))
        },
    )
}

/// Runs the whole export without keeping its lines, for its manifest alone.
pub async fn manifest_only(mut exporter: Exporter) -> Result<Manifest, AppError> {
    let first = exporter.first_lines().await?;
    let mut written = first.len() as u64;
    while let Some(lines) = exporter.next_lines().await? {
        written += lines.len() as u64;
    }
    let mut manifest = exporter.manifest;
    manifest.files.insert(TRAIN.into(), written);
    Ok(manifest)
}
