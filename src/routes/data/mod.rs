//! Settings → "Your data" (`/settings/data`): the switch that keeps a user's
//! conversations out of datasets, "Download my data" (`download.rs`) and "Delete my
//! account". Guests have no settings: every route here sends them to log in.

mod download;

pub use download::download_data;

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{extract::AppForm, pages::Layout};
use crate::{
    AppState,
    auth::{AuthSession, SignedIn},
    db::{
        account_data::{Deletion, delete_user_account},
        users::update_user_data_opt_out,
    },
    domain::DataPolicy,
    error::AppError,
    i18n::Text,
};

#[derive(Template, WebTemplate)]
#[template(path = "data.html")]
pub struct DataPage {
    layout: Layout,
    /// The Fluent id of what the site's data policy means for a signed-in user.
    policy: &'static str,
    /// Whether the site's policy lets anything be used (and so the switch is shown).
    policy_on: bool,
    /// The user keeps their conversations out of datasets.
    opted_out: bool,
    /// Why the account was not deleted.
    delete_error: Option<String>,
}

/// The Fluent id of what the site's data policy means for a signed-in user.
fn policy_id(policy: DataPolicy) -> &'static str {
    match policy {
        DataPolicy::Off => "data-policy-off",
        DataPolicy::Accounts => "data-policy-accounts",
        DataPolicy::All => "data-policy-all",
    }
}

async fn page(
    state: &AppState,
    signed_in: &SignedIn,
    delete_error: Option<String>,
) -> Result<DataPage, AppError> {
    Ok(DataPage {
        layout: Layout::load(state, &signed_in.visitor, None).await?,
        policy: policy_id(state.site.data_policy),
        policy_on: state.site.data_policy != DataPolicy::Off,
        opted_out: signed_in.user.data_opt_out,
        delete_error,
    })
}

pub async fn show_data(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<DataPage, AppError> {
    page(&state, &signed_in, None).await
}

#[derive(Deserialize)]
pub struct OptOutForm {
    /// `1` to keep the user's conversations out of datasets, `0` to allow them.
    opt_out: String,
}

/// The switch that keeps a user's conversations out of every dataset export and the
/// review queue.
pub async fn set_data_opt_out(
    State(state): State<AppState>,
    signed_in: SignedIn,
    AppForm(form): AppForm<OptOutForm>,
) -> Result<Redirect, AppError> {
    let opt_out = match form.opt_out.as_str() {
        "1" => true,
        "0" => false,
        _ => {
            return Err(AppError::Invalid(Text::new("error-opt-out-value")));
        }
    };
    update_user_data_opt_out(&state.db, signed_in.user.id, opt_out).await?;
    // The next request reads the switch from the database, not the login cache.
    state.users.forget(signed_in.user.id);
    tracing::info!(user = signed_in.user.id, opt_out, "data opt-out changed");
    Ok(Redirect::to("/settings/data"))
}

#[derive(Template, WebTemplate)]
#[template(path = "account_deleted.html")]
pub struct AccountDeletedPage {
    layout: Layout,
}

#[derive(Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    password: String,
}

/// Deletes the signed-in user and everything theirs, once they have typed their
/// password; logs them out everywhere. The ledger keeps their calls' amounts,
/// anonymised (`db::account_data` says what happens to each table).
pub async fn delete_account(
    State(state): State<AppState>,
    mut auth: AuthSession,
    signed_in: SignedIn,
    AppForm(form): AppForm<DeleteForm>,
) -> Result<Response, AppError> {
    let user = &signed_in.user;
    let lang = signed_in.visitor.lang;
    let valid = state
        .hasher
        .verify(form.password, Some(user.password_hash.clone()))
        .await?;
    if !valid {
        return refused(
            &state,
            &signed_in,
            StatusCode::UNPROCESSABLE_ENTITY,
            "data-delete-wrong-password",
        )
        .await;
    }
    // Reservations still waiting in the ledger writer are written first, so the
    // deletion anonymises them with the rest.
    state.meter.flush().await;
    let deletion = delete_user_account(&state.db, user.id, &user.password_hash).await?;
    let (conversations, sessions) = match deletion {
        Deletion::Deleted {
            conversations,
            sessions,
        } => (conversations, sessions),
        Deletion::LastAdmin => {
            return refused(
                &state,
                &signed_in,
                StatusCode::CONFLICT,
                "data-delete-last-admin",
            )
            .await;
        }
        // Deleted by a request a moment ago.
        Deletion::Missing => return Ok(Redirect::to("/").into_response()),
    };
    // Nothing cached may still stand for the user: their login, their keys, their
    // allowance of today.
    state.users.forget(user.id);
    state.api_keys.forget_all();
    state.meter.forget_user(user.id);
    auth.logout()
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("logout failed: {e}")))?;
    tracing::info!(
        user = user.id,
        conversations,
        sessions,
        "account deleted by its user"
    );
    Ok(AccountDeletedPage {
        layout: Layout::bare(&state, lang),
    }
    .into_response())
}

/// The data page again, saying why the account was not deleted.
async fn refused(
    state: &AppState,
    signed_in: &SignedIn,
    status: StatusCode,
    id: &'static str,
) -> Result<Response, AppError> {
    let why = signed_in.visitor.lang.t(id);
    Ok((status, page(state, signed_in, Some(why)).await?).into_response())
}
