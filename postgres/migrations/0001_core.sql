-- Mirrors sqlite/migrations/0001_core.sql. Times are BIGINT microseconds since the epoch, as in
-- SQLite, so that sqlstore reads and writes both databases with the same code. Text keys use the
-- "C" collation so that keyset pagination (WHERE id > ? ORDER BY id) orders bytes exactly as
-- SQLite does, whatever the database's default locale.
CREATE TABLE users (
    id             TEXT COLLATE "C" PRIMARY KEY,
    email          TEXT COLLATE "C" NOT NULL UNIQUE,
    name           TEXT NOT NULL DEFAULT '',
    password_hash  TEXT NOT NULL DEFAULT '',
    email_verified BOOLEAN NOT NULL DEFAULT FALSE,
    role           TEXT NOT NULL DEFAULT 'user',
    is_active      BOOLEAN NOT NULL DEFAULT TRUE,
    avatar_url     TEXT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);

CREATE TABLE sessions (
    id           TEXT COLLATE "C" PRIMARY KEY,
    user_id      TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    user_agent   TEXT NOT NULL DEFAULT '',
    ip           TEXT NOT NULL DEFAULT '',
    revoked_at   BIGINT
);
CREATE INDEX sessions_by_user ON sessions (user_id, revoked_at);

CREATE TABLE refresh_tokens (
    hash           BYTEA PRIMARY KEY,
    session_id     TEXT COLLATE "C" NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    spent_at       BIGINT,
    successor_salt BYTEA
);
CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id);

CREATE TABLE signing_keys (
    id          TEXT COLLATE "C" PRIMARY KEY,
    algorithm   TEXT NOT NULL,
    private_key BYTEA NOT NULL,
    created_at  BIGINT NOT NULL
);

-- Other instances keep sessions and users in memory for up to GATEHOUSE_CACHE_TTL. These
-- triggers tell them at commit (NOTIFY is transactional: a rolled-back change sends nothing)
-- that a session was revoked or a user changed, so they drop their caches at once instead of
-- waiting for the TTL. Only revocations notify: a refresh touches its session on every call, and
-- invalidating every instance's cache on each would defeat the cache.
CREATE FUNCTION gatehouse_notify_invalidate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('gatehouse_invalidate', TG_TABLE_NAME || ':' || OLD.id);
        RETURN OLD;
    END IF;
    PERFORM pg_notify('gatehouse_invalidate', TG_TABLE_NAME || ':' || NEW.id);
    RETURN NEW;
END
$$;

CREATE TRIGGER sessions_revoked_notify AFTER UPDATE OF revoked_at ON sessions
    FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
    EXECUTE FUNCTION gatehouse_notify_invalidate();
CREATE TRIGGER sessions_deleted_notify AFTER DELETE ON sessions
    FOR EACH ROW EXECUTE FUNCTION gatehouse_notify_invalidate();

-- A login that upgrades a password hash also updates the user; it changes nothing a cache
-- holds that matters, but it is rare enough not to be worth excluding.
CREATE TRIGGER users_changed_notify AFTER UPDATE ON users
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*)
    EXECUTE FUNCTION gatehouse_notify_invalidate();
CREATE TRIGGER users_deleted_notify AFTER DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION gatehouse_notify_invalidate();
