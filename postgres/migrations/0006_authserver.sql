-- Mirrors sqlite/migrations/0006_authserver.sql: times are BIGINT microseconds since the epoch.

-- Pre-registered (the command line, the admin API) and dynamically registered (RFC 7591) clients.
-- Clients identified by a metadata document URL are not stored: their document is the record.
CREATE TABLE oauth_clients (
    id                   TEXT COLLATE "C" PRIMARY KEY,
    kind                 TEXT NOT NULL,              -- registered | dynamic
    name                 TEXT NOT NULL,
    secret_hash          BYTEA,                       -- SHA-256 of the secret; NULL for public clients
    redirect_uris        TEXT NOT NULL,              -- JSON array
    grant_types          TEXT NOT NULL,              -- JSON array
    auth_method          TEXT NOT NULL,              -- none | client_secret_basic | client_secret_post
    client_uri           TEXT NOT NULL DEFAULT '',
    logo_uri             TEXT NOT NULL DEFAULT '',
    refresh_reuse_micros BIGINT,                    -- per-client retry window; NULL: the server's
    created_by           TEXT NOT NULL DEFAULT '',
    created_at           BIGINT NOT NULL,
    revoked_at           BIGINT
);

-- Protected resources (RFC 8707), registered by the operator.
CREATE TABLE oauth_resources (
    uri        TEXT COLLATE "C" PRIMARY KEY,
    name       TEXT NOT NULL,
    scopes     TEXT NOT NULL,                        -- JSON array of {name, description}
    created_at BIGINT NOT NULL
);

-- A user's consent to one client for one resource: the grant the user sees and can revoke.
CREATE TABLE oauth_grants (
    id         TEXT COLLATE "C" PRIMARY KEY,
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id  TEXT COLLATE "C" NOT NULL,
    client_name TEXT NOT NULL DEFAULT '',             -- as the user saw it on the consent page
    resource   TEXT COLLATE "C" NOT NULL,
    scope      TEXT NOT NULL,                        -- space-separated, sorted
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX oauth_grants_by_key ON oauth_grants (user_id, client_id, resource);
CREATE INDEX oauth_grants_by_client ON oauth_grants (client_id);

-- Authorization codes: only the hash is kept; single use; the session a code issued is kept to
-- revoke it when the code is presented again.
CREATE TABLE oauth_codes (
    hash           BYTEA PRIMARY KEY,
    grant_id       TEXT COLLATE "C" NOT NULL,
    client_id      TEXT COLLATE "C" NOT NULL,
    user_id        TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri   TEXT NOT NULL,
    challenge      TEXT NOT NULL,
    resource       TEXT COLLATE "C" NOT NULL,
    scope          TEXT NOT NULL,
    nonce          TEXT NOT NULL DEFAULT '',
    auth_time      BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    used_at        BIGINT,
    session_id     TEXT COLLATE "C" NOT NULL DEFAULT '',
    approver       TEXT COLLATE "C" NOT NULL DEFAULT '',  -- the dashboard session that approved; it must still stand at exchange
    userinfo       BIGINT NOT NULL DEFAULT 0    -- 1: the tokens may read /oauth2/userinfo
);
CREATE INDEX oauth_codes_by_expiry ON oauth_codes (expires_at);

-- A session issued to an OAuth client carries its client, grant, resource and scope; first-party
-- sessions leave them empty.
ALTER TABLE sessions ADD COLUMN client_id TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN grant_id TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN resource TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN scope TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN auth_time BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN userinfo BIGINT NOT NULL DEFAULT 0;
CREATE INDEX sessions_by_grant ON sessions (grant_id) WHERE grant_id <> '';
CREATE INDEX sessions_by_client ON sessions (client_id) WHERE client_id <> '';
