-- Mirrors sqlite/migrations/0016_oauth_org.sql: a grant names the organization the user
-- consented for (empty: personal); one authorization grant per user, client, resource and
-- organization.
ALTER TABLE oauth_grants ADD COLUMN org_id TEXT COLLATE "C" NOT NULL DEFAULT '';
DROP INDEX oauth_grants_by_key;
CREATE UNIQUE INDEX oauth_grants_by_key ON oauth_grants (user_id, client_id, resource, kind, org_id);
