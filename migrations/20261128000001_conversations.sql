-- Conversations and their messages. Times are Unix milliseconds (UTC).

CREATE TABLE conversations (
    id          TEXT PRIMARY KEY NOT NULL,      -- random UUID: unguessable, safe in URLs
    title       TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX conversations_by_recent ON conversations (updated_at DESC);

CREATE TABLE messages (
    id                INTEGER PRIMARY KEY NOT NULL,
    conversation_id   TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    role              TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content           TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('complete', 'streaming', 'interrupted', 'failed')),
    -- What the user is told when the answer is not complete; never an upstream body.
    error             TEXT,
    model             TEXT,
    prompt_tokens     INTEGER,
    completion_tokens INTEGER,
    first_token_ms    INTEGER,
    duration_ms       INTEGER,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
) STRICT;

CREATE INDEX messages_by_conversation ON messages (conversation_id, id);

-- At most one answer is being written per conversation: a double-submitted turn fails
-- here, atomically, before any upstream call.
CREATE UNIQUE INDEX messages_one_streaming_per_conversation
    ON messages (conversation_id) WHERE status = 'streaming';
