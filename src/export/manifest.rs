//! What an export says about itself: `manifest.json` (what was asked, what was written,
//! what was skipped and why) and LLaMA-Factory's `dataset_info.json` entry.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Value, json};

use super::formats::Format;

/// `manifest.json`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Manifest {
    pub format: &'static str,
    pub filters: Filters,
    /// Examples (or pairs) written, in all files.
    pub examples: u64,
    /// Examples written to each file.
    pub files: BTreeMap<String, u64>,
    /// Written answers by class (an answer may be in several: `edited` and `upvoted`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub classes: BTreeMap<&'static str, u64>,
    /// Written pairs by what made them (`edited`, `corrected`, `preferred`, `rated`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub pairs: BTreeMap<&'static str, u64>,
    /// Written examples by app (`chat` for chats).
    pub apps: BTreeMap<String, u64>,
    /// The prompt versions (SHA-256 of the app file) each app's examples ran.
    pub prompt_versions: BTreeMap<String, BTreeSet<String>>,
    pub tokens: Tokens,
    /// Examples written with a warning, by the warning.
    pub warnings: BTreeMap<&'static str, u64>,
    /// Examples not written, by the reason.
    pub skipped: BTreeMap<&'static str, u64>,
    /// RFC 3339, UTC.
    pub created_at: String,
}

/// The filters an export was made with.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Filters {
    /// The answer classes taken; `None` for the preference formats, which take pairs
    /// whatever their review.
    pub status: Option<Vec<&'static str>>,
    pub app: Option<String>,
    pub since: Option<String>,
    pub data_policy: &'static str,
    /// The share of examples in `train.jsonl`; `None` without a validation file.
    pub split: Option<f64>,
}

/// Token counts of the written examples (o200k, as the budgets count).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Tokens {
    pub total: u64,
    /// The longest example.
    pub max: u64,
    /// The limit past which an example is written with a warning.
    pub limit: u64,
}

/// LLaMA-Factory's entry for the files: which columns hold what. The OpenAI and TRL
/// formats are read as sharegpt with OpenAI's `role`/`content` tags, as its data README
/// shows for OpenAI-style messages.
pub fn dataset_info(format: Format, files: &[&str]) -> Value {
    let openai_tags = json!({
        "role_tag": "role",
        "content_tag": "content",
        "user_tag": "user",
        "assistant_tag": "assistant",
        "system_tag": "system"
    });
    let entry = |file: &str| match format {
        Format::Alpaca => json!({
            "file_name": file,
            "columns": {
                "prompt": "instruction",
                "query": "input",
                "response": "output",
                "system": "system",
                "history": "history"
            }
        }),
        Format::Sharegpt => json!({
            "file_name": file,
            "formatting": "sharegpt",
            "columns": {"messages": "conversations", "system": "system"}
        }),
        Format::OpenaiSft | Format::TrlSft => json!({
            "file_name": file,
            "formatting": "sharegpt",
            "columns": {"messages": "messages"},
            "tags": openai_tags
        }),
        Format::TrlDpo => json!({
            "file_name": file,
            "formatting": "sharegpt",
            "ranking": true,
            "columns": {"messages": "prompt", "chosen": "chosen", "rejected": "rejected"},
            "tags": openai_tags
        }),
        Format::OpenaiDpo => json!({
            "file_name": file,
            "formatting": "sharegpt",
            "ranking": true,
            "columns": {
                "messages": "input",
                "chosen": "preferred_output",
                "rejected": "non_preferred_output"
            },
            "tags": openai_tags
        }),
    };
    let mut info = serde_json::Map::new();
    for file in files {
        let stem = file.trim_end_matches(".jsonl");
        info.insert(
            format!("promptship_{}_{stem}", format.as_str().replace('-', "_")),
            entry(file),
        );
    }
    Value::Object(info)
}

/// Unix milliseconds as RFC 3339 in UTC, to the second.
pub fn rfc3339(ms: i64) -> String {
    let time = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        time.year(),
        u8::from(time.month()),
        time.day(),
        time.hour(),
        time.minute(),
        time.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_in_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_796_385_600_123), "2026-12-04T12:00:00Z");
    }

    #[test]
    fn dataset_info_names_each_file_with_the_formats_columns() {
        let info = dataset_info(Format::Alpaca, &["train.jsonl", "validation.jsonl"]);
        assert_eq!(
            info["promptship_alpaca_validation"]["file_name"],
            "validation.jsonl"
        );
        assert_eq!(
            info["promptship_alpaca_train"]["columns"]["history"],
            "history"
        );
        let info = dataset_info(Format::OpenaiSft, &["train.jsonl"]);
        let entry = &info["promptship_openai_sft_train"];
        assert_eq!(entry["formatting"], "sharegpt");
        assert_eq!(entry["columns"]["messages"], "messages");
        assert_eq!(entry["tags"]["role_tag"], "role");
    }
}
