//! The HTML pages: the landing page, a conversation, and the forms that act on them.
//! Every form works without JavaScript (the POST waits for the whole answer, then
//! redirects); with htmx the same POST streams the answer into the page.

use std::{collections::HashMap, sync::Arc};

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use sqlx::SqliteConnection;

mod stream;

use self::stream::respond;
use super::{extract::AppForm, feedback::FeedbackView};
use crate::{
    AppState,
    auth::Visitor,
    budget::Spender,
    chat::{self, Ask},
    db::{
        Conversation, Message,
        conversations::{self, find_conversation, list_conversations},
        feedback::{Feedback, list_conversation_feedback},
        messages::{list_messages, thread},
        shares::Pinned,
    },
    domain::{DataPolicy, MessageStatus, Role},
    error::{AppError, Thing},
    i18n::{Lang, Text},
    markdown::{self, RenderCache},
};

/// Conversations listed in the sidebar.
const SIDEBAR_CONVERSATIONS: i64 = 100;

/// What every page shows around its content.
pub struct Layout {
    pub lang: Lang,
    /// Where switching the language comes back to.
    pub page: String,
    pub site_name: String,
    /// The page's `<meta name="description">`: the site's tagline unless a page says more.
    pub description: String,
    pub demo: bool,
    /// The visitor's conversations (none for a guest who has not written yet).
    pub conversations: Vec<Conversation>,
    /// The conversation open in the page, highlighted in the sidebar.
    pub active: Option<String>,
    /// The logged-in user's email; `None` for a guest.
    pub user_email: Option<String>,
    pub is_admin: bool,
    /// May open the review queue (an admin or a reviewer).
    pub can_review: bool,
}

impl Layout {
    pub async fn load(
        state: &AppState,
        visitor: &Visitor,
        active: Option<&str>,
    ) -> Result<Self, AppError> {
        Self::load_on(&mut *state.db.acquire().await?, state, visitor, active).await
    }

    /// [`Layout::load`] on a connection the page already holds: one trip to the pool
    /// per page.
    pub async fn load_on(
        conn: &mut SqliteConnection,
        state: &AppState,
        visitor: &Visitor,
        active: Option<&str>,
    ) -> Result<Self, AppError> {
        let conversations = match visitor.owner() {
            Some(owner) => list_conversations(conn, &owner, SIDEBAR_CONVERSATIONS, 0).await?,
            None => Vec::new(),
        };
        Ok(Self {
            conversations,
            active: active.map(str::to_string),
            user_email: visitor.user.as_ref().map(|u| u.email.clone()),
            is_admin: visitor.is_admin(),
            can_review: visitor.user.as_ref().is_some_and(|u| u.can_review()),
            page: visitor.page.clone(),
            ..Self::bare(state, visitor.lang)
        })
    }

    /// The layout of an error page: no database access, so it renders even when the
    /// database is the problem.
    pub fn bare(state: &AppState, lang: Lang) -> Self {
        Self {
            lang,
            page: "/".to_string(),
            site_name: state.site.name.clone(),
            description: state.site.tagline(lang).to_string(),
            demo: state.config.provider.is_demo(),
            conversations: Vec::new(),
            active: None,
            user_email: None,
            is_admin: false,
            can_review: false,
        }
    }
}

/// Model, tokens and timing of an answer that has ended, for the curious: "gpt-4o-mini ·
/// 42 tokens · 1.3 s", put into words in the reader's language.
#[derive(Clone, Debug, Default)]
pub struct Meta {
    pub model: Option<String>,
    pub tokens: Option<i64>,
    pub duration_ms: Option<i64>,
}

impl Meta {
    /// An ended answer's meta; none while it is being written.
    pub fn of(message: &Message) -> Self {
        if message.status == MessageStatus::Streaming {
            return Self::default();
        }
        Self {
            model: message.model.clone(),
            tokens: message.completion_tokens,
            duration_ms: message.duration_ms,
        }
    }

    /// The line, empty when there is nothing to say.
    pub fn in_lang(&self, lang: impl Into<Lang>) -> String {
        let lang = lang.into();
        let mut parts = Vec::new();
        parts.extend(self.model.clone());
        if let Some(tokens) = self.tokens {
            parts.push(lang.t1("meta-tokens", "count", tokens));
        }
        if let Some(ms) = self.duration_ms {
            // Formatted here: Fluent would print 1.30 as "1.3" but 2.0 as "2".
            let seconds = format!("{:.1}", ms as f64 / 1000.0);
            parts.push(lang.t1("meta-seconds", "seconds", seconds));
        }
        parts.join(" · ")
    }
}

/// A message as a page shows it.
pub struct MessageView {
    pub id: i64,
    pub conversation_id: String,
    pub role: &'static str,
    pub status: &'static str,
    pub content: String,
    /// Sanitized HTML of an answer's Markdown.
    pub html: Arc<str>,
    /// Why the answer is not complete.
    pub error: Option<Text>,
    /// Model, tokens and timing, for the curious.
    pub meta: Meta,
    /// An image app's picture, by the hash it is served under.
    pub image: Option<String>,
    /// The owner's feedback controls, on an answer that has ended.
    pub verdict: Option<FeedbackView>,
    /// How many answers its question has (regenerate keeps the earlier ones).
    pub siblings: usize,
    /// The sibling its owner marked as the better one.
    pub preferred: bool,
    /// The first and last of the answers not chosen, which the page folds away after the
    /// chosen one.
    pub group_start: bool,
    pub group_end: bool,
}

impl MessageView {
    pub(super) fn new(message: &Message, rendered: &RenderCache) -> Self {
        let (role, html) = match message.role {
            // Not listed (see `list`); were one shown, as text.
            Role::System => ("system", Arc::from("")),
            Role::User => ("user", Arc::from("")),
            // An answer still being written changes with every token.
            Role::Assistant if message.status == MessageStatus::Streaming => {
                ("assistant", markdown::to_safe_html(&message.content).into())
            }
            // A structured app's answer, followed in chat: as readable HTML, not as a
            // paragraph of JSON.
            Role::Assistant
                if message.status == MessageStatus::Complete
                    && let Some(value) = crate::share::structured(&message.content) =>
            {
                ("assistant", crate::apps::output_html(&value).into())
            }
            Role::Assistant => (
                "assistant",
                rendered.html(message.id, message.updated_at, &message.content),
            ),
        };
        let meta = match message.role {
            Role::Assistant => Meta::of(message),
            Role::System | Role::User => Meta::default(),
        };
        Self {
            id: message.id,
            conversation_id: message.conversation_id.clone(),
            role,
            status: message.status.as_str(),
            content: message.content.clone(),
            html,
            error: crate::chat::answer_error(message),
            meta,
            image: message.image.clone(),
            verdict: None,
            siblings: 1,
            preferred: message.preferred,
            group_start: false,
            group_end: false,
        }
    }

    /// An answer with its owner's feedback controls (once it has ended).
    pub(super) fn judged(
        message: &Message,
        feedback: Option<&Feedback>,
        rendered: &RenderCache,
        max_correction: usize,
    ) -> Self {
        let mut view = Self::new(message, rendered);
        if message.role == Role::Assistant
            && matches!(
                message.status,
                MessageStatus::Complete | MessageStatus::Interrupted
            )
        {
            view.verdict = Some(FeedbackView::new(message.id, feedback, max_correction));
        }
        view
    }

    /// The messages a conversation shows: an app's instructions stay out of the page,
    /// and each question's other answers are folded away just before the chosen one, so
    /// the chosen answer is the one the conversation goes on from on the page too.
    pub(super) fn list(
        messages: &[Message],
        feedback: &[(i64, Feedback)],
        rendered: &RenderCache,
        max_correction: usize,
    ) -> Vec<Self> {
        let feedback: HashMap<i64, &Feedback> = feedback.iter().map(|(id, f)| (*id, f)).collect();
        let mut answers: HashMap<i64, Vec<&Message>> = HashMap::new();
        for message in messages {
            if let (Role::Assistant, Some(question)) = (message.role, message.reply_to) {
                answers.entry(question).or_default().push(message);
            }
        }
        let view = |m: &Message, siblings: usize| {
            let mut view = Self::judged(m, feedback.get(&m.id).copied(), rendered, max_correction);
            view.siblings = siblings;
            view
        };
        let mut views = Vec::with_capacity(messages.len());
        for message in thread(messages) {
            if message.role == Role::System {
                continue;
            }
            let siblings = match (message.role, message.reply_to) {
                (Role::Assistant, Some(question)) => &answers[&question][..],
                _ => &[],
            };
            let others: Vec<_> = siblings.iter().filter(|m| m.id != message.id).collect();
            for (i, other) in others.iter().enumerate() {
                let mut alternative = view(other, siblings.len());
                alternative.group_start = i == 0;
                alternative.group_end = i + 1 == others.len();
                views.push(alternative);
            }
            views.push(view(message, siblings.len().max(1)));
        }
        views
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "chat.html")]
pub struct ChatPage {
    layout: Layout,
    conversation: Option<Conversation>,
    messages: Vec<MessageView>,
    /// Where the composer posts.
    action: String,
    /// Where "Regenerate" posts (empty before the conversation exists).
    regenerate: String,
    tagline: String,
    landing_html: String,
    suggestions: Vec<String>,
    /// The site's apps, offered on the landing page: (name, icon, title).
    apps: Vec<(String, String, String)>,
    max_message_chars: usize,
    /// The longest title the rename form takes.
    title_limit: usize,
    /// What the site's data policy means for this visitor, under the composer; none
    /// when nothing they write can become training data.
    data_notice: Option<Text>,
    /// Whether the notice links to the opt-out (a signed-in user).
    data_opt_out_link: bool,
    /// The landing page's "See it in action" cards (pinned shares).
    showcase: Vec<Pinned>,
    oob: bool,
}

/// What the site's data policy means for a visitor.
fn data_notice(policy: DataPolicy, visitor: &Visitor) -> Option<Text> {
    match (policy, &visitor.user) {
        (DataPolicy::Off, _) | (DataPolicy::Accounts, None) => None,
        (_, Some(user)) if user.data_opt_out => Some(Text::new("chat-data-opted-out")),
        (_, Some(_)) => Some(Text::new("chat-data-used")),
        (DataPolicy::All, None) => Some(Text::new("chat-data-used-guests")),
    }
}

impl ChatPage {
    fn new(
        state: &AppState,
        layout: Layout,
        conversation: Option<Conversation>,
        messages: &[Message],
        feedback: &[(i64, Feedback)],
    ) -> Self {
        let (action, regenerate) = match &conversation {
            Some(c) => (
                format!("/conversations/{}/messages", c.id),
                format!("/conversations/{}/regenerate", c.id),
            ),
            None => ("/conversations".to_string(), String::new()),
        };
        let lang = layout.lang;
        Self {
            layout,
            conversation,
            messages: MessageView::list(
                messages,
                feedback,
                &state.rendered,
                state.config.max_message_chars,
            ),
            action,
            regenerate,
            tagline: state.site.tagline(lang).to_string(),
            landing_html: markdown::to_safe_html(state.site.landing(lang)),
            suggestions: state.site.suggestions(lang).to_vec(),
            apps: state
                .apps
                .current()
                .iter()
                .map(|app| {
                    let icon = app.icon.clone().unwrap_or_else(|| "✦".into());
                    (app.name.clone(), icon, app.title_in(lang).to_string())
                })
                .collect(),
            max_message_chars: state.config.max_message_chars,
            title_limit: super::TITLE_LIMIT,
            data_notice: None,
            data_opt_out_link: false,
            showcase: Vec::new(),
            oob: false,
        }
    }
}

impl ChatPage {
    /// With the data policy notice this visitor should see.
    fn for_visitor(mut self, state: &AppState, visitor: &Visitor) -> Self {
        self.data_notice = data_notice(state.site.data_policy, visitor);
        self.data_opt_out_link = visitor.user.is_some() && self.data_notice.is_some();
        self
    }
}

/// The home page: the chat's landing page, or the app the site file names as its home
/// (`home_app`, for a single-purpose service).
pub async fn show_home(
    State(state): State<AppState>,
    visitor: Visitor,
) -> Result<Response, AppError> {
    if let Some(name) = &state.site.home_app
        && state.apps.current().get(name).is_some()
    {
        let mut page = super::apps::app_page(&state, &visitor, name, false).await?;
        page.showcase = super::shares::showcase(&state).await?;
        return Ok(page.into_response());
    }
    Ok(show_chat(State(state), visitor).await?.into_response())
}

/// The chat's landing page: a new conversation.
pub async fn show_chat(
    State(state): State<AppState>,
    visitor: Visitor,
) -> Result<ChatPage, AppError> {
    let layout = Layout::load(&state, &visitor, None).await?;
    let mut page = ChatPage::new(&state, layout, None, &[], &[]).for_visitor(&state, &visitor);
    page.showcase = super::shares::showcase(&state).await?;
    Ok(page)
}

pub async fn show_conversation(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Result<ChatPage, AppError> {
    let owner = visitor
        .owner()
        .ok_or(AppError::NotFound(Thing::Conversation))?;
    let mut conn = state.db.acquire().await?;
    let layout = Layout::load_on(&mut conn, &state, &visitor, Some(&id)).await?;
    // Usually among the sidebar's recent conversations, which are the owner's own: one
    // query fewer.
    let conversation = match layout.conversations.iter().find(|c| c.id == id) {
        Some(conversation) => conversation.clone(),
        None => find_conversation(&mut conn, &owner, &id)
            .await?
            .ok_or(AppError::NotFound(Thing::Conversation))?,
    };
    let messages = list_messages(&mut conn, &id).await?;
    let feedback = list_conversation_feedback(&mut conn, &id).await?;
    drop(conn);
    Ok(
        ChatPage::new(&state, layout, Some(conversation), &messages, &feedback)
            .for_visitor(&state, &visitor),
    )
}

#[derive(Deserialize)]
pub struct MessageForm {
    content: String,
}

pub async fn start_conversation(
    State(state): State<AppState>,
    mut visitor: Visitor,
    headers: HeaderMap,
    AppForm(form): AppForm<MessageForm>,
) -> Result<Response, AppError> {
    // Checked before a guest is made: a refused message leaves nothing behind.
    chat::validate_message(&form.content, state.config.max_message_chars)?;
    let owner = visitor.owner_or_new_guest(&state).await?;
    let turn = chat::start_turn(
        &state,
        &Spender::of(&visitor, owner),
        None,
        Ask::Message(form.content),
    )
    .await?;
    respond(state, visitor, &headers, turn).await
}

pub async fn send_message(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
    headers: HeaderMap,
    AppForm(form): AppForm<MessageForm>,
) -> Result<Response, AppError> {
    // An existing conversation has its owner already.
    let owner = visitor
        .owner()
        .ok_or(AppError::NotFound(Thing::Conversation))?;
    let turn = chat::start_turn(
        &state,
        &Spender::of(&visitor, owner),
        Some(&id),
        Ask::Message(form.content),
    )
    .await;
    match turn {
        // Without JavaScript a double submit lands here: show the answer in progress.
        Err(AppError::Conflict(_)) if !is_htmx(&headers) => {
            Ok(Redirect::to(&format!("/conversations/{id}")).into_response())
        }
        turn => respond(state, visitor, &headers, turn?).await,
    }
}

pub async fn regenerate_answer(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let owner = visitor
        .owner()
        .ok_or(AppError::NotFound(Thing::Conversation))?;
    let turn = chat::start_turn(
        &state,
        &Spender::of(&visitor, owner),
        Some(&id),
        Ask::Regenerate,
    )
    .await?;
    respond(state, visitor, &headers, turn).await
}

pub async fn stop_answer(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let owner = visitor
        .owner()
        .ok_or(AppError::NotFound(Thing::Conversation))?;
    chat::stop(&state, &owner, &id).await?;
    Ok(if is_htmx(&headers) {
        // The running stream delivers the final state of the answer.
        StatusCode::NO_CONTENT.into_response()
    } else {
        Redirect::to(&format!("/conversations/{id}")).into_response()
    })
}

#[derive(Deserialize)]
pub struct RenameForm {
    title: String,
}

pub async fn rename_conversation(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
    AppForm(form): AppForm<RenameForm>,
) -> Result<Redirect, AppError> {
    let title = super::validate_title(&form.title)?;
    let owner = visitor
        .owner()
        .ok_or(AppError::NotFound(Thing::Conversation))?;
    if !conversations::update_conversation_title(&state.db, &owner, &id, title).await? {
        return Err(AppError::NotFound(Thing::Conversation));
    }
    Ok(Redirect::to(&format!("/conversations/{id}")))
}

pub async fn delete_conversation(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Result<Redirect, AppError> {
    let owner = visitor
        .owner()
        .ok_or(AppError::NotFound(Thing::Conversation))?;
    chat::stop(&state, &owner, &id).await?;
    if !conversations::delete_conversation(&state.db, &owner, &id).await? {
        return Err(AppError::NotFound(Thing::Conversation));
    }
    Ok(Redirect::to("/"))
}

pub(crate) fn is_htmx(headers: &HeaderMap) -> bool {
    headers.contains_key("hx-request")
}
