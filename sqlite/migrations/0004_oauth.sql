-- Social sign-in. An identity is keyed by the provider's own user id, never by email, so that an
-- address changed at the provider neither forks nor merges accounts; a user has at most one
-- identity per provider.
CREATE TABLE identities (
    provider         TEXT NOT NULL,
    provider_user_id TEXT NOT NULL,
    user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email            TEXT NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL,
    last_used_at     INTEGER NOT NULL,
    PRIMARY KEY (provider, provider_user_id)
);
CREATE UNIQUE INDEX identities_by_user ON identities (user_id, provider);

-- One row per authorization request: the hash of the state handed to the client, and the salt
-- that derives, with the plain state, the PKCE verifier and the OIDC nonce (wiped on use).
CREATE TABLE oauth_states (
    hash         BLOB PRIMARY KEY,
    provider     TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    salt         BLOB,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    used_at      INTEGER
);
CREATE INDEX oauth_states_by_expiry ON oauth_states (expires_at);
