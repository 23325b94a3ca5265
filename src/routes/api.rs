//! The JSON API (`/api/v1`) for conversations and messages, authenticated by the session
//! cookie (same-site only) or an API key. Sending a message streams the answer as
//! server-sent events when the client accepts `text/event-stream`, and otherwise answers
//! with JSON once the answer has ended. Every route is in the OpenAPI document (`docs`).

use std::convert::Infallible;

use axum::{
    Json,
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header},
    response::{
        IntoResponse, Response,
        sse::{Event, Sse},
    },
};
use futures_util::{Stream, StreamExt, stream};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::{
    bodies::{ApiError, ConversationPage, ConversationWithMessages, Delta, Done, Exchange},
    extract::{AppJson, AppQuery},
};
use crate::{
    AppState,
    auth::Visitor,
    budget::Spender,
    chat::{self, Ask, Turn, TurnEvent},
    db::{Conversation, conversations, messages::list_messages},
    error::{AppError, Thing},
    i18n::{Lang, Text},
};

/// Conversations per page at most.
const MAX_PAGE: i64 = 100;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// How many conversations (1–100, default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// How many to skip, most recent first (default 0).
    #[param(minimum = 0)]
    offset: Option<i64>,
}

/// List your conversations, most recently active first.
#[utoipa::path(get, path = "/api/v1/conversations", tag = "conversations", params(PageQuery),
    responses(
        (status = 200, body = ConversationPage),
        (status = 400, body = ApiError, description = "Invalid paging parameters"),
        (status = 401, body = ApiError, description = "Invalid API key"),
    ),
    security((), ("api_key" = [])))]
pub async fn list_conversations(
    State(state): State<AppState>,
    visitor: Visitor,
    AppQuery(page): AppQuery<PageQuery>,
) -> Result<Json<ConversationPage>, AppError> {
    let limit = page.limit.unwrap_or(20);
    let offset = page.offset.unwrap_or(0);
    if !(1..=MAX_PAGE).contains(&limit) || offset < 0 {
        return Err(AppError::BadRequest(
            Text::new("error-page-range").arg("max", MAX_PAGE),
        ));
    }
    let Some(owner) = visitor.owner() else {
        return Ok(Json(ConversationPage {
            data: Vec::new(),
            has_more: false,
        }));
    };
    let mut data = conversations::list_conversations(&state.db, &owner, limit + 1, offset).await?;
    let has_more = data.len() as i64 > limit;
    data.truncate(limit as usize);
    Ok(Json(ConversationPage { data, has_more }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewConversation {
    /// 1–200 characters; "New conversation" when left out.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 200)]
    title: Option<String>,
}

/// Create an empty conversation.
#[utoipa::path(post, path = "/api/v1/conversations", tag = "conversations",
    request_body = NewConversation,
    responses(
        (status = 201, body = Conversation),
        (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "A guest keeps GUEST_MAX_CONVERSATIONS already"),
        (status = 408, body = ApiError, description = "The body took too long to arrive"),
        (status = 413, body = ApiError),
        (status = 415, body = ApiError), (status = 422, body = ApiError),
        (status = 429, body = ApiError, description = "Too many requests from your address; see Retry-After"),
    ),
    security((), ("api_key" = [])))]
pub async fn create_conversation(
    State(state): State<AppState>,
    mut visitor: Visitor,
    AppJson(body): AppJson<NewConversation>,
) -> Result<(StatusCode, Json<Conversation>), AppError> {
    let title = match &body.title {
        Some(title) => super::validate_title(title)?,
        None => "New conversation",
    };
    let owner = visitor.owner_or_new_guest(&state).await?;
    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    chat::check_room(&mut tx, &state, &owner).await?;
    let conversation = conversations::insert_conversation(&mut tx, &owner, title, None).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(conversation)))
}

/// A conversation with its messages.
#[utoipa::path(get, path = "/api/v1/conversations/{id}", tag = "conversations",
    params(("id" = String, Path, description = "The conversation's id")),
    responses(
        (status = 200, body = ConversationWithMessages),
        (status = 401, body = ApiError), (status = 404, body = ApiError),
    ),
    security((), ("api_key" = [])))]
pub async fn show_conversation(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Result<Json<ConversationWithMessages>, AppError> {
    let owner = visitor
        .owner()
        .ok_or(AppError::NotFound(Thing::Conversation))?;
    let mut conn = state.db.acquire().await?;
    let conversation = conversations::find_conversation(&mut conn, &owner, &id)
        .await?
        .ok_or(AppError::NotFound(Thing::Conversation))?;
    let messages = list_messages(&mut conn, &id).await?;
    Ok(Json(ConversationWithMessages {
        conversation,
        messages: messages
            .into_iter()
            .map(|message| chat::worded(message, visitor.lang))
            .collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rename {
    #[schema(min_length = 1, max_length = 200)]
    title: String,
}

/// Rename a conversation.
#[utoipa::path(patch, path = "/api/v1/conversations/{id}", tag = "conversations",
    params(("id" = String, Path, description = "The conversation's id")),
    request_body = Rename,
    responses(
        (status = 200, body = Conversation),
        (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 404, body = ApiError), (status = 408, body = ApiError, description = "The body took too long to arrive"),
        (status = 413, body = ApiError), (status = 415, body = ApiError),
        (status = 422, body = ApiError),
        (status = 429, body = ApiError, description = "Too many requests from your address; see Retry-After"),
    ),
    security((), ("api_key" = [])))]
pub async fn rename_conversation(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
    AppJson(body): AppJson<Rename>,
) -> Result<Json<Conversation>, AppError> {
    let title = super::validate_title(&body.title)?;
    let owner = visitor
        .owner()
        .ok_or(AppError::NotFound(Thing::Conversation))?;
    if !conversations::update_conversation_title(&state.db, &owner, &id, title).await? {
        return Err(AppError::NotFound(Thing::Conversation));
    }
    let conversation =
        conversations::find_conversation(&mut *state.db.acquire().await?, &owner, &id)
            .await?
            .ok_or(AppError::NotFound(Thing::Conversation))?;
    Ok(Json(conversation))
}

/// Delete a conversation and its messages (stopping an answer being written).
#[utoipa::path(delete, path = "/api/v1/conversations/{id}", tag = "conversations",
    params(("id" = String, Path, description = "The conversation's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, body = ApiError), (status = 404, body = ApiError),
        (status = 429, body = ApiError, description = "Too many requests from your address; see Retry-After"),
    ),
    security((), ("api_key" = [])))]
pub async fn delete_conversation(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    let owner = visitor
        .owner()
        .ok_or(AppError::NotFound(Thing::Conversation))?;
    chat::stop(&state, &owner, &id).await?;
    if !conversations::delete_conversation(&state.db, &owner, &id).await? {
        return Err(AppError::NotFound(Thing::Conversation));
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    /// Up to MAX_MESSAGE_CHARS characters; not blank.
    #[schema(min_length = 1)]
    content: String,
}

/// Send a message and get the model's answer: as server-sent events (`start`, `delta`
/// with `{"content"}`, `done` with the saved answer) when `Accept: text/event-stream`,
/// otherwise as JSON once the answer has ended.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/messages", tag = "messages",
    params(("id" = String, Path, description = "The conversation's id")),
    request_body = NewMessage,
    responses(
        (status = 200, body = Exchange, description = "The question and the answer",
            content_type = "application/json"),
        (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 404, body = ApiError),
        (status = 408, body = ApiError, description = "The body took too long to arrive"),
        (status = 409, body = ApiError, description = "An answer is still being written"),
        (status = 413, body = ApiError), (status = 415, body = ApiError),
        (status = 422, body = ApiError),
        (status = 429, body = ApiError, description = "A daily allowance or a rate is spent; see Retry-After"),
        (status = 503, body = ApiError, description = "Model calls are paused; see Retry-After"),
    ),
    security((), ("api_key" = [])))]
pub async fn send_message(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
    headers: HeaderMap,
    AppJson(body): AppJson<NewMessage>,
) -> Result<Response, AppError> {
    // An existing conversation has its owner already.
    let owner = visitor
        .owner()
        .ok_or(AppError::NotFound(Thing::Conversation))?;
    let spender = Spender::of(&visitor, owner);
    let turn = chat::start_turn(&state, &spender, Some(&id), Ask::Message(body.content)).await?;
    let wants_stream = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/event-stream"));
    if wants_stream {
        return Ok(Sse::new(api_events(turn, visitor.lang)).into_response());
    }
    let question = turn.question.clone();
    let answer = chat::worded(turn.finish().await, visitor.lang);
    Ok(Json(Exchange { question, answer }).into_response())
}

/// Stop the answer being written in a conversation.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/stop", tag = "messages",
    params(("id" = String, Path, description = "The conversation's id")),
    responses(
        (status = 202, description = "The answer is being stopped"),
        (status = 204, description = "No answer was being written"),
        (status = 401, body = ApiError), (status = 404, body = ApiError),
        (status = 429, body = ApiError, description = "Too many requests from your address; see Retry-After"),
    ),
    security((), ("api_key" = [])))]
pub async fn stop_answer(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    let owner = visitor
        .owner()
        .ok_or(AppError::NotFound(Thing::Conversation))?;
    Ok(if chat::stop(&state, &owner, &id).await? {
        StatusCode::ACCEPTED
    } else {
        StatusCode::NO_CONTENT
    })
}

/// `start` (the saved question and the empty answer), `delta` events with
/// `{"content": …}`, and `done` with the answer as saved (its `status` and `error` say
/// how it ended, in `lang`).
fn api_events(turn: Turn, lang: Lang) -> impl Stream<Item = Result<Event, Infallible>> {
    let start = Exchange {
        question: turn.question,
        answer: turn.answer,
    };
    let first = stream::once(async move { event("start", &start) });
    let rest = stream::unfold(turn.events, move |mut events| async move {
        let event = match events.recv().await? {
            TurnEvent::Delta(content) => event("delta", &Delta { content }),
            TurnEvent::Done(answer) => event(
                "done",
                &Done {
                    answer: chat::worded(*answer, lang),
                },
            ),
        };
        Some((event, events))
    });
    first.chain(rest).map(Ok)
}

/// An event named `name` whose data is `body` as JSON.
fn event(name: &'static str, body: &impl serde::Serialize) -> Event {
    let data = serde_json::to_string(body).expect("an event body serializes");
    Event::default().event(name).data(data)
}
