-- OAuth consent for an organization: a grant names the organization the user consented for
-- (empty: personal). One authorization grant may exist per user, client, resource and
-- organization, so consenting for one organization never stands for another.
ALTER TABLE oauth_grants ADD COLUMN org_id TEXT NOT NULL DEFAULT '';
DROP INDEX oauth_grants_by_key;
CREATE UNIQUE INDEX oauth_grants_by_key ON oauth_grants (user_id, client_id, resource, kind, org_id);
