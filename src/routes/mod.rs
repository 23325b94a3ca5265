//! Every URL on one screen, and the middleware around them.

pub mod about;
mod account;
mod admin;
mod api;
mod apps;
mod assets;
mod batches;
mod bodies;
mod data;
mod docs;
mod export;
mod extract;
mod feedback;
mod health;
mod keys;
mod language;
pub mod metrics;
pub mod middleware;
mod openai;
mod pages;
mod review;
mod shares;

use axum::{
    Router,
    extract::{DefaultBodyLimit, Request},
    handler::Handler,
    http::HeaderName,
    middleware::{from_fn_with_state, map_response},
    routing::{get, post},
};
use tower::ServiceBuilder;
use tower_http::{
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::{DefaultOnResponse, TraceLayer},
};
use tracing::Level;

use axum_login::AuthManagerLayerBuilder;

use crate::{
    AppState, auth,
    error::{AppError, Thing},
    i18n::Text,
};

/// Largest request body accepted; a message's own limit (`MAX_MESSAGE_CHARS`) is checked
/// after parsing, with a message that says by how much it is over.
const BODY_LIMIT: usize = 256 * 1024;

/// Longest conversation title, in characters.
const TITLE_LIMIT: usize = 200;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn router(state: AppState) -> Router {
    let https = state.config.serves_https();
    let backend = auth::Backend {
        db: state.db.clone(),
        hasher: state.hasher.clone(),
        users: state.users.clone(),
    };
    let auth_layer =
        AuthManagerLayerBuilder::new(backend, auth::session_layer(state.sessions.clone(), https))
            .build();
    let messages = state.limits.messages();
    let auth_attempts = state.limits.auth_attempts();
    let signups = state.limits.signups();
    let site = Router::new()
        // Pages and their forms
        .route("/", get(pages::show_home))
        .route(
            "/conversations",
            post(pages::start_conversation).layer(messages.clone()),
        )
        .route("/chat", get(pages::show_chat))
        .route("/conversations/{id}", get(pages::show_conversation))
        // Prompt apps
        .route("/apps", get(apps::show_gallery))
        .route("/apps/{name}", get(apps::show_app))
        .route(
            "/apps/{name}/runs",
            post(apps::run_app).layer(messages.clone()),
        )
        .route("/apps/{name}/runs/{id}", get(apps::show_run))
        .route("/images/{hash}", get(apps::show_image))
        .route(
            "/conversations/{id}/messages",
            post(pages::send_message).layer(messages.clone()),
        )
        .route(
            "/conversations/{id}/regenerate",
            post(pages::regenerate_answer).layer(messages.clone()),
        )
        .route("/conversations/{id}/stop", post(pages::stop_answer))
        .route("/messages/{id}/feedback", post(feedback::give_feedback))
        .route(
            "/messages/{id}/feedback/delete",
            post(feedback::take_back_feedback),
        )
        .route("/messages/{id}/prefer", post(feedback::prefer_answer))
        .route(
            "/conversations/{id}/rename",
            post(pages::rename_conversation),
        )
        .route(
            "/conversations/{id}/delete",
            post(pages::delete_conversation),
        )
        // Share links (`shares::private_headers`: never indexed, no referrer)
        .route(
            "/conversations/{id}/share",
            post(shares::share_conversation),
        )
        .route(
            "/s/{token}",
            get(shares::show_share).layer(map_response(shares::private_headers)),
        )
        .route(
            "/s/{token}/preview.png",
            get(shares::show_preview).layer(map_response(shares::private_headers)),
        )
        .route("/s/{token}/continue", post(shares::continue_share))
        .route("/settings/shares", get(shares::show_shares))
        .route("/settings/shares/{id}/revoke", post(shares::revoke_share))
        .route("/admin/shares/{id}/pin", post(shares::pin_share))
        .route("/admin/shares/{id}/unpin", post(shares::unpin_share))
        // Accounts
        .route(
            "/signup",
            get(account::show_signup)
                .post(account::sign_up.layer(signups).layer(auth_attempts.clone())),
        )
        .route(
            "/login",
            get(account::show_login).post(account::log_in.layer(auth_attempts.clone())),
        )
        .route("/logout", post(account::log_out))
        .route("/language", post(language::choose_language))
        .route("/about", get(about::show_about))
        // API keys
        .route(
            "/settings/keys",
            get(keys::show_keys).post(keys::create_key),
        )
        .route("/settings/keys/{id}/revoke", post(keys::revoke_key))
        // Your data
        .route(
            "/settings/data",
            get(data::show_data).post(data::set_data_opt_out),
        )
        .route("/settings/data/export", get(data::download_data))
        .route(
            "/settings/account/delete",
            post(data::delete_account.layer(auth_attempts)),
        )
        .route("/admin/keys/{id}/revoke", post(admin::revoke_key))
        // Admin
        .route("/admin", get(admin::show_admin))
        .route("/admin/users/{id}/disable", post(admin::disable_user))
        .route("/admin/users/{id}/enable", post(admin::enable_user))
        .route("/admin/users/{id}/reset-usage", post(admin::reset_usage))
        .route("/admin/users/{id}/budget", post(admin::change_budget))
        .route("/admin/users/{id}/make-admin", post(admin::make_admin))
        .route(
            "/admin/users/{id}/make-reviewer",
            post(admin::make_reviewer),
        )
        .route(
            "/admin/users/{id}/remove-reviewer",
            post(admin::remove_reviewer),
        )
        .route("/admin/pause", post(admin::set_paused))
        .route("/admin/signup-mode", post(admin::set_signup_mode))
        .route("/admin/invites", post(admin::create_invite))
        // The review queue (admins and reviewers)
        .route("/review", get(review::show_queue))
        .route("/review/next", get(review::claim_next_answer))
        .route("/review/{id}", get(review::show_answer))
        .route("/review/{id}/accept", post(review::accept_answer))
        .route("/review/{id}/edit", post(review::edit_answer))
        .route("/review/{id}/reject", post(review::reject_answer))
        .route("/review/{id}/skip", post(review::skip_answer))
        .route("/admin/export", get(export::download_export))
        .route("/admin/export/manifest", get(export::show_export_manifest))
        // Dataset batches
        // `batches::UPLOAD_PATH`: its body may be as large as the upload cap.
        .route(
            "/admin/batches",
            get(batches::show_batches)
                .post(batches::create_batch.layer(DefaultBodyLimit::max(upload_limit(&state)))),
        )
        .route("/admin/batches/new", get(batches::show_new_batch))
        .route("/admin/batches/{id}", get(batches::show_batch))
        .route("/admin/batches/{id}/pause", post(batches::pause_batch))
        .route("/admin/batches/{id}/resume", post(batches::resume_batch))
        .route("/admin/batches/{id}/cancel", post(batches::cancel_batch))
        // JSON API
        .route(
            "/api/v1/conversations",
            get(api::list_conversations).post(api::create_conversation),
        )
        .route(
            "/api/v1/conversations/{id}",
            get(api::show_conversation)
                .patch(api::rename_conversation)
                .delete(api::delete_conversation),
        )
        .route(
            "/api/v1/conversations/{id}/messages",
            post(api::send_message).layer(messages.clone()),
        )
        .route("/api/v1/conversations/{id}/stop", post(api::stop_answer))
        .route(
            "/api/v1/messages/{id}/feedback",
            get(feedback::show_feedback)
                .put(feedback::put_feedback)
                .delete(feedback::delete_feedback),
        )
        .route("/api/v1/apps", get(apps::api::list_apps))
        .route(
            "/api/v1/apps/{name}/runs",
            post(apps::api::create_run).layer(messages.clone()),
        )
        .route("/api/openapi.json", get(docs::openapi_json))
        .route("/api/docs", get(docs::show_docs))
        // Operations
        .route("/metrics", get(metrics::show_metrics))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/static/{*path}", get(assets::serve_asset))
        .route_layer(axum::middleware::from_fn(metrics::record_http))
        .fallback(not_found)
        // Every state-changing request: refused cross-site, held to the address's write
        // rate (whether or not it calls the model), its body read within limits.
        .layer(from_fn_with_state(state.clone(), middleware::guard_writes))
        // Inside the session layers, so an error page knows who is logged in.
        .layer(from_fn_with_state(state.clone(), middleware::render_errors))
        .layer(auth_layer);
    // The OpenAI-compatible API authenticates each call by its bearer key alone, so it
    // skips the session and login layers (and the cookie work they do on every call).
    // Its layers are stacked on each handler as one: `Router::layer` and `route_layer`
    // would box each in turn, and clone and drop every box per call.
    let v1 = ServiceBuilder::new()
        .layer(from_fn_with_state(state.clone(), middleware::render_errors))
        .layer(axum::middleware::from_fn(metrics::record_http));
    let openai = Router::new()
        .route("/v1/models", get(openai::list_models).layer(v1.clone()))
        .route(
            "/v1/chat/completions",
            // The rate first: a refused call's body is not even read.
            post(openai::create_chat_completion).layer(
                v1.layer(messages)
                    .layer(from_fn_with_state(state.clone(), middleware::read_body)),
            ),
        );
    let routes = site.merge(openai).with_state(state.clone());
    // Around the router as a whole: `Router::layer` would wrap each route in a boxed copy
    // of every layer, all cloned and dropped again on every request.
    let headers = middleware::security_headers(https);
    let edge = ServiceBuilder::new()
        // Outermost, so that every response gets them: pages, errors, 413s, 429s, streams.
        .map_response(move |response| middleware::add_headers(response, &headers))
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
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(from_fn_with_state(state, middleware::record_client_ip))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .service(routes);
    Router::new().fallback_service(edge)
}

/// Largest body of the new batch form: its file and the form's other fields.
pub fn upload_limit(state: &AppState) -> usize {
    state.config.batch_max_upload_bytes + batches::FORM_ROOM
}

async fn not_found() -> AppError {
    AppError::NotFound(Thing::Page)
}

/// Checks a conversation title from a form or the API.
fn validate_title(title: &str) -> Result<&str, AppError> {
    let title = title.trim();
    if title.is_empty() {
        return Err(AppError::Invalid(Text::new("error-title-empty")));
    }
    if crate::domain::has_control_characters(title) {
        return Err(AppError::Invalid(Text::new("error-title-control")));
    }
    if title.chars().count() > TITLE_LIMIT {
        return Err(AppError::Invalid(
            Text::new("error-title-long").arg("max", TITLE_LIMIT),
        ));
    }
    Ok(title)
}
