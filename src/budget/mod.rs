//! Cost control: token counting, the day's clock, whom a call is charged to (`Spender`),
//! and the reservation that every model call needs before it is made. Today's totals live in memory (`Meter`), behind one
//! lock, so parallel requests cannot overspend and a check costs no query.

use std::{
    net::IpAddr,
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

mod ledger_writer;
mod meter;
mod tokens;

pub use meter::{Meter, Reservation};
#[cfg(feature = "tiktoken")]
pub use tokens::warm_up;
pub use tokens::{count_tokens, estimate_tokens};

use crate::{
    auth::{Visitor, network_label},
    db::users::User,
    domain::{Owner, Role, now_ms},
    error::AppError,
    i18n::Text,
};

/// Tokens a message costs beyond its text (role and separators), as OpenAI counts them.
pub const TOKENS_PER_MESSAGE: usize = 4;

/// What a picture counts for in the token budgets when the image server does not say:
/// OpenAI's GPT image models report 1,056 output tokens for a 1024×1024 picture at
/// medium quality.
pub const IMAGE_TOKENS: i64 = 1_056;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// The time budgets are counted in. Tests move it forward to cross a day boundary.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    pub fn now_ms(&self) -> i64 {
        now_ms() + self.offset_ms.load(Ordering::Relaxed)
    }

    /// Moves this clock (and every clone of it) forward.
    pub fn advance(&self, by: Duration) {
        self.offset_ms
            .fetch_add(by.as_millis() as i64, Ordering::Relaxed);
    }

    /// Today's UTC date, `YYYY-MM-DD`: the key of the ledger.
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

/// Whom a model call is charged to: its owner, under the user's own budget when an admin
/// set one; a guest's calls count against their network's allowance too, so a new
/// session brings no new allowance.
#[derive(Clone, Debug)]
pub struct Spender {
    pub owner: Owner,
    /// The user's own daily token budget, when an admin set one.
    pub user_budget: Option<i64>,
    /// The client's network, as the ledger shows it (`192.0.2.7`, `2001:db8:1:2::/64`).
    pub network: String,
    /// The dataset batch item this call runs, when it is one: the call counts against
    /// the global budget as its creator's, but not against their own allowance (an
    /// operator's batch is not a visitor's chat), and its conversation is linked to the
    /// item in the transaction that creates it.
    pub batch: Option<BatchCall>,
}

/// A call made for a dataset batch: for one of its items, or (`item_id` `None`) to
/// propose its inputs.
#[derive(Clone, Copy, Debug)]
pub struct BatchCall {
    pub batch_id: i64,
    pub item_id: Option<i64>,
}

impl Spender {
    /// A visitor spending as `owner` (their user, or their guest session).
    pub fn of(visitor: &Visitor, owner: Owner) -> Self {
        Self {
            owner,
            user_budget: visitor.user.as_ref().and_then(|u| u.daily_token_budget),
            network: network_label(visitor.ip),
            batch: None,
        }
    }

    /// A user calling from `ip` (with an API key).
    pub fn user(user: &User, ip: IpAddr) -> Self {
        Self {
            owner: Owner::User(user.id),
            user_budget: user.daily_token_budget,
            network: network_label(ip),
            batch: None,
        }
    }

    /// A dataset batch's creator, running one of its items (from the server itself:
    /// the ledger shows the loopback address); `item` is `None` for the calls that
    /// propose the batch's inputs.
    pub fn batch(user_id: i64, batch_id: i64, item: Option<i64>) -> Self {
        Self {
            owner: Owner::User(user_id),
            user_budget: None,
            network: network_label(IpAddr::from([127, 0, 0, 1])),
            batch: Some(BatchCall {
                batch_id,
                item_id: item,
            }),
        }
    }
}

/// What a call may cost at most: its prompt plus the full output cap.
pub struct Estimate<'a> {
    pub model: &'a str,
    /// The prompt app the call runs, for the ledger.
    pub app: Option<&'a str>,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
}

fn paused(clock: &Clock, message: Text) -> AppError {
    metrics::counter!("budget_refusals_total", "limit" => "global").increment(1);
    AppError::Paused {
        message,
        retry_after: clock.until_reset(),
    }
}

fn limited(clock: &Clock, message: Text) -> AppError {
    metrics::counter!("budget_refusals_total", "limit" => "personal").increment(1);
    AppError::LimitReached {
        message,
        retry_after: clock.until_reset(),
    }
}

/// "in 3 h 20 min"
fn describe_reset(left: Duration) -> Text {
    let minutes = left.as_secs().div_ceil(60);
    match (minutes / 60, minutes % 60) {
        (0, m) => Text::new("resets-in-minutes").arg("minutes", m),
        (h, 0) => Text::new("resets-in-hours").arg("hours", h),
        (h, m) => Text::new("resets-in-hours-minutes")
            .arg("hours", h)
            .arg("minutes", m),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

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
        let reset = |secs| describe_reset(Duration::from_secs(secs));
        assert_eq!(reset(59).to_string(), "in 1 min");
        assert_eq!(reset(3600).to_string(), "in 1 h");
        assert_eq!(reset(3 * 3600 + 20 * 60).to_string(), "in 3 h 20 min");
        assert_eq!(reset(3 * 3600 + 20 * 60).in_lang(Lang::Ko), "3시간 20분 후");
    }
}
