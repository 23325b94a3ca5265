//! The review queue's filters as a query string: read from the list's form, checked, and
//! written back into every link and form of the queue, so a reviewer keeps them while
//! working through it.

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

use crate::{
    db::reviews::{QueueFilter, RatingFilter},
    domain::{ReviewState, day_start_ms},
    error::AppError,
    i18n::Text,
};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// The filters as the form sends them: every field may be empty (any).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Filters {
    /// A prompt app's name, or `chat`.
    pub app: String,
    /// The start of a prompt version (hex).
    pub version: String,
    pub model: String,
    /// `up`, `down` or `none`.
    pub rating: String,
    /// A review state.
    pub state: String,
    /// The first and last day (`YYYY-MM-DD`, UTC) the answers were written on.
    pub from: String,
    pub to: String,
    /// `yes` or `no`: whether the owner wrote a correction.
    pub correction: String,
    /// The list's page, from 1.
    pub page: String,
    /// The answer just left, so that "next" moves on from it.
    pub after: String,
    /// `1` when "next" found nothing left.
    pub done: String,
}

impl Filters {
    /// The filters as the database takes them; a value it cannot be is a 400 that says
    /// which and why.
    pub fn to_filter(&self) -> Result<QueueFilter, AppError> {
        let bad = |name: &str, value: &str, want: Text| {
            AppError::BadRequest(
                Text::new("error-filter")
                    .arg("name", name)
                    .arg("value", value)
                    .arg("want", want),
            )
        };
        let some = |value: &str| Some(value.trim().to_string()).filter(|v| !v.is_empty());
        let version = some(&self.version);
        if let Some(v) = &version
            && !v.chars().all(|c| c.is_ascii_hexdigit())
        {
            return Err(bad("version", v, Text::new("filter-want-version")));
        }
        let rating = match self.rating.trim() {
            "" => None,
            name => Some(
                RatingFilter::parse(name)
                    .ok_or_else(|| bad("rating", name, Text::new("filter-want-rating")))?,
            ),
        };
        let state = match self.state.trim() {
            "" => None,
            name => Some(
                parse_state(name)
                    .ok_or_else(|| bad("state", name, Text::new("filter-want-state")))?,
            ),
        };
        let day = |name: &str, value: &str| -> Result<Option<i64>, AppError> {
            match value.trim() {
                "" => Ok(None),
                value => day_start_ms(value)
                    .map(Some)
                    .ok_or_else(|| bad(name, value, Text::new("filter-want-date"))),
            }
        };
        let has_correction = match self.correction.trim() {
            "" => None,
            "yes" => Some(true),
            "no" => Some(false),
            other => return Err(bad("correction", other, Text::new("filter-want-yes-no"))),
        };
        Ok(QueueFilter {
            app: some(&self.app),
            version: version.map(|v| v.to_ascii_lowercase()),
            model: some(&self.model),
            rating,
            state,
            since: day("from", &self.from)?,
            until: day("to", &self.to)?.map(|start| start + DAY_MS),
            has_correction,
        })
    }

    /// The list's page, from 1.
    pub fn page(&self) -> Result<i64, AppError> {
        match self.page.trim() {
            "" => Ok(1),
            page => page.parse().ok().filter(|p| *p >= 1).ok_or_else(|| {
                AppError::BadRequest(Text::new("error-filter-page").arg("page", page))
            }),
        }
    }

    /// The answer "next" moves on from (0: the start).
    pub fn after(&self) -> i64 {
        self.after.trim().parse().unwrap_or(0)
    }

    /// The filters (not the page, `after` or `done`) as a query string, empty ones left
    /// out: `app=chat&rating=down`.
    pub fn query(&self) -> String {
        [
            ("app", &self.app),
            ("version", &self.version),
            ("model", &self.model),
            ("rating", &self.rating),
            ("state", &self.state),
            ("from", &self.from),
            ("to", &self.to),
            ("correction", &self.correction),
        ]
        .into_iter()
        .filter(|(_, value)| !value.trim().is_empty())
        .map(|(name, value)| {
            format!(
                "{name}={}",
                utf8_percent_encode(value.trim(), NON_ALPHANUMERIC)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
    }
}

fn parse_state(name: &str) -> Option<ReviewState> {
    [
        ReviewState::Pending,
        ReviewState::Accepted,
        ReviewState::Edited,
        ReviewState::Rejected,
    ]
    .into_iter()
    .find(|s| s.as_str() == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_filters_match_everything_and_write_an_empty_query() {
        let filters = Filters::default();
        assert_eq!(filters.to_filter().unwrap(), QueueFilter::default());
        assert_eq!(filters.query(), "");
        assert_eq!(filters.page().unwrap(), 1);
    }

    #[test]
    fn a_day_range_covers_the_whole_last_day() {
        let filters = Filters {
            from: "2026-12-04".into(),
            to: "2026-12-04".into(),
            ..Filters::default()
        };
        let filter = filters.to_filter().unwrap();
        assert_eq!(filter.since, Some(1_796_342_400_000));
        assert_eq!(filter.until, Some(1_796_342_400_000 + DAY_MS));
    }

    #[test]
    fn values_the_queue_cannot_filter_by_are_refused_by_name() {
        for (filters, name) in [
            (
                Filters {
                    rating: "meh".into(),
                    ..Filters::default()
                },
                "rating",
            ),
            (
                Filters {
                    state: "done".into(),
                    ..Filters::default()
                },
                "state",
            ),
            (
                Filters {
                    from: "2026-13-01".into(),
                    ..Filters::default()
                },
                "from",
            ),
            (
                Filters {
                    version: "zz".into(),
                    ..Filters::default()
                },
                "version",
            ),
            (
                Filters {
                    correction: "maybe".into(),
                    ..Filters::default()
                },
                "correction",
            ),
        ] {
            let error = filters.to_filter().unwrap_err();
            assert!(error.to_string().contains(&format!("`{name}=")), "{error}");
        }
        let zero = Filters {
            page: "0".into(),
            ..Filters::default()
        };
        assert!(zero.page().is_err());
    }

    #[test]
    fn the_query_keeps_set_filters_encoded_and_leaves_out_the_position() {
        let filters = Filters {
            app: "chat".into(),
            model: "gpt 4o&x".into(),
            page: "3".into(),
            after: "12".into(),
            ..Filters::default()
        };
        assert_eq!(filters.query(), "app=chat&model=gpt%204o%26x");
    }
}
