-- Multi-factor authentication. Times are microseconds since the epoch.

-- One TOTP factor per user: pending until confirmed with a first code. The secret is sealed
-- (AES-256-GCM under a key kept outside the database, the user id as additional data).
-- last_step is the last accepted RFC 6238 time step: a code of that step or an earlier one is
-- never accepted again.
CREATE TABLE mfa_totp (
    user_id      TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret       BLOB NOT NULL,
    created_at   INTEGER NOT NULL,
    confirmed_at INTEGER,
    last_step    INTEGER NOT NULL DEFAULT 0
);

-- Recovery codes: SHA-256 of the user id and the code, single use.
CREATE TABLE mfa_recovery_codes (
    hash       BLOB PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX mfa_recovery_codes_by_user ON mfa_recovery_codes (user_id);

-- A login whose first factor succeeded waits here for its second: the mfa_token, hashed,
-- single use, short-lived. amr is the first factor's method ("pwd", or "fed" for a provider).
CREATE TABLE mfa_challenges (
    hash       BLOB PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    amr        TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX mfa_challenges_by_expiry ON mfa_challenges (expires_at);

-- How the session's user authenticated (RFC 8176 values, space-separated), kept so that a
-- refresh issues tokens that say the same.
ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT '';
