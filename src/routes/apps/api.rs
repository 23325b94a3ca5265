//! The apps' JSON API: `GET /api/v1/apps` lists them with their schemas, and `POST
//! /api/v1/apps/{name}/runs` runs one with a body that is the app's input, answering the
//! output as JSON once the run has ended, or as server-sent events when the client
//! accepts `text/event-stream`.

use std::convert::Infallible;

use axum::{
    Json,
    extract::{Path, State},
    http::{HeaderMap, header},
    response::{
        IntoResponse, Response,
        sse::{Event, Sse},
    },
};
use futures_util::{Stream, StreamExt, stream};
use serde_json::Value;

use super::{answer_output, checked_input};
use crate::{
    AppState,
    apps::OutputFormat,
    auth::Visitor,
    budget::Spender,
    chat::{self, Turn, TurnEvent},
    db::Message,
    domain::MessageStatus,
    error::{AppError, Thing},
    i18n::Lang,
    routes::{
        bodies::{ApiError, AppList, AppSummary, Delta, RunResult, RunStarted, RunUsage},
        extract::AppJson,
    },
};

/// The site's prompt apps, with their input and output schemas (JSON Schema).
#[utoipa::path(get, path = "/api/v1/apps", tag = "apps",
    responses(
        (status = 200, body = AppList),
        (status = 401, body = ApiError, description = "Invalid API key"),
    ),
    security((), ("api_key" = [])))]
pub async fn list_apps(State(state): State<AppState>, _visitor: Visitor) -> Json<AppList> {
    let apps = state.apps.current();
    Json(AppList {
        data: apps.iter().map(AppSummary::of).collect(),
    })
}

/// Run an app. The body is the app's input, checked against its `input_schema` (every
/// field's problem in one 422, and no model call). The answer is `{run_id, status,
/// output, error, usage}` once the run has ended: `output` follows the app's
/// `output_schema` (an image app's is the picture's path on this server) when `status`
/// is `complete`; otherwise it is null and `error` says what went wrong (`failed`,
/// `interrupted`, or `invalid_output` for an answer that broke the output schema). Or
/// server-sent events (`start`,
/// `delta` with `{"content"}`, `done` with the same result) with `Accept:
/// text/event-stream`. Each app also has its own typed path in this document.
#[utoipa::path(post, path = "/api/v1/apps/{name}/runs", tag = "apps",
    params(("name" = String, Path, description = "The app's name, from GET /api/v1/apps")),
    request_body(content = Object, description = "The app's input, as its input_schema describes"),
    responses(
        (status = 200, body = RunResult, description = "The run as it ended: its output, or why it has none",
            content_type = "application/json"),
        (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "A guest keeps GUEST_MAX_CONVERSATIONS already"),
        (status = 404, body = ApiError, description = "No app has this name"),
        (status = 408, body = ApiError, description = "The body took too long to arrive"),
        (status = 413, body = ApiError), (status = 415, body = ApiError),
        (status = 422, body = ApiError, description = "The input breaks the app's schema: `fields` lists every problem"),
        (status = 429, body = ApiError, description = "A daily allowance or a rate is spent; see Retry-After"),
        (status = 503, body = ApiError, description = "Model calls are paused; see Retry-After"),
    ),
    security((), ("api_key" = [])))]
pub async fn create_run(
    State(state): State<AppState>,
    mut visitor: Visitor,
    Path(name): Path<String>,
    headers: HeaderMap,
    AppJson(input): AppJson<Value>,
) -> Result<Response, AppError> {
    let apps = state.apps.current();
    let app = apps.get(&name).ok_or(AppError::NotFound(Thing::App))?;
    // Checked before a guest is made: a refused run leaves nothing behind.
    let input = checked_input(app, &input)?;
    let owner = visitor.owner_or_new_guest(&state).await?;
    let spender = Spender::of(&visitor, owner);
    let turn = chat::start_run(&state, &spender, &apps, app, input).await?;
    let wants_stream = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/event-stream"));
    if wants_stream {
        return Ok(Sse::new(run_events(app.output_format, turn, visitor.lang)).into_response());
    }
    let run_id = turn.conversation.id.clone();
    let answer = turn.finish().await;
    // 200 however the run ended, as for a message: the run is saved either way, and a
    // server error would keep a new guest's session cookie from the client.
    Ok(Json(result_of(app.output_format, run_id, &answer, visitor.lang)).into_response())
}

/// A finished run as the API shows it, why it has no output in `lang`.
fn result_of(format: OutputFormat, run_id: String, answer: &Message, lang: Lang) -> RunResult {
    let output = if answer.status == MessageStatus::Complete {
        answer_output(format, answer)
    } else {
        Value::Null
    };
    RunResult {
        run_id,
        status: answer.status,
        output,
        error: chat::answer_error(answer).map(|text| text.in_lang(lang)),
        usage: RunUsage {
            prompt_tokens: answer.prompt_tokens,
            completion_tokens: answer.completion_tokens,
        },
    }
}

/// `start` with the run's id, `delta` events with `{"content": …}` as the answer arrives,
/// and `done` with the result.
fn run_events(
    format: OutputFormat,
    turn: Turn,
    lang: Lang,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let run_id = turn.conversation.id.clone();
    let start = RunStarted {
        run_id: run_id.clone(),
    };
    let first = stream::once(async move { event("start", &start) });
    let rest = stream::unfold(turn.events, move |mut events| {
        let run_id = run_id.clone();
        async move {
            let event = match events.recv().await? {
                TurnEvent::Delta(content) => event("delta", &Delta { content }),
                TurnEvent::Done(answer) => event("done", &result_of(format, run_id, &answer, lang)),
            };
            Some((event, events))
        }
    });
    first.chain(rest).map(Ok)
}

/// An event named `name` whose data is `body` as JSON.
fn event(name: &'static str, body: &impl serde::Serialize) -> Event {
    let data = serde_json::to_string(body).expect("an event body serializes");
    Event::default().event(name).data(data)
}
