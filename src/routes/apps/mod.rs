//! The prompt apps' pages: the gallery (`/apps`), an app's form (`/apps/{name}`), a run's
//! result (`/apps/{name}/runs/{id}`), and the pictures image apps make (`/images/{hash}`).
//! The form works without JavaScript (the POST waits for the run, then redirects to its
//! result); with htmx the same POST streams the result into the page.

pub mod api;
pub mod openapi;

use std::{collections::HashMap, convert::Infallible};

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{
        IntoResponse, Redirect, Response,
        sse::{Event, Sse},
    },
};
use futures_util::{Stream, StreamExt, stream};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{
    extract::AppForm,
    feedback::FeedbackView,
    pages::{Layout, Meta, is_htmx},
};
use crate::{
    AppState,
    apps::{self, App, FieldError, FieldKind, OutputFormat},
    auth::Visitor,
    budget::Spender,
    chat::{self, Turn, TurnEvent},
    db::{
        Message,
        conversations::{find_conversation, find_run_input},
        feedback::{Feedback, find_feedback},
        images::find_image,
        messages::list_messages,
        shares::Pinned,
    },
    domain::{MessageStatus, Role},
    error::{AppError, FieldProblem, Thing},
    i18n::{Lang, Text},
    markdown,
};

/// An input checked against its app's schema, or every field's problem at once.
pub(crate) fn checked_input(app: &App, input: &Value) -> Result<Map<String, Value>, AppError> {
    apps::validate_input(app, input).map_err(|errors| AppError::InvalidFields(problems(errors)))
}

fn problems(errors: Vec<FieldError>) -> Vec<FieldProblem> {
    errors
        .into_iter()
        .map(|e| FieldProblem {
            field: e.field,
            message: e.message,
        })
        .collect()
}

/// A complete answer's output, as the app's format says: its text, its JSON value (checked
/// against the schema when it arrived), or its picture's path.
pub(crate) fn answer_output(format: OutputFormat, answer: &Message) -> Value {
    match (format, &answer.image) {
        (_, Some(hash)) => Value::String(format!("/images/{hash}")),
        (OutputFormat::Json, None) => serde_json::from_str(&answer.content).unwrap_or(Value::Null),
        _ => Value::String(answer.content.clone()),
    }
}

// ---------------------------------------------------------------------------------
// The gallery

struct Card {
    name: String,
    title: String,
    description: String,
    icon: String,
    format: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "apps.html")]
pub struct GalleryPage {
    layout: Layout,
    cards: Vec<Card>,
    /// A bad edit of an app file, while the last good version serves (debug builds).
    problem: Option<String>,
    /// The sidebar is part of the page, not swapped out of band.
    oob: bool,
}

pub async fn show_gallery(
    State(state): State<AppState>,
    visitor: Visitor,
) -> Result<GalleryPage, AppError> {
    let layout = Layout::load(&state, &visitor, None).await?;
    let lang = layout.lang;
    let apps = state.apps.current();
    let cards = apps
        .iter()
        .map(|app| Card {
            name: app.name.clone(),
            title: app.title_in(lang).to_string(),
            description: app.description_in(lang).to_string(),
            icon: app.icon.clone().unwrap_or_else(|| "✦".into()),
            format: app.output_format.as_str(),
        })
        .collect();
    Ok(GalleryPage {
        layout,
        cards,
        problem: state.apps.problem().map(|p| p.to_string()),
        oob: false,
    })
}

// ---------------------------------------------------------------------------------
// An app's page

/// A form field as the page shows it: its definition, its current value and its error.
pub struct FieldView {
    name: String,
    label: String,
    help: Option<String>,
    required: bool,
    kind: FieldKind,
    /// The text in the box (a list one item per line); for a checkbox, "on" or "".
    value: String,
    error: Option<String>,
}

impl FieldView {
    fn is_checked(&self) -> bool {
        !self.value.is_empty()
    }

    fn max_length(&self) -> Option<u64> {
        match &self.kind {
            FieldKind::Line { max_length } | FieldKind::Textarea { max_length } => *max_length,
            _ => None,
        }
    }

    fn bound(&self, upper: bool) -> Option<String> {
        match (&self.kind, upper) {
            (FieldKind::Integer { min, .. }, false) => min.map(|v| v.to_string()),
            (FieldKind::Integer { max, .. }, true) => max.map(|v| v.to_string()),
            (FieldKind::Number { min, .. }, false) => min.map(|v| v.to_string()),
            (FieldKind::Number { max, .. }, true) => max.map(|v| v.to_string()),
            _ => None,
        }
    }

    fn options(&self) -> &[String] {
        match &self.kind {
            FieldKind::Select { options } => options,
            _ => &[],
        }
    }

    fn kind_name(&self) -> &'static str {
        match self.kind {
            FieldKind::Line { .. } => "line",
            FieldKind::Textarea { .. } => "textarea",
            FieldKind::Select { .. } => "select",
            FieldKind::Integer { .. } => "integer",
            FieldKind::Number { .. } => "number",
            FieldKind::Checkbox => "checkbox",
            FieldKind::Lines => "lines",
        }
    }
}

/// What a run shows under the form.
pub struct ResultView {
    run_id: String,
    status: &'static str,
    format: &'static str,
    /// Still being written: the page appends the text as it streams.
    streaming: bool,
    /// A text answer's sanitized Markdown, or a JSON answer as readable HTML.
    html: String,
    /// A JSON answer, pretty-printed, for "copy JSON".
    json: Option<String>,
    /// An image answer's picture.
    image: Option<String>,
    /// Why the run has no result.
    error: Option<Text>,
    meta: Meta,
    /// The owner's feedback controls, once the run has ended.
    verdict: Option<FeedbackView>,
}

impl ResultView {
    /// With the owner's feedback controls, when the answer has ended with something to
    /// judge.
    fn judged(
        mut self,
        answer: &Message,
        feedback: Option<&Feedback>,
        max_correction: usize,
    ) -> Self {
        if matches!(
            answer.status,
            MessageStatus::Complete | MessageStatus::Interrupted
        ) {
            self.verdict = Some(FeedbackView::new(answer.id, feedback, max_correction));
        }
        self
    }

    fn new(app: &App, run_id: &str, answer: &Message) -> Self {
        let complete = answer.status == MessageStatus::Complete;
        let streaming = answer.status == MessageStatus::Streaming;
        let (html, json) = match app.output_format {
            OutputFormat::Json if complete => {
                match serde_json::from_str::<Value>(&answer.content) {
                    Ok(value) => (
                        apps::output_html(&value),
                        serde_json::to_string_pretty(&value).ok(),
                    ),
                    Err(_) => (String::new(), None),
                }
            }
            // A broken structured answer is never shown as a result.
            OutputFormat::Json => (String::new(), None),
            _ if streaming => (String::new(), None),
            _ => (markdown::to_safe_html(&answer.content), None),
        };
        Self {
            run_id: run_id.to_string(),
            status: answer.status.as_str(),
            format: app.output_format.as_str(),
            streaming,
            html,
            json,
            image: answer.image.clone(),
            error: crate::chat::answer_error(answer),
            meta: Meta::of(answer),
            verdict: None,
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "app.html")]
pub struct AppPage {
    layout: Layout,
    name: String,
    title: String,
    description: String,
    icon: String,
    format: &'static str,
    /// Why the app has no form (it runs through the API only).
    api_only: Option<String>,
    fields: Vec<FieldView>,
    has_sample: bool,
    /// Problems of the whole input (not of one field).
    form_error: Option<String>,
    result: Option<ResultView>,
    problem: Option<String>,
    /// Pinned shares, when the app is the site's home page (`home_app`).
    pub showcase: Vec<Pinned>,
    oob: bool,
}

impl AppPage {
    fn new(
        state: &AppState,
        layout: Layout,
        app: &App,
        values: &HashMap<String, String>,
        errors: &[FieldError],
    ) -> Self {
        let lang = layout.lang;
        let fields = app
            .form
            .fields()
            .iter()
            .map(|field| FieldView {
                name: field.name.clone(),
                label: app.label_in(field, lang).to_string(),
                help: app.help_in(field, lang).map(str::to_string),
                required: field.required,
                kind: field.kind.clone(),
                value: values.get(&field.name).cloned().unwrap_or_default(),
                error: errors
                    .iter()
                    .find(|e| e.field == field.name)
                    .map(|e| e.message.in_lang(lang)),
            })
            .collect();
        let form_error = errors
            .iter()
            .filter(|e| app.form.field(&e.field).is_none())
            .map(|e| e.message.in_lang(lang))
            .reduce(|a, b| format!("{a}; {b}"));
        Self {
            layout,
            name: app.name.clone(),
            title: app.title_in(lang).to_string(),
            description: app.description_in(lang).to_string(),
            icon: app.icon.clone().unwrap_or_else(|| "✦".into()),
            format: app.output_format.as_str(),
            api_only: match &app.form {
                apps::Form::ApiOnly { reason, .. } => Some(reason.clone()),
                apps::Form::Fields { .. } => None,
            },
            fields,
            has_sample: app.sample.is_some(),
            form_error,
            result: None,
            problem: state.apps.problem().map(|p| p.to_string()),
            showcase: Vec::new(),
            oob: false,
        }
    }
}

/// The text a form box shows for a value of the input.
fn form_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "on".into(),
        Value::Bool(false) | Value::Null => String::new(),
        Value::Array(items) => items.iter().map(form_text).collect::<Vec<_>>().join("\n"),
        other => other.to_string(),
    }
}

/// The form's boxes filled from an input (a run's, the sample, the defaults).
fn form_values(input: &Map<String, Value>) -> HashMap<String, String> {
    input
        .iter()
        .map(|(k, v)| (k.clone(), form_text(v)))
        .collect()
}

#[derive(Deserialize)]
pub struct AppQuery {
    /// `?sample`: fill the form with the app's sample input.
    sample: Option<String>,
}

pub async fn show_app(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(name): Path<String>,
    Query(query): Query<AppQuery>,
) -> Result<AppPage, AppError> {
    app_page(&state, &visitor, &name, query.sample.is_some()).await
}

/// An app's page with its form (empty, or filled with the sample).
pub async fn app_page(
    state: &AppState,
    visitor: &Visitor,
    name: &str,
    sample: bool,
) -> Result<AppPage, AppError> {
    let apps = state.apps.current();
    let app = apps.get(name).ok_or(AppError::NotFound(Thing::App))?;
    let layout = Layout::load(state, visitor, None).await?;
    let mut input = app.input_defaults.clone();
    if sample && let Some(sample) = &app.sample {
        input.extend(sample.clone());
    }
    Ok(AppPage::new(state, layout, app, &form_values(&input), &[]))
}

/// Runs an app from its form. A form with problems comes back with each field's message
/// (422) and its values kept; a run streams to htmx, or redirects to its result.
pub async fn run_app(
    State(state): State<AppState>,
    mut visitor: Visitor,
    Path(name): Path<String>,
    headers: HeaderMap,
    AppForm(pairs): AppForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let apps = state.apps.current();
    let app = apps.get(&name).ok_or(AppError::NotFound(Thing::App))?;
    let input = match apps::input_from_form(app, &pairs) {
        Ok(input) => input,
        Err(errors) if is_htmx(&headers) => {
            return Err(AppError::InvalidFields(problems(errors)));
        }
        Err(errors) => {
            let layout = Layout::load(&state, &visitor, None).await?;
            let values: HashMap<String, String> = pairs.into_iter().collect();
            let page = AppPage::new(&state, layout, app, &values, &errors);
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    // Checked before a guest is made: a refused run leaves nothing behind.
    let owner = visitor.owner_or_new_guest(&state).await?;
    let turn = chat::start_run(&state, &Spender::of(&visitor, owner), &apps, app, input).await?;
    if !is_htmx(&headers) {
        let run_id = turn.conversation.id.clone();
        turn.finish().await;
        return Ok(Redirect::to(&format!("/apps/{name}/runs/{run_id}")).into_response());
    }
    let max_correction = state.config.max_message_chars;
    let events = result_events(app.clone(), turn, max_correction, visitor.lang);
    Ok(Sse::new(events).into_response())
}

/// The result fragment swapped under the form.
#[derive(Template)]
#[template(path = "partials/app_result.html")]
struct ResultFragment {
    result: ResultView,
    lang: Lang,
}

/// The run's events in the shape the page's htmx and app.js expect: the empty result
/// first, a `run` event with its URL, `delta` events with JSON-encoded text, then the
/// result as the server renders it.
fn result_events(
    app: App,
    turn: Turn,
    max_correction: usize,
    lang: Lang,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let run_id = turn.conversation.id.clone();
    let app_name = app.name.clone();
    let render = move |answer: &Message| {
        let fragment = ResultFragment {
            // A new answer has no feedback yet.
            result: ResultView::new(&app, &run_id, answer).judged(answer, None, max_correction),
            lang,
        };
        match fragment.render() {
            Ok(html) => Event::default().data(html),
            Err(error) => {
                tracing::error!(%error, "cannot render a run's result");
                Event::default().event("reload").data("render failed")
            }
        }
    };
    let url = format!("/apps/{}/runs/{}", app_name, turn.conversation.id);
    let first = stream::iter([
        render(&turn.answer),
        Event::default().event("run").data(url),
    ]);
    let rest = stream::unfold(turn.events, |mut events| async move {
        events.recv().await.map(|event| (event, events))
    })
    .map(move |event| match event {
        TurnEvent::Delta(text) => Event::default()
            .event("delta")
            .data(Value::String(text).to_string()),
        TurnEvent::Done(answer) => render(&answer),
    });
    first.chain(rest).map(Ok)
}

/// A run's page: the app's form filled with the run's input, and its result. Only the
/// run's owner finds it.
pub async fn show_run(
    State(state): State<AppState>,
    visitor: Visitor,
    Path((name, id)): Path<(String, String)>,
) -> Result<AppPage, AppError> {
    let apps = state.apps.current();
    let app = apps.get(&name).ok_or(AppError::NotFound(Thing::App))?;
    let owner = visitor.owner().ok_or(AppError::NotFound(Thing::Run))?;
    let mut conn = state.db.acquire().await?;
    let conversation = find_conversation(&mut conn, &owner, &id)
        .await?
        .filter(|c| c.app.as_deref() == Some(name.as_str()))
        .ok_or(AppError::NotFound(Thing::Run))?;
    let input = find_run_input(&mut conn, &owner, &id)
        .await?
        .and_then(|json| serde_json::from_str::<Map<String, Value>>(&json).ok())
        .unwrap_or_default();
    let answer = list_messages(&mut conn, &id)
        .await?
        .into_iter()
        .rfind(|m| m.role == Role::Assistant)
        .ok_or(AppError::NotFound(Thing::Run))?;
    let feedback = find_feedback(&mut conn, answer.id).await?;
    let layout = Layout::load_on(&mut conn, &state, &visitor, Some(&conversation.id)).await?;
    drop(conn);
    let mut page = AppPage::new(&state, layout, app, &form_values(&input), &[]);
    page.result = Some(ResultView::new(app, &conversation.id, &answer).judged(
        &answer,
        feedback.as_ref(),
        state.config.max_message_chars,
    ));
    Ok(page)
}

// ---------------------------------------------------------------------------------
// Pictures

/// A picture an image app made, by the SHA-256 of its bytes: the same URL is always the
/// same bytes, so it is cached for good.
pub async fn show_image(
    State(state): State<AppState>,
    Path(hash): Path<String>,
) -> Result<Response, AppError> {
    if hash.len() != 64 || !hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(AppError::NotFound(Thing::Image));
    }
    let image = find_image(&state.db, &hash)
        .await?
        .ok_or(AppError::NotFound(Thing::Image))?;
    let content_type =
        HeaderValue::from_str(&image.mime).map_err(|e| AppError::Internal(e.into()))?;
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
            (
                header::ETAG,
                HeaderValue::from_str(&format!("\"{hash}\"")).expect("hex is a valid header"),
            ),
            // Never run as a page, whatever a browser would sniff.
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("inline"),
            ),
        ],
        image.data,
    )
        .into_response())
}
