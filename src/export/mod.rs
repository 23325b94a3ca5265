//! Exports for tuning a small model: reviewed, corrected and preferred answers as the
//! JSON lines fine-tuning tools read, streamed page by page in bounded memory.
//!
//! An [`Exporter`] reads the eligible answers in keyset pages (`db::export`), makes each
//! an example (its conversation up to the question, then its ideal answer) or, for the
//! preference formats, pairs of sibling answers, runs the checks (`checks`), drops exact
//! duplicates and hands out lines; `writer` puts them in files or a download.

pub mod checks;
pub mod formats;
pub mod manifest;
pub mod writer;

use sqlx::SqlitePool;

use crate::{
    config::Site,
    db::{
        Message,
        export::{ExportRow, PageFilter, list_export_page},
        messages::thread,
    },
    domain::{DataPolicy, MessageStatus, ReviewState, Role, day_start_ms, now_ms},
    error::AppError,
    i18n::{Arg, Text},
};
use checks::{Seen, TOKEN_LIMIT, check_chat, count_example_tokens, fingerprint};
use formats::{Example, Format, Pair, Turn, chat_form, pair_line, sft_line};
use manifest::{Filters, Manifest, Tokens};

/// Answers read per page: a page's conversations are held in memory at once.
const PAGE_ANSWERS: i64 = 256;

/// What an answer is, for choosing which to export (`--status`). An answer may be in
/// several classes (reviewed `accepted` and `upvoted` by its owner).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    Accepted,
    Edited,
    Rejected,
    /// Its owner wrote a better answer.
    Corrected,
    Upvoted,
    Downvoted,
    /// No review decision yet.
    Pending,
}

impl Class {
    pub const ALL: [Class; 7] = [
        Class::Accepted,
        Class::Edited,
        Class::Rejected,
        Class::Corrected,
        Class::Upvoted,
        Class::Downvoted,
        Class::Pending,
    ];

    /// What an export takes unless told otherwise.
    pub const DEFAULT: [Class; 3] = [Class::Accepted, Class::Edited, Class::Corrected];

    pub fn as_str(self) -> &'static str {
        match self {
            Class::Accepted => "accepted",
            Class::Edited => "edited",
            Class::Rejected => "rejected",
            Class::Corrected => "corrected",
            Class::Upvoted => "upvoted",
            Class::Downvoted => "downvoted",
            Class::Pending => "pending",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// The classes of an answer.
    fn of(row: &ExportRow) -> Vec<Class> {
        let mut classes = Vec::new();
        match row.review {
            Some(ReviewState::Accepted) => classes.push(Class::Accepted),
            Some(ReviewState::Edited) => classes.push(Class::Edited),
            Some(ReviewState::Rejected) => classes.push(Class::Rejected),
            Some(ReviewState::Pending) | None => classes.push(Class::Pending),
        }
        if correction(row).is_some() {
            classes.push(Class::Corrected);
        }
        match row.rating {
            Some(1) => classes.push(Class::Upvoted),
            Some(-1) => classes.push(Class::Downvoted),
            _ => {}
        }
        classes
    }
}

/// What to export: checked from the command line or the admin form alike.
#[derive(Clone, Debug)]
pub struct Options {
    pub format: Format,
    /// The answer classes taken (the SFT formats).
    pub classes: Vec<Class>,
    /// `chat`, or an app's name.
    pub app: Option<String>,
    /// `YYYY-MM-DD` (UTC): answers written on or after that day.
    pub since: Option<String>,
    /// The share of examples in `train.jsonl`, the rest in `validation.jsonl`.
    pub split: Option<f64>,
}

impl Options {
    /// Checks each setting, saying what to fix in a refusal. An empty `status` or `app`
    /// is the same as none.
    pub fn parse(
        format: &str,
        status: Option<&str>,
        app: Option<&str>,
        since: Option<&str>,
        split: Option<f64>,
    ) -> Result<Self, AppError> {
        let names = |all: &[&str]| all.join(", ");
        let format = Format::parse(format.trim()).ok_or_else(|| {
            AppError::Invalid(
                Text::new("export-unknown-format")
                    .arg("format", format!("{format:?}"))
                    .arg("formats", names(&Format::ALL.map(Format::as_str))),
            )
        })?;
        let status = status.map(str::trim).filter(|s| !s.is_empty());
        let classes = match status {
            None => Class::DEFAULT.to_vec(),
            Some(_) if format.is_pairs() => {
                return Err(AppError::Invalid(
                    Text::new("export-status-pairs").arg("format", format.as_str()),
                ));
            }
            Some(list) => {
                let mut classes = Vec::new();
                for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                    let class = Class::parse(name).ok_or_else(|| {
                        AppError::Invalid(
                            Text::new("export-unknown-status")
                                .arg("status", format!("{name:?}"))
                                .arg("statuses", names(&Class::ALL.map(Class::as_str))),
                        )
                    })?;
                    if !classes.contains(&class) {
                        classes.push(class);
                    }
                }
                classes
            }
        };
        let since = match since.map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(text) => {
                day_start_ms(text).ok_or_else(|| {
                    AppError::Invalid(Text::new("export-bad-date").arg("date", format!("{text:?}")))
                })?;
                Some(text.to_string())
            }
        };
        if let Some(split) = split
            && !(split > 0.0 && split < 1.0)
        {
            return Err(AppError::Invalid(
                Text::new("export-bad-split").arg("split", split.to_string()),
            ));
        }
        Ok(Self {
            format,
            classes,
            app: app
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(str::to_string),
            since,
            split,
        })
    }

    fn since_ms(&self) -> i64 {
        self.since.as_deref().and_then(day_start_ms).unwrap_or(0)
    }
}

/// One line of the export and its fingerprint (which decides its file).
pub struct Line {
    pub text: String,
    pub fingerprint: [u8; 16],
}

/// An example or pair made from a page, before its checks.
struct Made {
    /// The answer it is ordered by.
    answer_id: i64,
    /// The example in OpenAI's chat form, for the checks (a pair has two).
    chat: Vec<serde_json::Value>,
    /// The line in the export's format, or why the format cannot hold it.
    line: Result<serde_json::Value, &'static str>,
    app: String,
    app_version: Option<String>,
    /// SFT: the answer's classes; a pair: what made it.
    classes: Vec<&'static str>,
}

/// Reads eligible answers page by page and hands out checked, de-duplicated lines.
pub struct Exporter {
    db: SqlitePool,
    options: Options,
    policy: DataPolicy,
    /// The site's system prompt: a chat's examples start with it, as its calls did.
    system_prompt: String,
    after: i64,
    finished: bool,
    seen: Seen,
    pub manifest: Manifest,
}

impl Exporter {
    /// Refuses when the site's data policy is `off`.
    pub fn new(db: SqlitePool, site: &Site, options: Options) -> Result<Self, AppError> {
        if site.data_policy == DataPolicy::Off {
            return Err(AppError::Conflict(Text::new("export-policy-off")));
        }
        let manifest = Manifest {
            format: options.format.as_str(),
            filters: Filters {
                status: (!options.format.is_pairs())
                    .then(|| options.classes.iter().map(|c| c.as_str()).collect()),
                app: options.app.clone(),
                since: options.since.clone(),
                data_policy: match site.data_policy {
                    DataPolicy::Off => "off",
                    DataPolicy::Accounts => "accounts",
                    DataPolicy::All => "all",
                },
                split: options.split,
            },
            tokens: Tokens {
                limit: TOKEN_LIMIT as u64,
                ..Tokens::default()
            },
            created_at: manifest::rfc3339(now_ms()),
            ..Manifest::default()
        };
        Ok(Self {
            db,
            policy: site.data_policy,
            system_prompt: site.system_prompt.clone(),
            options,
            after: 0,
            finished: false,
            seen: Seen::default(),
            manifest,
        })
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The lines up to the first one, or a refusal saying nothing matches: called before
    /// any file is made or any byte sent, so an empty export writes nothing.
    pub async fn first_lines(&mut self) -> Result<Vec<Line>, AppError> {
        while let Some(lines) = self.next_lines().await? {
            if !lines.is_empty() {
                return Ok(lines);
            }
        }
        let skipped: u64 = self.manifest.skipped.values().sum();
        let filters = &self.manifest.filters;
        let given = |value: Option<String>, any: Text| value.map_or(Arg::Text(any), Arg::Str);
        Err(AppError::Invalid(
            Text::new("export-nothing")
                .arg("format", self.options.format.as_str())
                .arg(
                    "status",
                    given(
                        filters.status.as_ref().map(|s| s.join(",")),
                        Text::new("export-any"),
                    ),
                )
                .arg("app", given(filters.app.clone(), Text::new("export-any")))
                .arg(
                    "since",
                    given(filters.since.clone(), Text::new("export-any-day")),
                )
                .arg("skipped", skipped),
        ))
    }

    /// The next page's lines (possibly none, when all were filtered out or skipped), or
    /// `None` at the end.
    pub async fn next_lines(&mut self) -> Result<Option<Vec<Line>>, AppError> {
        if self.finished {
            return Ok(None);
        }
        let filter = PageFilter {
            policy: self.policy,
            app: self.options.app.as_deref(),
            since: self.options.since_ms(),
        };
        let rows = list_export_page(&self.db, &filter, self.after, PAGE_ANSWERS).await?;
        let Some(last) = rows.iter().filter(|r| r.in_page).map(|r| r.id).max() else {
            self.finished = true;
            return Ok(None);
        };
        self.after = last;
        let mut made = Vec::new();
        for conversation in rows.chunk_by(|a, b| a.conversation_id == b.conversation_id) {
            let messages: Vec<Message> = conversation.iter().map(message).collect();
            for answer in conversation.iter().filter(|r| r.in_page) {
                if self.options.format.is_pairs() {
                    self.make_pairs(conversation, &messages, answer, &mut made);
                } else {
                    self.make_example(conversation, &messages, answer, &mut made);
                }
            }
        }
        // Pages hold whole conversations: put the answers back in id order.
        made.sort_by_key(|m| m.answer_id);
        Ok(Some(
            made.into_iter().filter_map(|m| self.check(m)).collect(),
        ))
    }

    fn make_example(
        &mut self,
        conversation: &[ExportRow],
        messages: &[Message],
        answer: &ExportRow,
        made: &mut Vec<Made>,
    ) {
        let classes = Class::of(answer);
        if !classes.iter().any(|c| self.options.classes.contains(c)) {
            return;
        }
        let Some(prompt) = self.prompt(conversation, messages, answer) else {
            self.skip("no_question");
            return;
        };
        let example = Example {
            answer: ideal(answer).to_string(),
            prompt,
        };
        made.push(Made {
            answer_id: answer.id,
            chat: vec![chat_form(&example.prompt, &example.answer)],
            line: sft_line(self.options.format, &example),
            app: app_name(answer),
            app_version: answer.app_version.clone(),
            classes: classes.iter().map(|c| c.as_str()).collect(),
        });
    }

    /// A question's pairs, made once: at its newest exportable answer.
    fn make_pairs(
        &mut self,
        conversation: &[ExportRow],
        messages: &[Message],
        answer: &ExportRow,
        made: &mut Vec<Made>,
    ) {
        let since = self.options.since_ms();
        let siblings: Vec<&ExportRow> = conversation
            .iter()
            .filter(|r| {
                r.role == Role::Assistant
                    && r.reply_to.is_some()
                    && r.reply_to == answer.reply_to
                    && r.status == MessageStatus::Complete
                    && r.created_at >= since
            })
            .collect();
        if siblings.iter().map(|s| s.id).max() != Some(answer.id) {
            return;
        }
        let mut pairs: Vec<(&str, &str, &'static str)> = Vec::new();
        for sibling in &siblings {
            if sibling.review == Some(ReviewState::Edited)
                && let Some(edit) = &sibling.review_content
            {
                pairs.push((edit, &sibling.content, "edited"));
            }
            if let Some(correction) = correction(sibling) {
                pairs.push((correction, &sibling.content, "corrected"));
            }
        }
        if let Some(preferred) = siblings.iter().find(|s| s.preferred) {
            for other in siblings.iter().filter(|s| s.id != preferred.id) {
                pairs.push((ideal(preferred), &other.content, "preferred"));
            }
        }
        let good = |s: &&&ExportRow| {
            matches!(s.review, Some(ReviewState::Accepted | ReviewState::Edited))
                || s.rating == Some(1)
        };
        let bad = |s: &&&ExportRow| s.review == Some(ReviewState::Rejected) || s.rating == Some(-1);
        for winner in siblings.iter().filter(good) {
            for loser in siblings.iter().filter(bad).filter(|l| l.id != winner.id) {
                pairs.push((ideal(winner), &loser.content, "rated"));
            }
        }
        if pairs.is_empty() {
            return;
        }
        let Some(prompt) = self.prompt(conversation, messages, answer) else {
            self.skip("no_question");
            return;
        };
        for (chosen, rejected, why) in pairs {
            if chosen == rejected {
                self.skip("identical_pair");
                continue;
            }
            let pair = Pair {
                prompt: prompt.clone(),
                chosen: chosen.to_string(),
                rejected: rejected.to_string(),
            };
            made.push(Made {
                answer_id: answer.id,
                chat: vec![
                    chat_form(&pair.prompt, &pair.chosen),
                    chat_form(&pair.prompt, &pair.rejected),
                ],
                line: Ok(pair_line(self.options.format, &pair)),
                app: app_name(answer),
                app_version: answer.app_version.clone(),
                classes: vec![why],
            });
        }
    }

    /// The conversation as it went on up to the answer's question: system rows of an app
    /// run kept, otherwise the site's system prompt first; earlier answers as chosen
    /// (`db::messages::thread`), and only what was sent to the model (complete or
    /// interrupted, with text), as a turn sends it.
    fn prompt(
        &self,
        conversation: &[ExportRow],
        messages: &[Message],
        answer: &ExportRow,
    ) -> Option<Vec<Turn>> {
        let question = answer.reply_to?;
        if !conversation
            .iter()
            .any(|r| r.id == question && r.role == Role::User)
        {
            return None;
        }
        let mut turns: Vec<Turn> = thread(messages)
            .into_iter()
            .filter(|m| {
                m.id <= question
                    && matches!(
                        m.status,
                        MessageStatus::Complete | MessageStatus::Interrupted
                    )
                    && !m.content.is_empty()
            })
            .map(|m| Turn::new(m.role, m.content.clone()))
            .collect();
        if !turns.iter().any(|t| t.role == Role::System) && !self.system_prompt.is_empty() {
            turns.insert(0, Turn::new(Role::System, self.system_prompt.clone()));
        }
        Some(turns)
    }

    /// Runs the checks on a made example; counts it in the manifest, written or skipped.
    fn check(&mut self, made: Made) -> Option<Line> {
        for chat in &made.chat {
            if let Err(problem) = check_chat(chat) {
                self.skip(problem);
                return None;
            }
        }
        let value = match made.line {
            Ok(value) => value,
            Err(problem) => {
                self.skip(problem);
                return None;
            }
        };
        let text = value.to_string();
        let fingerprint = fingerprint(&text);
        if !self.seen.insert(fingerprint) {
            self.skip("duplicate");
            return None;
        }
        let tokens = made
            .chat
            .iter()
            .map(count_example_tokens)
            .max()
            .unwrap_or(0) as u64;
        let manifest = &mut self.manifest;
        if tokens > TOKEN_LIMIT as u64 {
            *manifest.warnings.entry("over_token_limit").or_default() += 1;
        }
        manifest.tokens.total += tokens;
        manifest.tokens.max = manifest.tokens.max.max(tokens);
        manifest.examples += 1;
        let counts = if self.options.format.is_pairs() {
            &mut manifest.pairs
        } else {
            &mut manifest.classes
        };
        for class in made.classes {
            *counts.entry(class).or_default() += 1;
        }
        if let Some(version) = made.app_version {
            manifest
                .prompt_versions
                .entry(made.app.clone())
                .or_default()
                .insert(version);
        }
        *manifest.apps.entry(made.app).or_default() += 1;
        Some(Line { text, fingerprint })
    }

    fn skip(&mut self, reason: &'static str) {
        *self.manifest.skipped.entry(reason).or_default() += 1;
    }
}

/// The answer to learn: the reviewer's edit, else the owner's correction, else the
/// answer as the model wrote it.
fn ideal(row: &ExportRow) -> &str {
    match (&row.review, &row.review_content) {
        (Some(ReviewState::Edited), Some(edit)) => edit,
        _ => correction(row).unwrap_or(&row.content),
    }
}

fn correction(row: &ExportRow) -> Option<&str> {
    row.correction
        .as_deref()
        .filter(|text| !text.trim().is_empty())
}

fn app_name(row: &ExportRow) -> String {
    row.app.clone().unwrap_or_else(|| "chat".into())
}

/// A row as a `Message`, for `thread`.
fn message(row: &ExportRow) -> Message {
    Message {
        id: row.id,
        conversation_id: String::new(),
        role: row.role,
        content: row.content.clone(),
        status: row.status,
        error: None,
        model: None,
        prompt_tokens: None,
        completion_tokens: None,
        first_token_ms: None,
        duration_ms: None,
        created_at: row.created_at,
        updated_at: row.created_at,
        image: None,
        reply_to: row.reply_to,
        preferred: row.preferred,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(format: &str, status: Option<&str>, since: Option<&str>) -> Result<Options, String> {
        Options::parse(format, status, None, since, None).map_err(|e| e.to_string())
    }

    #[test]
    fn the_default_status_is_accepted_edited_and_corrected() {
        let options = parse("openai-sft", None, None).unwrap();
        assert_eq!(options.classes, Class::DEFAULT);
        let options = parse("alpaca", Some(" rejected, pending ,rejected"), None).unwrap();
        assert_eq!(options.classes, [Class::Rejected, Class::Pending]);
    }

    #[test]
    fn bad_settings_are_refused_saying_what_to_fix() {
        let error = parse("csv", None, None).unwrap_err();
        assert!(error.contains("openai-sft, openai-dpo"), "{error}");
        let error = parse("trl-sft", Some("accepted,great"), None).unwrap_err();
        assert!(
            error.contains("\"great\"") && error.contains("upvoted"),
            "{error}"
        );
        for day in ["2026-13-01", "2026-02-30", "yesterday", "2026-1-5"] {
            let error = parse("trl-sft", None, Some(day)).unwrap_err();
            assert!(error.contains("YYYY-MM-DD"), "{error}");
        }
        let error = parse("trl-dpo", Some("accepted"), None).unwrap_err();
        assert!(error.contains("leave the status empty"), "{error}");
        for split in [0.0, 1.0, 1.5, f64::NAN] {
            assert!(Options::parse("trl-sft", None, None, None, Some(split)).is_err());
        }
    }
}
