//! Turns: one user message and the model's answer to it.
//!
//! The user's message and an empty `streaming` answer are committed before the model is
//! called. The answer is then written by a task of its own, which saves it when it ends
//! however it ends (complete, failed, stopped, the reader left, the server shut down), so
//! nothing the user typed or paid for is lost even when the HTTP response is dropped.

use std::{
    collections::HashMap,
    sync::{Arc, LazyLock, Mutex},
};

use async_openai::types::chat::CreateChatCompletionRequest;
use sqlx::{SqliteConnection, SqlitePool};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

mod checkpoint;
pub mod feedback;
mod image;
mod relay;
mod runs;

pub use runs::{provider_model, start_run};

use self::checkpoint::Checkpoints;

use crate::{
    AppState,
    budget::{self, Spender},
    db::{
        Conversation, Message,
        conversations::{
            count_conversations, find_conversation, insert_conversation,
            update_conversation_activity,
        },
        ledger::insert_entry,
        messages::{clear_preferred, insert_message, list_messages, thread},
    },
    domain::{MessageStatus, Owner, Role},
    error::{AppError, Thing},
    i18n::{Lang, Text},
    llm::UpstreamError,
};

/// Deltas buffered between the model and a slow reader before the model is paused.
const RELAY_BUFFER: usize = 32;

/// Longest conversation title made from a first message, in characters.
const TITLE_CHARS: usize = 60;

/// The answers being written right now: by conversation, for `stop`, and their
/// checkpoints. (Shutdown waits for them through [`Drain`](crate::drain::Drain).)
#[derive(Clone, Debug)]
pub struct Turns {
    /// Cancels the running turn of a conversation (by conversation id).
    running: Arc<Mutex<HashMap<String, CancellationToken>>>,
    /// Saves each answer's text about once a second while it is written.
    checkpoints: Checkpoints,
}

impl Turns {
    /// The registry, with its checkpoint writer started on `db`.
    pub fn new(db: SqlitePool) -> Self {
        Self {
            running: Arc::default(),
            checkpoints: Checkpoints::spawn(db),
        }
    }

    /// A new stop handle for the answer about to be written in a conversation, cancelled
    /// by `stop` and at the end of a shutdown's grace period (`drain`).
    fn register(&self, conversation_id: &str, drain: &crate::drain::Drain) -> CancellationToken {
        let cancel = drain.child_token();
        self.running
            .lock()
            .expect("turn registry poisoned")
            .insert(conversation_id.to_string(), cancel.clone());
        cancel
    }

    /// Drops a conversation's stop handle once its answer has ended. Done before the
    /// answer is saved: once saved, the conversation may start its next turn, whose handle
    /// must not be removed by this one.
    fn forget(&self, conversation_id: &str) {
        self.running
            .lock()
            .expect("turn registry poisoned")
            .remove(conversation_id);
    }

    /// Stops the answer being written in a conversation; returns whether there was one.
    pub fn stop(&self, conversation_id: &str) -> bool {
        let running = self.running.lock().expect("turn registry poisoned");
        match running.get(conversation_id) {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }
}

/// What to answer.
pub enum Ask {
    /// A new user message.
    Message(String),
    /// Replace the last answer with a new one.
    Regenerate,
}

/// What a running turn reports to the request that started it.
#[derive(Debug)]
pub enum TurnEvent {
    /// Text as it arrives from the model.
    Delta(String),
    /// The answer as saved, once it has ended (boxed: a row is far larger than a delta).
    Done(Box<Message>),
}

/// A started turn: what was saved before the model was called, and its live events.
pub struct Turn {
    pub conversation: Conversation,
    /// Whether this turn created the conversation.
    pub created: bool,
    /// The user's message; `None` when regenerating.
    pub question: Option<Message>,
    /// The answer row, `streaming` until the final event.
    pub answer: Message,
    /// Dropping this cancels the model call (the reader has left).
    pub events: mpsc::Receiver<TurnEvent>,
}

impl Turn {
    /// Waits for the end of the answer, for clients without JavaScript.
    pub async fn finish(mut self) -> Message {
        while let Some(event) = self.events.recv().await {
            if let TurnEvent::Done(message) = event {
                return *message;
            }
        }
        // The task always sends `Done`; this is only reached if it panicked.
        self.answer
    }
}

/// Why an answer did not end complete, from its saved `error`. Rows saved before texts
/// were stored by id hold the English sentence, and so do the answers a crash left,
/// which `interrupt_streaming_messages` marks in SQL: both read back as their text.
pub fn answer_error(answer: &Message) -> Option<Text> {
    answer.error.as_deref().map(stored_error)
}

/// The message as a client of the API receives it: its `error` in `lang`'s words.
pub fn worded(mut message: Message, lang: Lang) -> Message {
    message.error = answer_error(&message).map(|text| text.in_lang(lang));
    message
}

/// An answer's stored `error` (or a batch item's, which holds its answer's) as its text.
pub fn stored_error(stored: &str) -> Text {
    static EARLIER: LazyLock<Vec<Text>> = LazyLock::new(|| {
        let mut endings = vec![
            Text::new("answer-stopped"),
            Text::new("answer-reader-left"),
            Text::new("answer-restarted"),
            Text::new("picture-restarted"),
        ];
        endings.extend(UpstreamError::every_user_message());
        endings
    });
    Text::from_stored(stored, &EARLIER)
}

/// Checks a user message before anything is saved.
pub fn validate_message(content: &str, max_chars: usize) -> Result<(), AppError> {
    if content.trim().is_empty() {
        return Err(AppError::Invalid(Text::new("error-message-empty")));
    }
    if crate::domain::has_control_characters(content) {
        return Err(AppError::Invalid(Text::new("error-message-control")));
    }
    let chars = crate::domain::typed_chars(content);
    if chars > max_chars {
        return Err(AppError::TooLarge(
            Text::new("error-message-too-long")
                .arg("chars", chars)
                .arg("max", max_chars),
        ));
    }
    Ok(())
}

/// Refuses a new conversation to a guest who keeps `GUEST_MAX_CONVERSATIONS` already
/// (an account has no cap). Run in the transaction that inserts it.
pub async fn check_room(
    conn: &mut SqliteConnection,
    state: &AppState,
    owner: &Owner,
) -> Result<(), AppError> {
    let max = state.config.guest_max_conversations;
    if matches!(owner, Owner::Guest(_)) && count_conversations(conn, owner).await? >= max {
        return Err(AppError::Forbidden(
            Text::new("error-guest-conversations").arg("max", max),
        ));
    }
    Ok(())
}

/// Saves the question (creating the conversation when `conversation_id` is `None`) and an
/// empty answer, reserves the call's budget, then starts the model call in its own task.
/// A refusal (not found, busy, over budget) changes nothing.
pub async fn start_turn(
    state: &AppState,
    spender: &Spender,
    conversation_id: Option<&str>,
    ask: Ask,
) -> Result<Turn, AppError> {
    if let Ask::Message(content) = &ask {
        validate_message(content, state.config.max_message_chars)?;
    }
    // IMMEDIATE takes the write lock first, so the reads below cannot go stale and the
    // commit cannot fail with SQLITE_BUSY.
    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    let (conversation, created) = match conversation_id {
        Some(id) => (
            find_conversation(&mut tx, &spender.owner, id)
                .await?
                .ok_or(AppError::NotFound(Thing::Conversation))?,
            false,
        ),
        None => {
            let Ask::Message(content) = &ask else {
                return Err(AppError::NotFound(Thing::Conversation));
            };
            check_room(&mut tx, state, &spender.owner).await?;
            let conversation =
                insert_conversation(&mut tx, &spender.owner, &title_from(content), None).await?;
            link_batch_item(&mut tx, spender, &conversation.id).await?;
            (conversation, true)
        }
    };
    let question = match &ask {
        Ask::Message(content) => Some(
            insert_message(
                &mut tx,
                &conversation.id,
                Role::User,
                content,
                MessageStatus::Complete,
                None,
            )
            .await?,
        ),
        Ask::Regenerate => {
            let messages = list_messages(&mut tx, &conversation.id).await?;
            match messages.last() {
                Some(last) if last.status == MessageStatus::Streaming => {
                    return Err(busy());
                }
                // The earlier answer stays as a sibling of the new one, which the
                // conversation goes on from.
                Some(last) if last.role == Role::Assistant => {
                    if let Some(question) = last.reply_to {
                        clear_preferred(&mut tx, question).await?;
                    }
                }
                Some(_) => {}
                None => {
                    return Err(AppError::Invalid(Text::new("error-nothing-to-regenerate")));
                }
            }
            None
        }
    };
    let answer = insert_message(
        &mut tx,
        &conversation.id,
        Role::Assistant,
        "",
        MessageStatus::Streaming,
        Some(state.llm.model()),
    )
    .await
    .map_err(|error| match &error {
        sqlx::Error::Database(e) if e.is_unique_violation() => busy(),
        _ => AppError::Database(error),
    })?;
    update_conversation_activity(&mut tx, &conversation.id).await?;
    let mut system = Vec::new();
    let mut history = Vec::new();
    let messages = list_messages(&mut tx, &conversation.id).await?;
    for message in thread(&messages) {
        if message.id == answer.id
            || message.status != MessageStatus::Complete
                && message.status != MessageStatus::Interrupted
            || message.content.is_empty()
        {
            continue;
        }
        match message.role {
            // An app's run keeps its own instructions: its follow-ups go on under them
            // rather than under the site's.
            Role::System => system.push(message.content.clone()),
            role => history.push((role, message.content.clone())),
        }
    }
    let system_prompt = if system.is_empty() {
        state.site.system_prompt.clone()
    } else {
        system.join("\n\n")
    };
    let (history, prompt_tokens) =
        budget::trim_history(&system_prompt, history, state.config.max_context_tokens);
    let estimate = budget::Estimate {
        model: state.llm.model(),
        app: None,
        prompt_tokens: prompt_tokens as i64,
        completion_tokens: i64::from(state.site.max_output_tokens),
    };
    let reservation = reserve_and_commit(state, tx, spender, &estimate, answer.id).await?;
    let history: Vec<(Role, &str)> = history.iter().map(|(r, c)| (*r, c.as_str())).collect();
    let request = state.llm.chat_request(&system_prompt, &history);
    Ok(spawn_turn(
        state,
        Saved {
            conversation,
            created,
            question,
            answer,
        },
        reservation,
        request,
        state.llm.max_output_tokens(),
        None,
    ))
}

/// Ties the conversation to the batch item it runs, when the call is one (in the
/// transaction that creates it, so a restart always finds an item's call).
async fn link_batch_item(
    conn: &mut SqliteConnection,
    spender: &Spender,
    conversation_id: &str,
) -> Result<(), AppError> {
    if let Some(budget::BatchCall {
        batch_id,
        item_id: Some(item_id),
    }) = spender.batch
    {
        crate::db::batches::link_item(conn, batch_id, item_id, conversation_id).await?;
    }
    Ok(())
}

/// Reserves the call's budget for `answer` and commits `tx` (the turn's question and
/// answer) with its ledger entry, so a turn and its entry exist together or not at all.
/// A refusal drops `tx`, rolling back the question too; a failed commit gives the
/// reservation back.
async fn reserve_and_commit(
    state: &AppState,
    mut tx: sqlx::Transaction<'static, sqlx::Sqlite>,
    spender: &Spender,
    estimate: &budget::Estimate<'_>,
    answer_id: i64,
) -> Result<budget::Reservation, AppError> {
    let reservation = state.meter.reserve(spender, estimate, Some(answer_id))?;
    let saved = async {
        insert_entry(&mut tx, &reservation.entry).await?;
        tx.commit().await
    };
    if let Err(error) = saved.await {
        state.meter.release(&reservation);
        return Err(error.into());
    }
    Ok(reservation)
}

/// What a turn saved before the model is called: a [`Turn`] without its events yet.
struct Saved {
    conversation: Conversation,
    created: bool,
    question: Option<Message>,
    answer: Message,
}

impl Saved {
    fn with_events(self, events: mpsc::Receiver<TurnEvent>) -> Turn {
        Turn {
            conversation: self.conversation,
            created: self.created,
            question: self.question,
            answer: self.answer,
            events,
        }
    }
}

/// Starts the task that writes `turn.answer` (saved, with its reservation, by the
/// caller's committed transaction) and returns the turn with its live events.
fn spawn_turn(
    state: &AppState,
    turn: Saved,
    reservation: budget::Reservation,
    request: CreateChatCompletionRequest,
    max_output_tokens: u32,
    check: Option<relay::OutputCheck>,
) -> Turn {
    let cancel = state.turns.register(&turn.conversation.id, &state.drain);
    let (events, receiver) = mpsc::channel(RELAY_BUFFER);
    let run = relay::RunningTurn {
        db: state.db.clone(),
        llm: state.llm.clone(),
        request,
        max_output_tokens,
        check,
        answer: turn.answer.clone(),
        reservation,
        meter: state.meter.clone(),
        timeout: state.config.upstream_timeout,
        cancel,
        drain: state.drain.clone(),
        events,
        turns: state.turns.clone(),
    };
    // Created here, inside the request's span, so the turn's log lines carry its id.
    let span =
        tracing::info_span!("turn", conversation = %turn.conversation.id, answer = turn.answer.id);
    state.drain.spawn(run.run().instrument(span));
    turn.with_events(receiver)
}

/// Stops the answer being written in one of the owner's conversations; returns whether
/// there was one. Anyone else's conversation is not found.
pub async fn stop(
    state: &AppState,
    owner: &Owner,
    conversation_id: &str,
) -> Result<bool, AppError> {
    find_conversation(&mut *state.db.acquire().await?, owner, conversation_id)
        .await?
        .ok_or(AppError::NotFound(Thing::Conversation))?;
    Ok(state.turns.stop(conversation_id))
}

fn busy() -> AppError {
    AppError::Conflict(Text::new("error-answer-busy"))
}

/// The first line of the first message, shortened.
fn title_from(content: &str) -> String {
    let line = content.trim().lines().next().unwrap_or_default().trim();
    let mut title: String = line.chars().take(TITLE_CHARS).collect();
    if line.chars().count() > TITLE_CHARS {
        title.push('…');
    }
    title
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_the_first_line_shortened() {
        assert_eq!(title_from("  Hello there\nsecond line"), "Hello there");
        let long = "x".repeat(100);
        assert_eq!(title_from(&long).chars().count(), TITLE_CHARS + 1);
    }

    #[test]
    fn empty_and_oversized_messages_are_refused() {
        assert!(matches!(
            validate_message(" \n\t", 10),
            Err(AppError::Invalid(_))
        ));
        assert!(matches!(
            validate_message("elevenchars", 10),
            Err(AppError::TooLarge(_))
        ));
        // Characters, not bytes: ten emoji fit a ten-character limit.
        assert!(validate_message(&"🦀".repeat(10), 10).is_ok());
    }
}
