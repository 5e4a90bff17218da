-- Mirrors sqlite/migrations/0007_machine.sql: times are BIGINT microseconds since the epoch.

-- A client that authenticates with private_key_jwt keeps its public keys (a JWK set, JSON) or the
-- https URL they are fetched from; a client_credentials client keeps the scopes an admin granted it.
ALTER TABLE oauth_clients ADD COLUMN jwks TEXT NOT NULL DEFAULT '';
ALTER TABLE oauth_clients ADD COLUMN jwks_uri TEXT NOT NULL DEFAULT '';
ALTER TABLE oauth_clients ADD COLUMN scopes TEXT NOT NULL DEFAULT '[]';   -- JSON array

-- The jti of every client assertion accepted, until the assertion expires: the primary key is
-- what refuses a replay, on every instance sharing the database.
CREATE TABLE oauth_assertion_jtis (
    client_id  TEXT COLLATE "C" NOT NULL,
    jti        TEXT COLLATE "C" NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (client_id, jti)
);
CREATE INDEX oauth_assertion_jtis_by_expiry ON oauth_assertion_jtis (expires_at);

-- One row per access token issued through client credentials: the token's "sid". It has no user,
-- so it is not a session; introspection and revocation read and write it. Swept once expired.
CREATE TABLE oauth_machine_sessions (
    id         TEXT COLLATE "C" PRIMARY KEY,
    client_id  TEXT COLLATE "C" NOT NULL,
    resource   TEXT NOT NULL,
    scope      TEXT NOT NULL,
    ip         TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX oauth_machine_sessions_by_client ON oauth_machine_sessions (client_id);
CREATE INDEX oauth_machine_sessions_by_expiry ON oauth_machine_sessions (expires_at);
