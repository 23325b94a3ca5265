//! SQL for the about page's live figures: answers served, and the median time to the
//! first token of the latest ones. Plain SQL that Postgres runs too (window functions,
//! no `median()`).

use sqlx::SqlitePool;

/// Finished answers the median is taken over: the latest ones, so it shows how the
/// service does now.
pub const MEDIAN_OVER: i64 = 1000;

/// What the service has done, read in one query.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServiceFigures {
    /// Complete answers (assistant messages that ended well), still stored.
    pub answers: i64,
    /// The median milliseconds from the model call to the first token, over the latest
    /// [`MEDIAN_OVER`] complete answers that have one; `None` before the first.
    pub median_first_token_ms: Option<f64>,
}

/// Both figures. Both walk the `messages_answers` index (role, status, id): the count
/// reads it alone, the median its newest entries.
pub async fn find_service_figures(db: &SqlitePool) -> sqlx::Result<ServiceFigures> {
    sqlx::query_as!(
        ServiceFigures,
        r#"WITH recent AS (
               SELECT first_token_ms FROM messages
               WHERE role = 'assistant' AND status = 'complete' AND first_token_ms IS NOT NULL
               ORDER BY id DESC LIMIT ?
           ),
           ranked AS (
               SELECT first_token_ms,
                      row_number() OVER (ORDER BY first_token_ms) AS position,
                      count(*) OVER () AS total
               FROM recent
           )
           SELECT (SELECT count(*) FROM messages
                   WHERE role = 'assistant' AND status = 'complete') AS "answers!: i64",
                  -- The middle row, or the mean of the two middle rows.
                  (SELECT avg(first_token_ms) FROM ranked
                   WHERE position IN ((total + 1) / 2, (total + 2) / 2))
                      AS "median_first_token_ms?: f64""#,
        MEDIAN_OVER
    )
    .fetch_one(db)
    .await
}
