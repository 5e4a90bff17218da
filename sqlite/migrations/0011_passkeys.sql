-- Passkeys (WebAuthn). Times are microseconds since the epoch.

-- A registered credential. credential_id is the authenticator's id for it (unique across users:
-- a passwordless sign-in finds its user from it). record is the WebAuthn edge's encoding of the
-- credential (public key, flags, attestation format: nothing secret); sign_count and
-- backup_state change with every use.
CREATE TABLE passkeys (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id   BLOB NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    record          BLOB NOT NULL,
    sign_count      INTEGER NOT NULL DEFAULT 0,
    backup_eligible INTEGER NOT NULL DEFAULT 0,
    backup_state    INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    last_used_at    INTEGER
);
CREATE INDEX passkeys_by_user ON passkeys (user_id);

-- A ceremony in progress: the challenge sent to the browser and what it is bound to, under the
-- SHA-256 of a random id (or of the mfa_token it belongs to). Single use (spending deletes it),
-- five minutes.
CREATE TABLE passkey_ceremonies (
    hash       BLOB PRIMARY KEY,
    kind       TEXT NOT NULL,
    user_id    TEXT NOT NULL DEFAULT '',
    state      BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX passkey_ceremonies_by_expiry ON passkey_ceremonies (expires_at);
