//! Login throttling that slows an attacker down without locking the owner out, after
//! OWASP's "Slow Down Online Guessing Attacks with Device Cookies". An unknown client's
//! failures count per account and per address over a window; past either limit it gets 429
//! until the window ends. A browser that has logged in to the account before (it sends a
//! device cookie valid for that account) is not held to those counts, so an attacker who
//! keeps guessing cannot keep the owner out: it has its own count, and past that it is an
//! unknown client again, so a stolen device cookie buys only a few guesses more.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

/// Failed logins allowed per account within a window, for unknown clients.
const ACCOUNT_FAILURES: u32 = 10;
/// Failed logins allowed per address within a window (across accounts), for unknown
/// clients.
const ADDRESS_FAILURES: u32 = 20;
/// Failed logins allowed per trusted device within a window, before it is an unknown
/// client.
const DEVICE_FAILURES: u32 = 10;
const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Entries kept before old ones are swept, bounding memory under a spray of emails.
const MAX_ENTRIES: usize = 100_000;

#[derive(Clone, Debug, Default)]
pub struct LoginThrottle {
    failures: Arc<Mutex<HashMap<String, (u32, Instant)>>>,
}

/// Whose count a login attempt is held to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginClient {
    /// A browser that has logged in to this account before and has failed less than its
    /// own limit: the device's id.
    TrustedDevice(i64),
    /// Anyone else: counted per account and per address.
    Unknown,
}

impl LoginThrottle {
    /// Whose count an attempt at `email` from `ip` is held to (`device`: the id of the
    /// device its cookie proves for this account), or `Err(wait)` when that count is full.
    pub fn check(
        &self,
        email: &str,
        ip: IpAddr,
        device: Option<i64>,
    ) -> Result<LoginClient, Duration> {
        self.check_at(email, ip, device, Instant::now())
    }

    fn check_at(
        &self,
        email: &str,
        ip: IpAddr,
        device: Option<i64>,
        now: Instant,
    ) -> Result<LoginClient, Duration> {
        let failures = self.failures.lock().expect("throttle poisoned");
        if let Some(id) = device
            && wait(&failures, &device_key(id), DEVICE_FAILURES, now).is_none()
        {
            return Ok(LoginClient::TrustedDevice(id));
        }
        for (key, limit) in [
            (account_key(email), ACCOUNT_FAILURES),
            (address_key(ip), ADDRESS_FAILURES),
        ] {
            if let Some(wait) = wait(&failures, &key, limit, now) {
                return Err(wait);
            }
        }
        Ok(LoginClient::Unknown)
    }

    /// Counts a failure against the device alone for a trusted device, else against the
    /// account and the address.
    pub fn record_failure(&self, client: LoginClient, email: &str, ip: IpAddr) {
        self.record_failure_at(client, email, ip, Instant::now());
    }

    fn record_failure_at(&self, client: LoginClient, email: &str, ip: IpAddr, now: Instant) {
        let mut failures = self.failures.lock().expect("throttle poisoned");
        if failures.len() >= MAX_ENTRIES {
            failures.retain(|_, (_, since)| now.duration_since(*since) < WINDOW);
        }
        let keys = match client {
            LoginClient::TrustedDevice(id) => [Some(device_key(id)), None],
            LoginClient::Unknown => [Some(account_key(email)), Some(address_key(ip))],
        };
        for key in keys.into_iter().flatten() {
            let entry = failures.entry(key).or_insert((0, now));
            if now.duration_since(entry.1) >= WINDOW {
                *entry = (0, now);
            }
            entry.0 += 1;
        }
    }

    /// A successful login clears the account's failures (not the address's), and those
    /// of the device it came from, if it sent one valid for the account.
    pub fn record_success(&self, email: &str, device: Option<i64>) {
        let mut failures = self.failures.lock().expect("throttle poisoned");
        failures.remove(&account_key(email));
        if let Some(id) = device {
            failures.remove(&device_key(id));
        }
    }
}

/// How long until `key` may try again, if it has used up `limit` in the current window.
fn wait(
    failures: &HashMap<String, (u32, Instant)>,
    key: &str,
    limit: u32,
    now: Instant,
) -> Option<Duration> {
    let (count, since) = failures.get(key)?;
    let elapsed = now.duration_since(*since);
    (*count >= limit && elapsed < WINDOW).then(|| WINDOW - elapsed)
}

fn account_key(email: &str) -> String {
    format!("account:{}", email.trim().to_lowercase())
}

/// By network, as every per-address limit: an IPv6 client holds a whole /64.
fn address_key(ip: IpAddr) -> String {
    format!("address:{}", super::network(ip))
}

fn device_key(id: i64) -> String {
    format!("device:{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, n])
    }

    /// Locks `email` for unknown clients with failures from many addresses.
    fn lock_account(throttle: &LoginThrottle, email: &str, now: Instant) {
        for n in 0..ACCOUNT_FAILURES {
            let client = throttle.check_at(email, ip(100 + n as u8), None, now);
            assert_eq!(client, Ok(LoginClient::Unknown));
            throttle.record_failure_at(LoginClient::Unknown, email, ip(100 + n as u8), now);
        }
        assert!(throttle.check_at(email, ip(1), None, now).is_err());
    }

    #[test]
    fn an_account_is_throttled_after_repeated_failures_and_cleared_by_success() {
        let throttle = LoginThrottle::default();
        for _ in 0..ACCOUNT_FAILURES {
            assert!(throttle.check("a@b.c", ip(1), None).is_ok());
            throttle.record_failure(LoginClient::Unknown, "A@b.c", ip(1));
        }
        let wait = throttle.check("a@b.c", ip(1), None).unwrap_err();
        assert!(wait <= WINDOW && wait > WINDOW - Duration::from_secs(5));
        // Another account from another address is not affected.
        assert!(throttle.check("other@b.c", ip(2), None).is_ok());
        throttle.record_success("a@b.c", None);
        assert!(throttle.check("a@b.c", ip(3), None).is_ok());
    }

    #[test]
    fn an_address_is_throttled_across_accounts() {
        let throttle = LoginThrottle::default();
        for n in 0..ADDRESS_FAILURES {
            let email = format!("user{n}@b.c");
            throttle.record_failure(LoginClient::Unknown, &email, ip(1));
        }
        assert!(throttle.check("fresh@b.c", ip(1), None).is_err());
        assert!(throttle.check("fresh@b.c", ip(2), None).is_ok());
    }

    #[test]
    fn a_trusted_device_is_let_in_while_its_account_and_address_are_locked() {
        let throttle = LoginThrottle::default();
        let now = Instant::now();
        lock_account(&throttle, "a@b.c", now);
        for n in 0..ADDRESS_FAILURES {
            throttle.record_failure_at(LoginClient::Unknown, &format!("{n}@b.c"), ip(1), now);
        }
        assert!(throttle.check_at("x@b.c", ip(1), None, now).is_err());
        assert_eq!(
            throttle.check_at("a@b.c", ip(1), Some(7), now),
            Ok(LoginClient::TrustedDevice(7))
        );
    }

    #[test]
    fn a_trusted_devices_failures_count_against_it_alone_then_it_is_unknown() {
        let throttle = LoginThrottle::default();
        let now = Instant::now();
        for _ in 0..DEVICE_FAILURES {
            let client = throttle.check_at("a@b.c", ip(1), Some(7), now).unwrap();
            assert_eq!(client, LoginClient::TrustedDevice(7));
            throttle.record_failure_at(client, "a@b.c", ip(1), now);
        }
        // Neither the account nor the address counted them.
        assert_eq!(
            throttle.check_at("a@b.c", ip(1), None, now),
            Ok(LoginClient::Unknown)
        );
        // Past its own limit the device is an unknown client: let in while the account is
        // not locked, refused once it is.
        assert_eq!(
            throttle.check_at("a@b.c", ip(1), Some(7), now),
            Ok(LoginClient::Unknown)
        );
        lock_account(&throttle, "a@b.c", now);
        assert!(throttle.check_at("a@b.c", ip(1), Some(7), now).is_err());
        // Another device of the account is still trusted.
        assert_eq!(
            throttle.check_at("a@b.c", ip(1), Some(8), now),
            Ok(LoginClient::TrustedDevice(8))
        );
        // The window passes: the device is trusted again.
        assert_eq!(
            throttle.check_at("a@b.c", ip(1), Some(7), now + WINDOW),
            Ok(LoginClient::TrustedDevice(7))
        );
    }

    #[test]
    fn a_success_clears_the_account_and_the_device_it_came_from() {
        let throttle = LoginThrottle::default();
        let now = Instant::now();
        for _ in 0..DEVICE_FAILURES {
            throttle.record_failure_at(LoginClient::TrustedDevice(7), "a@b.c", ip(1), now);
        }
        lock_account(&throttle, "a@b.c", now);
        throttle.record_success("a@b.c", Some(7));
        assert_eq!(
            throttle.check_at("a@b.c", ip(1), Some(7), now),
            Ok(LoginClient::TrustedDevice(7))
        );
        assert_eq!(
            throttle.check_at("a@b.c", ip(2), None, now),
            Ok(LoginClient::Unknown)
        );
    }

    #[test]
    fn memory_stays_bounded_under_a_spray_of_emails() {
        let throttle = LoginThrottle::default();
        let start = Instant::now();
        for n in 0..MAX_ENTRIES {
            throttle.record_failure_at(LoginClient::Unknown, &format!("{n}@b.c"), ip(1), start);
        }
        throttle.record_failure_at(LoginClient::TrustedDevice(7), "a@b.c", ip(1), start);
        assert!(throttle.failures.lock().unwrap().len() > MAX_ENTRIES);
        // Once the window has passed, the next failure sweeps every expired entry.
        throttle.record_failure_at(LoginClient::Unknown, "a@b.c", ip(2), start + WINDOW);
        assert_eq!(throttle.failures.lock().unwrap().len(), 2);
    }
}
