-- AI generates, people review: alternatives kept on regenerate, the owner's feedback on
-- an answer, the review of an answer (with its audit trail), the reviewer role and the
-- owner's choice to keep their conversations out of datasets.

-- The user message an answer answers. A regenerated answer is a new row answering the
-- same question, so the earlier one stays as its sibling.
ALTER TABLE messages ADD COLUMN reply_to INTEGER REFERENCES messages (id) ON DELETE CASCADE;
-- The sibling its owner marked as the better answer (at most one per question). The
-- conversation goes on from it; without a mark, from the newest.
ALTER TABLE messages ADD COLUMN preferred INTEGER NOT NULL DEFAULT 0 CHECK (preferred IN (0, 1));

UPDATE messages
SET reply_to = (SELECT max(q.id) FROM messages q
                WHERE q.conversation_id = messages.conversation_id
                  AND q.role = 'user' AND q.id < messages.id)
WHERE role = 'assistant';

CREATE INDEX messages_by_question ON messages (reply_to);
CREATE UNIQUE INDEX messages_one_preferred_per_question ON messages (reply_to) WHERE preferred = 1;
-- The review queue walks answers in order.
CREATE INDEX messages_answers ON messages (role, status, id);

-- The owner's judgement of an answer: one per answer, changeable. `tags` holds names
-- from `domain::FeedbackTag`, separated by spaces; `correction` is the answer the owner
-- would have wanted (the ideal answer in an export).
CREATE TABLE feedback (
    message_id  INTEGER PRIMARY KEY NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    rating      INTEGER CHECK (rating IN (-1, 1)),
    tags        TEXT NOT NULL DEFAULT '',
    comment     TEXT,
    correction  TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

-- An answer's review. No row means `pending` and unclaimed. A reviewer holds an answer
-- while `claimed_until` (Unix ms) is in the future; an abandoned claim simply runs out.
CREATE TABLE reviews (
    message_id     INTEGER PRIMARY KEY NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    state          TEXT NOT NULL DEFAULT 'pending'
                   CHECK (state IN ('pending', 'accepted', 'edited', 'rejected')),
    -- A rejection's reason, from `domain::FeedbackTag`.
    reason         TEXT,
    -- The reviewer's edit of the answer (state `edited`).
    content        TEXT,
    claimed_by     INTEGER REFERENCES users (id) ON DELETE SET NULL,
    claimed_until  INTEGER,
    reviewed_by    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    reviewed_at    INTEGER,
    updated_at     INTEGER NOT NULL
) STRICT;
CREATE INDEX reviews_by_state ON reviews (state, claimed_until);

-- Every review decision: who, when, from which state to which, and the text before and
-- after an edit.
CREATE TABLE review_events (
    id           INTEGER PRIMARY KEY NOT NULL,
    message_id   INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    reviewer_id  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    from_state   TEXT NOT NULL,
    to_state     TEXT NOT NULL,
    reason       TEXT,
    before       TEXT,
    after        TEXT,
    created_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX review_events_by_message ON review_events (message_id, id);

-- The reviewer role is a flag beside `role` (an admin can always review): SQLite cannot
-- widen `role`'s CHECK without rebuilding `users`, and rebuilding it inside a migration's
-- transaction would cascade-delete every conversation.
ALTER TABLE users ADD COLUMN reviewer INTEGER NOT NULL DEFAULT 0 CHECK (reviewer IN (0, 1));
-- The user keeps their conversations out of every export (the account page's switch).
ALTER TABLE users ADD COLUMN data_opt_out INTEGER NOT NULL DEFAULT 0 CHECK (data_opt_out IN (0, 1));

-- Dataset batches: one prompt app (or the chat prompt, `app` NULL) run over many inputs,
-- uploaded or proposed by the model, in the background. Jobs and items live here, so a
-- restart resumes a batch with nothing run twice and nothing lost.
CREATE TABLE batches (
    id           INTEGER PRIMARY KEY NOT NULL,
    name         TEXT NOT NULL,
    app          TEXT,
    source       TEXT NOT NULL CHECK (source IN ('upload', 'generate')),
    -- What the model was asked to propose inputs from (JSON), for a generated batch.
    seed         TEXT,
    state        TEXT NOT NULL CHECK (state IN ('generating', 'running', 'paused', 'cancelled', 'done')),
    -- Why it is paused (a budget's message), and when it may go on by itself (Unix ms).
    reason       TEXT,
    resume_at    INTEGER,
    concurrency  INTEGER NOT NULL CHECK (concurrency BETWEEN 1 AND 16),
    created_by   INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;

CREATE TABLE batch_items (
    id               INTEGER PRIMARY KEY NOT NULL,
    batch_id         INTEGER NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
    -- The row's number in the upload (1-based), or the order it was proposed in.
    position         INTEGER NOT NULL,
    input            TEXT NOT NULL,                 -- JSON, checked against the app
    state            TEXT NOT NULL CHECK (state IN ('pending', 'running', 'done', 'failed')),
    conversation_id  TEXT REFERENCES conversations (id) ON DELETE SET NULL,
    error            TEXT,
    updated_at       INTEGER NOT NULL,
    UNIQUE (batch_id, position)
) STRICT;
CREATE INDEX batch_items_by_state ON batch_items (batch_id, state, position);
CREATE INDEX batch_items_by_conversation ON batch_items (conversation_id);

-- The batch a conversation was made by: the operator's own data, not a visitor's.
ALTER TABLE conversations ADD COLUMN batch_id INTEGER REFERENCES batches (id) ON DELETE SET NULL;
