//! The project's own API keys: `ps_<prefix>_<secret>`. Only a SHA-256 of the whole key is
//! stored; the prefix finds the row, the hash proves the rest. Keys checked in the last
//! minute are kept in memory (by their hash), so an API call costs no query.

use std::time::Duration;

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
    const HEX: &[u8; 16] = b"0123456789abcdef";
    Sha256::digest(key.as_bytes())
        .iter()
        .flat_map(|b| [HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]])
        .map(char::from)
        .collect()
}

/// Keys recently proven, by the SHA-256 of the whole key. Revoking a key, or changing or
/// disabling a user, empties it (`forget_all`); a change made around the app (straight
/// in the database) shows within [`KEY_CACHE_TTL`].
#[derive(Clone, Debug)]
pub struct KeyCache(moka::sync::Cache<String, ApiVisitor>);

/// How long a proven key is trusted without looking at the database again; also how
/// often its `last_used_at` is written.
pub const KEY_CACHE_TTL: Duration = Duration::from_secs(60);

impl Default for KeyCache {
    fn default() -> Self {
        Self(
            moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(KEY_CACHE_TTL)
                .build(),
        )
    }
}

impl KeyCache {
    pub fn forget_all(&self) {
        self.0.invalidate_all();
    }
}

/// The bearer token of a request, if it has one. Other schemes (a proxy's basic auth,
/// which browsers send by themselves) are not ours to read.
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

/// A visitor who came with an API key (`Authorization: Bearer <key>`).
#[derive(Clone, Debug)]
pub struct ApiVisitor {
    pub user: User,
    pub key_id: i64,
}

impl FromRequestParts<AppState> for ApiVisitor {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let invalid = || AppError::InvalidApiKey;
        let token = bearer(&parts.headers).ok_or_else(invalid)?;
        let prefix = token
            .strip_prefix("ps_")
            .and_then(|rest| rest.split_once('_'))
            .map(|(prefix, _)| prefix)
            .ok_or_else(invalid)?;
        let key_hash = hash(token);
        if let Some(visitor) = state.api_keys.0.get(&key_hash) {
            return Ok(visitor);
        }
        let stored = find_live_api_key(&state.db, prefix)
            .await?
            .ok_or_else(invalid)?;
        // Both sides are SHA-256 digests of secrets: comparing them leaks nothing usable.
        if stored.key_hash != key_hash {
            return Err(invalid());
        }
        let user = find_user(&state.db, stored.user_id)
            .await?
            .filter(|u| !u.disabled)
            .ok_or_else(invalid)?;
        // Once per cache lifetime, off the request's path: a minute's precision is all
        // the keys page shows.
        let db = state.db.clone();
        tokio::spawn(async move {
            if let Err(error) = update_api_key_used(&db, stored.id).await {
                tracing::warn!(%error, key = stored.id, "could not note an API key's use");
            }
        });
        let visitor = Self {
            user,
            key_id: stored.id,
        };
        state.api_keys.0.insert(key_hash, visitor.clone());
        Ok(visitor)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_key_is_stored_as_the_lowercase_hex_of_its_sha256() {
        // FIPS 180-2's example: keys hashed before stay findable.
        assert_eq!(
            super::hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
