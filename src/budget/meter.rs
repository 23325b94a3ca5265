//! Today's spending, in memory. A budget check takes a lock instead of summing the
//! ledger, and the ledger entries behind it are written by one task in batches (the
//! [`LedgerWriter`]), so model calls never queue for SQLite's write lock.
//! The totals are loaded from the ledger at start; this process is the ledger's only
//! writer, so they stay equal to what the ledger will hold.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicI64, Ordering},
    },
};

use sqlx::SqlitePool;

use super::{
    Clock, Estimate, Spender, describe_reset, ledger_writer::LedgerWriter, limited, paused,
};
use crate::{
    config::{Budgets, Site},
    db::{
        ledger::{self, Entry},
        settings,
    },
    domain::{EntryStatus, Owner},
    error::AppError,
    i18n::Text,
};

/// Budgets' view of today, shared by every request.
#[derive(Clone, Debug)]
pub struct Meter {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// The limits, from the environment.
    budgets: Budgets,
    /// Model prices, for what a call costs.
    site: Arc<Site>,
    /// The time the days are counted in.
    clock: Clock,
    totals: Mutex<Totals>,
    paused: AtomicBool,
    /// Ledger ids are handed out here, so an entry can be settled before it is written.
    next_id: AtomicI64,
    ledger: LedgerWriter,
}

/// What was spent on one day: by everyone, and by each user, guest session and guest
/// address (counted rows only; an admin's reset uncounts a user's rows).
#[derive(Debug, Default)]
struct Totals {
    day: String,
    global: Spent,
    users: HashMap<i64, Spent>,
    guests: HashMap<String, Spent>,
    ips: HashMap<String, Spent>,
}

#[derive(Clone, Copy, Debug, Default)]
struct Spent {
    calls: i64,
    tokens: i64,
    cost: i64,
}

impl Spent {
    fn add(&mut self, calls: i64, tokens: i64, cost: i64) {
        self.calls += calls;
        self.tokens += tokens;
        self.cost += cost;
    }
}

/// One call's reservation: the most it may use, already counted in today's totals and
/// on its way to the ledger; `Meter::settle` replaces it with what the call used.
#[derive(Clone, Debug)]
pub struct Reservation {
    pub entry: Entry,
}

impl Meter {
    /// Today's totals from the ledger, the kill switch from the settings, and the ledger
    /// writer started.
    pub async fn load(
        db: &SqlitePool,
        budgets: Budgets,
        site: Arc<Site>,
        clock: Clock,
    ) -> sqlx::Result<Self> {
        let (ledger, _task) = LedgerWriter::spawn(db.clone());
        let meter = Self {
            inner: Arc::new(Inner {
                budgets,
                site,
                clock,
                totals: Mutex::default(),
                paused: AtomicBool::new(false),
                next_id: AtomicI64::new(1),
                ledger,
            }),
        };
        meter.reload(db).await?;
        Ok(meter)
    }

    /// Reads the totals, the next ledger id and the kill switch again from the database,
    /// after the writes in flight are done.
    pub async fn reload(&self, db: &SqlitePool) -> sqlx::Result<()> {
        self.inner.ledger.flush().await;
        let day = self.inner.clock.today();
        let sums = ledger::sum_entries_of_day(db, &day).await?;
        let next_id = ledger::find_next_entry_id(db).await?;
        let paused = settings::paused(db).await?;
        let mut totals = Totals {
            day,
            ..Totals::default()
        };
        for sum in sums {
            totals.global.add(sum.calls, sum.tokens, sum.cost_microusd);
            if sum.counted {
                totals.spender(sum.user_id, sum.guest_id.as_deref(), &sum.ip, |spent| {
                    spent.add(sum.calls, sum.tokens, sum.cost_microusd)
                });
            }
        }
        *self.lock() = totals;
        self.inner.next_id.fetch_max(next_id, Ordering::Relaxed);
        self.inner.paused.store(paused, Ordering::Relaxed);
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Totals> {
        self.inner.totals.lock().expect("budget totals poisoned")
    }

    /// The kill switch (the admin page's "pause"), already saved in the settings.
    pub fn set_paused(&self, paused: bool) {
        self.inner.paused.store(paused, Ordering::Relaxed);
    }

    /// Stops counting a user's usage of today, as `update_entries_uncounted` did in the
    /// ledger (the global totals keep it: the money was spent).
    pub fn forget_user(&self, user_id: i64) {
        self.lock().users.remove(&user_id);
    }

    /// Checks every budget the spender's call falls under and, when it fits, counts its
    /// most (prompt plus output cap) against them all at once. The caller writes the
    /// ledger entry: `record` sends it to the ledger writer; the page path writes it in its
    /// own transaction and calls `release` when that fails.
    pub fn reserve(
        &self,
        spender: &Spender,
        estimate: &Estimate<'_>,
        message_id: Option<i64>,
    ) -> Result<Reservation, AppError> {
        let Inner {
            budgets,
            site,
            clock,
            ..
        } = &*self.inner;
        let day = clock.today();
        let tokens = estimate.prompt_tokens + estimate.completion_tokens;
        let cost = site.cost_microusd(
            estimate.model,
            estimate.prompt_tokens,
            estimate.completion_tokens,
        );
        let resets = || describe_reset(clock.until_reset());
        if self.inner.paused.load(Ordering::Relaxed) {
            tracing::warn!("model call refused: the kill switch is on");
            return Err(paused(
                clock,
                Text::new("budget-paused-operator").arg("resets", resets()),
            ));
        }
        let mut totals = self.lock();
        if totals.day != day {
            *totals = Totals {
                day: day.clone(),
                ..Totals::default()
            };
        }
        let global = totals.global;
        if global.tokens + tokens > budgets.global_daily_tokens
            || global.cost + cost > budgets.global_daily_microusd
        {
            tracing::warn!(
                global_tokens = global.tokens,
                token_limit = budgets.global_daily_tokens,
                global_cost_microusd = global.cost,
                money_limit_microusd = budgets.global_daily_microusd,
                "model call refused: the global daily budget is spent"
            );
            return Err(paused(
                clock,
                Text::new("budget-paused-spent").arg("resets", resets()),
            ));
        }
        match &spender.owner {
            // A batch is the operator's own work: the global budget bounds it, a
            // personal allowance meant for chatting does not.
            Owner::User(_) if spender.batch.is_some() => {}
            Owner::User(user_id) => {
                let limit = spender.user_budget.unwrap_or(budgets.user_daily_tokens);
                let used = totals.users.get(user_id).map_or(0, |s| s.tokens);
                if used + tokens > limit {
                    return Err(limited(
                        clock,
                        Text::new("budget-user-tokens")
                            .arg("limit", limit)
                            .arg("resets", resets()),
                    ));
                }
            }
            Owner::Guest(guest_id) => {
                let session = totals.guests.get(guest_id).copied().unwrap_or_default();
                let address = totals
                    .ips
                    .get(&spender.network)
                    .copied()
                    .unwrap_or_default();
                let calls = session.calls.max(address.calls);
                let guest_tokens = session.tokens.max(address.tokens);
                if calls >= budgets.guest_daily_messages {
                    return Err(limited(
                        clock,
                        Text::new("budget-guest-messages")
                            .arg("limit", budgets.guest_daily_messages)
                            .arg("resets", resets()),
                    ));
                }
                if guest_tokens + tokens > budgets.guest_daily_tokens {
                    return Err(limited(
                        clock,
                        Text::new("budget-guest-tokens")
                            .arg("limit", budgets.guest_daily_tokens)
                            .arg("resets", resets()),
                    ));
                }
            }
        }
        let reservation = Reservation {
            entry: Entry {
                id: self.inner.next_id.fetch_add(1, Ordering::Relaxed),
                day,
                user_id: spender.owner.user_id(),
                guest_id: spender.owner.guest_id().map(str::to_string),
                ip: spender.network.clone(),
                message_id,
                model: estimate.model.to_string(),
                prompt_tokens: estimate.prompt_tokens,
                completion_tokens: estimate.completion_tokens,
                cost_microusd: cost,
                status: EntryStatus::Reserved,
                duration_ms: None,
                created_at: clock.now_ms(),
                app: estimate.app.map(str::to_string),
            },
        };
        totals.count(&reservation.entry, 1, tokens, cost);
        Ok(reservation)
    }

    /// Sends the reservation's ledger entry to the writer (the `/v1` path, which has no
    /// transaction of its own).
    pub async fn record(&self, reservation: &Reservation) {
        self.inner.ledger.reserve(reservation.entry.clone()).await;
    }

    /// Takes back a reservation whose entry was never written (its transaction failed).
    pub fn release(&self, reservation: &Reservation) {
        let entry = &reservation.entry;
        let tokens = entry.prompt_tokens + entry.completion_tokens;
        let mut totals = self.lock();
        if totals.day == entry.day {
            totals.count(entry, -1, -tokens, -entry.cost_microusd);
        }
    }

    /// Replaces a reservation with what the call used (`(prompt, completion)` tokens: the
    /// provider's figures, or the caller's estimate). Returns once the ledger has it, so
    /// nothing acknowledged to a client can be lost.
    pub async fn settle(
        &self,
        reservation: &Reservation,
        used: (i64, i64),
        status: EntryStatus,
        duration_ms: i64,
    ) {
        let entry = self.count_settled(reservation, used, status, duration_ms);
        self.inner.ledger.settle(entry).await;
    }

    /// [`Meter::settle`] without waiting, where nothing can wait (a `Drop`): the entry is
    /// queued for the writer at once, so the next [`Meter::flush`] writes it.
    pub fn settle_now(
        &self,
        reservation: &Reservation,
        used: (i64, i64),
        status: EntryStatus,
        duration_ms: i64,
    ) {
        let entry = self.count_settled(reservation, used, status, duration_ms);
        self.inner.ledger.settle_now(entry);
    }

    /// Moves today's totals from the reservation to what was used, and returns the
    /// settled entry.
    fn count_settled(
        &self,
        reservation: &Reservation,
        (prompt_tokens, completion_tokens): (i64, i64),
        status: EntryStatus,
        duration_ms: i64,
    ) -> Entry {
        let entry = &reservation.entry;
        let cost = self
            .inner
            .site
            .cost_microusd(&entry.model, prompt_tokens, completion_tokens);
        metrics::counter!("model_tokens_total", "kind" => "prompt").increment(prompt_tokens as u64);
        metrics::counter!("model_tokens_total", "kind" => "completion")
            .increment(completion_tokens as u64);
        {
            let mut totals = self.lock();
            if totals.day == entry.day {
                let tokens = prompt_tokens + completion_tokens
                    - (entry.prompt_tokens + entry.completion_tokens);
                totals.count(entry, 0, tokens, cost - entry.cost_microusd);
            }
        }
        Entry {
            prompt_tokens,
            completion_tokens,
            cost_microusd: cost,
            status,
            duration_ms: Some(duration_ms),
            ..entry.clone()
        }
    }

    /// Waits until every ledger write sent so far is committed (shutdown, tests).
    pub async fn flush(&self) {
        self.inner.ledger.flush().await;
    }
}

impl Totals {
    /// Adds to everything `entry`'s spender is counted under.
    fn count(&mut self, entry: &Entry, calls: i64, tokens: i64, cost: i64) {
        self.global.add(calls, tokens, cost);
        // A user reset today is no longer in the totals; their new calls add them again.
        self.spender(
            entry.user_id,
            entry.guest_id.as_deref(),
            &entry.ip,
            |spent| spent.add(calls, tokens, cost),
        );
    }

    /// Applies `change` to a user's totals, or to a guest session's and its address's.
    fn spender(
        &mut self,
        user_id: Option<i64>,
        guest_id: Option<&str>,
        ip: &str,
        change: impl Fn(&mut Spent),
    ) {
        if let Some(user) = user_id {
            change(self.users.entry(user).or_default());
            return;
        }
        if let Some(guest) = guest_id {
            change(self.guests.entry(guest.to_string()).or_default());
        }
        change(self.ips.entry(ip.to_string()).or_default());
    }
}
