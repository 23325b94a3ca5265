//! Extractors that refuse through [`AppError`], as axum's error-handling example does:
//! a body, form or query that cannot be read gets the same error page, JSON or `/v1`
//! body as any other refusal, with the status `AppError::status` gives it.

use axum::extract::{FromRequest, FromRequestParts};

use crate::error::AppError;

/// A JSON body (`Content-Type: application/json`).
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct AppJson<T>(pub T);

/// A form body (`application/x-www-form-urlencoded`).
#[derive(FromRequest)]
#[from_request(via(axum::Form), rejection(AppError))]
pub struct AppForm<T>(pub T);

/// A query string.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct AppQuery<T>(pub T);
