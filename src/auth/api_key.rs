//! The project's own API keys: `ps_<prefix>_<secret>`. Only a SHA-256 of the whole key is
//! stored; the prefix finds the row, the hash proves the rest.

use axum::{extract::FromRequestParts, http::request::Parts};
use sha2::{Digest, Sha256};

use crate::{
    AppState,
    db::{
        api_keys::{find_live_api_key, update_api_key_used},
        users::{User, find_user},
    },
    error::AppError,
};

/// A new key, and what is stored of it.
pub struct NewKey {
    /// Shown to its owner once, never again.
    pub key: String,
    pub prefix: String,
    pub hash: String,
}

pub fn generate() -> NewKey {
    let prefix = uuid::Uuid::new_v4().simple().to_string()[..10].to_string();
    // Two v4 UUIDs: 244 random bits.
    let secret = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let key = format!("ps_{prefix}_{secret}");
    NewKey {
        hash: hash(&key),
        key,
        prefix,
    }
}

pub fn hash(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A request authenticated with `Authorization: Bearer <key>`.
#[derive(Clone, Debug)]
pub struct ApiCaller {
    pub user: User,
    pub key_id: i64,
}

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let invalid = || AppError::InvalidApiKey;
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(invalid)?;
        let prefix = token
            .strip_prefix("ps_")
            .and_then(|rest| rest.split_once('_'))
            .map(|(prefix, _)| prefix)
            .ok_or_else(invalid)?;
        let stored = find_live_api_key(&state.db, prefix)
            .await?
            .ok_or_else(invalid)?;
        // Both sides are SHA-256 digests of secrets: comparing them leaks nothing usable.
        if stored.key_hash != hash(token) {
            return Err(invalid());
        }
        let user = find_user(&state.db, stored.user_id)
            .await?
            .filter(|u| !u.disabled)
            .ok_or_else(invalid)?;
        update_api_key_used(&state.db, stored.id).await?;
        Ok(Self {
            user,
            key_id: stored.id,
        })
    }
}
