//! The settings page: a user lists, creates and revokes their API keys for `/v1` (their
//! data has a page of its own, `data/`). A new key is shown once, in the response to the
//! form that created it; only its hash is stored.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::{FromRequestParts, Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{extract::AppForm, pages::Layout};
use crate::{
    AppState,
    auth::{SignedIn, api_key},
    db::api_keys::{ApiKey, insert_api_key, list_api_keys, update_api_key_revoked},
    error::{AppError, Thing},
    i18n::Text,
};

/// Longest key name, in characters.
const NAME_LIMIT: usize = 100;

#[derive(Template, WebTemplate)]
#[template(path = "keys.html")]
pub struct KeysPage {
    layout: Layout,
    keys: Vec<KeyView>,
    /// The name typed into the form, kept when it is refused.
    name: String,
    error: Option<String>,
    /// The key just created: shown in this response and never again.
    new_key: Option<String>,
    /// Where `/v1` is served, for the usage example.
    base_url: String,
    /// The model the example asks for.
    model: String,
}

/// A key as the pages show it, times already in UTC.
pub struct KeyView {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub created: String,
    /// `None` for a key not used yet.
    pub last_used: Option<String>,
    pub live: bool,
}

impl KeyView {
    pub fn new(key: &ApiKey) -> Self {
        Self {
            id: key.id,
            name: key.name.clone(),
            prefix: key.prefix.clone(),
            created: utc_minute(key.created_at),
            last_used: key.last_used_at.map(utc_minute),
            live: key.revoked_at.is_none(),
        }
    }
}

/// The `{id}` of a key route; anything but a number is a key that does not exist.
pub struct KeyId(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for KeyId {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let Path(id) = Path::<i64>::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::NotFound(Thing::ApiKey))?;
        Ok(Self(id))
    }
}

async fn page(
    state: &AppState,
    signed_in: &SignedIn,
    headers: &HeaderMap,
    name: String,
    error: Option<Text>,
    new_key: Option<String>,
) -> Result<KeysPage, AppError> {
    let keys = list_api_keys(&state.db, signed_in.user.id).await?;
    let layout = Layout::load(state, &signed_in.visitor, None).await?;
    Ok(KeysPage {
        error: error.map(|text| text.in_lang(layout.lang)),
        layout,
        keys: keys.iter().map(KeyView::new).collect(),
        name,
        new_key,
        base_url: base_url(state, headers),
        model: super::openai::models(state).swap_remove(0).0,
    })
}

pub async fn show_keys(
    State(state): State<AppState>,
    signed_in: SignedIn,
    headers: HeaderMap,
) -> Result<KeysPage, AppError> {
    page(&state, &signed_in, &headers, String::new(), None, None).await
}

#[derive(Deserialize)]
pub struct KeyForm {
    #[serde(default)]
    name: String,
}

pub async fn create_key(
    State(state): State<AppState>,
    signed_in: SignedIn,
    headers: HeaderMap,
    AppForm(form): AppForm<KeyForm>,
) -> Result<Response, AppError> {
    let name = match validate_name(&form.name) {
        Ok(name) => name.to_string(),
        Err(message) => {
            let page = page(&state, &signed_in, &headers, form.name, Some(message), None).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let new = api_key::generate();
    let key = insert_api_key(&state.db, signed_in.user.id, &name, &new.prefix, &new.hash).await?;
    // The id only: the key itself must never reach a log.
    tracing::info!(user = signed_in.user.id, key = key.id, "API key created");
    let page = page(
        &state,
        &signed_in,
        &headers,
        String::new(),
        None,
        Some(new.key),
    )
    .await?;
    let mut response = (StatusCode::CREATED, page).into_response();
    // The body holds the key: no cache may keep it.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

pub async fn revoke_key(
    State(state): State<AppState>,
    signed_in: SignedIn,
    KeyId(id): KeyId,
) -> Result<Redirect, AppError> {
    // Someone else's key is as unknown as a key that never existed.
    if !update_api_key_revoked(&state.db, id, Some(signed_in.user.id)).await? {
        return Err(AppError::NotFound(Thing::ApiKey));
    }
    state.api_keys.forget_all();
    tracing::info!(user = signed_in.user.id, key = id, "API key revoked");
    Ok(Redirect::to("/settings/keys"))
}

/// A trimmed key name of 1 to [`NAME_LIMIT`] characters, or what to fix.
fn validate_name(name: &str) -> Result<&str, Text> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Text::new("error-key-name-empty"));
    }
    if crate::domain::has_control_characters(name) {
        return Err(Text::new("error-key-name-control"));
    }
    if name.chars().count() > NAME_LIMIT {
        return Err(Text::new("error-key-name-long").arg("max", NAME_LIMIT));
    }
    Ok(name)
}

/// `PUBLIC_URL`, else the address this request came to.
pub(super) fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(public) = &state.config.public_url {
        return public.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map_or_else(
            || format!("localhost:{}", state.config.bind_addr.port()),
            str::to_string,
        );
    format!("http://{host}")
}

/// Unix milliseconds as `YYYY-MM-DD HH:MM` in UTC.
pub fn utc_minute(ms: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute()
        ),
        Err(_) => "?".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_show_as_utc_minutes() {
        assert_eq!(utc_minute(0), "1970-01-01 00:00");
        // 2024-02-29 23:59:59.999 UTC
        assert_eq!(utc_minute(1_709_251_199_999), "2024-02-29 23:59");
    }

    #[test]
    fn names_are_trimmed_and_must_have_1_to_100_characters() {
        assert_eq!(validate_name("  laptop \n").unwrap(), "laptop");
        assert!(validate_name("").is_err());
        assert!(validate_name(" \t ").is_err());
        assert!(validate_name(&"é".repeat(100)).is_ok());
        assert!(validate_name(&"é".repeat(101)).is_err());
    }
}
