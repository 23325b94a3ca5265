-- Accounts, ownership of conversations, the usage ledger and runtime settings.

CREATE TABLE users (
    id                  INTEGER PRIMARY KEY NOT NULL,
    email               TEXT NOT NULL UNIQUE COLLATE NOCASE,
    -- argon2id PHC string; never leaves the server.
    password_hash       TEXT NOT NULL,
    role                TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
    disabled            INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    -- Overrides USER_DAILY_TOKENS for this user when set.
    daily_token_budget  INTEGER,
    created_at          INTEGER NOT NULL
) STRICT;

-- A conversation belongs to a user, or to a guest (the random id in a guest's session).
-- Conversations from before accounts existed have neither and are reachable by no one.
ALTER TABLE conversations ADD COLUMN user_id INTEGER REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE conversations ADD COLUMN guest_id TEXT;
CREATE INDEX conversations_by_user ON conversations (user_id, updated_at DESC);
CREATE INDEX conversations_by_guest ON conversations (guest_id, updated_at DESC);

CREATE TABLE invites (
    code        TEXT PRIMARY KEY NOT NULL,
    created_by  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    used_by     INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL,
    used_at     INTEGER
) STRICT;

-- One row per model call: who, what it cost, how it ended. Reserved before the call
-- (estimated prompt tokens plus the output cap), settled with the real usage after.
CREATE TABLE usage (
    id                 INTEGER PRIMARY KEY NOT NULL,
    day                TEXT NOT NULL,          -- UTC date, YYYY-MM-DD
    user_id            INTEGER REFERENCES users (id) ON DELETE SET NULL,
    guest_id           TEXT,
    ip                 TEXT NOT NULL,
    message_id         INTEGER REFERENCES messages (id) ON DELETE SET NULL,
    model              TEXT NOT NULL,
    prompt_tokens      INTEGER NOT NULL,
    completion_tokens  INTEGER NOT NULL,
    cost_microusd      INTEGER NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('reserved', 'complete', 'interrupted', 'failed')),
    -- 0 once an admin resets the user's usage for the day: kept for the books, not
    -- counted against the user's budget.
    counted            INTEGER NOT NULL DEFAULT 1 CHECK (counted IN (0, 1)),
    duration_ms        INTEGER,
    created_at         INTEGER NOT NULL
) STRICT;
CREATE INDEX usage_by_day ON usage (day, user_id);
CREATE INDEX usage_by_guest ON usage (day, guest_id);
CREATE INDEX usage_by_ip ON usage (day, ip);

-- Settings an admin changes at run time (the kill switch, the sign-up mode).
CREATE TABLE settings (
    key    TEXT PRIMARY KEY NOT NULL,
    value  TEXT NOT NULL
) STRICT;
