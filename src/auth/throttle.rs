//! Login throttling: failures are counted per account and per address over a window.
//! Past the limit, attempts get 429 until the window ends — an attacker is slowed to a
//! handful of guesses per window, and the owner is never locked out for longer than that.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

/// Failed logins allowed per account within a window.
const ACCOUNT_FAILURES: u32 = 10;
/// Failed logins allowed per address within a window (across accounts).
const ADDRESS_FAILURES: u32 = 20;
const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Entries kept before old ones are swept, bounding memory under a spray of emails.
const MAX_ENTRIES: usize = 100_000;

#[derive(Clone, Debug, Default)]
pub struct LoginThrottle {
    failures: Arc<Mutex<HashMap<String, (u32, Instant)>>>,
}

impl LoginThrottle {
    /// `Err(wait)` when this account or address has failed too often recently.
    pub fn check(&self, email: &str, ip: IpAddr) -> Result<(), Duration> {
        let failures = self.failures.lock().expect("throttle poisoned");
        let now = Instant::now();
        for (key, limit) in [
            (account_key(email), ACCOUNT_FAILURES),
            (address_key(ip), ADDRESS_FAILURES),
        ] {
            if let Some((count, since)) = failures.get(&key)
                && *count >= limit
                && now.duration_since(*since) < WINDOW
            {
                return Err(WINDOW - now.duration_since(*since));
            }
        }
        Ok(())
    }

    pub fn record_failure(&self, email: &str, ip: IpAddr) {
        let mut failures = self.failures.lock().expect("throttle poisoned");
        let now = Instant::now();
        if failures.len() >= MAX_ENTRIES {
            failures.retain(|_, (_, since)| now.duration_since(*since) < WINDOW);
        }
        for key in [account_key(email), address_key(ip)] {
            let entry = failures.entry(key).or_insert((0, now));
            if now.duration_since(entry.1) >= WINDOW {
                *entry = (0, now);
            }
            entry.0 += 1;
        }
    }

    /// A successful login clears the account's failures (not the address's).
    pub fn record_success(&self, email: &str) {
        self.failures
            .lock()
            .expect("throttle poisoned")
            .remove(&account_key(email));
    }
}

fn account_key(email: &str) -> String {
    format!("account:{}", email.trim().to_lowercase())
}

fn address_key(ip: IpAddr) -> String {
    format!("address:{ip}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_throttled_after_repeated_failures_and_cleared_by_success() {
        let throttle = LoginThrottle::default();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..ACCOUNT_FAILURES {
            assert!(throttle.check("a@b.c", ip).is_ok());
            throttle.record_failure("A@b.c", ip);
        }
        let wait = throttle.check("a@b.c", ip).unwrap_err();
        assert!(wait <= WINDOW && wait > WINDOW - Duration::from_secs(5));
        // Another account from another address is not affected.
        assert!(
            throttle
                .check("other@b.c", "192.0.2.2".parse().unwrap())
                .is_ok()
        );
        throttle.record_success("a@b.c");
        assert!(
            throttle
                .check("a@b.c", "192.0.2.3".parse().unwrap())
                .is_ok()
        );
    }
}
