-- Mirrors sqlite/migrations/0010_mfa.sql: multi-factor authentication.

CREATE TABLE mfa_totp (
    user_id      TEXT COLLATE "C" PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret       BYTEA NOT NULL,
    created_at   BIGINT NOT NULL,
    confirmed_at BIGINT,
    last_step    BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE mfa_recovery_codes (
    hash       BYTEA PRIMARY KEY,
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX mfa_recovery_codes_by_user ON mfa_recovery_codes (user_id);

CREATE TABLE mfa_challenges (
    hash       BYTEA PRIMARY KEY,
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    amr        TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX mfa_challenges_by_expiry ON mfa_challenges (expires_at);

ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT '';
