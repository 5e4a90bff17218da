-- Mirrors sqlite/migrations/0009_exchange.sql: token exchange (RFC 8693) and delegation.

-- A grant is either an authorization (the consent page of /oauth2/authorize) or a delegation (the
-- user let an agent act for them through token exchange, on /oauth2/delegate). One of each may
-- exist per user, client and resource.
ALTER TABLE oauth_grants ADD COLUMN kind TEXT COLLATE "C" NOT NULL DEFAULT 'authorization';
DROP INDEX oauth_grants_by_key;
CREATE UNIQUE INDEX oauth_grants_by_key ON oauth_grants (user_id, client_id, resource, kind);

-- A session issued by a token exchange names what it was exchanged from: the session of the
-- subject token (it stands only while that one does), or the API key (revoking the key revokes
-- it); and the actor chain of a delegation (the JSON of the token's "act" claim).
ALTER TABLE sessions ADD COLUMN parent_id TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN subject_key_id TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN act TEXT NOT NULL DEFAULT '';
CREATE INDEX sessions_by_subject_key ON sessions (subject_key_id) WHERE subject_key_id <> '';
