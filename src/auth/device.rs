//! Device cookies (OWASP's defence against online guessing): a browser that has logged
//! in to an account before may still try while the account is locked for unknown clients.
//! The cookie holds a random token; only its SHA-256 is stored (`db::devices`).

use axum::http::{HeaderMap, header::COOKIE};
use tower_sessions::cookie::{Cookie, SameSite, time};

/// How long a device cookie lasts, and how long a device stays trusted without a login.
pub const DEVICE_TRUST_DAYS: i64 = 365;

/// Devices kept per user: the least recently used go first.
pub const DEVICES_PER_USER: i64 = 20;

/// The device cookie's name: `__Host-` over https, as the session cookie's.
fn device_cookie_name(https: bool) -> &'static str {
    if https {
        "__Host-promptship_device"
    } else {
        "promptship_device"
    }
}

/// A new device token: two v4 UUIDs, 244 random bits, as hex.
pub fn new_device_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// The device token a request's cookies carry, if it looks like one of ours: anything
/// else is no cookie, and costs no query.
pub fn device_token(headers: &HeaderMap, https: bool) -> Option<String> {
    let name = device_cookie_name(https);
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == name)
        .map(|cookie| cookie.value().to_string())
        .filter(|token| token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The device cookie: a year long, kept at logout (it is not the session), HttpOnly, and
/// SameSite=Strict since only the login form, on this site, needs it; `Secure` with the
/// `__Host-` prefix over https.
pub fn device_cookie(token: String, https: bool) -> Cookie<'static> {
    Cookie::build((device_cookie_name(https), token))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(https)
        .path("/")
        .max_age(time::Duration::days(DEVICE_TRUST_DAYS))
        .build()
}
