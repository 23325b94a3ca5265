//! "Download my data" (`GET /settings/data/export`): one JSON file of everything a user
//! has here, written as it is read. The account, today's usage and the API keys first
//! (a few rows), then the feedback, the share links and the conversations (with every
//! message, siblings too) in keyset pages, so the file can be of any size while the
//! server holds one page.

use axum::{
    body::Body,
    extract::State,
    http::{HeaderMap, header},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use futures_util::Stream;
use serde::Serialize;
use serde_json::Value;
use sqlx::SqlitePool;

use crate::{
    AppState,
    auth::SignedIn,
    chat,
    db::{
        account_data::{
            ConversationRow, list_own_conversations_page, list_own_feedback_page,
            list_own_shares_page, sum_user_usage_of_day,
        },
        api_keys::{ApiKey, list_api_keys},
        messages::Message,
        users::{User, UserRole},
    },
    error::AppError,
    i18n::Lang,
};

/// Conversations read per page, each with all its messages.
const CONVERSATIONS_PER_PAGE: i64 = 50;

/// Feedback or share rows read per page.
const ROWS_PER_PAGE: i64 = 500;

/// Names the file's shape, for whoever reads it later.
const FORMAT: &str = "promptship-data/1";

pub async fn download_data(
    State(state): State<AppState>,
    signed_in: SignedIn,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let user = signed_in.user;
    let today = state.clock.today();
    // The head is read before answering, so a failure there is an error page, not a
    // broken download.
    let head = head(&state, &user, &today).await?;
    tracing::info!(user = user.id, "user downloaded their data");
    let download = Download {
        db: state.db.clone(),
        user_id: user.id,
        share_base: format!("{}/s/", super::super::keys::base_url(&state, &headers)),
        stage: Stage::Feedback { after: 0 },
        first: true,
        lang: signed_in.visitor.lang,
    };
    let file = format!("promptship-data-{today}.json");
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/json; charset=utf-8".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        Body::from_stream(stream(head, download)),
    )
        .into_response())
}

#[derive(Serialize)]
struct AccountJson<'a> {
    id: i64,
    email: &'a str,
    role: UserRole,
    reviewer: bool,
    data_opt_out: bool,
    daily_token_budget: Option<i64>,
    created_at: i64,
}

#[derive(Serialize)]
struct UsageJson<'a> {
    day: &'a str,
    requests: i64,
    tokens: i64,
    cost_usd: f64,
}

/// The start of the file: everything but the lists read in pages.
#[derive(Serialize)]
struct HeadJson<'a> {
    format: &'static str,
    exported_at: i64,
    times: &'static str,
    account: AccountJson<'a>,
    usage_today: UsageJson<'a>,
    /// `ApiKey` holds no key and no hash: only what the settings page shows.
    api_keys: Vec<ApiKey>,
}

/// The file up to the first list read in pages: `{"format": …, "account": …,
/// "usage_today": …, "api_keys": […]` (without the closing brace).
async fn head(state: &AppState, user: &User, today: &str) -> Result<String, AppError> {
    let usage = sum_user_usage_of_day(&state.db, user.id, today).await?;
    let head = HeadJson {
        format: FORMAT,
        exported_at: crate::domain::now_ms(),
        times: "Unix milliseconds, UTC",
        account: AccountJson {
            id: user.id,
            email: &user.email,
            role: user.role,
            reviewer: user.reviewer,
            data_opt_out: user.data_opt_out,
            daily_token_budget: user.daily_token_budget,
            created_at: user.created_at,
        },
        usage_today: UsageJson {
            day: today,
            requests: usage.requests,
            tokens: usage.tokens,
            cost_usd: usage.cost_microusd as f64 / 1_000_000.0,
        },
        api_keys: list_api_keys(&state.db, user.id).await?,
    };
    let mut text = serde_json::to_string(&head).map_err(internal)?;
    // The lists read in pages follow.
    text.pop();
    Ok(text)
}

fn internal(error: serde_json::Error) -> AppError {
    AppError::Internal(error.into())
}

/// Where the download is.
enum Stage {
    Feedback { after: i64 },
    Shares { after: i64 },
    Conversations { after: String },
    Done,
}

/// The paged part of the file, read a page per chunk.
struct Download {
    db: SqlitePool,
    user_id: i64,
    /// `https://host/s/`, for the share links.
    share_base: String,
    stage: Stage,
    /// No element of the current list written yet.
    first: bool,
    /// The reader's language, for why an answer is not complete.
    lang: Lang,
}

#[derive(Serialize)]
struct FeedbackJson {
    message_id: i64,
    conversation_id: String,
    rating: Option<i64>,
    tags: Vec<String>,
    comment: Option<String>,
    correction: Option<String>,
    created_at: i64,
    updated_at: i64,
}

#[derive(Serialize)]
struct ShareJson {
    link: String,
    conversation_id: String,
    title: String,
    created_at: i64,
    updated_at: i64,
}

#[derive(Serialize)]
struct ConversationJson {
    id: String,
    title: String,
    created_at: i64,
    updated_at: i64,
    /// The prompt app of a run; `None` for a chat.
    app: Option<String>,
    app_version: Option<String>,
    /// The run's input.
    app_input: Option<Value>,
    messages: Vec<Message>,
}

impl Download {
    /// The next chunk of the file: one page of the current list (opening or closing it
    /// as needed); `None` once the file is whole.
    async fn next_chunk(&mut self) -> Result<Option<String>, AppError> {
        let mut chunk = String::new();
        match &self.stage {
            Stage::Feedback { after } => {
                let rows =
                    list_own_feedback_page(&self.db, self.user_id, *after, ROWS_PER_PAGE).await?;
                self.open(&mut chunk, "feedback");
                let next = rows.last().map(|r| r.message_id);
                let full = rows.len() as i64 == ROWS_PER_PAGE;
                for row in rows {
                    self.element(
                        &mut chunk,
                        &FeedbackJson {
                            message_id: row.message_id,
                            conversation_id: row.conversation_id,
                            rating: row.rating,
                            tags: row.tags.split_whitespace().map(str::to_string).collect(),
                            comment: row.comment,
                            correction: row.correction,
                            created_at: row.created_at,
                            updated_at: row.updated_at,
                        },
                    )?;
                }
                self.stage = match (full, next) {
                    (true, Some(after)) => Stage::Feedback { after },
                    _ => self.close(&mut chunk, Stage::Shares { after: 0 }),
                };
            }
            Stage::Shares { after } => {
                let rows =
                    list_own_shares_page(&self.db, self.user_id, *after, ROWS_PER_PAGE).await?;
                self.open(&mut chunk, "shares");
                let next = rows.last().map(|r| r.id);
                let full = rows.len() as i64 == ROWS_PER_PAGE;
                for row in rows {
                    self.element(
                        &mut chunk,
                        &ShareJson {
                            link: format!("{}{}", self.share_base, row.token),
                            conversation_id: row.conversation_id,
                            title: row.title,
                            created_at: row.created_at,
                            updated_at: row.updated_at,
                        },
                    )?;
                }
                self.stage = match (full, next) {
                    (true, Some(after)) => Stage::Shares { after },
                    _ => self.close(
                        &mut chunk,
                        Stage::Conversations {
                            after: String::new(),
                        },
                    ),
                };
            }
            Stage::Conversations { after } => {
                let rows = list_own_conversations_page(
                    &self.db,
                    self.user_id,
                    after,
                    CONVERSATIONS_PER_PAGE,
                )
                .await?;
                self.open(&mut chunk, "conversations");
                let conversations = group(rows, self.lang);
                let full = conversations.len() as i64 == CONVERSATIONS_PER_PAGE;
                let next = conversations.last().map(|c| c.id.clone());
                for conversation in &conversations {
                    self.element(&mut chunk, conversation)?;
                }
                self.stage = match (full, next) {
                    (true, Some(after)) => Stage::Conversations { after },
                    _ => {
                        // The end of the last list, and of the file.
                        chunk.push_str("]}\n");
                        Stage::Done
                    }
                };
            }
            Stage::Done => return Ok(None),
        }
        Ok(Some(chunk))
    }

    /// Starts the list `name` if nothing of it is written yet.
    fn open(&self, chunk: &mut String, name: &str) {
        if self.first {
            chunk.push_str(&format!(",\"{name}\":["));
        }
    }

    fn element(&mut self, chunk: &mut String, value: &impl Serialize) -> Result<(), AppError> {
        if !self.first {
            chunk.push(',');
        }
        self.first = false;
        chunk.push_str(&serde_json::to_string(value).map_err(internal)?);
        Ok(())
    }

    /// Ends the current list; the next one starts with its first page.
    fn close(&mut self, chunk: &mut String, next: Stage) -> Stage {
        chunk.push(']');
        self.first = true;
        next
    }
}

/// Rows of conversations with one message each, in order, as conversations with their
/// messages.
fn group(rows: Vec<ConversationRow>, lang: Lang) -> Vec<ConversationJson> {
    let mut conversations: Vec<ConversationJson> = Vec::new();
    for row in rows {
        if conversations
            .last()
            .is_none_or(|c| c.id != row.conversation_id)
        {
            conversations.push(ConversationJson {
                id: row.conversation_id,
                title: row.title,
                created_at: row.conversation_created_at,
                updated_at: row.conversation_updated_at,
                app: row.app,
                app_version: row.app_version,
                app_input: row.app_input.as_deref().map(|input| {
                    serde_json::from_str(input).unwrap_or_else(|_| Value::String(input.into()))
                }),
                messages: Vec::new(),
            });
        }
        if let (Some(conversation), Some(message)) = (conversations.last_mut(), row.message) {
            conversation.messages.push(chat::worded(message, lang));
        }
    }
    conversations
}

/// The file: the head, then a chunk per page until the end. A failure mid-way ends the
/// body with an error, so the client sees a broken download, never a short valid file.
fn stream(
    head: String,
    download: Download,
) -> impl Stream<Item = Result<Bytes, AppError>> + Send + 'static {
    futures_util::stream::unfold((Some(head), download), |(head, mut download)| async move {
        if let Some(head) = head {
            return Some((Ok(Bytes::from(head)), (None, download)));
        }
        match download.next_chunk().await {
            Ok(Some(chunk)) => Some((Ok(Bytes::from(chunk)), (None, download))),
            Ok(None) => None,
            Err(error) => {
                tracing::error!(%error, "a data download failed mid-way");
                download.stage = Stage::Done;
                Some((Err(error), (None, download)))
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{MessageStatus, Role};

    fn row(conversation: &str, message: Option<i64>) -> ConversationRow {
        ConversationRow {
            conversation_id: conversation.into(),
            title: "t".into(),
            conversation_created_at: 1,
            conversation_updated_at: 2,
            app: None,
            app_version: None,
            app_input: Some("{\"text\":\"hi\"}".into()),
            message: message.map(|id| Message {
                id,
                conversation_id: conversation.into(),
                role: Role::User,
                content: "c".into(),
                status: MessageStatus::Complete,
                error: None,
                model: None,
                prompt_tokens: None,
                completion_tokens: None,
                first_token_ms: None,
                duration_ms: None,
                created_at: 1,
                updated_at: 1,
                image: None,
                reply_to: None,
                preferred: false,
            }),
        }
    }

    #[test]
    fn rows_are_grouped_into_conversations_in_order() {
        let grouped = group(
            vec![
                row("a", Some(1)),
                row("a", Some(2)),
                row("b", None),
                row("c", Some(3)),
            ],
            Lang::En,
        );
        let shape: Vec<(String, Vec<i64>)> = grouped
            .iter()
            .map(|c| (c.id.clone(), c.messages.iter().map(|m| m.id).collect()))
            .collect();
        assert_eq!(
            shape,
            [
                ("a".into(), vec![1, 2]),
                ("b".into(), vec![]),
                ("c".into(), vec![3])
            ]
        );
        assert_eq!(
            grouped[0].app_input,
            Some(serde_json::json!({"text": "hi"}))
        );
    }
}
