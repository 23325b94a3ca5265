//! SQL for the review queue: `reviews` (an answer's state and who holds it) and
//! `review_events` (the audit trail). Only eligible answers are in the queue: complete
//! answers of conversations whose `conversation_consent.least_policy` the site's
//! `data_policy` reaches (see [`policy_rank`] and the view's migration).
//!
//! A reviewer holds an answer by a lease (`claimed_by` until `claimed_until`): a claim is
//! one statement inside a `BEGIN IMMEDIATE` transaction, so two reviewers never get the
//! same answer; a lease that runs out returns the answer to the queue by itself.

use serde::Serialize;
use sqlx::{Connection, SqliteConnection, SqlitePool};

use crate::domain::{DataPolicy, FeedbackTag, ReviewState};

/// The eligibility predicate's right-hand side: a conversation is eligible when its
/// `conversation_consent.least_policy` is at most this. Under `off` only dataset batches
/// (0) are; under `accounts` users who have not opted out (1) too; under `all` guests (2)
/// too. A user who opted out has no rank at all, so is never eligible.
pub fn policy_rank(policy: DataPolicy) -> i64 {
    match policy {
        DataPolicy::Off => 0,
        DataPolicy::Accounts => 1,
        DataPolicy::All => 2,
    }
}

/// The owner's thumbs on an answer, as a queue filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RatingFilter {
    Up,
    Down,
    /// No feedback, or feedback without a thumb.
    None,
}

impl RatingFilter {
    pub fn as_str(self) -> &'static str {
        match self {
            RatingFilter::Up => "up",
            RatingFilter::Down => "down",
            RatingFilter::None => "none",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [RatingFilter::Up, RatingFilter::Down, RatingFilter::None]
            .into_iter()
            .find(|r| r.as_str() == name)
    }
}

/// Which answers a queue shows; each `None` is "any".
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueueFilter {
    /// A prompt app's name, or `chat` for chats.
    pub app: Option<String>,
    /// The start of a prompt version (`conversations.app_version`, a hex SHA-256).
    pub version: Option<String>,
    pub model: Option<String>,
    pub rating: Option<RatingFilter>,
    pub state: Option<ReviewState>,
    /// Answers written at or after this (Unix ms)…
    pub since: Option<i64>,
    /// …and before this.
    pub until: Option<i64>,
    pub has_correction: Option<bool>,
}

/// An answer as the queue lists it.
#[derive(Clone, Debug, Serialize)]
pub struct QueueRow {
    pub id: i64,
    pub conversation_id: String,
    pub title: String,
    pub app: Option<String>,
    pub app_version: Option<String>,
    pub model: Option<String>,
    pub created_at: i64,
    /// The answer's first characters.
    pub preview: String,
    pub state: ReviewState,
    /// The owner's thumb: 1, -1, or none.
    pub rating: Option<i64>,
    pub has_correction: bool,
    /// Who holds it now (a live lease), and until when (Unix ms).
    pub claimed_by: Option<String>,
    pub claimed_until: Option<i64>,
}

/// The eligible answers matching `filter`, oldest first, `limit` of them after `offset`.
pub async fn list_queue(
    db: &SqlitePool,
    filter: &QueueFilter,
    policy: DataPolicy,
    now: i64,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<QueueRow>> {
    let rank = policy_rank(policy);
    let rating = filter.rating.map(RatingFilter::as_str);
    let state = filter.state.map(ReviewState::as_str);
    sqlx::query_as!(
        QueueRow,
        r#"SELECT m.id AS "id!", m.conversation_id, c.title, c.app, c.app_version, m.model,
                  m.created_at, substr(m.content, 1, 160) AS "preview!: String",
                  coalesce(r.state, 'pending') AS "state!: ReviewState",
                  f.rating AS "rating?: i64",
                  coalesce(f.correction, '') <> '' AS "has_correction!: bool",
                  CASE WHEN r.claimed_until > ?2 THEN claimer.email END AS "claimed_by?: String",
                  CASE WHEN r.claimed_until > ?2 THEN r.claimed_until END AS "claimed_until?: i64"
           FROM messages m
           JOIN conversation_consent cc ON cc.conversation_id = m.conversation_id
           JOIN conversations c ON c.id = m.conversation_id
           LEFT JOIN reviews r ON r.message_id = m.id
           LEFT JOIN users claimer ON claimer.id = r.claimed_by
           LEFT JOIN feedback f ON f.message_id = m.id
           WHERE m.role = 'assistant' AND m.status = 'complete' AND cc.least_policy <= ?1
             AND (?3 IS NULL OR (?3 = 'chat' AND c.app IS NULL) OR c.app = ?3)
             AND (?4 IS NULL OR substr(c.app_version, 1, length(?4)) = ?4)
             AND (?5 IS NULL OR m.model = ?5)
             AND (?6 IS NULL OR (?6 = 'up' AND f.rating = 1) OR (?6 = 'down' AND f.rating = -1)
                  OR (?6 = 'none' AND f.rating IS NULL))
             AND (?7 IS NULL OR coalesce(r.state, 'pending') = ?7)
             AND (?8 IS NULL OR m.created_at >= ?8)
             AND (?9 IS NULL OR m.created_at < ?9)
             AND (?10 IS NULL OR (coalesce(f.correction, '') <> '') = ?10)
           ORDER BY m.id LIMIT ?11 OFFSET ?12"#,
        rank,
        now,
        filter.app,
        filter.version,
        filter.model,
        rating,
        state,
        filter.since,
        filter.until,
        filter.has_correction,
        limit,
        offset
    )
    .fetch_all(db)
    .await
}

/// Claims the next free answer matching `filter` for `reviewer` until `until`, and
/// returns its id; `None` when no answer is free. The reviewer's own live claim comes
/// first (a reload, a second tab), then the first free answer after `after` (so "skip"
/// moves on), then from the start again.
///
/// One statement in a `BEGIN IMMEDIATE` transaction: the write lock is taken before the
/// queue is read, so a second reviewer's claim waits and then sees this one. The
/// `ON CONFLICT … WHERE` re-checks the lease on the row itself, which keeps the statement
/// correct on its own, as on Postgres, where the candidate `SELECT` would add
/// `FOR UPDATE OF m SKIP LOCKED` so that parallel claims pass each other instead of
/// queueing.
pub async fn claim_next(
    conn: &mut SqliteConnection,
    reviewer: i64,
    filter: &QueueFilter,
    policy: DataPolicy,
    after: i64,
    now: i64,
    until: i64,
) -> sqlx::Result<Option<i64>> {
    let rank = policy_rank(policy);
    let rating = filter.rating.map(RatingFilter::as_str);
    let state = filter.state.map(ReviewState::as_str);
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    let claimed = sqlx::query_scalar!(
        r#"INSERT INTO reviews (message_id, claimed_by, claimed_until, updated_at)
           SELECT m.id, ?1, ?13, ?3
           FROM messages m
           JOIN conversation_consent cc ON cc.conversation_id = m.conversation_id
           JOIN conversations c ON c.id = m.conversation_id
           LEFT JOIN reviews r ON r.message_id = m.id
           LEFT JOIN feedback f ON f.message_id = m.id
           WHERE m.role = 'assistant' AND m.status = 'complete' AND cc.least_policy <= ?2
             AND (r.claimed_until IS NULL OR r.claimed_until <= ?3 OR r.claimed_by = ?1)
             AND (?4 IS NULL OR (?4 = 'chat' AND c.app IS NULL) OR c.app = ?4)
             AND (?5 IS NULL OR substr(c.app_version, 1, length(?5)) = ?5)
             AND (?6 IS NULL OR m.model = ?6)
             AND (?7 IS NULL OR (?7 = 'up' AND f.rating = 1) OR (?7 = 'down' AND f.rating = -1)
                  OR (?7 = 'none' AND f.rating IS NULL))
             AND (?8 IS NULL OR coalesce(r.state, 'pending') = ?8)
             AND (?9 IS NULL OR m.created_at >= ?9)
             AND (?10 IS NULL OR m.created_at < ?10)
             AND (?11 IS NULL OR (coalesce(f.correction, '') <> '') = ?11)
           ORDER BY coalesce(r.claimed_by = ?1 AND r.claimed_until > ?3, 0) DESC,
                    m.id <= ?12, m.id
           LIMIT 1
           ON CONFLICT (message_id) DO UPDATE
               SET claimed_by = excluded.claimed_by, claimed_until = excluded.claimed_until,
                   updated_at = excluded.updated_at
               WHERE reviews.claimed_until IS NULL OR reviews.claimed_until <= ?3
                  OR reviews.claimed_by = ?1
           RETURNING message_id AS "message_id!: i64""#,
        reviewer,
        rank,
        now,
        filter.app,
        filter.version,
        filter.model,
        rating,
        state,
        filter.since,
        filter.until,
        filter.has_correction,
        after,
        until
    )
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(claimed)
}

/// One answer under review, with its conversation, its review, its lease and its owner's
/// feedback.
#[derive(Clone, Debug)]
pub struct ReviewItem {
    pub id: i64,
    pub conversation_id: String,
    pub title: String,
    pub app: Option<String>,
    pub app_version: Option<String>,
    /// Made by a dataset batch, not a visitor.
    pub from_batch: bool,
    /// The owner is a guest.
    pub from_guest: bool,
    pub state: ReviewState,
    /// A rejection's reason (a `FeedbackTag` name).
    pub reason: Option<String>,
    /// The reviewer's edit (state `edited`).
    pub edit: Option<String>,
    /// Who holds it now (a live lease) and until when (Unix ms).
    pub claimed_by_id: Option<i64>,
    pub claimed_by: Option<String>,
    pub claimed_until: Option<i64>,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<i64>,
    /// The owner's feedback: thumb (1, -1), tags (space-separated), comment, correction.
    pub rating: Option<i64>,
    pub tags: Option<String>,
    pub comment: Option<String>,
    pub correction: Option<String>,
}

/// The answer `id` if it is in the queue (an eligible, complete answer).
pub async fn find_review_item(
    db: &SqlitePool,
    id: i64,
    policy: DataPolicy,
    now: i64,
) -> sqlx::Result<Option<ReviewItem>> {
    let rank = policy_rank(policy);
    sqlx::query_as!(
        ReviewItem,
        r#"SELECT m.id AS "id!", m.conversation_id, c.title, c.app, c.app_version,
                  c.batch_id IS NOT NULL AS "from_batch!: bool",
                  c.user_id IS NULL AS "from_guest!: bool",
                  coalesce(r.state, 'pending') AS "state!: ReviewState",
                  r.reason AS "reason?", r.content AS "edit?",
                  CASE WHEN r.claimed_until > ?3 THEN r.claimed_by END AS "claimed_by_id?: i64",
                  CASE WHEN r.claimed_until > ?3 THEN claimer.email END AS "claimed_by?: String",
                  CASE WHEN r.claimed_until > ?3 THEN r.claimed_until END AS "claimed_until?: i64",
                  reviewer.email AS "reviewed_by?", r.reviewed_at AS "reviewed_at?",
                  f.rating AS "rating?: i64", f.tags AS "tags?", f.comment AS "comment?",
                  f.correction AS "correction?"
           FROM messages m
           JOIN conversation_consent cc ON cc.conversation_id = m.conversation_id
           JOIN conversations c ON c.id = m.conversation_id
           LEFT JOIN reviews r ON r.message_id = m.id
           LEFT JOIN users claimer ON claimer.id = r.claimed_by
           LEFT JOIN users reviewer ON reviewer.id = r.reviewed_by
           LEFT JOIN feedback f ON f.message_id = m.id
           WHERE m.id = ?1 AND m.role = 'assistant' AND m.status = 'complete'
             AND cc.least_policy <= ?2"#,
        id,
        rank,
        now
    )
    .fetch_optional(db)
    .await
}

/// One line of an answer's audit trail.
#[derive(Clone, Debug, Serialize)]
pub struct ReviewEvent {
    pub id: i64,
    /// The reviewer's email (`None` once their account is gone).
    pub reviewer: Option<String>,
    pub from_state: ReviewState,
    pub to_state: ReviewState,
    pub reason: Option<String>,
    /// The text before and after an edit.
    pub before: Option<String>,
    pub after: Option<String>,
    pub created_at: i64,
}

/// The answer's audit trail, oldest first.
pub async fn list_review_events(
    db: &SqlitePool,
    message_id: i64,
) -> sqlx::Result<Vec<ReviewEvent>> {
    sqlx::query_as!(
        ReviewEvent,
        r#"SELECT e.id, u.email AS "reviewer?", e.from_state AS "from_state: ReviewState",
                  e.to_state AS "to_state: ReviewState", e.reason, e.before, e.after,
                  e.created_at
           FROM review_events e LEFT JOIN users u ON u.id = e.reviewer_id
           WHERE e.message_id = ? ORDER BY e.id"#,
        message_id
    )
    .fetch_all(db)
    .await
}

/// A reviewer's decision on an answer.
#[derive(Clone, Copy, Debug)]
pub enum Verdict<'a> {
    Accept,
    /// The answer as it should have been.
    Edit(&'a str),
    Reject(FeedbackTag),
}

/// How a decision went.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// Saved, with its audit row; the lease is released.
    Saved,
    /// No such answer in the queue.
    NotFound,
    /// Someone else holds the answer.
    Held { by: String, until: i64 },
}

/// Where an answer's review stands, read inside a decision's transaction.
struct Current {
    answer: String,
    state: ReviewState,
    edit: Option<String>,
    claimed_by_id: Option<i64>,
    claimed_by: Option<String>,
    claimed_until: Option<i64>,
}

/// Decides on answer `id` for `reviewer`, who must hold it or find it free (it is then
/// claimed and decided at once): the new state and its audit row (from → to, the reason,
/// the text before and after an edit) in one transaction; the lease is released. Any
/// state may be revised; each revision is audited.
pub async fn update_review(
    conn: &mut SqliteConnection,
    id: i64,
    reviewer: i64,
    policy: DataPolicy,
    verdict: Verdict<'_>,
    now: i64,
) -> sqlx::Result<Decision> {
    let rank = policy_rank(policy);
    // The write lock first: the lease read below cannot change before the write.
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    let current = sqlx::query_as!(
        Current,
        r#"SELECT m.content AS answer, coalesce(r.state, 'pending') AS "state!: ReviewState",
                  r.content AS "edit?",
                  CASE WHEN r.claimed_until > ?3 THEN r.claimed_by END AS "claimed_by_id?: i64",
                  CASE WHEN r.claimed_until > ?3 THEN claimer.email END AS "claimed_by?: String",
                  CASE WHEN r.claimed_until > ?3 THEN r.claimed_until END AS "claimed_until?: i64"
           FROM messages m
           JOIN conversation_consent cc ON cc.conversation_id = m.conversation_id
           LEFT JOIN reviews r ON r.message_id = m.id
           LEFT JOIN users claimer ON claimer.id = r.claimed_by
           WHERE m.id = ?1 AND m.role = 'assistant' AND m.status = 'complete'
             AND cc.least_policy <= ?2"#,
        id,
        rank,
        now
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(current) = current else {
        return Ok(Decision::NotFound);
    };
    if let (Some(holder), Some(until)) = (current.claimed_by_id, current.claimed_until)
        && holder != reviewer
    {
        return Ok(Decision::Held {
            by: current
                .claimed_by
                .unwrap_or_else(|| "another reviewer".into()),
            until,
        });
    }
    let (to, reason, edit) = match verdict {
        Verdict::Accept => (ReviewState::Accepted, None, None),
        Verdict::Edit(text) => (ReviewState::Edited, None, Some(text)),
        Verdict::Reject(tag) => (ReviewState::Rejected, Some(tag.as_str()), None),
    };
    // The text the review stood on before: the earlier edit, or for a first edit the
    // answer itself. Leaving `edited` keeps the dropped edit in the trail.
    let before = match (verdict, current.state) {
        (_, ReviewState::Edited) => current.edit.clone(),
        (Verdict::Edit(_), _) => Some(current.answer.clone()),
        _ => None,
    };
    let (from, to_name) = (current.state.as_str(), to.as_str());
    sqlx::query!(
        "INSERT INTO reviews (message_id, state, reason, content, claimed_by, claimed_until,
                              reviewed_by, reviewed_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, NULL, NULL, ?5, ?6, ?6)
         ON CONFLICT (message_id) DO UPDATE
             SET state = excluded.state, reason = excluded.reason, content = excluded.content,
                 claimed_by = NULL, claimed_until = NULL, reviewed_by = excluded.reviewed_by,
                 reviewed_at = excluded.reviewed_at, updated_at = excluded.updated_at",
        id,
        to_name,
        reason,
        edit,
        reviewer,
        now
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO review_events (message_id, reviewer_id, from_state, to_state, reason,
                                    before, after, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        id,
        reviewer,
        from,
        to_name,
        reason,
        before,
        edit,
        now
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Decision::Saved)
}

/// Gives answer `id` back to the queue if `reviewer` holds it ("skip"); someone else's
/// lease is left alone. Returns whether the answer is in the queue at all.
pub async fn update_claim_released(
    conn: &mut SqliteConnection,
    id: i64,
    reviewer: i64,
    policy: DataPolicy,
    now: i64,
) -> sqlx::Result<bool> {
    let rank = policy_rank(policy);
    let found = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM messages m
                          JOIN conversation_consent cc ON cc.conversation_id = m.conversation_id
                          WHERE m.id = ? AND m.role = 'assistant' AND m.status = 'complete'
                            AND cc.least_policy <= ?) AS "found!: bool""#,
        id,
        rank
    )
    .fetch_one(&mut *conn)
    .await?;
    if found {
        sqlx::query!(
            "UPDATE reviews SET claimed_by = NULL, claimed_until = NULL, updated_at = ?
             WHERE message_id = ? AND claimed_by = ?",
            now,
            id,
            reviewer
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(found)
}
