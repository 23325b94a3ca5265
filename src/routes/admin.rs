//! The admin page: usage today and over the last 30 days, the users and their budgets,
//! the kill switch, the sign-up mode, invite codes and live API keys. Every handler takes
//! [`Admin`], so anyone else gets 403; every form is a plain POST that redirects back to
//! the page.

use std::{cmp::Reverse, collections::HashMap};

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::{FromRequestParts, Path, State},
    http::request::Parts,
    response::Redirect,
};
use serde::Deserialize;

use super::{
    account::signup_mode,
    extract::AppForm,
    keys::{KeyId, KeyView},
    pages::Layout,
};
use crate::{
    AppState,
    auth::{Admin, Visitor},
    config::SignupMode,
    db::{
        admin::{
            SpendingGroup, SpendingTotals, UserSummary, list_spending_by_app, list_spending_by_day,
            list_spending_by_guest_ip, list_spending_by_user, list_users_with_spending,
            sum_spending,
        },
        api_keys::{list_live_api_keys, update_api_key_revoked},
        ledger::update_entries_uncounted,
        settings,
        users::{
            Invite, UserRole, find_user, insert_invite, list_invites, update_user_budget,
            update_user_disabled, update_user_reviewer, update_user_role,
        },
    },
    domain::DataPolicy,
    error::{AppError, Thing},
    i18n::Text,
};

/// Days in the usage window, today included.
const WINDOW_DAYS: i64 = 30;

/// Rows of the top spenders table.
const TOP_SPENDERS: usize = 10;

/// Rows of today's tables by user and by guest address.
const TODAY_ROWS: i64 = 100;

#[derive(Template, WebTemplate)]
#[template(path = "admin.html")]
pub struct AdminPage {
    layout: Layout,
    /// The logged-in admin, who may not disable their own account.
    admin_id: i64,
    today: String,
    first_day: String,
    today_totals: SpendingTotals,
    window_totals: SpendingTotals,
    days: Vec<SpendingGroup>,
    /// What each prompt app's runs spent in the window.
    apps: Vec<SpendingGroup>,
    users_today: Vec<SpendingGroup>,
    guests_today: Vec<SpendingGroup>,
    top_spenders: Vec<TopSpender>,
    users: Vec<UserSummary>,
    /// `USER_DAILY_TOKENS`, for users without a budget of their own.
    default_budget: i64,
    paused: bool,
    signup_mode: &'static str,
    invites: Vec<Invite>,
    live_keys: Vec<OwnedKey>,
    /// The site's `data_policy`: the export form says whose answers it takes.
    data_policy: DataPolicy,
}

/// A live API key and the email of its owner.
pub struct OwnedKey {
    owner_email: String,
    key: KeyView,
}

/// A user or a guest address among the biggest spenders of the window.
pub struct TopSpender {
    /// `user` or `guest`.
    kind: &'static str,
    usage: SpendingGroup,
}

pub async fn show_admin(
    State(state): State<AppState>,
    Admin(admin): Admin,
    visitor: Visitor,
) -> Result<AdminPage, AppError> {
    let db = &state.db;
    let today = state.clock.today();
    let first_day = state.clock.day_before(WINDOW_DAYS - 1);
    let top_users = list_spending_by_user(db, &first_day, &today, TOP_SPENDERS as i64).await?;
    let top_guests = list_spending_by_guest_ip(db, &first_day, &today, TOP_SPENDERS as i64).await?;
    let mut top_spenders: Vec<TopSpender> = top_users
        .into_iter()
        .map(|usage| TopSpender {
            kind: "user",
            usage,
        })
        .chain(top_guests.into_iter().map(|usage| TopSpender {
            kind: "guest",
            usage,
        }))
        .collect();
    top_spenders.sort_by_key(|s| Reverse((s.usage.cost_microusd, s.usage.tokens)));
    top_spenders.truncate(TOP_SPENDERS);
    let users = list_users_with_spending(db, &today).await?;
    let emails: HashMap<i64, &str> = users.iter().map(|u| (u.id, u.email.as_str())).collect();
    let live_keys = list_live_api_keys(db)
        .await?
        .iter()
        .map(|key| OwnedKey {
            owner_email: emails.get(&key.user_id).copied().unwrap_or("?").to_string(),
            key: KeyView::new(key),
        })
        .collect();
    Ok(AdminPage {
        layout: Layout::load(&state, &visitor, None).await?,
        admin_id: admin.id,
        today_totals: sum_spending(db, &today, &today).await?,
        window_totals: sum_spending(db, &first_day, &today).await?,
        days: list_spending_by_day(db, &first_day, &today).await?,
        apps: list_spending_by_app(db, &first_day, &today).await?,
        users_today: list_spending_by_user(db, &today, &today, TODAY_ROWS).await?,
        guests_today: list_spending_by_guest_ip(db, &today, &today, TODAY_ROWS).await?,
        top_spenders,
        users,
        default_budget: state.config.budgets.user_daily_tokens,
        paused: settings::paused(db).await?,
        signup_mode: signup_mode(&state).await?.as_str(),
        invites: list_invites(db).await?,
        live_keys,
        data_policy: state.site.data_policy,
        today,
        first_day,
    })
}

/// The `{id}` of a user route; anything but a number is a user that does not exist.
pub struct UserId(i64);

impl<S: Send + Sync> FromRequestParts<S> for UserId {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let Path(id) = Path::<i64>::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::NotFound(Thing::User))?;
        Ok(Self(id))
    }
}

pub async fn disable_user(
    State(state): State<AppState>,
    Admin(admin): Admin,
    UserId(id): UserId,
) -> Result<Redirect, AppError> {
    // Locking oneself out could leave the site without a working admin.
    if id == admin.id {
        return Err(AppError::Invalid(Text::new("error-disable-self")));
    }
    user_found(update_user_disabled(&state.db, id, true).await?)?;
    user_changed(&state, id);
    tracing::info!(admin = admin.id, user = id, "admin disabled a user");
    Ok(back())
}

pub async fn enable_user(
    State(state): State<AppState>,
    Admin(admin): Admin,
    UserId(id): UserId,
) -> Result<Redirect, AppError> {
    user_found(update_user_disabled(&state.db, id, false).await?)?;
    user_changed(&state, id);
    tracing::info!(admin = admin.id, user = id, "admin enabled a user");
    Ok(back())
}

pub async fn reset_usage(
    State(state): State<AppState>,
    Admin(admin): Admin,
    UserId(id): UserId,
) -> Result<Redirect, AppError> {
    find_user(&state.db, id)
        .await?
        .ok_or(AppError::NotFound(Thing::User))?;
    // Rows still on their way to the ledger are written first, so they are reset too.
    state.meter.flush().await;
    let calls = update_entries_uncounted(&state.db, id, &state.clock.today()).await?;
    state.meter.forget_user(id);
    tracing::info!(
        admin = admin.id,
        user = id,
        calls,
        "admin reset a user's usage of today"
    );
    Ok(back())
}

#[derive(Deserialize)]
pub struct BudgetForm {
    #[serde(default)]
    daily_token_budget: String,
}

pub async fn change_budget(
    State(state): State<AppState>,
    Admin(admin): Admin,
    UserId(id): UserId,
    AppForm(form): AppForm<BudgetForm>,
) -> Result<Redirect, AppError> {
    let budget = parse_budget(&form.daily_token_budget)?;
    user_found(update_user_budget(&state.db, id, budget).await?)?;
    user_changed(&state, id);
    tracing::info!(
        admin = admin.id,
        user = id,
        ?budget,
        "admin changed a user's daily token budget"
    );
    Ok(back())
}

pub async fn make_admin(
    State(state): State<AppState>,
    Admin(admin): Admin,
    UserId(id): UserId,
) -> Result<Redirect, AppError> {
    user_found(update_user_role(&state.db, id, UserRole::Admin).await?)?;
    user_changed(&state, id);
    tracing::info!(admin = admin.id, user = id, "admin made a user an admin");
    Ok(back())
}

/// Grants the reviewer role: the user may work through the review queue.
pub async fn make_reviewer(
    State(state): State<AppState>,
    Admin(admin): Admin,
    UserId(id): UserId,
) -> Result<Redirect, AppError> {
    user_found(update_user_reviewer(&state.db, id, true).await?)?;
    user_changed(&state, id);
    tracing::info!(admin = admin.id, user = id, "admin made a user a reviewer");
    Ok(back())
}

/// Removes the reviewer role (an admin can still review: that comes with the role).
pub async fn remove_reviewer(
    State(state): State<AppState>,
    Admin(admin): Admin,
    UserId(id): UserId,
) -> Result<Redirect, AppError> {
    user_found(update_user_reviewer(&state.db, id, false).await?)?;
    user_changed(&state, id);
    tracing::info!(
        admin = admin.id,
        user = id,
        "admin removed a user's reviewer role"
    );
    Ok(back())
}

#[derive(Deserialize)]
pub struct PauseForm {
    #[serde(default)]
    paused: String,
}

pub async fn set_paused(
    State(state): State<AppState>,
    Admin(admin): Admin,
    AppForm(form): AppForm<PauseForm>,
) -> Result<Redirect, AppError> {
    let paused = match form.paused.as_str() {
        "1" => true,
        "0" => false,
        _ => {
            return Err(AppError::Invalid(Text::new("error-paused-value")));
        }
    };
    settings::set_paused(&state.db, paused).await?;
    state.meter.set_paused(paused);
    if paused {
        tracing::warn!(admin = admin.id, "admin paused all model calls");
    } else {
        tracing::info!(admin = admin.id, "admin resumed model calls");
    }
    Ok(back())
}

#[derive(Deserialize)]
pub struct SignupModeForm {
    #[serde(default)]
    mode: String,
}

pub async fn set_signup_mode(
    State(state): State<AppState>,
    Admin(admin): Admin,
    AppForm(form): AppForm<SignupModeForm>,
) -> Result<Redirect, AppError> {
    let mode: SignupMode = form
        .mode
        .parse()
        .map_err(|()| AppError::Invalid(Text::new("error-signup-mode")))?;
    settings::set_signup_mode(&state.db, mode).await?;
    tracing::info!(
        admin = admin.id,
        mode = mode.as_str(),
        "admin changed the sign-up mode"
    );
    Ok(back())
}

pub async fn create_invite(
    State(state): State<AppState>,
    Admin(admin): Admin,
) -> Result<Redirect, AppError> {
    // 32 hex characters from a v4 UUID: 122 random bits, too many to guess.
    let code = uuid::Uuid::new_v4().simple().to_string();
    insert_invite(&state.db, &code, admin.id).await?;
    tracing::info!(admin = admin.id, "admin created an invite code");
    Ok(back())
}

pub async fn revoke_key(
    State(state): State<AppState>,
    Admin(admin): Admin,
    KeyId(id): KeyId,
) -> Result<Redirect, AppError> {
    if !update_api_key_revoked(&state.db, id, None).await? {
        return Err(AppError::NotFound(Thing::ApiKey));
    }
    state.api_keys.forget_all();
    tracing::info!(admin = admin.id, key = id, "admin revoked an API key");
    Ok(back())
}

/// A user's account changed: their cached user and API keys are read again.
fn user_changed(state: &AppState, user_id: i64) {
    state.users.forget(user_id);
    state.api_keys.forget_all();
}

fn back() -> Redirect {
    Redirect::to("/admin")
}

/// An update of a user row that touched nothing means there is no such user.
fn user_found(updated: bool) -> Result<(), AppError> {
    updated.then_some(()).ok_or(AppError::NotFound(Thing::User))
}

/// Empty means the default budget; otherwise a whole number of tokens, 0 or more.
fn parse_budget(text: &str) -> Result<Option<i64>, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<i64>() {
        Ok(tokens) if tokens >= 0 => Ok(Some(tokens)),
        _ => Err(AppError::Invalid(
            Text::new("error-budget-value").arg("budget", format!("{text:?}")),
        )),
    }
}

/// Millionths of a dollar as dollars with four decimals: `$0.0123`.
fn dollars(microusd: i64) -> String {
    format!("${:.4}", microusd as f64 / 1_000_000.0)
}

mod filters {
    #[askama::filter_fn]
    pub fn dollars(microusd: &i64, _: &dyn askama::Values) -> askama::Result<String> {
        Ok(super::dollars(*microusd))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_budget_is_the_default_and_only_whole_non_negative_numbers_pass() {
        assert_eq!(parse_budget("").unwrap(), None);
        assert_eq!(parse_budget("  ").unwrap(), None);
        assert_eq!(parse_budget(" 5000 ").unwrap(), Some(5000));
        assert_eq!(parse_budget("0").unwrap(), Some(0));
        for bad in ["-1", "1.5", "lots", "99999999999999999999"] {
            assert!(
                matches!(parse_budget(bad), Err(AppError::Invalid(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn costs_show_as_dollars_with_four_decimals() {
        assert_eq!(dollars(0), "$0.0000");
        assert_eq!(dollars(12_345), "$0.0123");
        assert_eq!(dollars(2_500_000), "$2.5000");
    }
}
