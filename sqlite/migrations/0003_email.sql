-- Email verification and password reset. A token is stored as its SHA-256 only, with the address
-- it was sent to: redeeming it requires the account to still have that address.
CREATE TABLE email_tokens (
    hash       BLOB PRIMARY KEY,
    purpose    TEXT NOT NULL,              -- 'verify' or 'reset'
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    resend     INTEGER NOT NULL DEFAULT 0  -- asked for through the resend endpoint (its rate limit)
);
CREATE INDEX email_tokens_by_user ON email_tokens (user_id, purpose, created_at);
CREATE INDEX email_tokens_by_expiry ON email_tokens (expires_at);

-- The outbox: each email is written in the transaction of the change it reports, and a worker
-- sends it. Bodies hold a marker in place of a link's token; the token is in secret, sealed with
-- AES-256-GCM under a key kept outside the database (key_id names it), and erased once the
-- message is sent or given up.
CREATE TABLE email_outbox (
    id              TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    text_body       TEXT NOT NULL,
    html_body       TEXT NOT NULL,
    secret          BLOB,
    key_id          TEXT NOT NULL DEFAULT '',
    expires_at      INTEGER,                   -- the link's expiry: a message is pointless after it
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,          -- also the end of a worker's lease while it sends
    sent_at         INTEGER,
    failed_at       INTEGER,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL
);
CREATE INDEX email_outbox_due ON email_outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX email_outbox_finished ON email_outbox (sent_at, failed_at);
