//! Password rules (NIST 800-63B: length, not common, anything else allowed) and argon2id
//! hashing off the async runtime, a few at a time.

use std::{
    collections::HashSet,
    sync::{Arc, LazyLock},
};

use anyhow::Context;
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use tokio::sync::Semaphore;

use crate::{error::AppError, i18n::Text};

pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 128;

/// Hashes computed at once: each takes 19 MiB and tens of milliseconds, so a burst of
/// logins queues here instead of exhausting memory or the blocking thread pool.
const CONCURRENT_HASHES: usize = 2;

/// Common passwords of 8 characters or more, refused at sign-up: Django's list
/// (BSD-3-Clause, see `assets/common-passwords.LICENSE`).
static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../../assets/common-passwords.txt")
        .lines()
        .filter(|line| !line.starts_with('#'))
        .collect()
});

/// Checks a new password; the message says what to change.
pub fn check_new_password(password: &str, email: &str) -> Result<(), AppError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(AppError::Invalid(
            Text::new("error-password-short").arg("min", MIN_PASSWORD_CHARS),
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(AppError::Invalid(
            Text::new("error-password-long").arg("max", MAX_PASSWORD_CHARS),
        ));
    }
    let lower = password.to_lowercase();
    if COMMON_PASSWORDS.contains(lower.as_str()) || lower == email.trim().to_lowercase() {
        return Err(AppError::Invalid(Text::new("error-password-common")));
    }
    Ok(())
}

/// argon2id with the crate's defaults, OWASP's minimum: m = 19 MiB, t = 2, p = 1.
#[derive(Clone, Debug)]
pub struct Hasher {
    permits: Arc<Semaphore>,
}

/// Verified against when the email is unknown, so that costs the same time: a hash of
/// "not a real password" with the parameters `hash_now` uses (a test holds them
/// equal). Written here rather than computed at start-up, which took 19 MiB and tens of
/// milliseconds before the first request.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$k4ZFnPuLbIFZnVJn3f87fA$DwRuSaJx0B58WADabZVby/9V8gUHqK/CrPxoAhBRS0s";

impl Default for Hasher {
    fn default() -> Self {
        Self::new()
    }
}

impl Hasher {
    pub fn new() -> Self {
        Self {
            permits: Arc::new(Semaphore::new(CONCURRENT_HASHES)),
        }
    }

    pub async fn hash(&self, password: String) -> anyhow::Result<String> {
        let _permit = self.permits.acquire().await?;
        tokio::task::spawn_blocking(move || hash_now(&password))
            .await
            .context("hashing task failed")?
    }

    /// Whether `password` matches `hash`; with no hash, checks the dummy and says no.
    pub async fn verify(&self, password: String, hash: Option<String>) -> anyhow::Result<bool> {
        let _permit = self.permits.acquire().await?;
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| DUMMY_HASH.to_string());
        let matches = tokio::task::spawn_blocking(move || {
            Argon2::default()
                .verify_password(password.as_bytes(), hash.as_str())
                .is_ok()
        })
        .await
        .context("hashing task failed")?;
        Ok(known && matches)
    }
}

fn hash_now(password: &str) -> anyhow::Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| anyhow::anyhow!("password hashing failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_long_common_and_email_passwords_are_refused() {
        assert!(check_new_password("short", "a@b.c").is_err());
        assert!(check_new_password(&"x".repeat(129), "a@b.c").is_err());
        assert!(check_new_password("password123", "a@b.c").is_err());
        assert!(
            check_new_password("PASSWORD123", "a@b.c").is_err(),
            "case does not help"
        );
        assert!(check_new_password("me@example.com", "me@example.com").is_err());
        assert!(check_new_password("correct horse battery staple", "a@b.c").is_ok());
        assert!(
            check_new_password("ünïcødé 🔑 pässwörd", "a@b.c").is_ok(),
            "any characters"
        );
    }

    #[test]
    fn the_dummy_hash_has_the_parameters_of_real_ones() {
        let real = hash_now("a fine passphrase").unwrap();
        let params = |hash: &str| hash.rsplitn(3, '$').nth(2).unwrap().to_string();
        assert_eq!(params(DUMMY_HASH), params(&real));
        assert!(
            Argon2::default()
                .verify_password(b"not a real password", DUMMY_HASH)
                .is_ok()
        );
    }

    #[tokio::test]
    async fn hashes_are_argon2id_at_owasp_minimums_and_verify() {
        let hasher = Hasher::new();
        let hash = hasher.hash("a fine passphrase".into()).await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(
            hasher
                .verify("a fine passphrase".into(), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(!hasher.verify("wrong".into(), Some(hash)).await.unwrap());
        assert!(!hasher.verify("anything".into(), None).await.unwrap());
    }
}
