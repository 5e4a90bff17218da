-- Mirrors sqlite/migrations/0004_oauth.sql: times are BIGINT microseconds since the epoch, text
-- keys use the "C" collation as in 0001.
CREATE TABLE identities (
    provider         TEXT COLLATE "C" NOT NULL,
    provider_user_id TEXT COLLATE "C" NOT NULL,
    user_id          TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email            TEXT NOT NULL DEFAULT '',
    created_at       BIGINT NOT NULL,
    last_used_at     BIGINT NOT NULL,
    PRIMARY KEY (provider, provider_user_id)
);
CREATE UNIQUE INDEX identities_by_user ON identities (user_id, provider);

CREATE TABLE oauth_states (
    hash         BYTEA PRIMARY KEY,
    provider     TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    salt         BYTEA,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT
);
CREATE INDEX oauth_states_by_expiry ON oauth_states (expires_at);
