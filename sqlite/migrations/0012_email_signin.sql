-- Passwordless sign-in by email: one pending sign-in per user (a new request replaces it). The
-- email carries an 8-digit code and a link; only their hashes are stored: the code as
-- HMAC-SHA256 under a key derived from the master key (8 digits alone would be quick to find from
-- a plain hash), the link's 256-bit token as SHA-256. Times are microseconds since the epoch.
-- attempts counts codes tried: once it reaches the limit, the code is dead.
CREATE TABLE email_signins (
    user_id    TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    email      TEXT NOT NULL,              -- the address it was sent to
    code_hash  BLOB NOT NULL,
    link_hash  BLOB NOT NULL UNIQUE,
    attempts   INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX email_signins_by_expiry ON email_signins (expires_at);
