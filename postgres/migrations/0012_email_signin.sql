-- Mirrors sqlite/migrations/0012_email_signin.sql: passwordless sign-in by email.

CREATE TABLE email_signins (
    user_id    TEXT COLLATE "C" PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    email      TEXT NOT NULL,
    code_hash  BYTEA NOT NULL,
    link_hash  BYTEA NOT NULL UNIQUE,
    attempts   INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX email_signins_by_expiry ON email_signins (expires_at);
