//! SQL for the admin page: sums over the ledger (the `usage` table) by day, user, guest
//! address and prompt app, and the users with what they spent today. Days are `YYYY-MM-DD` strings, so a
//! range of days is a string comparison.

use sqlx::SqlitePool;

use super::users::UserRole;

/// Requests, tokens, cost and errors over a range of days.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SpendingTotals {
    pub requests: i64,
    pub tokens: i64,
    pub cost_microusd: i64,
    /// Calls that ended `failed`.
    pub errors: i64,
}

/// The same sums for one day, one user or one guest address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpendingGroup {
    /// The day, the user's email or the guest's address.
    pub name: String,
    pub requests: i64,
    pub tokens: i64,
    pub cost_microusd: i64,
    pub errors: i64,
}

/// A user as the admin page lists them: no password hash.
#[derive(Clone, Debug)]
pub struct UserSummary {
    pub id: i64,
    pub email: String,
    pub role: UserRole,
    pub disabled: bool,
    pub daily_token_budget: Option<i64>,
    /// May work through the review queue.
    pub reviewer: bool,
    /// Tokens counted against the user's budget on the day asked for.
    pub tokens_counted: i64,
}

pub async fn sum_spending(
    db: &SqlitePool,
    first_day: &str,
    last_day: &str,
) -> sqlx::Result<SpendingTotals> {
    sqlx::query_as!(
        SpendingTotals,
        r#"SELECT count(*) AS "requests!: i64",
                  coalesce(sum(prompt_tokens + completion_tokens), 0) AS "tokens!: i64",
                  coalesce(sum(cost_microusd), 0) AS "cost_microusd!: i64",
                  coalesce(sum(status = 'failed'), 0) AS "errors!: i64"
           FROM usage WHERE day BETWEEN ? AND ?"#,
        first_day,
        last_day
    )
    .fetch_one(db)
    .await
}

/// Days with any usage, newest first.
pub async fn list_spending_by_day(
    db: &SqlitePool,
    first_day: &str,
    last_day: &str,
) -> sqlx::Result<Vec<SpendingGroup>> {
    sqlx::query_as!(
        SpendingGroup,
        r#"SELECT day AS "name!",
                  count(*) AS "requests!: i64",
                  coalesce(sum(prompt_tokens + completion_tokens), 0) AS "tokens!: i64",
                  coalesce(sum(cost_microusd), 0) AS "cost_microusd!: i64",
                  coalesce(sum(status = 'failed'), 0) AS "errors!: i64"
           FROM usage WHERE day BETWEEN ? AND ?
           GROUP BY day ORDER BY day DESC"#,
        first_day,
        last_day
    )
    .fetch_all(db)
    .await
}

/// What each prompt app's runs spent, biggest first; chat and `/v1` calls as `chat and
/// /v1`.
pub async fn list_spending_by_app(
    db: &SqlitePool,
    first_day: &str,
    last_day: &str,
) -> sqlx::Result<Vec<SpendingGroup>> {
    sqlx::query_as!(
        SpendingGroup,
        r#"SELECT coalesce(app, 'chat and /v1') AS "name!: String",
                  count(*) AS "requests!: i64",
                  coalesce(sum(prompt_tokens + completion_tokens), 0) AS "tokens!: i64",
                  coalesce(sum(cost_microusd), 0) AS "cost_microusd!: i64",
                  coalesce(sum(status = 'failed'), 0) AS "errors!: i64"
           FROM usage WHERE day BETWEEN ? AND ?
           GROUP BY app
           ORDER BY 4 DESC, 3 DESC, 1"#,
        first_day,
        last_day
    )
    .fetch_all(db)
    .await
}

/// The `limit` users who spent most, by cost then tokens.
pub async fn list_spending_by_user(
    db: &SqlitePool,
    first_day: &str,
    last_day: &str,
    limit: i64,
) -> sqlx::Result<Vec<SpendingGroup>> {
    sqlx::query_as!(
        SpendingGroup,
        r#"SELECT users.email AS "name!",
                  count(*) AS "requests!: i64",
                  coalesce(sum(usage.prompt_tokens + usage.completion_tokens), 0) AS "tokens!: i64",
                  coalesce(sum(usage.cost_microusd), 0) AS "cost_microusd!: i64",
                  coalesce(sum(usage.status = 'failed'), 0) AS "errors!: i64"
           FROM usage JOIN users ON users.id = usage.user_id
           WHERE usage.day BETWEEN ? AND ?
           GROUP BY users.id
           ORDER BY 4 DESC, 3 DESC, users.email
           LIMIT ?"#,
        first_day,
        last_day,
        limit
    )
    .fetch_all(db)
    .await
}

/// The `limit` guest addresses that spent most, by cost then tokens. Calls of users are
/// not counted here, whatever their address, nor those of deleted accounts (kept
/// without a user or an address).
pub async fn list_spending_by_guest_ip(
    db: &SqlitePool,
    first_day: &str,
    last_day: &str,
    limit: i64,
) -> sqlx::Result<Vec<SpendingGroup>> {
    sqlx::query_as!(
        SpendingGroup,
        r#"SELECT ip AS "name!",
                  count(*) AS "requests!: i64",
                  coalesce(sum(prompt_tokens + completion_tokens), 0) AS "tokens!: i64",
                  coalesce(sum(cost_microusd), 0) AS "cost_microusd!: i64",
                  coalesce(sum(status = 'failed'), 0) AS "errors!: i64"
           FROM usage
           WHERE user_id IS NULL AND ip <> '' AND day BETWEEN ? AND ?
           GROUP BY ip
           ORDER BY 4 DESC, 3 DESC, ip
           LIMIT ?"#,
        first_day,
        last_day,
        limit
    )
    .fetch_all(db)
    .await
}

/// Every user, oldest first, with the tokens counted against their budget on `day`.
pub async fn list_users_with_spending(
    db: &SqlitePool,
    day: &str,
) -> sqlx::Result<Vec<UserSummary>> {
    sqlx::query_as!(
        UserSummary,
        r#"SELECT users.id, users.email, users.role AS "role: UserRole",
                  users.disabled AS "disabled: bool", users.daily_token_budget,
                  users.reviewer AS "reviewer: bool",
                  coalesce((SELECT sum(usage.prompt_tokens + usage.completion_tokens)
                            FROM usage
                            WHERE usage.user_id = users.id AND usage.day = ?
                              AND usage.counted = 1), 0) AS "tokens_counted!: i64"
           FROM users ORDER BY users.id"#,
        day
    )
    .fetch_all(db)
    .await
}
