-- Prompt apps: a run is a conversation tagged with its app and the exact prompt version;
-- its rendered prompt is kept as messages (system ones too); a structured answer that
-- fails the app's schema is kept as `invalid_output`; an image app's picture is kept by
-- content hash; the ledger says which app a call was for.
--
-- SQLite cannot change a CHECK constraint, so `messages` is rebuilt. Migrations run in a
-- transaction, where foreign keys cannot be turned off: dropping the old table sets
-- `usage.message_id` to NULL, so the ledger's links are kept aside and put back.

CREATE TABLE messages_new (
    id                INTEGER PRIMARY KEY NOT NULL,
    conversation_id   TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    role              TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
    content           TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('complete', 'streaming', 'interrupted', 'failed', 'invalid_output')),
    -- What the user is told when the answer is not complete; never an upstream body.
    error             TEXT,
    model             TEXT,
    prompt_tokens     INTEGER,
    completion_tokens INTEGER,
    first_token_ms    INTEGER,
    duration_ms       INTEGER,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    -- An image app's answer: the SHA-256 (hex) of its picture in `images`.
    image             TEXT
) STRICT;

INSERT INTO messages_new (id, conversation_id, role, content, status, error, model,
                          prompt_tokens, completion_tokens, first_token_ms, duration_ms,
                          created_at, updated_at)
SELECT id, conversation_id, role, content, status, error, model, prompt_tokens,
       completion_tokens, first_token_ms, duration_ms, created_at, updated_at
FROM messages;

CREATE TEMP TABLE usage_messages AS
    SELECT id, message_id FROM usage WHERE message_id IS NOT NULL;
DROP TABLE messages;
ALTER TABLE messages_new RENAME TO messages;
UPDATE usage
SET message_id = (SELECT k.message_id FROM temp.usage_messages k WHERE k.id = usage.id)
WHERE id IN (SELECT id FROM temp.usage_messages);
DROP TABLE temp.usage_messages;

CREATE INDEX messages_by_conversation ON messages (conversation_id, id);

-- At most one answer is being written per conversation: a double-submitted turn fails
-- here, atomically, before any upstream call.
CREATE UNIQUE INDEX messages_one_streaming_per_conversation
    ON messages (conversation_id) WHERE status = 'streaming';

-- The app a conversation was started by, the SHA-256 of the app file it ran (so a
-- dataset can tell prompt versions apart), and the input it ran with (JSON).
ALTER TABLE conversations ADD COLUMN app TEXT;
ALTER TABLE conversations ADD COLUMN app_version TEXT;
ALTER TABLE conversations ADD COLUMN app_input TEXT;

ALTER TABLE usage ADD COLUMN app TEXT;

-- Pictures made by image apps, by content hash. A row belongs to the answer that made
-- it and goes with it; the same picture made twice is stored twice, which keeps
-- deleting a conversation a cascade.
CREATE TABLE images (
    hash        TEXT NOT NULL,                  -- SHA-256 of `data`, lowercase hex
    message_id  INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    mime        TEXT NOT NULL CHECK (mime IN ('image/png', 'image/jpeg', 'image/webp')),
    data        BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (hash, message_id)
) STRICT;
CREATE INDEX images_by_message ON images (message_id);
