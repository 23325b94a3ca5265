//! The one error type of every handler, and the only place a status code is chosen.
//!
//! An `AppError` becomes a response carrying an [`ErrorReport`]; the `render_errors`
//! middleware in `routes` turns that into an HTML page, an htmx fragment or a JSON body,
//! with the request id, depending on who asked.

use std::time::Duration;

use axum::{
    extract::rejection::{
        BytesRejection, FailedToBufferBody, FormRejection, JsonRejection, QueryRejection,
    },
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The thing asked for does not exist (or is not the visitor's).
    #[error("This {0} does not exist: check the link, or start again from the home page.")]
    NotFound(&'static str),
    /// The request is well-formed but its content is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// An app's input that breaks its schema: every field's problem at once (422).
    #[error("{}", describe_fields(.0))]
    InvalidFields(Vec<FieldProblem>),
    /// A message or body over the configured size.
    #[error("{0}")]
    TooLarge(String),
    /// The client took longer than allowed to send its request (408).
    #[error("{0}")]
    TimedOut(String),
    /// The visitor may not do this (not an admin, a cross-site request).
    #[error("{0}")]
    Forbidden(String),
    /// A user's or guest's daily allowance is spent, or a request rate exceeded (429).
    #[error("{message}")]
    LimitReached {
        message: String,
        retry_after: Duration,
    },
    /// Model calls are paused for everyone: the global budget is spent or the kill
    /// switch is on (503).
    #[error("{message}")]
    Paused {
        message: String,
        retry_after: Duration,
    },
    /// A `/v1` request named a model this deployment does not offer (404).
    #[error(
        "The model '{0}' does not exist on this deployment: GET /v1/models lists the models it offers."
    )]
    UnknownModel(String),
    /// The model server failed; the client gets a clear message, never its body.
    #[error("{}", .0.user_message())]
    Upstream(crate::llm::UpstreamError),
    /// The server is shutting down and could not finish this request in time (503).
    #[error("The server is restarting: try again in a few seconds.")]
    ShuttingDown,
    /// A missing, unknown, revoked or disabled API key (401).
    #[error(
        "Incorrect API key provided. Create one at /settings/keys and send it as `Authorization: Bearer <key>`."
    )]
    InvalidApiKey,
    /// Wrong email or password: one message for both, so accounts cannot be probed.
    #[error("{0}")]
    Unauthorized(String),
    /// The request clashes with work in progress, e.g. an answer is still being written.
    #[error("{0}")]
    Conflict(String),
    /// A body, form or query that could not be read or parsed, or a `/v1` request
    /// outside what the deployment accepts (400); the message says what to fix.
    #[error("{0}")]
    BadRequest(String),
    /// A body sent without the content type its route reads (415).
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// What is wrong with one field of an input.
#[derive(Clone, Debug, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct FieldProblem {
    /// The field's name; empty for the input as a whole.
    pub field: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// "The input has 2 problems: `notes` is required; `tone` must be one of: …"
fn describe_fields(fields: &[FieldProblem]) -> String {
    let problems: Vec<String> = fields
        .iter()
        .map(|p| match p.field.as_str() {
            "" => p.message.clone(),
            field => format!("`{field}` {}", p.message),
        })
        .collect();
    format!(
        "The input has {} problem{}: {}.",
        fields.len(),
        if fields.len() == 1 { "" } else { "s" },
        problems.join("; ")
    )
}

/// What a client is told about a failure, left in the response extensions for the
/// error-rendering middleware.
#[derive(Clone, Debug)]
pub struct ErrorReport {
    pub status: StatusCode,
    /// Safe to show: says what to fix for a 4xx, a generic sentence for a 5xx.
    pub message: String,
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
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = if matches!(self, AppError::Database(_) | AppError::Internal(_)) {
            // The cause goes to the log (inside the request's span, so with its id);
            // the client only learns that something went wrong.
            tracing::error!(error = ?self, "request failed");
            "Something went wrong on our side. Please try again; if it keeps happening, \
             quote the request id."
                .to_string()
        } else {
            self.to_string()
        };
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
// axum gives it, with axum's message, which says what to fix.

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> Self {
        let message = rejection.body_text();
        match rejection {
            JsonRejection::JsonSyntaxError(_) => AppError::BadRequest(message),
            // Valid JSON of the wrong shape: a missing field, an unknown one, a wrong type.
            JsonRejection::JsonDataError(_) => AppError::Invalid(message),
            JsonRejection::MissingJsonContentType(_) => AppError::UnsupportedMediaType(message),
            JsonRejection::BytesRejection(rejection) => unread_body(rejection),
            // A kind a later axum adds.
            _ => AppError::BadRequest(message),
        }
    }
}

impl From<FormRejection> for AppError {
    fn from(rejection: FormRejection) -> Self {
        let message = rejection.body_text();
        match rejection {
            // A form body with a field missing or of the wrong type.
            FormRejection::FailedToDeserializeFormBody(_) => AppError::Invalid(message),
            // The same in a query string (a form sent with GET).
            FormRejection::FailedToDeserializeForm(_) => AppError::BadRequest(message),
            FormRejection::InvalidFormContentType(_) => AppError::UnsupportedMediaType(message),
            FormRejection::BytesRejection(rejection) => unread_body(rejection),
            // A kind a later axum adds.
            _ => AppError::BadRequest(message),
        }
    }
}

impl From<QueryRejection> for AppError {
    fn from(rejection: QueryRejection) -> Self {
        AppError::BadRequest(rejection.body_text())
    }
}

/// A body that could not be read: over the size limit, or cut off.
fn unread_body(rejection: BytesRejection) -> AppError {
    match rejection {
        BytesRejection::FailedToBufferBody(FailedToBufferBody::LengthLimitError(_)) => {
            AppError::TooLarge(crate::routes::middleware::too_large())
        }
        rejection => AppError::BadRequest(rejection.body_text()),
    }
}
