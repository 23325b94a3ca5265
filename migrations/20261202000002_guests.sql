-- Guests: visitors without an account, each known by a random id in their session. A
-- guest who never comes back (not seen for longer than a session lasts) is deleted with
-- everything of theirs, so that anonymous visitors cannot fill the disk over time.
CREATE TABLE guests (
    id            TEXT PRIMARY KEY NOT NULL,
    created_at    INTEGER NOT NULL,
    -- Moved forward at most once a day, when the guest's session is extended too.
    last_seen_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX guests_by_last_seen ON guests (last_seen_at);

-- Guests from before this table: seen last when one of their conversations changed.
INSERT INTO guests (id, created_at, last_seen_at)
    SELECT guest_id, min(created_at), max(updated_at) FROM conversations
    WHERE guest_id IS NOT NULL
    GROUP BY guest_id;
