//! Every URL on one screen, and the middleware around them.

mod api;
mod assets;
mod health;
mod pages;

use askama::Template;
use axum::{
    Json, Router,
    extract::{DefaultBodyLimit, Request, State},
    http::{HeaderName, HeaderValue, header},
    middleware::{self, Next},
    response::{Html, IntoResponse, Response},
    routing::{get, post},
};
use serde_json::json;
use tower::ServiceBuilder;
use tower_http::{
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::{DefaultOnResponse, TraceLayer},
};
use tracing::Level;

use crate::{
    AppState,
    error::{AppError, ErrorReport},
};

/// Largest request body accepted; a message's own limit (`MAX_MESSAGE_CHARS`) is checked
/// after parsing, with a message that says by how much it is over.
const BODY_LIMIT: usize = 256 * 1024;

/// Longest conversation title, in characters.
const TITLE_LIMIT: usize = 200;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn router(state: AppState) -> Router {
    Router::new()
        // Pages and their forms
        .route("/", get(pages::show_home))
        .route("/conversations", post(pages::start_conversation))
        .route("/conversations/{id}", get(pages::show_conversation))
        .route("/conversations/{id}/messages", post(pages::send_message))
        .route(
            "/conversations/{id}/regenerate",
            post(pages::regenerate_answer),
        )
        .route("/conversations/{id}/stop", post(pages::stop_answer))
        .route(
            "/conversations/{id}/rename",
            post(pages::rename_conversation),
        )
        .route(
            "/conversations/{id}/delete",
            post(pages::delete_conversation),
        )
        // JSON API
        .route(
            "/api/conversations",
            get(api::list_conversations).post(api::create_conversation),
        )
        .route(
            "/api/conversations/{id}",
            get(api::show_conversation)
                .patch(api::rename_conversation)
                .delete(api::delete_conversation),
        )
        .route("/api/conversations/{id}/messages", post(api::send_message))
        .route("/api/conversations/{id}/stop", post(api::stop_answer))
        // Operations
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/static/{*path}", get(assets::serve_asset))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), render_errors))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(|request: &Request| {
                            let request_id = request
                                .headers()
                                .get(REQUEST_ID)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or_default();
                            tracing::info_span!(
                                "request",
                                method = %request.method(),
                                path = %request.uri().path(),
                                request_id,
                            )
                        })
                        .on_response(DefaultOnResponse::new().level(Level::INFO)),
                )
                .layer(PropagateRequestIdLayer::new(REQUEST_ID)),
        )
        .with_state(state)
}

async fn not_found() -> AppError {
    AppError::NotFound("page")
}

/// Checks a conversation title from a form or the API.
fn validate_title(title: &str) -> Result<&str, AppError> {
    let title = title.trim();
    if title.is_empty() {
        return Err(AppError::Invalid(
            "The title is empty: write a title.".into(),
        ));
    }
    if title.chars().count() > TITLE_LIMIT {
        return Err(AppError::Invalid(format!(
            "The title is longer than {TITLE_LIMIT} characters: shorten it."
        )));
    }
    Ok(title)
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: pages::Layout,
    status: u16,
    message: String,
    request_id: Option<String>,
}

/// An error shown inside a page by htmx.
#[derive(Template)]
#[template(source = "<p class=\"error\">{{ message }}</p>", ext = "html")]
struct ErrorNotice {
    message: String,
}

/// Turns an [`ErrorReport`] into the body its caller understands: JSON for the API, a
/// small fragment for htmx (shown in the page's notice area), a full page otherwise.
async fn render_errors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let is_api = request.uri().path().starts_with("/api/");
    let is_htmx = request.headers().contains_key("hx-request");
    let request_id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let mut response = next.run(request).await;
    let Some(ErrorReport { status, message }) = response.extensions_mut().remove::<ErrorReport>()
    else {
        return response;
    };
    let shown_id = request_id.clone().filter(|_| status.is_server_error());
    let mut response = if is_api {
        Json(json!({
            "error": { "status": status.as_u16(), "message": message, "request_id": request_id }
        }))
        .into_response()
    } else if is_htmx {
        let notice = ErrorNotice { message };
        let mut response = match notice.render() {
            Ok(html) => Html(html).into_response(),
            Err(_) => notice.message.into_response(),
        };
        // Errors go to the notice area, never over the conversation.
        let headers = response.headers_mut();
        headers.insert("hx-retarget", HeaderValue::from_static("#notice"));
        headers.insert("hx-reswap", HeaderValue::from_static("innerHTML"));
        response
    } else {
        let page = ErrorPage {
            layout: pages::Layout::bare(&state),
            status: status.as_u16(),
            message,
            request_id: shown_id,
        };
        match page.render() {
            Ok(html) => Html(html).into_response(),
            Err(_) => page.message.into_response(),
        }
    };
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
