-- Mirrors sqlite/migrations/0014_orgs.sql: organizations (docs/organizations.md).

CREATE TABLE orgs (
    id               TEXT COLLATE "C" PRIMARY KEY,
    name             TEXT NOT NULL,
    slug             TEXT COLLATE "C" NOT NULL UNIQUE,
    auto_join_domain TEXT COLLATE "C" NOT NULL DEFAULT '',
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX orgs_by_auto_join_domain ON orgs (auto_join_domain) WHERE auto_join_domain <> '';

CREATE TABLE org_members (
    org_id     TEXT COLLATE "C" NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX org_members_by_user ON org_members (user_id);

CREATE TABLE org_roles (
    org_id      TEXT COLLATE "C" NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name        TEXT COLLATE "C" NOT NULL,
    permissions TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (org_id, name)
);

CREATE TABLE org_invitations (
    id          TEXT COLLATE "C" PRIMARY KEY,
    org_id      TEXT COLLATE "C" NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    email       TEXT COLLATE "C" NOT NULL,
    role        TEXT COLLATE "C" NOT NULL,
    token_hash  BYTEA NOT NULL UNIQUE,
    invited_by  TEXT COLLATE "C" NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    accepted_at BIGINT,
    accepted_by TEXT COLLATE "C" NOT NULL DEFAULT '',
    revoked_at  BIGINT
);
CREATE UNIQUE INDEX org_invitations_pending ON org_invitations (org_id, email)
    WHERE accepted_at IS NULL AND revoked_at IS NULL;

CREATE TABLE org_credit_accounts (
    org_id        TEXT COLLATE "C" PRIMARY KEY REFERENCES orgs (id) ON DELETE CASCADE,
    plan          TEXT NOT NULL,
    period_start  BIGINT NOT NULL,
    period_end    BIGINT NOT NULL,
    total_credits BIGINT NOT NULL DEFAULT 0,
    used_credits  BIGINT NOT NULL DEFAULT 0,
    updated_at    BIGINT NOT NULL,
    CHECK (used_credits <= total_credits)
);

CREATE TABLE org_credit_entries (
    id          TEXT COLLATE "C" PRIMARY KEY,
    org_id      TEXT COLLATE "C" NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    amount      BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);
CREATE INDEX org_credit_entries_by_org ON org_credit_entries (org_id, created_at);

ALTER TABLE sessions ADD COLUMN org_id TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN org_role TEXT COLLATE "C" NOT NULL DEFAULT '';
CREATE INDEX sessions_by_org ON sessions (org_id, user_id) WHERE org_id <> '';

-- A session's access tokens carry its organization and role; when a removal or a role change
-- rewrites them, other instances must drop the session from their caches at once, as for a
-- revocation (0001_core.sql).
CREATE TRIGGER sessions_org_changed_notify AFTER UPDATE OF org_id, org_role ON sessions
    FOR EACH ROW WHEN (OLD.org_id IS DISTINCT FROM NEW.org_id OR OLD.org_role IS DISTINCT FROM NEW.org_role)
    EXECUTE FUNCTION gatehouse_notify_invalidate();

ALTER TABLE api_keys ADD COLUMN org_id TEXT COLLATE "C" NOT NULL DEFAULT '';
CREATE INDEX api_keys_by_org ON api_keys (org_id, revoked_at) WHERE org_id <> '';

ALTER TABLE audit_events ADD COLUMN org_id TEXT COLLATE "C" NOT NULL DEFAULT '';
CREATE INDEX audit_events_by_org ON audit_events (org_id, id) WHERE org_id <> '';
