//! Share links: a read-only snapshot of a conversation or an app run, reached by anyone
//! with its token at `/s/{token}`; its preview image (`preview`); and the copy a visitor
//! continues in their own chat.
//!
//! A snapshot holds what the public page shows and nothing else: the questions and
//! finished answers of the conversation as it goes on (Markdown source, rendered and
//! sanitized when shown), and for an app run the app's title and its input as the run's
//! form shows it. Never the system prompt, an app's instructions or its rendered prompt,
//! the owner, feedback or errors.

pub mod preview;

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{
    AppState,
    apps::App,
    auth::Visitor,
    chat,
    db::{
        Conversation, Message,
        conversations::{find_conversation, find_run_input, insert_conversation},
        images::insert_image_copy,
        messages::{insert_message, list_messages, thread, update_message_image},
        shares::{Share, find_share, upsert_share},
    },
    domain::{MessageStatus, Owner, Role},
    error::{AppError, Thing},
};

/// Longest description of a share (its first answer, as plain text), in characters:
/// link previews cut longer ones anyway.
pub const EXCERPT_CHARS: usize = 200;

/// A new share token: 128 bits from the CSPRNG `uuid` uses (seeded by the OS),
/// base64url without padding (22 characters). A v4 UUID has 122 random bits: the bytes of
/// one are mixed with another's, shifted by one byte, so that its fixed version and
/// variant bits are covered by random ones.
pub fn new_token() -> String {
    let a = uuid::Uuid::new_v4().into_bytes();
    let b = uuid::Uuid::new_v4().into_bytes();
    let bytes: Vec<u8> = (0..16).map(|i| a[i] ^ b[(i + 1) % 16]).collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What a share's page shows, as stored in `shares.snapshot`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// For an app run: the app and the input it ran with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<Run>,
    /// Questions and their finished answers, in order. A run's result comes first,
    /// without its question (the input above stands for it).
    pub messages: Vec<Shared>,
    /// The first answer as plain text, at most [`EXCERPT_CHARS`]: the link preview's
    /// description and the showcase card's line.
    pub excerpt: String,
}

/// The app a shared run is of.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_ko: Option<String>,
    pub icon: String,
    /// Each field of the form, with the text it held.
    pub input: Vec<Field>,
}

/// One field of a run's input.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Field {
    pub label: String,
    pub value: String,
}

/// A question or an answer on a share's page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Shared {
    pub role: SharedRole,
    /// A question's text, or an answer's Markdown or JSON.
    pub content: String,
    #[serde(default)]
    pub format: Format,
    /// An image app's picture, by the hash it is served under at `/images/{hash}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SharedRole {
    User,
    Assistant,
}

/// How an answer is shown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Markdown,
    /// A structured answer: shown as the run page shows it.
    Json,
    Image,
}

impl Snapshot {
    /// The snapshot of a conversation's messages (all of them, oldest first). Only
    /// finished answers are taken, each with its question; a question whose answer is
    /// still being written, failed or was cut off is left out with it. A run's prompt
    /// (its instructions, rendered template and examples: every message before the
    /// model's first answer, the first with a model) is never shown.
    pub fn of(messages: &[Message], run: Option<Run>) -> Self {
        let mut shared = Vec::new();
        let mut question: Option<&Message> = None;
        let mut in_prompt = run.is_some();
        for message in thread(messages) {
            if in_prompt {
                if message.role != Role::Assistant || message.model.is_none() {
                    continue;
                }
                in_prompt = false;
            }
            match message.role {
                Role::System => {}
                Role::User => question = Some(message),
                Role::Assistant => {
                    let asked = question.take();
                    if message.status != MessageStatus::Complete {
                        continue;
                    }
                    if let Some(asked) = asked {
                        shared.push(Shared {
                            role: SharedRole::User,
                            content: asked.content.clone(),
                            format: Format::Markdown,
                            image: None,
                        });
                    }
                    let format = match (&message.image, structured(&message.content)) {
                        (Some(_), _) => Format::Image,
                        (None, Some(_)) => Format::Json,
                        (None, None) => Format::Markdown,
                    };
                    shared.push(Shared {
                        role: SharedRole::Assistant,
                        content: message.content.clone(),
                        format,
                        image: message.image.clone(),
                    });
                }
            }
        }
        let excerpt = shared
            .iter()
            .find(|m| m.role == SharedRole::Assistant)
            .map(|m| excerpt(&plain_text(m)))
            .unwrap_or_default();
        Self {
            run,
            messages: shared,
            excerpt,
        }
    }

    /// The snapshot as a plain chat, for a copy: a run's input becomes the question its
    /// result answers. `(role, content, picture)` in order.
    pub fn as_chat(&self) -> Vec<(Role, String, Option<String>)> {
        let mut chat = Vec::with_capacity(self.messages.len() + 1);
        if let Some(run) = &self.run {
            let mut question = format!("{} {}", run.icon, run.title);
            for field in &run.input {
                let sep = if field.value.contains('\n') {
                    "\n"
                } else {
                    " "
                };
                question.push_str(&format!("\n\n{}:{sep}{}", field.label, field.value));
            }
            chat.push((Role::User, question, None));
        }
        for message in &self.messages {
            let role = match message.role {
                SharedRole::User => Role::User,
                SharedRole::Assistant => Role::Assistant,
            };
            chat.push((role, message.content.clone(), message.image.clone()));
        }
        chat
    }
}

/// An answer that is a JSON object or list (a structured app's), parsed.
pub fn structured(content: &str) -> Option<Value> {
    let trimmed = content.trim_start();
    if !trimmed.starts_with('{') && !trimmed.starts_with('[') {
        return None;
    }
    serde_json::from_str(content)
        .ok()
        .filter(|v: &Value| v.is_object() || v.is_array())
}

/// The run part of a snapshot: the app's title and its form's fields with the run's
/// values. An app since removed still shows its input, by the fields' names.
pub fn run_of(app: Option<&App>, name: &str, input: &Map<String, Value>) -> Run {
    let input = match app {
        Some(app) if !app.form.fields().is_empty() => app
            .form
            .fields()
            .iter()
            .filter_map(|field| {
                let value = input_text(input.get(&field.name)?);
                (!value.is_empty()).then(|| Field {
                    label: field.label.clone(),
                    value,
                })
            })
            .collect(),
        _ => input
            .iter()
            .map(|(key, value)| Field {
                label: key.clone(),
                value: input_text(value),
            })
            .filter(|field| !field.value.is_empty())
            .collect(),
    };
    Run {
        title: app.map_or_else(|| name.to_string(), |app| app.title.clone()),
        title_ko: app.and_then(|app| app.title_ko.clone()),
        icon: app
            .and_then(|app| app.icon.clone())
            .unwrap_or_else(|| "✦".into()),
        input,
    }
}

/// A value of a run's input as its form box shows it (a list one item per line).
fn input_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "✓".into(),
        Value::Bool(false) | Value::Null => String::new(),
        Value::Array(items) => items.iter().map(input_text).collect::<Vec<_>>().join("\n"),
        other => other.to_string(),
    }
}

/// An answer as plain text: Markdown without its marks, a JSON answer's values.
fn plain_text(message: &Shared) -> String {
    match message.format {
        Format::Json => {
            let mut parts = Vec::new();
            if let Some(value) = structured(&message.content) {
                leaves(&value, &mut parts);
            }
            parts.join(" · ")
        }
        Format::Markdown | Format::Image => markdown_text(&message.content),
    }
}

fn leaves(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Number(n) => out.push(n.to_string()),
        Value::Array(items) => items.iter().for_each(|v| leaves(v, out)),
        Value::Object(fields) => fields.values().for_each(|v| leaves(v, out)),
        Value::Bool(_) | Value::Null => {}
    }
}

/// Markdown's text without its marks, on one line.
fn markdown_text(markdown: &str) -> String {
    use pulldown_cmark::{Event, Parser};
    let mut text = String::with_capacity(markdown.len());
    for event in Parser::new(markdown) {
        match event {
            Event::Text(t) | Event::Code(t) => text.push_str(&t),
            Event::SoftBreak | Event::HardBreak | Event::End(_) => text.push(' '),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// At most [`EXCERPT_CHARS`] characters (not bytes: Korean is three bytes a syllable),
/// with an ellipsis when cut.
pub fn excerpt(text: &str) -> String {
    if text.chars().count() <= EXCERPT_CHARS {
        return text.to_string();
    }
    let cut: String = text.chars().take(EXCERPT_CHARS - 1).collect();
    format!("{}…", cut.trim_end())
}

/// Shares a conversation of the owner's, or refreshes the snapshot of its share on the
/// same link. Someone else's conversation, or an unknown one, is not found and nothing
/// is written.
pub async fn share_conversation(
    state: &AppState,
    owner: &Owner,
    conversation_id: &str,
) -> Result<Share, AppError> {
    // The messages read and the snapshot written in one transaction: an answer that
    // ends meanwhile is either in the snapshot or not, never half.
    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    let conversation = find_conversation(&mut tx, owner, conversation_id)
        .await?
        .ok_or(AppError::NotFound(Thing::Conversation))?;
    let messages = list_messages(&mut tx, conversation_id).await?;
    let run = match &conversation.app {
        Some(name) => {
            let input = find_run_input(&mut tx, owner, conversation_id)
                .await?
                .and_then(|json| serde_json::from_str::<Map<String, Value>>(&json).ok())
                .unwrap_or_default();
            let apps = state.apps.current();
            Some(run_of(apps.get(name), name, &input))
        }
        None => None,
    };
    let snapshot = serde_json::to_string(&Snapshot::of(&messages, run))
        .map_err(|e| AppError::Internal(e.into()))?;
    let share = upsert_share(
        &mut tx,
        conversation_id,
        &new_token(),
        &conversation.title,
        &snapshot,
    )
    .await?;
    tx.commit().await?;
    Ok(share)
}

/// The snapshot a share holds.
pub fn read_snapshot(share: &Share) -> Result<Snapshot, AppError> {
    serde_json::from_str(&share.snapshot).map_err(|e| AppError::Internal(e.into()))
}

/// Copies a share's questions and answers into a new conversation of the visitor's (a
/// guest is made if needed, within the guests' limits), titled like the share. No model
/// is called and nothing is charged.
pub async fn continue_share(
    state: &AppState,
    visitor: &mut Visitor,
    token: &str,
) -> Result<Conversation, AppError> {
    let share = find_share(&state.db, token)
        .await?
        .ok_or(AppError::NotFound(Thing::Share))?;
    let snapshot = read_snapshot(&share)?;
    let owner = visitor.owner_or_new_guest(state).await?;
    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    chat::check_room(&mut tx, state, &owner).await?;
    let conversation = insert_conversation(&mut tx, &owner, &share.title, None).await?;
    for (role, content, image) in snapshot.as_chat() {
        let message = insert_message(
            &mut tx,
            &conversation.id,
            role,
            &content,
            MessageStatus::Complete,
            None,
        )
        .await?;
        if let Some(hash) = image {
            update_message_image(&mut tx, message.id, &hash).await?;
            insert_image_copy(&mut tx, &hash, message.id).await?;
        }
    }
    tx.commit().await?;
    Ok(conversation)
}

#[cfg(test)]
mod tests;
