-- Mirrors sqlite/migrations/0011_passkeys.sql: passkeys (WebAuthn).

CREATE TABLE passkeys (
    id              TEXT COLLATE "C" PRIMARY KEY,
    user_id         TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id   BYTEA NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    record          BYTEA NOT NULL,
    sign_count      BIGINT NOT NULL DEFAULT 0,
    backup_eligible BOOLEAN NOT NULL DEFAULT FALSE,
    backup_state    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      BIGINT NOT NULL,
    last_used_at    BIGINT
);
CREATE INDEX passkeys_by_user ON passkeys (user_id);

-- user_id is '' for a passwordless sign-in: no foreign key.
CREATE TABLE passkey_ceremonies (
    hash       BYTEA PRIMARY KEY,
    kind       TEXT NOT NULL,
    user_id    TEXT COLLATE "C" NOT NULL DEFAULT '',
    state      BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX passkey_ceremonies_by_expiry ON passkey_ceremonies (expires_at);
