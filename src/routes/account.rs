//! Sign-up, login and logout. A guest who signs up or logs in keeps their conversations;
//! a browser that signs up or logs in gets a device cookie, which lets it log in to that
//! account while failed guesses have it locked for unknown clients.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header::SET_COOKIE},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{extract::AppForm, pages::Layout};
use crate::{
    AppState,
    auth::{
        AuthSession, Credentials, DEVICE_TRUST_DAYS, DEVICES_PER_USER, Visitor, api_key,
        check_new_password, device_cookie, device_token, new_device_token,
    },
    config::SignupMode,
    db::{
        devices::{self, LoginDevice},
        guests::delete_guest,
        settings,
        users::{self, UserRole, update_conversations_owner},
    },
    domain,
    error::AppError,
    i18n::Text,
};

#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
pub struct AccountPage {
    layout: Layout,
    /// `login` or `signup`.
    mode: &'static str,
    signup_mode: &'static str,
    email: String,
    error: Option<String>,
}

/// The sign-up mode in force: an admin's choice, else `SIGNUP_MODE`.
pub async fn signup_mode(state: &AppState) -> Result<SignupMode, AppError> {
    Ok(settings::signup_mode(&state.db)
        .await?
        .unwrap_or(state.config.signup_mode))
}

async fn page(
    state: &AppState,
    visitor: &Visitor,
    mode: &'static str,
    email: String,
    error: Option<Text>,
) -> Result<AccountPage, AppError> {
    let layout = Layout::load(state, visitor, None).await?;
    Ok(AccountPage {
        error: error.map(|text| text.in_lang(layout.lang)),
        layout,
        mode,
        signup_mode: signup_mode(state).await?.as_str(),
        email,
    })
}

pub async fn show_login(
    State(state): State<AppState>,
    visitor: Visitor,
) -> Result<AccountPage, AppError> {
    page(&state, &visitor, "login", String::new(), None).await
}

pub async fn show_signup(
    State(state): State<AppState>,
    visitor: Visitor,
) -> Result<AccountPage, AppError> {
    page(&state, &visitor, "signup", String::new(), None).await
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
}

pub async fn log_in(
    State(state): State<AppState>,
    mut auth: AuthSession,
    visitor: Visitor,
    headers: HeaderMap,
    AppForm(form): AppForm<LoginForm>,
) -> Result<Response, AppError> {
    let https = state.config.serves_https();
    // Looked up whatever the email, so that a cookie tells nothing about which emails
    // have accounts; a device of another account is no device here.
    let device = match device_token(&headers, https) {
        Some(token) => devices::find_device_user(
            &state.db,
            &api_key::hash(&token),
            form.email.trim(),
            trusted_since(),
        )
        .await?
        .map(|device| (token, device)),
        None => None,
    };
    let device_id = device.as_ref().map(|(_, device)| device.id);
    let client = state
        .login_throttle
        .check(&form.email, visitor.ip, device_id)
        .map_err(|wait| AppError::LimitReached {
            message: Text::new("limit-logins").arg("minutes", wait.as_secs().div_ceil(60)),
            retry_after: wait,
        })?;
    let credentials = Credentials {
        email: form.email.clone(),
        password: form.password,
    };
    let user = auth
        .authenticate(credentials)
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("login failed: {e}")))?;
    let Some(user) = user else {
        state
            .login_throttle
            .record_failure(client, &form.email, visitor.ip);
        // One message and status for an unknown email and a wrong password.
        let mut response = page(
            &state,
            &visitor,
            "login",
            form.email,
            Some(Text::new("error-wrong-login")),
        )
        .await?
        .into_response();
        *response.status_mut() = StatusCode::UNAUTHORIZED;
        return Ok(response);
    };
    state.login_throttle.record_success(&form.email, device_id);
    enter(&state, &mut auth, &visitor, &user).await?;
    let mut response = Redirect::to("/").into_response();
    trust_device(&state, &user, device, response.headers_mut()).await?;
    Ok(response)
}

/// Devices used since this time (Unix ms) are trusted.
fn trusted_since() -> i64 {
    domain::now_ms() - DEVICE_TRUST_DAYS * 24 * 3600 * 1000
}

/// Marks the browser as one that has logged in to `user`: the device it proved is used
/// now, else a new device is made. Either way the cookie is sent again, so it lasts a
/// year from the last login. The user's stale and surplus devices go.
async fn trust_device(
    state: &AppState,
    user: &users::User,
    device: Option<(String, LoginDevice)>,
    headers: &mut HeaderMap,
) -> Result<(), AppError> {
    let token = match device.filter(|(_, device)| device.user_id == user.id) {
        Some((token, device)) => {
            devices::update_device_used(&state.db, device.id).await?;
            token
        }
        None => {
            let token = new_device_token();
            devices::insert_device(&state.db, user.id, &api_key::hash(&token)).await?;
            token
        }
    };
    devices::delete_old_devices(&state.db, user.id, trusted_since(), DEVICES_PER_USER).await?;
    let cookie = device_cookie(token, state.config.serves_https()).to_string();
    let value =
        HeaderValue::from_str(&cookie).map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
    headers.append(SET_COOKIE, value);
    Ok(())
}

#[derive(Deserialize)]
pub struct SignupForm {
    email: String,
    password: String,
    #[serde(default)]
    invite: String,
}

pub async fn sign_up(
    State(state): State<AppState>,
    mut auth: AuthSession,
    visitor: Visitor,
    AppForm(form): AppForm<SignupForm>,
) -> Result<Response, AppError> {
    let email = form.email.trim().to_lowercase();
    let refuse = |message: Text| async {
        let mut response = page(&state, &visitor, "signup", email.clone(), Some(message))
            .await?
            .into_response();
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        Ok::<_, AppError>(response)
    };
    let mode = signup_mode(&state).await?;
    if mode == SignupMode::Closed {
        return Err(AppError::Forbidden(Text::new("error-signup-closed")));
    }
    if !is_plausible_email(&email) {
        return refuse(Text::new("error-email")).await;
    }
    if let Err(AppError::Invalid(message)) = check_new_password(&form.password, &email) {
        return refuse(message).await;
    }
    let hash = state.hasher.hash(form.password).await?;
    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    let user = match users::insert_user(&mut tx, &email, &hash, UserRole::User).await {
        Ok(user) => user,
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            drop(tx);
            return refuse(Text::new("error-email-taken")).await;
        }
        Err(e) => return Err(e.into()),
    };
    if mode == SignupMode::Invite
        && !users::update_invite_used(&mut tx, form.invite.trim(), user.id).await?
    {
        drop(tx);
        return refuse(Text::new("error-invite")).await;
    }
    tx.commit().await?;
    tracing::info!(user = user.id, "account created");
    enter(&state, &mut auth, &visitor, &user).await?;
    let mut response = Redirect::to("/").into_response();
    trust_device(&state, &user, None, response.headers_mut()).await?;
    Ok(response)
}

/// Logs the user in (a new session id) and hands over the guest's conversations.
async fn enter(
    state: &AppState,
    auth: &mut AuthSession,
    visitor: &Visitor,
    user: &users::User,
) -> Result<(), AppError> {
    auth.login(user)
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("login failed: {e}")))?;
    if let Some(guest) = visitor.guest_id() {
        let moved = update_conversations_owner(&state.db, guest, user.id).await?;
        delete_guest(&state.db, guest).await?;
        tracing::info!(
            user = user.id,
            moved,
            "guest conversations handed to the account"
        );
        visitor.forget_guest().await?;
    }
    Ok(())
}

/// Ends the session on the server too: the old cookie is worthless afterwards.
pub async fn log_out(mut auth: AuthSession) -> Result<Redirect, AppError> {
    auth.logout()
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("logout failed: {e}")))?;
    Ok(Redirect::to("/"))
}

fn is_plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}
