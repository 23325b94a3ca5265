//! The one error type of every handler, and the only place a status code is chosen.
//!
//! An `AppError` becomes a response carrying an [`ErrorReport`] whose message is a
//! [`Text`], in no language yet; the `render_errors` middleware in `routes` turns that
//! into an HTML page, an htmx fragment or a JSON body, with the request id, in the
//! visitor's language, depending on who asked.

use std::{fmt, time::Duration};

use axum::{
    extract::rejection::{
        BytesRejection, FailedToBufferBody, FormRejection, JsonRejection, QueryRejection,
    },
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::i18n::Text;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The thing asked for does not exist (or is not the visitor's).
    NotFound(Thing),
    /// The request is well-formed but its content is not acceptable.
    Invalid(Text),
    /// An app's input that breaks its schema: every field's problem at once (422).
    InvalidFields(Vec<FieldProblem>),
    /// A message or body over the configured size.
    TooLarge(Text),
    /// The client took longer than allowed to send its request (408).
    TimedOut(Text),
    /// The visitor may not do this (not an admin, a cross-site request).
    Forbidden(Text),
    /// A user's or guest's daily allowance is spent, or a request rate exceeded (429).
    LimitReached {
        message: Text,
        retry_after: Duration,
    },
    /// Model calls are paused for everyone: the global budget is spent or the kill
    /// switch is on (503).
    Paused {
        message: Text,
        retry_after: Duration,
    },
    /// A `/v1` request named a model this deployment does not offer (404).
    UnknownModel(String),
    /// The model server failed; the client gets a clear message, never its body.
    Upstream(crate::llm::UpstreamError),
    /// The server is shutting down and could not finish this request in time (503).
    ShuttingDown,
    /// A missing, unknown, revoked or disabled API key (401).
    InvalidApiKey,
    /// Wrong email or password: one message for both, so accounts cannot be probed.
    Unauthorized(Text),
    /// The request clashes with work in progress, e.g. an answer is still being written.
    Conflict(Text),
    /// A body, form or query that could not be read or parsed, or a `/v1` request
    /// outside what the deployment accepts (400); the message says what to fix.
    BadRequest(Text),
    /// A body sent without the content type its route reads (415).
    UnsupportedMediaType(Text),
    Database(#[from] sqlx::Error),
    Internal(#[from] anyhow::Error),
}

/// Things a visitor can ask for that may not exist. Each has its own sentence: Korean
/// chooses its particles by the noun, so no noun is slotted into a shared one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Thing {
    Answer,
    ApiKey,
    App,
    Batch,
    Conversation,
    Feedback,
    File,
    Image,
    Page,
    Run,
    Share,
    User,
}

impl Thing {
    /// "This conversation does not exist: check the link, or start again from the home
    /// page."
    fn not_found(self) -> Text {
        match self {
            Thing::Answer => Text::new("not-found-answer"),
            Thing::ApiKey => Text::new("not-found-api-key"),
            Thing::App => Text::new("not-found-app"),
            Thing::Batch => Text::new("not-found-batch"),
            Thing::Conversation => Text::new("not-found-conversation"),
            Thing::Feedback => Text::new("not-found-feedback"),
            Thing::File => Text::new("not-found-file"),
            Thing::Image => Text::new("not-found-image"),
            Thing::Page => Text::new("not-found-page"),
            Thing::Run => Text::new("not-found-run"),
            Thing::Share => Text::new("not-found-share"),
            Thing::User => Text::new("not-found-user"),
        }
    }
}

/// What is wrong with one field of an input.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldProblem {
    /// The field's name; empty for the input as a whole.
    pub field: String,
    /// What is wrong and how to fix it; after the field's name in the error's message.
    pub message: Text,
}

impl FieldProblem {
    /// The problem with its field's name: "`notes` is required".
    fn text(&self) -> Text {
        match self.field.as_str() {
            "" => self.message.clone(),
            field => Text::new("field-problem")
                .arg("field", field)
                .arg("problem", self.message.clone()),
        }
    }
}

/// "The input has 2 problems: `notes` is required; `tone` must be one of: …"
fn describe_fields(fields: &[FieldProblem]) -> Text {
    let problems: Vec<Text> = fields.iter().map(FieldProblem::text).collect();
    Text::new("error-input-problems")
        .arg("count", problems.len())
        .arg("problems", problems)
}

/// What a client is told about a failure, left in the response extensions for the
/// error-rendering middleware, which puts it into the reader's words.
#[derive(Clone, Debug)]
pub struct ErrorReport {
    pub status: StatusCode,
    /// Safe to show: says what to fix for a 4xx, a generic sentence for a 5xx.
    pub message: Text,
    /// Each field's problem, for an input that breaks its schema.
    pub fields: Vec<FieldProblem>,
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Invalid(_) | AppError::InvalidFields(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TimedOut(_) => StatusCode::REQUEST_TIMEOUT,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::LimitReached { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Paused { .. } | AppError::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Unauthorized(_) | AppError::InvalidApiKey => StatusCode::UNAUTHORIZED,
            AppError::UnknownModel(_) => StatusCode::NOT_FOUND,
            AppError::Upstream(error) => match error {
                crate::llm::UpstreamError::QuotaExhausted
                | crate::llm::UpstreamError::Unauthorized(_)
                | crate::llm::UpstreamError::Unreachable
                | crate::llm::UpstreamError::RateLimited => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::BAD_GATEWAY,
            },
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Database(_) | AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What the client is told, in no language yet: what to fix for a 4xx, what
    /// happened for a 503 or 502, and only that something went wrong for a 500.
    pub fn message(&self) -> Text {
        match self {
            AppError::NotFound(thing) => thing.not_found(),
            AppError::Invalid(text)
            | AppError::TooLarge(text)
            | AppError::TimedOut(text)
            | AppError::Forbidden(text)
            | AppError::Unauthorized(text)
            | AppError::Conflict(text)
            | AppError::BadRequest(text)
            | AppError::UnsupportedMediaType(text)
            | AppError::LimitReached { message: text, .. }
            | AppError::Paused { message: text, .. } => text.clone(),
            AppError::InvalidFields(fields) => describe_fields(fields),
            AppError::UnknownModel(model) => {
                Text::new("error-unknown-model").arg("model", model.as_str())
            }
            AppError::Upstream(error) => error.user_message(),
            AppError::ShuttingDown => Text::new("error-shutting-down"),
            AppError::InvalidApiKey => Text::new("error-invalid-api-key"),
            AppError::Database(_) | AppError::Internal(_) => Text::new("error-internal"),
        }
    }
}

/// In English, for logs: the client's message, or the cause of a 500.
impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppError::Database(error) => write!(f, "database error: {error}"),
            AppError::Internal(error) => fmt::Display::fmt(error, f),
            visible => fmt::Display::fmt(&visible.message(), f),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if matches!(self, AppError::Database(_) | AppError::Internal(_)) {
            // The cause goes to the log (inside the request's span, so with its id);
            // the client only learns that something went wrong.
            tracing::error!(error = ?self, "request failed");
        }
        let message = self.message();
        let mut response = status.into_response();
        if let AppError::LimitReached { retry_after, .. } | AppError::Paused { retry_after, .. } =
            &self
        {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(retry_after.as_secs().max(1)),
            );
        }
        let fields = match self {
            AppError::InvalidFields(fields) => fields,
            _ => Vec::new(),
        };
        response.extensions_mut().insert(ErrorReport {
            status,
            message,
            fields,
        });
        response
    }
}

// Extractor rejections (`routes::extract`), each kind mapped to the variant whose status
// axum gives it. axum's own message, which says what is wrong in English, is kept as the
// detail of a sentence in the reader's language.

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> Self {
        let detail = rejection.body_text();
        match rejection {
            JsonRejection::JsonSyntaxError(_) => {
                AppError::BadRequest(Text::new("rejection-json-syntax").arg("detail", detail))
            }
            // Valid JSON of the wrong shape: a missing field, an unknown one, a wrong type.
            JsonRejection::JsonDataError(_) => {
                AppError::Invalid(Text::new("rejection-json-data").arg("detail", detail))
            }
            JsonRejection::MissingJsonContentType(_) => AppError::UnsupportedMediaType(
                Text::new("rejection-json-content-type").arg("detail", detail),
            ),
            JsonRejection::BytesRejection(rejection) => unread_body(rejection),
            // A kind a later axum adds.
            _ => AppError::BadRequest(Text::new("rejection-body").arg("detail", detail)),
        }
    }
}

impl From<FormRejection> for AppError {
    fn from(rejection: FormRejection) -> Self {
        let detail = rejection.body_text();
        match rejection {
            // A form body with a field missing or of the wrong type.
            FormRejection::FailedToDeserializeFormBody(_) => {
                AppError::Invalid(Text::new("rejection-form").arg("detail", detail))
            }
            // The same in a query string (a form sent with GET).
            FormRejection::FailedToDeserializeForm(_) => {
                AppError::BadRequest(Text::new("rejection-query").arg("detail", detail))
            }
            FormRejection::InvalidFormContentType(_) => AppError::UnsupportedMediaType(
                Text::new("rejection-form-content-type").arg("detail", detail),
            ),
            FormRejection::BytesRejection(rejection) => unread_body(rejection),
            // A kind a later axum adds.
            _ => AppError::BadRequest(Text::new("rejection-body").arg("detail", detail)),
        }
    }
}

impl From<QueryRejection> for AppError {
    fn from(rejection: QueryRejection) -> Self {
        AppError::BadRequest(Text::new("rejection-query").arg("detail", rejection.body_text()))
    }
}

/// A body that could not be read: over the size limit, or cut off.
fn unread_body(rejection: BytesRejection) -> AppError {
    match rejection {
        BytesRejection::FailedToBufferBody(FailedToBufferBody::LengthLimitError(_)) => {
            AppError::TooLarge(crate::routes::middleware::too_large())
        }
        rejection => {
            AppError::BadRequest(Text::new("rejection-body").arg("detail", rejection.body_text()))
        }
    }
}
