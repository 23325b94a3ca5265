//! SQL for the ledger (the `usage` table): one entry per model call, reserved before it
//! and settled after. Budgets are checked against today's totals in memory
//! (`budget::Meter`), loaded from here at start; the entries are written in batches by
//! the ledger writer (`budget/ledger_writer.rs`).

use sqlx::{Connection, QueryBuilder, Sqlite, SqliteConnection, SqlitePool};

use crate::domain::EntryStatus;

/// One ledger entry: as reserved (status `reserved`, the most the call may use) and then
/// as settled (what it used, how it ended).
#[derive(Clone, Debug)]
pub struct Entry {
    pub id: i64,
    pub day: String,
    pub user_id: Option<i64>,
    pub guest_id: Option<String>,
    pub ip: String,
    pub message_id: Option<i64>,
    pub model: String,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub cost_microusd: i64,
    pub status: EntryStatus,
    pub duration_ms: Option<i64>,
    pub created_at: i64,
    /// The prompt app the call ran; `None` for chat and `/v1`.
    pub app: Option<String>,
}

/// Writes a reservation in the caller's transaction (a turn's, with its messages).
pub async fn insert_entry(conn: &mut SqliteConnection, r: &Entry) -> sqlx::Result<()> {
    sqlx::query!(
        r#"INSERT INTO usage (id, day, user_id, guest_id, ip, message_id, model, prompt_tokens,
                              completion_tokens, cost_microusd, status, duration_ms, created_at, app)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"#,
        r.id,
        r.day,
        r.user_id,
        r.guest_id,
        r.ip,
        r.message_id,
        r.model,
        r.prompt_tokens,
        r.completion_tokens,
        r.cost_microusd,
        r.status,
        r.duration_ms,
        r.created_at,
        r.app
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Entries per statement at most. Every length up to this keeps its statement prepared
/// (parsing a statement was a fifth of a write); a longer batch is written as several,
/// so that none is ever parsed again (on one core at 64 streams, where many calls end
/// together, parsing the longer ones afresh was 2 % of the server's time).
const PREPARED_ENTRIES: usize = 32;

/// Writes many entries: new ones are inserted, known ones (a reservation being settled)
/// get their usage, status and duration replaced; whether an entry is counted is never
/// changed here (an admin's reset stays). More than [`PREPARED_ENTRIES`] are written by
/// several statements in one transaction: one commit, all or nothing.
pub async fn upsert_entries(
    conn: &mut SqliteConnection,
    entries: &[Box<Entry>],
) -> sqlx::Result<()> {
    if entries.len() <= PREPARED_ENTRIES {
        return upsert_statement(conn, entries).await;
    }
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    for chunk in entries.chunks(PREPARED_ENTRIES) {
        upsert_statement(&mut tx, chunk).await?;
    }
    tx.commit().await
}

/// One statement for up to [`PREPARED_ENTRIES`] entries. Built at run time, as a
/// statement's length depends on the batch; its columns are those `insert_entry`'s
/// checked query names.
///
/// The entries reach the writer up to half a second after their call began, so their
/// user may have deleted their account, or a message its conversation, in between. Such
/// an entry is written as the deletion left the others: without the user (and address,
/// and not counted) or the message. Inserted as given, it would break its foreign key and
/// fail the whole batch, losing everyone's entries in it.
async fn upsert_statement(conn: &mut SqliteConnection, entries: &[Box<Entry>]) -> sqlx::Result<()> {
    debug_assert!(entries.len() <= PREPARED_ENTRIES);
    let mut query = QueryBuilder::<Sqlite>::new(
        "WITH e (id, day, user_id, guest_id, ip, message_id, model, prompt_tokens, \
         completion_tokens, cost_microusd, status, duration_ms, created_at, app) AS (",
    );
    query.push_values(entries, |mut values, r| {
        values
            .push_bind(r.id)
            .push_bind(&r.day)
            .push_bind(r.user_id)
            .push_bind(&r.guest_id)
            .push_bind(&r.ip)
            .push_bind(r.message_id)
            .push_bind(&r.model)
            .push_bind(r.prompt_tokens)
            .push_bind(r.completion_tokens)
            .push_bind(r.cost_microusd)
            .push_bind(r.status)
            .push_bind(r.duration_ms)
            .push_bind(r.created_at)
            .push_bind(&r.app);
    });
    // `WHERE true`: SQLite's grammar needs it between a SELECT and ON CONFLICT.
    query.push(
        ") INSERT INTO usage (id, day, user_id, guest_id, ip, message_id, model, prompt_tokens, \
         completion_tokens, cost_microusd, status, duration_ms, created_at, app, counted) \
         SELECT e.id, e.day, u.id, e.guest_id, \
                CASE WHEN e.user_id IS NOT NULL AND u.id IS NULL THEN '' ELSE e.ip END, \
                m.id, e.model, e.prompt_tokens, e.completion_tokens, e.cost_microusd, e.status, \
                e.duration_ms, e.created_at, e.app, \
                e.user_id IS NULL OR u.id IS NOT NULL \
         FROM e LEFT JOIN users u ON u.id = e.user_id LEFT JOIN messages m ON m.id = e.message_id \
         WHERE true \
         ON CONFLICT (id) DO UPDATE SET prompt_tokens = excluded.prompt_tokens, \
         completion_tokens = excluded.completion_tokens, cost_microusd = excluded.cost_microusd, \
         status = excluded.status, duration_ms = excluded.duration_ms",
    );
    query.build().execute(conn).await?;
    Ok(())
}

/// One day's calls, tokens and cost, by spender and whether they count.
pub struct DaySum {
    pub user_id: Option<i64>,
    pub guest_id: Option<String>,
    pub ip: String,
    pub counted: bool,
    pub calls: i64,
    pub tokens: i64,
    pub cost_microusd: i64,
}

pub async fn sum_entries_of_day(db: &SqlitePool, day: &str) -> sqlx::Result<Vec<DaySum>> {
    sqlx::query_as!(
        DaySum,
        r#"SELECT user_id, guest_id, ip, counted AS "counted: bool",
                  count(*) AS "calls!: i64",
                  coalesce(sum(prompt_tokens + completion_tokens), 0) AS "tokens!: i64",
                  coalesce(sum(cost_microusd), 0) AS "cost_microusd!: i64"
           FROM usage WHERE day = ?
           GROUP BY user_id, guest_id, ip, counted"#,
        day
    )
    .fetch_all(db)
    .await
}

/// The id the next ledger entry gets.
pub async fn find_next_entry_id(db: &SqlitePool) -> sqlx::Result<i64> {
    sqlx::query_scalar!(r#"SELECT coalesce(max(id), 0) + 1 AS "id!: i64" FROM usage"#)
        .fetch_one(db)
        .await
}

/// Stops counting a user's entries of `day` against their budget (kept for the books).
pub async fn update_entries_uncounted(
    db: &SqlitePool,
    user_id: i64,
    day: &str,
) -> sqlx::Result<u64> {
    let result = sqlx::query!(
        "UPDATE usage SET counted = 0 WHERE user_id = ? AND day = ?",
        user_id,
        day
    )
    .execute(db)
    .await?;
    Ok(result.rows_affected())
}
