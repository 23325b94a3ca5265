//! Cost control: token counting, the day's clock, and the reservation that every model
//! call needs before it is made. Reservations are written in the same `BEGIN IMMEDIATE`
//! transaction that checks them, so parallel requests cannot overspend.

use std::{
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

use sqlx::SqliteConnection;

use crate::{
    auth::Owner,
    config::{Budgets, Site},
    db::{
        self, Role,
        usage::{
            Reservation, Spender, insert_usage, sum_usage_global, sum_usage_guest, sum_usage_user,
        },
        users::find_setting_in,
    },
    error::AppError,
};

/// The settings key of the kill switch.
pub const PAUSED_KEY: &str = "paused";

/// Tokens a message costs beyond its text (role and separators), as OpenAI counts them.
const TOKENS_PER_MESSAGE: usize = 4;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// The time budgets are counted in. Tests move it forward to cross a day boundary.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    pub fn now_ms(&self) -> i64 {
        db::now_ms() + self.offset_ms.load(Ordering::Relaxed)
    }

    /// Moves this clock (and every clone of it) forward.
    pub fn advance(&self, by: Duration) {
        self.offset_ms
            .fetch_add(by.as_millis() as i64, Ordering::Relaxed);
    }

    /// Today's UTC date, `YYYY-MM-DD`: the key of the usage ledger.
    pub fn today(&self) -> String {
        self.day_before(0)
    }

    /// The UTC date `days` before today, `YYYY-MM-DD`.
    pub fn day_before(&self, days: i64) -> String {
        day_before(self.now_ms(), days)
    }

    /// Time left until the budgets reset at 00:00 UTC.
    pub fn until_reset(&self) -> Duration {
        let into_day = self.now_ms().rem_euclid(DAY_MS);
        Duration::from_millis((DAY_MS - into_day) as u64)
    }
}

fn day_before(now_ms: i64, days: i64) -> String {
    let date = time::OffsetDateTime::from_unix_timestamp(now_ms.div_euclid(1000))
        .map(|t| t.date())
        .unwrap_or(time::Date::MIN);
    let date = date
        .checked_sub(time::Duration::days(days))
        .unwrap_or(time::Date::MIN);
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// Tokens of a text, with the tokenizer of current OpenAI models; an estimate for others.
pub fn count_tokens(text: &str) -> usize {
    tiktoken_rs::o200k_base_singleton().count_ordinary(text)
}

/// Loads the tokenizer (a few hundred milliseconds) before the first request needs it.
pub fn warm_up() {
    count_tokens("warm up");
}

/// The newest history that fits in `max_tokens` (the last message always goes), and the
/// prompt's token count including the system prompt.
pub fn trim_history(
    system_prompt: &str,
    history: Vec<(Role, String)>,
    max_tokens: usize,
) -> (Vec<(Role, String)>, usize) {
    let mut used = count_tokens(system_prompt) + TOKENS_PER_MESSAGE;
    let mut kept = Vec::new();
    for (role, content) in history.into_iter().rev() {
        let tokens = count_tokens(&content) + TOKENS_PER_MESSAGE;
        if !kept.is_empty() && used + tokens > max_tokens {
            break;
        }
        used += tokens;
        kept.push((role, content));
    }
    kept.reverse();
    (kept, used)
}

/// What a call may cost at most: its prompt plus the full output cap.
pub struct Estimate<'a> {
    pub model: &'a str,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
}

/// Checks every budget that applies and, if all allow the call, writes its reservation.
/// Must run inside the turn's `BEGIN IMMEDIATE` transaction.
#[allow(clippy::too_many_arguments)]
pub async fn reserve(
    conn: &mut SqliteConnection,
    budgets: &Budgets,
    site: &Site,
    clock: &Clock,
    owner: &Owner,
    user_budget: Option<i64>,
    ip: &str,
    estimate: &Estimate<'_>,
    message_id: Option<i64>,
) -> Result<i64, AppError> {
    let day = clock.today();
    let tokens = estimate.prompt_tokens + estimate.completion_tokens;
    let cost = site.cost_microusd(
        estimate.model,
        estimate.prompt_tokens,
        estimate.completion_tokens,
    );
    let resets = describe_reset(clock.until_reset());

    if find_setting_in(conn, PAUSED_KEY).await?.as_deref() == Some("1") {
        tracing::warn!("model call refused: the kill switch is on");
        return Err(paused(
            clock,
            &resets,
            "The service is paused by its operator.",
        ));
    }
    let (global_tokens, global_cost) = sum_usage_global(conn, &day).await?;
    if global_tokens + tokens > budgets.global_daily_tokens {
        tracing::warn!(
            global_tokens,
            limit = budgets.global_daily_tokens,
            "model call refused: global daily token budget spent"
        );
        return Err(paused(
            clock,
            &resets,
            "The service is paused: today's budget is spent.",
        ));
    }
    if global_cost + cost > budgets.global_daily_microusd {
        tracing::warn!(
            global_cost_microusd = global_cost,
            limit = budgets.global_daily_microusd,
            "model call refused: global daily money budget spent"
        );
        return Err(paused(
            clock,
            &resets,
            "The service is paused: today's budget is spent.",
        ));
    }
    match owner {
        Owner::User(user_id) => {
            let limit = user_budget.unwrap_or(budgets.user_daily_tokens);
            let used = sum_usage_user(conn, &day, *user_id).await?;
            if used + tokens > limit {
                return Err(limited(
                    clock,
                    format!(
                        "You have used today's allowance of {limit} tokens. It resets at 00:00 UTC, {resets}."
                    ),
                ));
            }
        }
        Owner::Guest(guest_id) => {
            let used = sum_usage_guest(conn, &day, guest_id, ip).await?;
            let messages = used.session_messages.max(used.ip_messages);
            let guest_tokens = used.session_tokens.max(used.ip_tokens);
            if messages >= budgets.guest_daily_messages {
                return Err(limited(
                    clock,
                    format!(
                        "You have used today's guest allowance of {} {}. It resets at 00:00 UTC, {resets}. Sign up for a larger allowance.",
                        budgets.guest_daily_messages,
                        if budgets.guest_daily_messages == 1 {
                            "message"
                        } else {
                            "messages"
                        }
                    ),
                ));
            }
            if guest_tokens + tokens > budgets.guest_daily_tokens {
                return Err(limited(
                    clock,
                    format!(
                        "You have used today's guest allowance of {} tokens. It resets at 00:00 UTC, {resets}. Sign up for a larger allowance.",
                        budgets.guest_daily_tokens
                    ),
                ));
            }
        }
    }
    let id = insert_usage(
        conn,
        &Reservation {
            day: &day,
            spender: Spender {
                user_id: owner.user_id(),
                guest_id: owner.guest_id(),
                ip,
            },
            message_id,
            model: estimate.model,
            prompt_tokens: estimate.prompt_tokens,
            completion_tokens: estimate.completion_tokens,
            cost_microusd: cost,
            now_ms: clock.now_ms(),
        },
    )
    .await?;
    Ok(id)
}

/// What a finished call used, ready to replace its reservation in the ledger.
pub struct Settlement {
    usage_id: i64,
    prompt_tokens: i64,
    completion_tokens: i64,
    cost_microusd: i64,
    status: &'static str,
    duration_ms: i64,
}

impl Settlement {
    /// The provider's counts where it reported them; otherwise the reservation's prompt
    /// estimate and a count of the text that arrived (a stream cut off before its usage
    /// chunk is still billed).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        site: &Site,
        model: &str,
        usage_id: i64,
        reported: Option<(i64, i64)>,
        estimated_prompt_tokens: i64,
        text: &str,
        status: &'static str,
        duration_ms: i64,
    ) -> Self {
        let (prompt_tokens, completion_tokens) =
            reported.unwrap_or_else(|| (estimated_prompt_tokens, count_tokens(text) as i64));
        Self {
            usage_id,
            prompt_tokens,
            completion_tokens,
            cost_microusd: site.cost_microusd(model, prompt_tokens, completion_tokens),
            status,
            duration_ms,
        }
    }

    /// Writes the settlement (and counts the tokens in the metrics).
    pub async fn save(self, db: &sqlx::SqlitePool) {
        metrics::counter!("model_tokens_total", "kind" => "prompt")
            .increment(self.prompt_tokens as u64);
        metrics::counter!("model_tokens_total", "kind" => "completion")
            .increment(self.completion_tokens as u64);
        if let Err(error) = crate::db::usage::update_usage_settled(
            db,
            self.usage_id,
            self.prompt_tokens,
            self.completion_tokens,
            self.cost_microusd,
            self.status,
            self.duration_ms,
        )
        .await
        {
            tracing::error!(%error, usage = self.usage_id, "could not settle a model call's usage");
        }
    }
}

fn paused(clock: &Clock, resets: &str, why: &str) -> AppError {
    metrics::counter!("budget_refusals_total", "limit" => "global").increment(1);
    AppError::Paused {
        message: format!("{why} New messages are accepted again at 00:00 UTC, {resets}."),
        retry_after: clock.until_reset(),
    }
}

fn limited(clock: &Clock, message: String) -> AppError {
    metrics::counter!("budget_refusals_total", "limit" => "personal").increment(1);
    AppError::LimitReached {
        message,
        retry_after: clock.until_reset(),
    }
}

/// "in 3 h 20 min"
fn describe_reset(left: Duration) -> String {
    let minutes = left.as_secs().div_ceil(60);
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("in {m} min"),
        (h, 0) => format!("in {h} h"),
        (h, m) => format!("in {h} h {m} min"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_moves_days_and_counts_down_to_midnight() {
        let clock = Clock::default();
        let today = clock.today();
        assert!(clock.until_reset() <= Duration::from_secs(86_400));
        clock.advance(Duration::from_secs(86_400));
        assert_ne!(clock.today(), today);
    }

    #[test]
    fn days_before_today_cross_months_and_years() {
        // 2026-03-01T12:00:00Z
        let march_first = 1_772_366_400_000;
        assert_eq!(day_before(march_first, 0), "2026-03-01");
        assert_eq!(day_before(march_first, 1), "2026-02-28");
        assert_eq!(day_before(march_first, 29 + 31 + 28), "2025-12-03");
    }

    #[test]
    fn history_keeps_the_newest_messages_that_fit() {
        let history = vec![
            (Role::User, "old ".repeat(500)),
            (Role::Assistant, "middle answer".into()),
            (Role::User, "newest question".into()),
        ];
        let (kept, tokens) = trim_history("system", history.clone(), 100);
        assert_eq!(kept.len(), 2, "the 500-token message is dropped");
        assert_eq!(kept[1].1, "newest question");
        assert!(tokens <= 100);
        let (all, _) = trim_history("system", history, 10_000);
        assert_eq!(all.len(), 3);
    }

    #[test]
    fn the_last_message_is_sent_even_when_it_alone_is_over_budget() {
        let (kept, _) = trim_history("system", vec![(Role::User, "word ".repeat(100))], 10);
        assert_eq!(kept.len(), 1);
    }

    #[test]
    fn resets_read_naturally() {
        assert_eq!(describe_reset(Duration::from_secs(59)), "in 1 min");
        assert_eq!(describe_reset(Duration::from_secs(3600)), "in 1 h");
        assert_eq!(
            describe_reset(Duration::from_secs(3 * 3600 + 20 * 60)),
            "in 3 h 20 min"
        );
    }
}
