//! The byte scanner of the `/v1` relay: what an upstream event says that the relay needs
//! (usage, content or tool calls, a finish reason, where its `model` is), found without
//! decoding it, and the event written on with the model renamed.

use std::sync::LazyLock;

use bytes::BytesMut;
use memchr::memmem::Finder;
use serde_json::Value;

/// What an event says that the relay needs. (Inside a JSON string a `"` is escaped, so
/// `"key":` can only match a key itself.)
pub(super) struct Keys {
    /// `usage` is there and not `null`.
    pub(super) usage: bool,
    /// Some `content` is a non-empty string, not `null` or `""`.
    pub(super) content: bool,
    /// Some `tool_calls` is a list: a piece of a call of the client's tools.
    pub(super) tool_calls: bool,
    /// Some `finish_reason` is a string.
    pub(super) finish_reason: bool,
    /// Where the first `model`'s value starts.
    pub(super) model: Option<usize>,
}

impl Keys {
    pub(super) fn find(data: &[u8]) -> Self {
        Self {
            usage: values(data, &USAGE).any(|value| !value.starts_with(b"null")),
            content: values(data, &CONTENT)
                .any(|value| value.starts_with(b"\"") && !value.starts_with(b"\"\"")),
            tool_calls: values(data, &TOOL_CALLS).any(|value| value.starts_with(b"[")),
            finish_reason: values(data, &FINISH_REASON).any(|value| value.starts_with(b"\"")),
            model: values(data, &MODEL)
                .next()
                .map(|value| data.len() - value.len()),
        }
    }
}

// The keys an event is searched for, each compiled once. A SIMD search per key costs
// less than one pass for all of them, whether by byte, by `memchr` from colon to colon
// (about one every 15 bytes) or by aho-corasick: all measured with callgrind.
static USAGE: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"usage\""));
static CONTENT: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"content\""));
static TOOL_CALLS: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"tool_calls\""));
static FINISH_REASON: LazyLock<Finder<'static>> =
    LazyLock::new(|| Finder::new(b"\"finish_reason\""));
static MODEL: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"model\""));

/// The values of `key` in `data`, each from its first byte to the end of `data`. (A
/// string followed by a colon is a key.) `Finder::find` from where the last one ended:
/// its `find_iter` copies the whole searcher each time.
fn values<'a>(data: &'a [u8], key: &'a Finder<'_>) -> impl Iterator<Item = &'a [u8]> {
    let mut from = 0;
    std::iter::from_fn(move || {
        loop {
            from += key.find(&data[from..])? + key.needle().len();
            if let Some(value) = data[from..].trim_ascii_start().strip_prefix(b":") {
                return Some(value.trim_ascii_start());
            }
        }
    })
}

/// Writes `data` with its `model` (whose value starts at `model`) reported as the name
/// the client asked for (`exposed`, as a JSON string): a byte replacement when the
/// value is a string, else decoded and encoded again. An event without a `model` key is
/// passed on as it is, not decoded to look for one.
pub(super) fn rename_model(data: &[u8], model: Option<usize>, exposed: &str, out: &mut BytesMut) {
    let Some(value) = model else {
        out.extend_from_slice(data);
        return;
    };
    if let Some(end) = string_end(data, value) {
        out.extend_from_slice(&data[..value]);
        out.extend_from_slice(exposed.as_bytes());
        out.extend_from_slice(&data[end..]);
        return;
    }
    match serde_json::from_slice::<Value>(data) {
        Ok(mut value) => {
            value["model"] = serde_json::from_str(exposed).unwrap_or_default();
            out.extend_from_slice(value.to_string().as_bytes());
        }
        Err(_) => out.extend_from_slice(data),
    }
}

/// The index just past the JSON string starting at `start`, if one starts there.
fn string_end(data: &[u8], start: usize) -> Option<usize> {
    if data.get(start) != Some(&b'"') {
        return None;
    }
    let mut escaped = false;
    for (i, &byte) in data.iter().enumerate().skip(start + 1) {
        match byte {
            _ if escaped => escaped = false,
            b'\\' => escaped = true,
            b'"' => return Some(i + 1),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn renamed(data: &str) -> String {
        let mut out = BytesMut::new();
        let model = Keys::find(data.as_bytes()).model;
        rename_model(data.as_bytes(), model, "\"house-model\"", &mut out);
        String::from_utf8(out.to_vec()).unwrap()
    }

    #[test]
    fn the_model_is_reported_under_the_name_the_client_asked_for() {
        assert_eq!(
            renamed(r#"{"id":"c","model":"gpt-4o-mini-2024-07-18","choices":[]}"#),
            r#"{"id":"c","model":"house-model","choices":[]}"#
        );
        assert_eq!(
            renamed(
                r#"{"model": "odd \" name","choices":[{"delta":{"content":"\"model\":\"x\""}}]}"#
            ),
            r#"{"model": "house-model","choices":[{"delta":{"content":"\"model\":\"x\""}}]}"#
        );
        let spaced: Value = serde_json::from_str(&renamed(r#"{"model" : "m", "n": 1}"#)).unwrap();
        assert_eq!(spaced, json!({ "model": "house-model", "n": 1 }));
        assert_eq!(renamed(r#"{"n":1}"#), r#"{"n":1}"#);
    }

    #[test]
    fn content_finish_reasons_and_usage_are_seen_only_when_set() {
        let keys = |data: &str| Keys::find(data.as_bytes());
        assert!(keys(r#"{"delta":{"content":"hi"}}"#).content);
        assert!(!keys(r#"{"delta":{"role":"assistant","content":""}}"#).content);
        assert!(!keys(r#"{"delta":{"content":null}}"#).content);
        assert!(!keys(r#"{"delta":{"content":""},"x":"\"content\":\"y\""}"#).content);
        let call = r#"{"delta":{"content":null,"tool_calls":[{"index":0,"function":{"arguments":"{\"content\":\"x\"}"}}]}}"#;
        assert!(keys(call).tool_calls && !keys(call).content);
        assert!(!keys(r#"{"delta":{"content":"hi","tool_calls":null}}"#).tool_calls);
        assert!(keys(r#"{"delta":{"content":"a"},"finish_reason" : "stop"}"#).finish_reason);
        assert!(!keys(r#"{"finish_reason":null}"#).finish_reason);
        assert!(keys(r#"{"choices":[],"usage":{"prompt_tokens":1}}"#).usage);
        assert!(!keys(r#"{"choices":[],"usage":null}"#).usage);
        assert!(!keys(r#"{"delta":{"content":"\"usage\":{}"}}"#).usage);
        assert!(!keys(r#"{"note":"usage","x":1}"#).usage);
    }
}
