//! `promptship doctor`: checks a deployment's settings against the world — the database
//! is writable and migrated, the prompt apps load, the model server answers — and says
//! what to fix.

use std::time::Duration;

use secrecy::ExposeSecret;

use crate::{
    apps::{self, Apps},
    config::{Config, Provider, Site},
    db,
};

/// Each check as (passed, what was found and what to do).
pub async fn check(config: &Config, site: &Site) -> Vec<(bool, String)> {
    let mut results = Vec::new();
    match db::connect(&config.database_url).await {
        Err(error) => results.push((
            false,
            format!("DATABASE_URL: {error:#}: point it at a writable file, e.g. sqlite://data/promptship.db"),
        )),
        Ok(pool) => {
            results.push(writable(&pool).await);
            results.push(migrations(&pool).await);
            pool.close().await;
        }
    }
    if let Some(backups) = &config.backups {
        results.push(backup_dir(&backups.dir));
    }
    results.push(prompt_apps(config, site));
    results.push(model_server(config).await);
    results
}

/// Every prompt app loads, as the server's start needs them to.
fn prompt_apps(config: &Config, site: &Site) -> (bool, String) {
    let dir = apps::dir(config);
    match Apps::from_config(config, site) {
        Ok(apps) if apps.iter().next().is_none() => {
            (true, format!("apps: none in {}", dir.display()))
        }
        Ok(apps) => {
            let names: Vec<&str> = apps.iter().map(|app| app.name.as_str()).collect();
            (
                true,
                format!("apps: {} in {} load", names.join(", "), dir.display()),
            )
        }
        Err(error) => (false, format!("APPS_DIR ({}): {error}", dir.display())),
    }
}

/// The scheduled backups' folder exists (or can be made) and takes a file.
fn backup_dir(dir: &std::path::Path) -> (bool, String) {
    let probe = dir.join(".promptship-doctor-probe");
    let attempt = std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&probe, b"probe"))
        .and_then(|()| std::fs::remove_file(&probe));
    match attempt {
        Ok(()) => (true, format!("backups: {} is writable", dir.display())),
        Err(error) => (
            false,
            format!(
                "BACKUP_DIR: cannot write to {} ({error}): create it, owned by the service's user",
                dir.display()
            ),
        ),
    }
}

async fn writable(pool: &sqlx::SqlitePool) -> (bool, String) {
    let attempt = async {
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query("CREATE TEMP TABLE IF NOT EXISTS doctor_probe (x INTEGER)")
            .execute(&mut *tx)
            .await?;
        tx.rollback().await
    };
    match attempt.await {
        Ok(()) => (true, "database: writable".to_string()),
        Err(error) => (
            false,
            format!("database: not writable ({error}): check the file's owner and permissions"),
        ),
    }
}

async fn migrations(pool: &sqlx::SqlitePool) -> (bool, String) {
    let applied: Result<Vec<i64>, _> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success = 1")
            .fetch_all(pool)
            .await;
    let known: Vec<i64> = db::MIGRATOR.iter().map(|m| m.version).collect();
    match applied {
        Ok(applied) if known.iter().all(|v| applied.contains(v)) => {
            (true, format!("migrations: all {} applied", known.len()))
        }
        Ok(applied) => (
            false,
            format!(
                "migrations: {} of {} applied: run `promptship migrate` (or start the server)",
                applied.len(),
                known.len()
            ),
        ),
        Err(_) => (
            false,
            "migrations: none applied: run `promptship migrate` (or start the server)".into(),
        ),
    }
}

async fn model_server(config: &Config) -> (bool, String) {
    let Provider::OpenAi { base_url, api_key } = &config.provider else {
        return (
            true,
            "model: the built-in demo model (set OPENAI_API_KEY or OPENAI_BASE_URL for a real one)"
                .into(),
        );
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
    {
        Ok(client) => client,
        Err(error) => {
            return (
                false,
                format!("model: cannot build an HTTP client: {error}"),
            );
        }
    };
    let mut request = client.get(format!("{base_url}/models"));
    if let Some(key) = api_key {
        request = request.bearer_auth(key.expose_secret());
    }
    match request.send().await {
        Ok(response) if response.status().is_success() => {
            (true, format!("model: {base_url} answers"))
        }
        Ok(response) if matches!(response.status().as_u16(), 401 | 403) => (
            false,
            format!(
                "model: {base_url} refused the key (HTTP {}): check OPENAI_API_KEY",
                response.status().as_u16()
            ),
        ),
        Ok(response) => (
            false,
            format!(
                "model: {base_url}/models answered HTTP {}: check OPENAI_BASE_URL (it must include /v1)",
                response.status().as_u16()
            ),
        ),
        Err(error) => (
            false,
            format!(
                "model: cannot reach {base_url} ({error}): check OPENAI_BASE_URL and the network"
            ),
        ),
    }
}
