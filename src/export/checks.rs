//! The checks every example passes before it is written: OpenAI's fine-tuning data
//! checks (the cookbook "Data preparation and analysis for chat model fine-tuning"), the
//! token count, and exact duplicates.

use std::collections::HashSet;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::budget::{TOKENS_PER_MESSAGE, count_tokens};

/// The cookbook's per-example limit: OpenAI truncates longer examples in training.
pub const TOKEN_LIMIT: usize = 16_385;

/// The keys the cookbook knows in a message.
const MESSAGE_KEYS: [&str; 5] = ["role", "content", "name", "function_call", "weight"];
/// The roles the cookbook knows.
const ROLES: [&str; 4] = ["system", "user", "assistant", "function"];

/// The cookbook's format checks on one example in OpenAI's chat form
/// (`{"messages": [...]}`): the first problem found, by the cookbook's name for it.
pub fn check_chat(example: &Value) -> Result<(), &'static str> {
    let Value::Object(example) = example else {
        return Err("data_type");
    };
    let messages = match example.get("messages") {
        Some(Value::Array(messages)) if !messages.is_empty() => messages,
        _ => return Err("missing_messages_list"),
    };
    for message in messages {
        let Value::Object(message) = message else {
            return Err("data_type");
        };
        if !message.contains_key("role") || !message.contains_key("content") {
            return Err("message_missing_key");
        }
        if message.keys().any(|k| !MESSAGE_KEYS.contains(&k.as_str())) {
            return Err("message_unrecognized_key");
        }
        if !message
            .get("role")
            .and_then(Value::as_str)
            .is_some_and(|role| ROLES.contains(&role))
        {
            return Err("unrecognized_role");
        }
        // The cookbook allows empty content beside a function call; an answer here has
        // none, and blank text teaches nothing either.
        let has_call = message
            .get("function_call")
            .is_some_and(|call| !call.is_null());
        match message.get("content") {
            Some(Value::String(text)) if !text.trim().is_empty() => {}
            _ if has_call => {}
            _ => return Err("missing_content"),
        }
    }
    if !messages
        .iter()
        .any(|m| m.get("role").and_then(Value::as_str) == Some("assistant"))
    {
        return Err("example_missing_assistant_message");
    }
    Ok(())
}

/// The tokens of an example in chat form, counted as the budgets count a prompt.
pub fn count_example_tokens(example: &Value) -> usize {
    example["messages"]
        .as_array()
        .map(|messages| {
            messages
                .iter()
                .map(|m| {
                    count_tokens(m["content"].as_str().unwrap_or_default()) + TOKENS_PER_MESSAGE
                })
                .sum()
        })
        .unwrap_or(0)
}

/// 16 bytes of an example's SHA-256: what the duplicate set holds, and what decides
/// which file it goes to.
pub fn fingerprint(line: &str) -> [u8; 16] {
    let digest = Sha256::digest(line.as_bytes());
    let mut bytes = [0; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes
}

/// The examples written so far, by fingerprint.
#[derive(Default)]
pub struct Seen(HashSet<[u8; 16]>);

impl Seen {
    /// Whether the example is new (and remembers it).
    pub fn insert(&mut self, fingerprint: [u8; 16]) -> bool {
        self.0.insert(fingerprint)
    }
}

/// Whether an example goes to the training file with a split of `train` (0..1): the
/// same example always lands on the same side, whatever else is exported.
pub fn goes_to_train(fingerprint: &[u8; 16], train: f64) -> bool {
    let mut first = [0; 8];
    first.copy_from_slice(&fingerprint[..8]);
    (u64::from_be_bytes(first) as f64 / u64::MAX as f64) < train
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn good() -> Value {
        json!({"messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello!", "weight": 0},
        ]})
    }

    #[test]
    fn a_well_formed_example_passes() {
        assert_eq!(check_chat(&good()), Ok(()));
    }

    #[test]
    fn each_cookbook_rule_names_its_failure() {
        let cases = [
            (json!(["not", "an", "object"]), "data_type"),
            (json!({"messages": []}), "missing_messages_list"),
            (json!({"prompt": "x"}), "missing_messages_list"),
            (
                json!({"messages": [{"role": "user"}]}),
                "message_missing_key",
            ),
            (
                json!({"messages": [{"role": "user", "content": "x", "extra": 1}]}),
                "message_unrecognized_key",
            ),
            (
                json!({"messages": [{"role": "robot", "content": "x"}]}),
                "unrecognized_role",
            ),
            (
                json!({"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": ""}]}),
                "missing_content",
            ),
            (
                json!({"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": " \n"}]}),
                "missing_content",
            ),
            (
                json!({"messages": [{"role": "user", "content": 5}, {"role": "assistant", "content": "y"}]}),
                "missing_content",
            ),
            (
                json!({"messages": [{"role": "user", "content": "only a question"}]}),
                "example_missing_assistant_message",
            ),
        ];
        for (example, problem) in cases {
            assert_eq!(check_chat(&example), Err(problem), "{example}");
        }
    }

    #[test]
    fn tokens_count_every_message_and_its_overhead() {
        let tokens = count_example_tokens(&good());
        assert!(tokens >= 3 * TOKENS_PER_MESSAGE + 3, "{tokens}");
        assert_eq!(count_example_tokens(&json!({})), 0);
    }

    #[test]
    fn the_split_is_decided_by_the_example_alone() {
        let lines: Vec<String> = (0..1000).map(|i| format!("example {i}")).collect();
        let train = lines
            .iter()
            .filter(|l| goes_to_train(&fingerprint(l), 0.9))
            .count();
        assert!((850..=950).contains(&train), "{train} of 1000 in train");
        for line in &lines {
            let side = goes_to_train(&fingerprint(line), 0.9);
            assert_eq!(goes_to_train(&fingerprint(line), 0.9), side);
        }
        let mut seen = Seen::default();
        assert!(seen.insert(fingerprint("a")));
        assert!(!seen.insert(fingerprint("a")));
    }
}
