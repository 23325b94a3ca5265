//! The language switcher in every page's header: `POST /language` remembers the choice
//! in a cookie for a year and goes back to the page it was made on.

use axum::{
    extract::State,
    http::{HeaderValue, header},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use tower_sessions::cookie::{Cookie, SameSite, time::Duration};

use super::extract::AppForm;
use crate::{
    AppState,
    error::AppError,
    i18n::{self, Lang, Text},
};

#[derive(Deserialize)]
pub struct LanguageForm {
    lang: String,
    /// The page to come back to: a path on this site.
    #[serde(default)]
    back: String,
}

pub async fn choose_language(
    State(state): State<AppState>,
    AppForm(form): AppForm<LanguageForm>,
) -> Result<Response, AppError> {
    let lang = Lang::from_code(&form.lang).ok_or_else(|| {
        let offered: Vec<_> = Lang::ALL.iter().map(|l| l.code()).collect();
        AppError::Invalid(
            Text::new("error-language")
                .arg("lang", form.lang.as_str())
                .arg("offered", offered.join(", ")),
        )
    })?;
    let cookie = Cookie::build((i18n::COOKIE, lang.code()))
        .path("/")
        .max_age(Duration::days(365))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.serves_https())
        .build();
    let mut response = Redirect::to(local_path(&form.back)).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie.to_string()).map_err(|e| AppError::Internal(e.into()))?,
    );
    Ok(response)
}

/// `back` when it is a path on this site; `/` for anything that would leave it
/// (`//host`, `/\host`, `https://…`) or is not a path at all.
fn local_path(back: &str) -> &str {
    let leaves = back.starts_with("//") || back.starts_with("/\\");
    if back.starts_with('/') && !leaves && !back.chars().any(char::is_control) {
        back
    } else {
        "/"
    }
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn only_a_path_on_this_site_is_gone_back_to() {
        assert_eq!(local_path("/apps/translate?x=1"), "/apps/translate?x=1");
        assert_eq!(local_path("/"), "/");
        for away in [
            "//evil.example/",
            "/\\evil.example",
            "https://evil.example",
            "",
            "apps",
            "/a\r\nSet-Cookie: x",
        ] {
            assert_eq!(local_path(away), "/", "{away:?}");
        }
    }
}
