//! The JSON API for conversations and messages. Sending a message streams the answer as
//! server-sent events when the client accepts `text/event-stream`, and otherwise answers
//! with JSON once the answer has ended.

use std::convert::Infallible;

use axum::{
    Json,
    extract::{Path, State, rejection::JsonRejection},
    http::{HeaderMap, StatusCode, header},
    response::{
        IntoResponse, Response,
        sse::{Event, Sse},
    },
};
use futures_util::{Stream, StreamExt, stream};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{
    AppState,
    auth::Visitor,
    chat::{self, Ask, Turn, TurnEvent},
    db::{Conversation, Message, conversations, messages::list_messages},
    error::AppError,
};

/// Conversations returned by the list endpoint.
const LIST_LIMIT: i64 = 100;

pub async fn list_conversations(
    State(state): State<AppState>,
    visitor: Visitor,
) -> Result<Json<Vec<Conversation>>, AppError> {
    let Some(owner) = visitor.owner() else {
        return Ok(Json(Vec::new()));
    };
    Ok(Json(
        conversations::list_conversations(&state.db, &owner, LIST_LIMIT).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewConversation {
    #[serde(default)]
    title: Option<String>,
}

pub async fn create_conversation(
    State(state): State<AppState>,
    mut visitor: Visitor,
    body: Result<Json<NewConversation>, JsonRejection>,
) -> Result<(StatusCode, Json<Conversation>), AppError> {
    let Json(body) = body?;
    let title = match &body.title {
        Some(title) => super::validate_title(title)?,
        None => "New conversation",
    };
    let owner = visitor.owner_or_new_guest().await?;
    let conversation =
        conversations::insert_conversation(&mut *state.db.acquire().await?, &owner, title).await?;
    Ok((StatusCode::CREATED, Json(conversation)))
}

#[derive(Serialize)]
pub struct ConversationWithMessages {
    #[serde(flatten)]
    conversation: Conversation,
    messages: Vec<Message>,
}

pub async fn show_conversation(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Result<Json<ConversationWithMessages>, AppError> {
    let owner = visitor.owner().ok_or(AppError::NotFound("conversation"))?;
    let mut conn = state.db.acquire().await?;
    let conversation = conversations::find_conversation(&mut conn, &owner, &id)
        .await?
        .ok_or(AppError::NotFound("conversation"))?;
    let messages = list_messages(&mut conn, &id).await?;
    Ok(Json(ConversationWithMessages {
        conversation,
        messages,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rename {
    title: String,
}

pub async fn rename_conversation(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
    body: Result<Json<Rename>, JsonRejection>,
) -> Result<Json<Conversation>, AppError> {
    let Json(body) = body?;
    let title = super::validate_title(&body.title)?;
    let owner = visitor.owner().ok_or(AppError::NotFound("conversation"))?;
    if !conversations::update_conversation_title(&state.db, &owner, &id, title).await? {
        return Err(AppError::NotFound("conversation"));
    }
    let conversation =
        conversations::find_conversation(&mut *state.db.acquire().await?, &owner, &id)
            .await?
            .ok_or(AppError::NotFound("conversation"))?;
    Ok(Json(conversation))
}

pub async fn delete_conversation(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    let owner = visitor.owner().ok_or(AppError::NotFound("conversation"))?;
    chat::stop(&state, &owner, &id).await?;
    if !conversations::delete_conversation(&state.db, &owner, &id).await? {
        return Err(AppError::NotFound("conversation"));
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    content: String,
}

pub async fn send_message(
    State(state): State<AppState>,
    mut visitor: Visitor,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Json<NewMessage>, JsonRejection>,
) -> Result<Response, AppError> {
    let Json(body) = body?;
    let owner = visitor.owner_or_new_guest().await?;
    let asker = chat::Asker::of(&visitor, &owner);
    let turn = chat::start_turn(&state, &asker, Some(&id), Ask::Message(body.content)).await?;
    let wants_stream = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/event-stream"));
    if wants_stream {
        return Ok(Sse::new(api_events(turn)).into_response());
    }
    let question = turn.question.clone();
    let answer = turn.finish().await;
    Ok(Json(json!({ "question": question, "answer": answer })).into_response())
}

pub async fn stop_answer(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    let owner = visitor.owner().ok_or(AppError::NotFound("conversation"))?;
    Ok(if chat::stop(&state, &owner, &id).await? {
        StatusCode::ACCEPTED
    } else {
        StatusCode::NO_CONTENT
    })
}

/// `start` (the saved question and the empty answer), `delta` events with
/// `{"content": …}`, and `done` with the answer as saved (its `status` and `error` say
/// how it ended).
fn api_events(turn: Turn) -> impl Stream<Item = Result<Event, Infallible>> {
    let start = json!({ "question": turn.question, "answer": turn.answer });
    let first =
        stream::once(async move { Event::default().event("start").data(start.to_string()) });
    let rest = stream::unfold(turn.events, |mut events| async move {
        let event = match events.recv().await? {
            TurnEvent::Delta(content) => Event::default()
                .event("delta")
                .data(json!({ "content": content }).to_string()),
            TurnEvent::Done(answer) => Event::default()
                .event("done")
                .data(json!({ "answer": answer }).to_string()),
        };
        Some((event, events))
    });
    first.chain(rest).map(Ok)
}
