//! App runs: a prompt app's rendered prompt sent as a turn of a new conversation, tagged
//! with the app and the exact version of its file, so the visitor can go on in chat and
//! a dataset can tell prompt versions apart. Everything that guards a chat turn guards a
//! run: the guest's room, the budgets and the kill switch (reserved before the call),
//! one ledger entry with the app's name.

use async_openai::types::chat::{
    ChatCompletionRequestAssistantMessage, ChatCompletionRequestMessage,
    ChatCompletionRequestSystemMessage, ChatCompletionRequestUserMessage,
    CreateChatCompletionRequest, ResponseFormat, ResponseFormatJsonSchema, StopConfiguration,
};
use serde_json::{Map, Value};
use tracing::Instrument;

use super::{Saved, Turn, check_room, link_batch_item, reserve_and_commit, spawn_turn, title_from};
use crate::{
    AppState,
    apps::{App, Apps, OutputFormat, PromptMessage, PromptRole, RenderError},
    budget::{self, Spender},
    db::{
        conversations::{RunOf, insert_conversation, update_conversation_activity},
        messages::insert_message,
    },
    domain::{MessageStatus, Role},
    error::{AppError, Thing},
    i18n::Text,
    llm,
};

/// Starts a run of `app` with `input` (already checked against the app's schema): saves
/// the conversation, the rendered prompt and an empty answer, reserves the call, and
/// starts the model in a task of its own. A refusal changes nothing.
pub async fn start_run(
    state: &AppState,
    spender: &Spender,
    apps: &Apps,
    app: &App,
    input: Map<String, Value>,
) -> Result<Turn, AppError> {
    let input_json = Value::Object(input.clone()).to_string();
    let limit = state.config.max_message_chars;
    let chars = input_json.chars().count();
    if chars > limit {
        return Err(AppError::TooLarge(
            Text::new("error-input-too-long")
                .arg("chars", chars)
                .arg("max", limit),
        ));
    }
    let messages = apps
        .render(&app.name, &input)
        .map_err(|error| match error {
            RenderError::ReservedText(field) => {
                AppError::Invalid(Text::new("error-input-reserved").arg("field", field))
            }
            RenderError::UnknownApp(_) => AppError::NotFound(Thing::App),
            RenderError::Template(_) => AppError::Internal(anyhow::anyhow!(
                "app `{}` could not be rendered: {error}",
                app.name
            )),
        })?;
    let prompt_tokens: usize = messages
        .iter()
        .map(|m| budget::count_tokens(&m.content) + budget::TOKENS_PER_MESSAGE)
        .sum();
    if prompt_tokens > state.config.max_context_tokens {
        return Err(AppError::TooLarge(
            Text::new("error-prompt-too-long")
                .arg("tokens", prompt_tokens)
                .arg("max", state.config.max_context_tokens),
        ));
    }
    let model = provider_model(state, app);
    let max_output_tokens = app
        .config
        .max_output_tokens
        .unwrap_or(state.site.max_output_tokens)
        .min(state.site.max_output_tokens);

    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    check_room(&mut tx, state, &spender.owner).await?;
    let conversation = insert_conversation(
        &mut tx,
        &spender.owner,
        &run_title(app, &input),
        Some(RunOf {
            app: &app.name,
            version: app.version.as_str(),
            input: &input_json,
        }),
    )
    .await?;
    link_batch_item(&mut tx, spender, &conversation.id).await?;
    let mut question = None;
    for message in &messages {
        let saved = insert_message(
            &mut tx,
            &conversation.id,
            role_of(message.role),
            &message.content,
            MessageStatus::Complete,
            None,
        )
        .await?;
        if message.role == PromptRole::User {
            question = Some(saved);
        }
    }
    let answer = insert_message(
        &mut tx,
        &conversation.id,
        Role::Assistant,
        "",
        MessageStatus::Streaming,
        Some(&model),
    )
    .await?;
    update_conversation_activity(&mut tx, &conversation.id).await?;
    let is_image = app.output_format == OutputFormat::Image;
    let estimate = budget::Estimate {
        model: &model,
        app: Some(&app.name),
        prompt_tokens: prompt_tokens as i64,
        // A picture counts in the budgets as the tokens an image model reports for one.
        completion_tokens: if is_image {
            budget::IMAGE_TOKENS
        } else {
            i64::from(max_output_tokens)
        },
    };
    let reservation = reserve_and_commit(state, tx, spender, &estimate, answer.id).await?;
    metrics::counter!("app_runs_total", "app" => app.name.clone()).increment(1);

    let turn = Saved {
        conversation,
        created: true,
        question,
        answer,
    };
    if is_image {
        let prompt = messages
            .iter()
            .map(|m| m.content.trim())
            .collect::<Vec<_>>()
            .join("\n\n");
        return Ok(spawn_image(
            state,
            turn,
            reservation,
            model,
            prompt,
            app.config.size.clone(),
        ));
    }
    let request = request_for(app, model, &messages);
    let check = (app.output_format == OutputFormat::Json).then(|| {
        let app = app.clone();
        std::sync::Arc::new(move |text: &str| {
            crate::apps::validate_output(&app, text)
                .map(|_| ())
                .map_err(|problem| Text::new("answer-invalid-output").arg("problem", problem))
        }) as super::relay::OutputCheck
    });
    Ok(spawn_turn(
        state,
        turn,
        reservation,
        request,
        max_output_tokens,
        check,
    ))
}

/// Starts the task that makes an image app's picture.
fn spawn_image(
    state: &AppState,
    turn: Saved,
    reservation: budget::Reservation,
    model: String,
    prompt: String,
    size: Option<String>,
) -> Turn {
    let cancel = state.turns.register(&turn.conversation.id, &state.drain);
    let (events, receiver) = tokio::sync::mpsc::channel(1);
    let run = super::image::ImageTurn {
        reservation,
        meter: state.meter.clone(),
        db: state.db.clone(),
        llm: state.llm.clone(),
        model,
        prompt,
        size,
        answer: turn.answer.clone(),
        cancel,
        drain: state.drain.clone(),
        events,
        turns: state.turns.clone(),
    };
    let span = tracing::info_span!("picture", conversation = %turn.conversation.id, answer = turn.answer.id);
    state.drain.spawn(run.run().instrument(span));
    turn.with_events(receiver)
}

/// The provider's model for an app: its `model` through the site's `[models]`, or the
/// site's own; the demo model answers whatever is asked of it.
pub fn provider_model(state: &AppState, app: &App) -> String {
    if state.config.provider.is_demo() {
        return llm::demo::MODEL.to_string();
    }
    match app.model.as_deref() {
        Some(name) => state
            .site
            .models
            .get(name)
            .cloned()
            .unwrap_or_else(|| name.to_string()),
        None if app.output_format == OutputFormat::Image => state.site.image_model.clone(),
        None => state.llm.model().to_string(),
    }
}

/// The chat request of a run: the rendered messages as they are, the app's settings, and
/// for a structured app its schema in strict mode.
fn request_for(
    app: &App,
    model: String,
    messages: &[PromptMessage],
) -> CreateChatCompletionRequest {
    let messages = messages
        .iter()
        .map(|m| -> ChatCompletionRequestMessage {
            let content = m.content.as_str();
            match m.role {
                PromptRole::System => ChatCompletionRequestSystemMessage::from(content).into(),
                PromptRole::User => ChatCompletionRequestUserMessage::from(content).into(),
                PromptRole::Assistant => {
                    ChatCompletionRequestAssistantMessage::from(content).into()
                }
            }
        })
        .collect();
    let config = &app.config;
    let response_format = match (&app.output_format, &app.output_schema) {
        (OutputFormat::Json, Some(schema)) => Some(ResponseFormat::JsonSchema {
            json_schema: ResponseFormatJsonSchema {
                name: app.name.replace('-', "_"),
                description: app.description.clone(),
                schema: schema.clone(),
                strict: Some(true),
            },
        }),
        _ => None,
    };
    // `seed` is deprecated by OpenAI and still honoured by most compatible servers.
    #[allow(deprecated)]
    CreateChatCompletionRequest {
        model,
        messages,
        temperature: config.temperature.map(|t| t as f32),
        top_p: config.top_p.map(|p| p as f32),
        stop: config
            .stop_sequences
            .clone()
            .map(StopConfiguration::StringArray),
        presence_penalty: config.presence_penalty.map(|p| p as f32),
        frequency_penalty: config.frequency_penalty.map(|p| p as f32),
        seed: config.seed,
        response_format,
        ..Default::default()
    }
}

fn role_of(role: PromptRole) -> Role {
    match role {
        PromptRole::System => Role::System,
        PromptRole::User => Role::User,
        PromptRole::Assistant => Role::Assistant,
    }
}

/// "Summarize: Photosynthesis turns light…": the app's title and its first text input.
fn run_title(app: &App, input: &Map<String, Value>) -> String {
    let first_text = input.values().find_map(|v| match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.as_str()),
        _ => None,
    });
    match first_text {
        Some(text) => format!("{}: {}", app.title, title_from(text)),
        None => app.title.clone(),
    }
}
