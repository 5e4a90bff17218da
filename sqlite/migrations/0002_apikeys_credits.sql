CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    hash         BLOB NOT NULL UNIQUE,
    scopes       TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    last_used_at INTEGER,
    use_count    INTEGER NOT NULL DEFAULT 0,
    revoked_at   INTEGER
);
CREATE INDEX api_keys_by_user ON api_keys (user_id, revoked_at);

CREATE TABLE credit_accounts (
    user_id       TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    plan          TEXT NOT NULL,
    period_start  INTEGER NOT NULL,
    period_end    INTEGER NOT NULL,
    total_credits INTEGER NOT NULL DEFAULT 0,
    used_credits  INTEGER NOT NULL DEFAULT 0,
    allow_overage INTEGER NOT NULL DEFAULT 0,
    updated_at    INTEGER NOT NULL,
    CHECK (allow_overage = 1 OR used_credits <= total_credits)
);

CREATE TABLE credit_entries (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    amount      INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
);
CREATE INDEX credit_entries_by_user ON credit_entries (user_id, created_at);
