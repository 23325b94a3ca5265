//! Probes for orchestrators and uptime checks.

use axum::{Json, extract::State, http::StatusCode};

use super::bodies::Health;
use crate::AppState;

/// The process is up and serving HTTP.
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok",
        reason: None,
    })
}

/// The process can do its work: the database answers.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    match sqlx::query("SELECT 1").execute(&state.db).await {
        Ok(_) => (
            StatusCode::OK,
            Json(Health {
                status: "ready",
                reason: None,
            }),
        ),
        Err(error) => {
            tracing::error!(%error, "readiness check failed: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Health {
                    status: "unavailable",
                    reason: Some("database"),
                }),
            )
        }
    }
}
