//! The OpenAPI 3.1 document of `/api/v1` and `/v1`, generated from the handlers with
//! utoipa, and an interactive reference (Scalar) to read and try it.

use std::sync::LazyLock;

use axum::{
    http::{HeaderValue, header},
    response::{Html, IntoResponse, Response},
};
use utoipa::{
    Modify, OpenApi,
    openapi::security::{Http, HttpAuthScheme, SecurityScheme},
};

use axum::extract::State;

use super::{
    api, apps,
    bodies::{ApiError, OpenAiError, RunUsage},
    feedback, openai,
};
use crate::{AppState, domain::MessageStatus};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "promptship API",
        description = "Conversations and messages (`/api/v1`, by session cookie or API key) and an OpenAI-compatible API (`/v1`, by API key). Create keys at /settings/keys and send them as `Authorization: Bearer <key>`."
    ),
    paths(
        api::list_conversations,
        api::create_conversation,
        api::show_conversation,
        api::rename_conversation,
        api::delete_conversation,
        api::send_message,
        api::stop_answer,
        feedback::show_feedback,
        feedback::put_feedback,
        feedback::delete_feedback,
        apps::api::list_apps,
        apps::api::create_run,
        openai::create_chat_completion,
        openai::list_models,
    ),
    components(schemas(ApiError, OpenAiError, MessageStatus, RunUsage)),
    modifiers(&BearerKeys),
    tags(
        (name = "conversations", description = "Your conversations"),
        (name = "messages", description = "Messages and the model's answers"),
        (name = "apps", description = "The site's prompt apps: each runs with its own input and output schemas"),
        (name = "openai", description = "The OpenAI-compatible API"),
    )
)]
pub struct ApiDoc;

struct BearerKeys;

impl Modify for BearerKeys {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// What utoipa generates from the handlers; each app's typed path is added per request,
/// from the apps being served (they change on reload in debug builds).
static DOCUMENT: LazyLock<serde_json::Value> = LazyLock::new(|| {
    serde_json::to_value(ApiDoc::openapi()).expect("the OpenAPI document serializes")
});

pub async fn openapi_json(State(state): State<AppState>) -> Response {
    let document = apps::openapi::with_apps(DOCUMENT.clone(), &state.apps.current());
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        document.to_string(),
    )
        .into_response()
}

/// Scalar from a CDN, pinned and checked with Subresource Integrity (the same file as
/// the npm package @scalar/api-reference 1.76.0), so the binary stays small and a
/// tampered copy is refused by the browser. Only this page's CSP allows that origin.
const DOCS_PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>API reference · promptship</title>
</head>
<body>
  <script id="api-reference" data-url="/api/openapi.json"></script>
  <script src="https://cdn.jsdelivr.net/npm/@scalar/api-reference@1.76.0/dist/browser/standalone.js"
          integrity="sha384-oH1C0RwqcwbVXkC+r8A+4qRoyEUQdtxAzOwumkxZtQBBcsy61FOoPt7B50OVJYYQ"
          crossorigin="anonymous"></script>
</body>
</html>
"#;

const DOCS_CSP: &str = "default-src 'self'; script-src 'self' https://cdn.jsdelivr.net; \
    style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.scalar.com; \
    font-src 'self' data: https://fonts.scalar.com; img-src 'self' data:; connect-src 'self'; \
    object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

pub async fn show_docs() -> Response {
    (
        [(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DOCS_CSP),
        )],
        Html(DOCS_PAGE),
    )
        .into_response()
}
