//! SQL for `settings`: what an admin changes while the service runs, one typed function
//! per setting. Each is a row (`key`, `value`); a missing row is the default.

use sqlx::SqlitePool;

use crate::config::SignupMode;

/// The kill switch: `1` while model calls are paused, else `0`.
const PAUSED: &str = "paused";

/// The sign-up mode an admin chose (`open`, `invite` or `closed`).
const SIGNUP_MODE: &str = "signup_mode";

/// Whether an admin paused every model call (the kill switch).
pub async fn paused(db: &SqlitePool) -> sqlx::Result<bool> {
    Ok(find_setting(db, PAUSED).await?.as_deref() == Some("1"))
}

pub async fn set_paused(db: &SqlitePool, paused: bool) -> sqlx::Result<()> {
    update_setting(db, PAUSED, if paused { "1" } else { "0" }).await
}

/// The sign-up mode an admin chose; `None` until one does (then `SIGNUP_MODE` applies).
pub async fn signup_mode(db: &SqlitePool) -> sqlx::Result<Option<SignupMode>> {
    Ok(find_setting(db, SIGNUP_MODE)
        .await?
        .and_then(|mode| mode.parse().ok()))
}

pub async fn set_signup_mode(db: &SqlitePool, mode: SignupMode) -> sqlx::Result<()> {
    update_setting(db, SIGNUP_MODE, mode.as_str()).await
}

async fn find_setting(db: &SqlitePool, key: &str) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!("SELECT value FROM settings WHERE key = ?", key)
        .fetch_optional(db)
        .await
}

async fn update_setting(db: &SqlitePool, key: &str, value: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO settings (key, value) VALUES (?, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        key,
        value
    )
    .execute(db)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn settings_read_back_as_set_and_are_unset_until_an_admin_sets_them() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::db::connect(&format!("sqlite://{}/settings.db", dir.path().display()))
            .await
            .unwrap();
        crate::db::migrate(&db).await.unwrap();
        assert!(!paused(&db).await.unwrap());
        assert_eq!(signup_mode(&db).await.unwrap(), None);

        set_paused(&db, true).await.unwrap();
        set_signup_mode(&db, SignupMode::Invite).await.unwrap();
        assert!(paused(&db).await.unwrap());
        assert_eq!(signup_mode(&db).await.unwrap(), Some(SignupMode::Invite));

        set_paused(&db, false).await.unwrap();
        assert!(!paused(&db).await.unwrap());
        // The stored values stay those operators may write by hand.
        let stored: Vec<(String, String)> =
            sqlx::query_as("SELECT key, value FROM settings ORDER BY key")
                .fetch_all(&db)
                .await
                .unwrap();
        assert_eq!(
            stored,
            [
                ("paused".into(), "0".into()),
                ("signup_mode".into(), "invite".into())
            ]
        );
    }
}
