-- Browsers that have logged in to an account ("device cookies", as OWASP's "Slow Down
-- Online Guessing Attacks with Device Cookies"). Failed logins lock an account for a while
-- for unknown clients; a browser holding a cookie listed here for that account keeps its
-- own count of failures instead, so an attacker who keeps guessing cannot keep the owner
-- out. Only a SHA-256 of each cookie is kept: the cookie is a long random string, so a
-- fast hash is safe, and a leaked table trusts no browser.

CREATE TABLE login_devices (
    id            INTEGER PRIMARY KEY NOT NULL,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash    TEXT NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL,
    -- A device unused for a year is trusted no more, and deleted at its user's next login.
    last_used_at  INTEGER NOT NULL
) STRICT;

-- Leads with user_id: deleting a user finds their devices by it, and so does keeping
-- each user's most recently used few.
CREATE INDEX login_devices_by_user ON login_devices (user_id, last_used_at);
