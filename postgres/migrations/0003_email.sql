-- Mirrors sqlite/migrations/0003_email.sql: times are BIGINT microseconds since the epoch, text
-- keys use the "C" collation as in 0001.
CREATE TABLE email_tokens (
    hash       BYTEA PRIMARY KEY,
    purpose    TEXT NOT NULL,
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email      TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT,
    resend     BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX email_tokens_by_user ON email_tokens (user_id, purpose, created_at);
CREATE INDEX email_tokens_by_expiry ON email_tokens (expires_at);

-- Claimed by several instances at once with SELECT ... FOR UPDATE SKIP LOCKED; secret is sealed
-- under a key outside the database and erased once the message is sent or given up.
CREATE TABLE email_outbox (
    id              TEXT COLLATE "C" PRIMARY KEY,
    kind            TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    text_body       TEXT NOT NULL,
    html_body       TEXT NOT NULL,
    secret          BYTEA,
    key_id          TEXT NOT NULL DEFAULT '',
    expires_at      BIGINT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    sent_at         BIGINT,
    failed_at       BIGINT,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL
);
CREATE INDEX email_outbox_due ON email_outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX email_outbox_finished ON email_outbox (sent_at, failed_at);
