//! The page's stream of a turn: with htmx, the answer arrives as server-sent events the
//! page swaps in; a plain form post waits for the answer and redirects.

use std::convert::Infallible;

use askama::Template;
use axum::{
    http::HeaderMap,
    response::{
        IntoResponse, Redirect, Response,
        sse::{Event, Sse},
    },
};
use futures_util::{
    Stream, StreamExt,
    future::{self, Either},
    stream,
};

use super::{Layout, MessageView, is_htmx};
use crate::{
    AppState,
    auth::Visitor,
    chat::{Turn, TurnEvent},
    db::{Message, feedback::list_conversation_feedback, messages::list_messages},
    error::AppError,
    i18n::Lang,
};

/// The messages list, swapped into `#messages` when a turn starts.
#[derive(Template)]
#[template(path = "partials/messages.html")]
struct MessagesFragment {
    messages: Vec<MessageView>,
    oob: bool,
    lang: Lang,
}

/// The finished answer, swapped over its placeholder; the sidebar too when the turn
/// created the conversation.
#[derive(Template)]
#[template(
    source = "{% include \"partials/message.html\" %}{% if let Some(layout) = sidebar %}{% include \"partials/sidebar.html\" %}{% endif %}",
    ext = "html"
)]
struct AnswerFragment {
    message: MessageView,
    sidebar: Option<Layout>,
    oob: bool,
    lang: Lang,
}

/// htmx gets the answer as a stream; a plain form post waits for it and redirects.
pub(super) async fn respond(
    state: AppState,
    visitor: Visitor,
    headers: &HeaderMap,
    turn: Turn,
) -> Result<Response, AppError> {
    if !is_htmx(headers) {
        let conversation_id = turn.conversation.id.clone();
        turn.finish().await;
        return Ok(Redirect::to(&format!("/conversations/{conversation_id}")).into_response());
    }
    let mut conn = state.db.acquire().await?;
    let messages = list_messages(&mut conn, &turn.conversation.id).await?;
    let feedback = list_conversation_feedback(&mut conn, &turn.conversation.id).await?;
    drop(conn);
    let start = MessagesFragment {
        messages: MessageView::list(
            &messages,
            &feedback,
            &state.rendered,
            state.config.max_message_chars,
        ),
        oob: false,
        lang: visitor.lang,
    }
    .render()
    .map_err(anyhow::Error::from)?;
    Ok(Sse::new(page_events(state, visitor, start, turn)).into_response())
}

/// The events of a streamed answer, in the shape the page's htmx and app.js expect:
/// the messages list first, then `delta` events with JSON-encoded text, then the final
/// answer as an out-of-band swap.
fn page_events(
    state: AppState,
    visitor: Visitor,
    start: String,
    turn: Turn,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let created = turn
        .created
        .then(|| format!("/conversations/{}", turn.conversation.id));
    let first = stream::iter(
        std::iter::once(Event::default().data(start))
            .chain(created.map(|url| Event::default().event("conversation").data(url))),
    );
    let events = stream::unfold(turn.events, |mut events| async move {
        events.recv().await.map(|event| (event, events))
    });
    let created = turn.created;
    let rest = events.then(move |event| match event {
        TurnEvent::Delta(text) => Either::Left(future::ready(
            Event::default()
                .event("delta")
                .data(serde_json::Value::String(text).to_string()),
        )),
        // Only the last event needs the state and the visitor: not cloned per delta.
        TurnEvent::Done(message) => Either::Right(answer_event(
            state.clone(),
            visitor.clone(),
            *message,
            created,
        )),
    });
    first.chain(rest).map(Ok)
}

/// The finished answer, swapped over its placeholder (and the sidebar, for a new
/// conversation).
async fn answer_event(state: AppState, visitor: Visitor, message: Message, created: bool) -> Event {
    let sidebar = if created {
        Layout::load(&state, &visitor, Some(&message.conversation_id))
            .await
            .ok()
    } else {
        None
    };
    let fragment = AnswerFragment {
        // A new answer has no feedback yet.
        message: MessageView::judged(
            &message,
            None,
            &state.rendered,
            state.config.max_message_chars,
        ),
        sidebar,
        oob: true,
        lang: visitor.lang,
    };
    match fragment.render() {
        Ok(html) => Event::default().data(html),
        Err(error) => {
            tracing::error!(%error, "cannot render the final answer");
            Event::default().event("reload").data("render failed")
        }
    }
}
