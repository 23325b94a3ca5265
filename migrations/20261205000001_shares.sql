-- Read-only share links (`/s/{token}`) and the landing page's showcase.
--
-- A share is a snapshot: the conversation (a chat or an app run) as it was when shared
-- or last updated, so later messages never leak into it. One link per conversation:
-- "update" refreshes the snapshot on the same URL; revoking deletes the row, after which
-- the token is answered exactly like one that never existed. Deleting the conversation
-- (or its owner's account) deletes its share.
CREATE TABLE shares (
    id               INTEGER PRIMARY KEY NOT NULL,
    -- The link's secret: 128 random bits, base64url. Kept as is (not hashed) so the
    -- owner's "Shared links" page can show the link again; it grants reading one
    -- snapshot and nothing else.
    token            TEXT NOT NULL UNIQUE,
    conversation_id  TEXT NOT NULL UNIQUE REFERENCES conversations (id) ON DELETE CASCADE,
    title            TEXT NOT NULL,
    -- JSON: the messages shown, as they were at `updated_at` (see src/share).
    snapshot         TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    -- On the landing page's showcase since then (an admin's choice), or not at all.
    pinned_at        INTEGER
) STRICT;

CREATE INDEX shares_pinned ON shares (pinned_at) WHERE pinned_at IS NOT NULL;
