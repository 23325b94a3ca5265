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

/// A form's text box as it was typed. Browsers count a line break as one character for
/// `maxlength` but send it as CRLF, so a message at the page's limit would arrive over
/// the server's; with line breaks as `\n` both count the same characters.
pub fn typed_text<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let text = <String as serde::Deserialize>::deserialize(deserializer)?;
    Ok(unix_lines(text))
}

/// `text` with CRLF line breaks made LF.
pub fn unix_lines(text: String) -> String {
    if text.contains('\r') {
        text.replace("\r\n", "\n")
    } else {
        text
    }
}
