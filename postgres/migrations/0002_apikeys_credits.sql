-- Mirrors sqlite/migrations/0002_apikeys_credits.sql.
CREATE TABLE api_keys (
    id           TEXT COLLATE "C" PRIMARY KEY,
    user_id      TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    hash         BYTEA NOT NULL UNIQUE,
    scopes       TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    last_used_at BIGINT,
    use_count    BIGINT NOT NULL DEFAULT 0,
    revoked_at   BIGINT
);
CREATE INDEX api_keys_by_user ON api_keys (user_id, revoked_at);

CREATE TABLE credit_accounts (
    user_id       TEXT COLLATE "C" PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    plan          TEXT NOT NULL,
    period_start  BIGINT NOT NULL,
    period_end    BIGINT NOT NULL,
    total_credits BIGINT NOT NULL DEFAULT 0,
    used_credits  BIGINT NOT NULL DEFAULT 0,
    allow_overage BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at    BIGINT NOT NULL,
    CHECK (allow_overage OR used_credits <= total_credits)
);

CREATE TABLE credit_entries (
    id          TEXT COLLATE "C" PRIMARY KEY,
    user_id     TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    amount      BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);
CREATE INDEX credit_entries_by_user ON credit_entries (user_id, created_at);

-- A revoked key must stop working on every instance at once, not after GATEHOUSE_CACHE_TTL: the
-- same commit-time NOTIFY as for sessions (see 0001_core.sql). Usage counters update the row on
-- every flush, so only the revocation itself notifies.
CREATE TRIGGER api_keys_revoked_notify AFTER UPDATE OF revoked_at ON api_keys
    FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
    EXECUTE FUNCTION gatehouse_notify_invalidate();
CREATE TRIGGER api_keys_deleted_notify AFTER DELETE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION gatehouse_notify_invalidate();
