-- Mirrors sqlite/migrations/0005_abuse.sql.
CREATE TABLE audit_events (
    id         TEXT COLLATE "C" PRIMARY KEY,
    at         BIGINT NOT NULL,
    type       TEXT NOT NULL,
    user_id    TEXT COLLATE "C" NOT NULL DEFAULT '',
    ip         TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    outcome    TEXT NOT NULL,
    detail     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_by_user ON audit_events (user_id, id);
CREATE INDEX audit_events_by_type ON audit_events (type, id);
-- Append-only: the database itself refuses to rewrite history.
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END $$;
CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();

CREATE TABLE rate_keys (
    key TEXT COLLATE "C" PRIMARY KEY
);
CREATE TABLE rate_events (
    key TEXT COLLATE "C" NOT NULL,
    id  TEXT COLLATE "C" NOT NULL,
    at  BIGINT NOT NULL,
    PRIMARY KEY (key, id)
);
CREATE INDEX rate_events_by_time ON rate_events (at);
