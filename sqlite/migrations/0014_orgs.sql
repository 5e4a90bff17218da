-- Organizations (docs/organizations.md): organizations, their members, custom roles, invitations,
-- credits; the active organization of a session; organization-owned API keys; audit events
-- filterable by organization.

CREATE TABLE orgs (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    slug             TEXT NOT NULL UNIQUE,
    auto_join_domain TEXT NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX orgs_by_auto_join_domain ON orgs (auto_join_domain) WHERE auto_join_domain <> '';

CREATE TABLE org_members (
    org_id     TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX org_members_by_user ON org_members (user_id);

CREATE TABLE org_roles (
    org_id      TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    permissions TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (org_id, name)
);

CREATE TABLE org_invitations (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    email       TEXT NOT NULL,
    role        TEXT NOT NULL,
    token_hash  BLOB NOT NULL UNIQUE,
    invited_by  TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    accepted_at INTEGER,
    accepted_by TEXT NOT NULL DEFAULT '',
    revoked_at  INTEGER
);
-- One pending invitation per address and organization.
CREATE UNIQUE INDEX org_invitations_pending ON org_invitations (org_id, email)
    WHERE accepted_at IS NULL AND revoked_at IS NULL;

CREATE TABLE org_credit_accounts (
    org_id        TEXT PRIMARY KEY REFERENCES orgs (id) ON DELETE CASCADE,
    plan          TEXT NOT NULL,
    period_start  INTEGER NOT NULL,
    period_end    INTEGER NOT NULL,
    total_credits INTEGER NOT NULL DEFAULT 0,
    used_credits  INTEGER NOT NULL DEFAULT 0,
    updated_at    INTEGER NOT NULL,
    CHECK (used_credits <= total_credits)
);

CREATE TABLE org_credit_entries (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    amount      INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
);
CREATE INDEX org_credit_entries_by_org ON org_credit_entries (org_id, created_at);

ALTER TABLE sessions ADD COLUMN org_id TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN org_role TEXT NOT NULL DEFAULT '';
CREATE INDEX sessions_by_org ON sessions (org_id, user_id) WHERE org_id <> '';

ALTER TABLE api_keys ADD COLUMN org_id TEXT NOT NULL DEFAULT '';
CREATE INDEX api_keys_by_org ON api_keys (org_id, revoked_at) WHERE org_id <> '';

ALTER TABLE audit_events ADD COLUMN org_id TEXT NOT NULL DEFAULT '';
CREATE INDEX audit_events_by_org ON audit_events (org_id, id) WHERE org_id <> '';
