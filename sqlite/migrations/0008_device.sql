-- Device authorization (RFC 8628): a device (a CLI, an agent in a container) asks for a code, the
-- user approves it on /device, the device polls the token endpoint. Only hashes of the device code
-- and of the user code are kept. Times are microseconds since the epoch.
CREATE TABLE oauth_device_codes (
    hash            BLOB PRIMARY KEY,                 -- SHA-256 of the device_code
    user_code_hash  BLOB NOT NULL,                    -- SHA-256 of the normalised user_code
    client_id       TEXT NOT NULL,
    resource        TEXT NOT NULL,
    scope           TEXT NOT NULL,                    -- space-separated, sorted
    userinfo        INTEGER NOT NULL DEFAULT 0,       -- 1: the tokens may read /oauth2/userinfo
    key_name        TEXT NOT NULL DEFAULT '',         -- an API key asked for ('' : none)
    key_scope       TEXT NOT NULL DEFAULT '',
    key_days        INTEGER NOT NULL DEFAULT 0,
    requester_ip    TEXT NOT NULL DEFAULT '',
    requester_agent TEXT NOT NULL DEFAULT '',
    interval_micros INTEGER NOT NULL,                 -- raised by slow_down
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    polled_at       INTEGER,
    status          TEXT NOT NULL,                    -- pending | approved | denied
    user_id         TEXT NOT NULL DEFAULT '',
    grant_id        TEXT NOT NULL DEFAULT '',
    approver        TEXT NOT NULL DEFAULT '',         -- the dashboard session that approved
    auth_time       INTEGER NOT NULL DEFAULT 0,
    decided_at      INTEGER,
    used_at         INTEGER,
    session_id      TEXT NOT NULL DEFAULT '',         -- the session the code issued
    key_id          TEXT NOT NULL DEFAULT ''          -- the API key it minted
);
CREATE UNIQUE INDEX oauth_device_codes_by_user_code ON oauth_device_codes (user_code_hash);
CREATE INDEX oauth_device_codes_by_expiry ON oauth_device_codes (expires_at);
