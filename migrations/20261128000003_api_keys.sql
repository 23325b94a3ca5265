-- The project's own API keys, for /v1 and /api/v1. Only a SHA-256 of each key is kept:
-- keys are long random strings, so a fast hash is safe, and a leaked table reveals none.

CREATE TABLE api_keys (
    id            INTEGER PRIMARY KEY NOT NULL,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    -- The first characters of the key, shown in lists and used to find it.
    prefix        TEXT NOT NULL UNIQUE,
    key_hash      TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER,
    revoked_at    INTEGER
) STRICT;

CREATE INDEX api_keys_by_user ON api_keys (user_id);
