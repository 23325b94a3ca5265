//! The words the layers share: who owns rows, a message's role and status, a ledger
//! entry's status, and the clock. A leaf: it imports nothing from the crate, so storage
//! (`db`), the model client (`llm`) and identity (`auth`) can all use it without
//! importing each other.

use serde::{Deserialize, Serialize};

/// Who owns a conversation and its messages: a user, or a guest's session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Owner {
    User(i64),
    Guest(String),
}

impl Owner {
    pub fn user_id(&self) -> Option<i64> {
        match self {
            Owner::User(id) => Some(*id),
            Owner::Guest(_) => None,
        }
    }

    pub fn guest_id(&self) -> Option<&str> {
        match self {
            Owner::User(_) => None,
            Owner::Guest(id) => Some(id),
        }
    }
}

/// Who wrote a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, sqlx::Type, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[sqlx(rename_all = "lowercase")]
pub enum Role {
    /// A prompt app's instructions, kept with the run that used them.
    System,
    User,
    Assistant,
}

/// Where an answer stands. A user message is always `complete`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, sqlx::Type, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[sqlx(rename_all = "snake_case")]
pub enum MessageStatus {
    /// The model finished its answer.
    Complete,
    /// The answer is being written right now.
    Streaming,
    /// The answer was cut off (stopped, the browser left, the stream broke or stalled,
    /// the server restarted); `content` holds what had arrived.
    Interrupted,
    /// The model server refused or failed before or while answering.
    Failed,
    /// A structured answer that does not follow its app's output schema: kept, never
    /// shown as a result.
    InvalidOutput,
}

impl MessageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageStatus::Complete => "complete",
            MessageStatus::Streaming => "streaming",
            MessageStatus::Interrupted => "interrupted",
            MessageStatus::Failed => "failed",
            MessageStatus::InvalidOutput => "invalid_output",
        }
    }
}

/// Where a ledger entry stands: reserved before its model call, then settled with how
/// the call ended. Stored as the lowercase name (the `usage.status` column).
#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::Type)]
#[sqlx(rename_all = "lowercase")]
pub enum EntryStatus {
    /// The call is running: the entry holds the most it may use.
    Reserved,
    /// The call ended with the model's whole answer.
    Complete,
    /// The call was cut off (the client left, stopped, or the server shut down).
    Interrupted,
    /// The model server refused or failed.
    Failed,
}

impl From<MessageStatus> for EntryStatus {
    /// How an answer ended, as its call is settled. An answer is never saved as
    /// `streaming`; were it, its call did not finish.
    fn from(status: MessageStatus) -> Self {
        match status {
            // The model answered in full (and was paid for) even when the answer broke
            // its schema.
            MessageStatus::Complete | MessageStatus::InvalidOutput => EntryStatus::Complete,
            MessageStatus::Streaming | MessageStatus::Interrupted => EntryStatus::Interrupted,
            MessageStatus::Failed => EntryStatus::Failed,
        }
    }
}

/// Why an answer is good or bad: the closed list a visitor picks from when judging an
/// answer, and a reviewer when rejecting one. Stored by name (`wrong_facts`); pages word
/// it in the reader's language by that name (`feedback-tag` in `locales/*/feedback.ftl`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FeedbackTag {
    Accurate,
    Helpful,
    WrongFacts,
    /// It refused when it should have answered.
    NeedlessRefusal,
    TooLong,
    Unsafe,
    Formatting,
}

impl FeedbackTag {
    pub const ALL: [FeedbackTag; 7] = [
        FeedbackTag::Accurate,
        FeedbackTag::Helpful,
        FeedbackTag::WrongFacts,
        FeedbackTag::NeedlessRefusal,
        FeedbackTag::TooLong,
        FeedbackTag::Unsafe,
        FeedbackTag::Formatting,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FeedbackTag::Accurate => "accurate",
            FeedbackTag::Helpful => "helpful",
            FeedbackTag::WrongFacts => "wrong_facts",
            FeedbackTag::NeedlessRefusal => "needless_refusal",
            FeedbackTag::TooLong => "too_long",
            FeedbackTag::Unsafe => "unsafe",
            FeedbackTag::Formatting => "formatting",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|tag| tag.as_str() == name)
    }
}

/// Where an answer's review stands: `pending` until a reviewer accepts it, edits it (the
/// edit is the ideal answer) or rejects it (with a [`FeedbackTag`] as the reason).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
#[sqlx(rename_all = "lowercase")]
pub enum ReviewState {
    Pending,
    Accepted,
    Edited,
    Rejected,
}

impl ReviewState {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewState::Pending => "pending",
            ReviewState::Accepted => "accepted",
            ReviewState::Edited => "edited",
            ReviewState::Rejected => "rejected",
        }
    }
}

/// Whose conversations may leave the service as training data (`data_policy` in the site
/// file). Opted-out users and deleted conversations never do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DataPolicy {
    /// Nothing is exported: the shipped setting, until the operator decides.
    #[default]
    Off,
    /// Signed-in users' conversations (and the operator's dataset batches).
    Accounts,
    /// Guests' conversations too.
    All,
}

/// Whether `text` has a control character other than a tab or a line break: nothing a
/// person types, and nothing a page should carry (messages, app inputs, titles, names).
pub fn has_control_characters(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

/// How many characters a person typed: Unicode characters (never bytes, so Korean counts
/// as it reads), with a CRLF line break counted as one. Browsers count a line break in a
/// text box as one character for `maxlength` and send it as CRLF, so a form at the page's
/// limit is at the server's too. The text itself is kept as sent.
pub fn typed_chars(text: &str) -> usize {
    text.chars().count() - text.matches("\r\n").count()
}

/// 00:00 UTC of a `YYYY-MM-DD` day, in Unix milliseconds: the day filters of the review
/// queue and of exports. `None` for anything else (`2026-2-1`, `2026-02-30`).
pub fn day_start_ms(text: &str) -> Option<i64> {
    let mut parts = text.splitn(3, '-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    if year.len() != 4 || month.len() != 2 || day.len() != 2 {
        return None;
    }
    let month = time::Month::try_from(month.parse::<u8>().ok()?).ok()?;
    let date = time::Date::from_calendar_date(year.parse().ok()?, month, day.parse().ok()?).ok()?;
    Some(date.midnight().assume_utc().unix_timestamp() * 1000)
}

/// Milliseconds since the Unix epoch: the unit of every time column.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_characters_count_korean_by_characters_and_crlf_as_one() {
        assert_eq!(typed_chars("한국어"), 3, "nine bytes, three characters");
        assert_eq!(
            typed_chars("가\r\n나\n다\r라"),
            7,
            "CRLF is one, lone CR and LF one each"
        );
        assert_eq!(typed_chars("🦀"), 1);
        assert_eq!(typed_chars(""), 0);
    }

    #[test]
    fn a_day_starts_at_midnight_utc_and_only_real_days_parse() {
        assert_eq!(day_start_ms("1970-01-02"), Some(86_400_000));
        assert_eq!(day_start_ms("2026-12-04"), Some(1_796_342_400_000));
        for bad in [
            "2026-2-01",
            "2026-02-30",
            "2026-13-01",
            "yesterday",
            "2026-02-01x",
            "",
        ] {
            assert_eq!(day_start_ms(bad), None, "{bad}");
        }
    }
}
