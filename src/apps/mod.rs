//! Prompt apps: a builder's own service in one file, `apps/<name>.prompt`, in Google's
//! dotprompt format (YAML front matter and a Handlebars template). Each file is parsed,
//! checked and compiled once, at start ([`Apps::load`]); a run only renders
//! ([`Apps::render`]), into the same messages the reference implementation produces.
//!
//! - `catalog.rs` — the apps being served, reloaded on change in debug builds.
//! - `document.rs` — the file taken apart, and the typed front matter.
//! - `picoschema.rs` — Picoschema to JSON Schema.
//! - `load.rs` — from a file to a checked [`App`].
//! - `template.rs` — Handlebars with dotprompt's helpers and JavaScript's semantics.
//! - `variables.rs` — the template's variables checked against the input schema.
//! - `messages.rs` — rendered text to chat messages at the role markers.
//! - `strict.rs` — the output schema linted for OpenAI's strict structured outputs.
//! - `form.rs` — the page's form, built from the input schema.
//! - `validate.rs` — a run's input (a form or JSON) and a model's answer against the schemas.
//! - `explain.rs` — the schema validator's errors in plain English.
//! - `html.rs` — a structured answer as escaped, readable HTML.
//! - `starter.rs` — the commented starter file `promptship apps new` writes.
//! - `js.rs` — JavaScript's printing, `JSON.stringify`, truthiness and key order.

mod catalog;
mod document;
mod explain;
mod form;
mod html;
mod js;
mod load;
mod messages;
pub mod picoschema;
mod starter;
pub mod strict;
mod template;
mod validate;
mod variables;

use std::{
    collections::BTreeMap,
    fmt,
    path::{Path, PathBuf},
    sync::Arc,
};

use handlebars::Handlebars;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{
    config::{Config, Site},
    i18n::Lang,
};

pub use catalog::Catalog;
pub use form::{Field, FieldKind, Form};
pub use html::output_html;
pub use load::{templates_compiled, valid_name};
pub use messages::{PromptMessage, PromptRole};
pub use starter::{STARTER, write_starter};
pub use validate::{FieldError, input_from_form, validate_input, validate_output};

/// The folder apps are read from when `APPS_DIR` is not set.
pub const DEFAULT_DIR: &str = "apps";

/// Every app of the site, checked and compiled, sorted by name.
pub struct Apps {
    list: Vec<App>,
    /// Each app's compiled template, under the app's name.
    templates: Handlebars<'static>,
}

/// One prompt app, as its file declares it.
#[derive(Clone, Debug)]
pub struct App {
    /// The file's stem: lowercase letters, digits and `-`; the app's URL and API name.
    pub name: String,
    /// The SHA-256 of the file's bytes: which exact prompt a run used.
    pub version: Version,
    /// The file it was read from.
    pub file: PathBuf,
    /// `promptship.title`, or the name.
    pub title: String,
    /// `promptship.title_ko`: the title in Korean.
    pub title_ko: Option<String>,
    /// `description`: one line on what the app does.
    pub description: Option<String>,
    /// `promptship.description_ko`: the description in Korean.
    pub description_ko: Option<String>,
    /// `promptship.icon`: an emoji or short text for the gallery card.
    pub icon: Option<String>,
    /// `model`: a name from the site's `[models]`, or the site's own model; `None` for
    /// the site's model.
    pub model: Option<String>,
    /// `config`: the model's settings.
    pub config: ModelConfig,
    /// `input.schema` as JSON Schema (always an object schema); `None` when the app
    /// takes no input.
    pub input_schema: Option<Value>,
    /// `input.default`: values for fields a run leaves out.
    pub input_defaults: Map<String, Value>,
    /// `output.format`: text (the default), JSON by `output_schema`, or an image.
    pub output_format: OutputFormat,
    /// `output.schema` as JSON Schema, for JSON apps; it passes OpenAI's strict mode.
    pub output_schema: Option<Value>,
    /// `promptship.sample`: an input to show and to test the app with.
    pub sample: Option<Map<String, Value>>,
    /// `promptship.fields`: how the form shows an input field (by field name).
    pub fields: BTreeMap<String, FieldHint>,
    /// `promptship.fields_ko`: a form field's label and help in Korean (by field name).
    pub fields_ko: BTreeMap<String, FieldText>,
    /// The page's form, built from `input_schema`, or why the app is API-only.
    pub form: Form,
    /// `input_schema` compiled once, to check every run's input.
    input_validator: Option<Arc<jsonschema::Validator>>,
    /// `output_schema` compiled once, to check every JSON answer.
    output_validator: Option<Arc<jsonschema::Validator>>,
}

/// `config:` in dotprompt's names; the keys an OpenAI-compatible API takes.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ModelConfig {
    pub temperature: Option<f64>,
    pub max_output_tokens: Option<u32>,
    pub top_p: Option<f64>,
    pub stop_sequences: Option<Vec<String>>,
    pub presence_penalty: Option<f64>,
    pub frequency_penalty: Option<f64>,
    pub seed: Option<i64>,
    /// An image app's picture size for the Images API: `WIDTHxHEIGHT` or `auto`.
    pub size: Option<String>,
}

/// `output.format`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    /// A text answer, streamed like chat.
    #[default]
    Text,
    /// A JSON answer that follows `output.schema` (`response_format: json_schema`).
    Json,
    /// An image generated from the rendered prompt.
    Image,
}

impl OutputFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            OutputFormat::Text => "text",
            OutputFormat::Json => "json",
            OutputFormat::Image => "image",
        }
    }
}

/// `promptship.fields`: how the form shows a text field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldHint {
    /// Several lines (notes, an article, a transcript).
    Textarea,
    /// One line.
    Line,
}

/// `promptship.fields_ko`: what the form shows for a field in Korean, instead of the
/// schema's title (or name) and description.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldText {
    pub label: Option<String>,
    pub help: Option<String>,
}

/// Korean text when the file gives it (and it is not blank), else the plain text.
fn in_lang<'a>(lang: Lang, plain: &'a str, ko: Option<&'a str>) -> &'a str {
    match ko {
        Some(ko) if lang == Lang::Ko && !ko.trim().is_empty() => ko,
        _ => plain,
    }
}

impl App {
    /// The title in `lang`: `promptship.title_ko` for Korean, else `promptship.title`.
    pub fn title_in(&self, lang: Lang) -> &str {
        in_lang(lang, &self.title, self.title_ko.as_deref())
    }

    /// The description in `lang`; empty when the file has none.
    pub fn description_in(&self, lang: Lang) -> &str {
        in_lang(
            lang,
            self.description.as_deref().unwrap_or_default(),
            self.description_ko.as_deref(),
        )
    }

    /// A form field's label in `lang`.
    pub fn label_in<'a>(&'a self, field: &'a Field, lang: Lang) -> &'a str {
        let ko = self.fields_ko.get(&field.name);
        in_lang(lang, &field.label, ko.and_then(|t| t.label.as_deref()))
    }

    /// A form field's help in `lang`, if it has any.
    pub fn help_in<'a>(&'a self, field: &'a Field, lang: Lang) -> Option<&'a str> {
        let ko = self.fields_ko.get(&field.name);
        let help = in_lang(
            lang,
            field.help.as_deref().unwrap_or_default(),
            ko.and_then(|t| t.help.as_deref()),
        );
        (!help.is_empty()).then_some(help)
    }
}

/// The SHA-256 of an app file, in lowercase hex.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Version(String);

impl Version {
    pub fn of(bytes: &[u8]) -> Self {
        use sha2::{Digest, Sha256};
        Self(
            Sha256::digest(bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        )
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first 8 hex digits, for display.
    pub fn short(&self) -> &str {
        &self.0[..8]
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What is wrong in an app file: where, what, and how to fix it.
#[derive(Clone, Debug, PartialEq)]
pub struct AppFileError {
    pub file: String,
    /// The line in the file (1-based), when known.
    pub line: Option<usize>,
    pub problem: String,
    pub fix: String,
}

impl fmt::Display for AppFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(
                f,
                "{}:{line}: {}; fix: {}",
                self.file, self.problem, self.fix
            ),
            None => write!(f, "{}: {}; fix: {}", self.file, self.problem, self.fix),
        }
    }
}

/// Every problem found in the apps folder, reported together.
#[derive(Debug)]
pub struct AppsError(pub Vec<AppFileError>);

impl fmt::Display for AppsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid prompt app(s) ({} problem(s)):", self.0.len())?;
        for problem in &self.0 {
            write!(f, "\n  - {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for AppsError {}

/// Why a run's prompt could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("no app is named `{0}`")]
    UnknownApp(String),
    #[error(
        "the input field `{0}` contains `<<<dotprompt:`, which is reserved for the template's role markers"
    )]
    ReservedText(String),
    #[error("the template could not be rendered: {0}")]
    Template(String),
}

/// One file's result, for `promptship apps check`.
pub struct Checked {
    /// The app's name (the file's stem).
    pub name: String,
    /// Empty when the app is valid.
    pub problems: Vec<AppFileError>,
}

impl Apps {
    /// The apps of the folder `APPS_DIR` names, or of `apps/` when it is not set (an
    /// absent `apps/` is no apps; an absent `APPS_DIR` folder is an error).
    pub fn from_config(config: &Config, site: &Site) -> Result<Self, AppsError> {
        Self::load(&folder(config)?, site)
    }

    /// Every `*.prompt` file of `dir`, checked against the site's models; all the
    /// problems of all the files at once.
    pub fn load(dir: &Path, site: &Site) -> Result<Self, AppsError> {
        let files = files(dir)?;
        // Files are independent: they are read and checked on every core at once, which
        // halves a start's cost on two (docs/benchmarks.md), and kept in name order.
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, files.len().max(1));
        let chunk = files.len().div_ceil(threads).max(1);
        let loaded: Vec<_> = std::thread::scope(|scope| {
            let workers: Vec<_> = files
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || {
                        part.iter()
                            .map(|file| load::load(file, site))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|worker| worker.join().expect("loading an app panicked"))
                .collect()
        });
        let mut templates = template::registry();
        let mut list = Vec::new();
        let mut problems = Vec::new();
        for result in loaded {
            match result {
                Ok((app, compiled)) => {
                    templates.register_template(&app.name, compiled);
                    list.push(app);
                }
                Err(found) => problems.extend(found),
            }
        }
        if !problems.is_empty() {
            return Err(AppsError(problems));
        }
        Ok(Self { list, templates })
    }

    /// Each file's problems (none for a valid app), for `promptship apps check`.
    pub fn check(config: &Config, site: &Site) -> Result<Vec<Checked>, AppsError> {
        let files = files(&folder(config)?)?;
        Ok(files
            .iter()
            .map(|file| Checked {
                name: load::stem(file),
                problems: load::load(file, site).err().unwrap_or_default(),
            })
            .collect())
    }

    /// The apps, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = &App> {
        self.list.iter()
    }

    pub fn get(&self, name: &str) -> Option<&App> {
        self.list.iter().find(|app| app.name == name)
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The messages of app `name` for `input` (merged over the app's defaults), exactly
    /// as dotprompt renders them. The input is assumed valid for the schema: validating
    /// it is the caller's.
    pub fn render(
        &self,
        name: &str,
        input: &Map<String, Value>,
    ) -> Result<Vec<PromptMessage>, RenderError> {
        let app = self
            .get(name)
            .ok_or_else(|| RenderError::UnknownApp(name.to_string()))?;
        render(&self.templates, app, input)
    }
}

impl fmt::Debug for Apps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.list.iter().map(|app| &app.name))
            .finish()
    }
}

fn render(
    templates: &Handlebars<'static>,
    app: &App,
    input: &Map<String, Value>,
) -> Result<Vec<PromptMessage>, RenderError> {
    // `{ ...input.default, ...input }`, as dotprompt merges them.
    let mut data = app.input_defaults.clone();
    for (key, value) in input {
        data.insert(key.clone(), value.clone());
    }
    for (key, value) in &data {
        if holds_marker(key, value) {
            return Err(RenderError::ReservedText(key.clone()));
        }
    }
    let data = js::in_key_order(Value::Object(data));
    let rendered = templates
        .render(&app.name, &data)
        .map_err(|e| RenderError::Template(e.to_string()))?;
    Ok(messages::to_messages(&rendered))
}

/// Whether a key or text anywhere in the value could forge a role marker.
fn holds_marker(key: &str, value: &Value) -> bool {
    key.contains(messages::MARKER_START)
        || match value {
            Value::String(s) => s.contains(messages::MARKER_START),
            Value::Array(items) => items.iter().any(|item| holds_marker("", item)),
            Value::Object(fields) => fields.iter().any(|(k, v)| holds_marker(k, v)),
            _ => false,
        }
}

/// The apps folder: `APPS_DIR`, or `apps` in the working directory.
pub fn dir(config: &Config) -> PathBuf {
    config
        .apps_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DIR))
}

/// The apps folder, which must exist when `APPS_DIR` names it.
fn folder(config: &Config) -> Result<PathBuf, AppsError> {
    match &config.apps_dir {
        None => Ok(dir(config)),
        Some(dir) if dir.is_dir() => Ok(dir.clone()),
        Some(dir) => Err(AppsError(vec![AppFileError {
            file: dir.display().to_string(),
            line: None,
            problem: "APPS_DIR is not a folder".into(),
            fix: "point APPS_DIR at the folder of your .prompt files, or unset it for `apps`"
                .into(),
        }])),
    }
}

/// The `*.prompt` files of `dir`, sorted; none when `dir` does not exist.
fn files(dir: &Path) -> Result<Vec<PathBuf>, AppsError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(AppsError(vec![AppFileError {
                file: dir.display().to_string(),
                line: None,
                problem: format!("the apps folder cannot be read ({e})"),
                fix: "make it readable by the server's user".into(),
            }]));
        }
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "prompt") && path.is_file())
        .collect();
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests;
