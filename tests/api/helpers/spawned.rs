//! Helpers for tests that run the real binary as a child process. Only `std`, reqwest and
//! tokio in here: `tests/soak.rs`, a test crate of its own, includes this file by path.

use std::time::{Duration, Instant};

/// Every per-address rate and every budget, set far out of the way: these servers take
/// thousands of requests from 127.0.0.1 and must measure the server, not its limits.
/// (Variables the server does not know yet are ignored.)
pub const UNLIMITED: [(&str, &str); 11] = [
    ("MESSAGE_RATE_PER_MINUTE", "1000000"),
    ("AUTH_RATE_PER_MINUTE", "1000000"),
    ("SIGNUPS_PER_HOUR", "1000000"),
    ("WRITE_RATE_PER_MINUTE", "1000000"),
    ("GUESTS_PER_HOUR", "1000000"),
    ("GUEST_MAX_CONVERSATIONS", "1000000"),
    ("GUEST_DAILY_MESSAGES", "1000000000"),
    ("GUEST_DAILY_TOKENS", "1000000000000"),
    ("USER_DAILY_TOKENS", "1000000000000"),
    ("GLOBAL_DAILY_TOKENS", "1000000000000"),
    ("GLOBAL_DAILY_USD", "1000000"),
];

/// A loopback port nothing listens on (for a moment: the server binds it next).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits (at most 10 s) for a server started by a test to answer.
pub async fn wait_until_up(client: &reqwest::Client, base: &str) {
    let started = Instant::now();
    while client.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the server did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `ps_<prefix>_<secret>` (src/auth/api_key.rs), found in the keys page.
pub fn find_key(page: &str) -> Option<String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_';
    page.match_indices("ps_").find_map(|(start, _)| {
        let key: String = page[start..].chars().take_while(|&c| allowed(c)).collect();
        // "ps_" alone may appear elsewhere in the page; a key has both parts.
        let parts = key.splitn(3, '_').filter(|p| !p.is_empty()).count();
        (parts == 3 && key.len() > 20).then_some(key)
    })
}
