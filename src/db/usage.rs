//! SQL for the `usage` ledger: one row per model call, reserved before it and settled
//! after. Budgets are sums over today's rows.

use sqlx::{SqliteConnection, SqlitePool};

/// Who a model call is for.
#[derive(Clone, Debug)]
pub struct Spender<'a> {
    pub user_id: Option<i64>,
    pub guest_id: Option<&'a str>,
    pub ip: &'a str,
}

/// A reservation: the most a call may use, written before it is made.
pub struct Reservation<'a> {
    pub day: &'a str,
    pub spender: Spender<'a>,
    pub message_id: Option<i64>,
    pub model: &'a str,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub cost_microusd: i64,
    pub now_ms: i64,
}

pub async fn insert_usage(conn: &mut SqliteConnection, r: &Reservation<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"INSERT INTO usage (day, user_id, guest_id, ip, message_id, model, prompt_tokens,
                              completion_tokens, cost_microusd, status, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'reserved', ?)
           RETURNING id"#,
        r.day,
        r.spender.user_id,
        r.spender.guest_id,
        r.spender.ip,
        r.message_id,
        r.model,
        r.prompt_tokens,
        r.completion_tokens,
        r.cost_microusd,
        r.now_ms
    )
    .fetch_one(conn)
    .await
}

/// Replaces a reservation with what the call really used.
pub async fn update_usage_settled(
    db: &SqlitePool,
    id: i64,
    prompt_tokens: i64,
    completion_tokens: i64,
    cost_microusd: i64,
    status: &str,
    duration_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE usage SET prompt_tokens = ?, completion_tokens = ?, cost_microusd = ?,
                          status = ?, duration_ms = ?
         WHERE id = ?",
        prompt_tokens,
        completion_tokens,
        cost_microusd,
        status,
        duration_ms,
        id
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Today's tokens and cost over everyone: the global budget.
pub async fn sum_usage_global(conn: &mut SqliteConnection, day: &str) -> sqlx::Result<(i64, i64)> {
    let row = sqlx::query!(
        r#"SELECT coalesce(sum(prompt_tokens + completion_tokens), 0) AS "tokens!: i64",
                  coalesce(sum(cost_microusd), 0) AS "cost!: i64"
           FROM usage WHERE day = ?"#,
        day
    )
    .fetch_one(conn)
    .await?;
    Ok((row.tokens, row.cost))
}

/// Today's counted tokens of one user.
pub async fn sum_usage_user(
    conn: &mut SqliteConnection,
    day: &str,
    user_id: i64,
) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"SELECT coalesce(sum(prompt_tokens + completion_tokens), 0) AS "tokens!: i64"
           FROM usage WHERE day = ? AND user_id = ? AND counted = 1"#,
        day,
        user_id
    )
    .fetch_one(conn)
    .await
}

/// Today's guest calls and tokens, by guest session and by IP address (guests only).
pub struct GuestUsage {
    pub session_messages: i64,
    pub session_tokens: i64,
    pub ip_messages: i64,
    pub ip_tokens: i64,
}

pub async fn sum_usage_guest(
    conn: &mut SqliteConnection,
    day: &str,
    guest_id: &str,
    ip: &str,
) -> sqlx::Result<GuestUsage> {
    let row = sqlx::query!(
        r#"SELECT
             coalesce(sum(guest_id = ?1), 0) AS "session_messages!: i64",
             coalesce(sum(CASE WHEN guest_id = ?1 THEN prompt_tokens + completion_tokens END), 0)
               AS "session_tokens!: i64",
             coalesce(sum(ip = ?2), 0) AS "ip_messages!: i64",
             coalesce(sum(CASE WHEN ip = ?2 THEN prompt_tokens + completion_tokens END), 0)
               AS "ip_tokens!: i64"
           FROM usage
           WHERE day = ?3 AND user_id IS NULL AND counted = 1 AND (guest_id = ?1 OR ip = ?2)"#,
        guest_id,
        ip,
        day
    )
    .fetch_one(conn)
    .await?;
    Ok(GuestUsage {
        session_messages: row.session_messages,
        session_tokens: row.session_tokens,
        ip_messages: row.ip_messages,
        ip_tokens: row.ip_tokens,
    })
}

/// Stops counting a user's usage of `day` against their budget (kept for the books).
pub async fn update_usage_uncounted(db: &SqlitePool, user_id: i64, day: &str) -> sqlx::Result<u64> {
    let result = sqlx::query!(
        "UPDATE usage SET counted = 0 WHERE user_id = ? AND day = ?",
        user_id,
        day
    )
    .execute(db)
    .await?;
    Ok(result.rows_affected())
}
