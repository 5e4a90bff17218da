-- Mirrors sqlite/migrations/0008_device.sql: times are BIGINT microseconds since the epoch.
CREATE TABLE oauth_device_codes (
    hash            BYTEA PRIMARY KEY,                -- SHA-256 of the device_code
    user_code_hash  BYTEA NOT NULL,                   -- SHA-256 of the normalised user_code
    client_id       TEXT COLLATE "C" NOT NULL,
    resource        TEXT COLLATE "C" NOT NULL,
    scope           TEXT NOT NULL,                    -- space-separated, sorted
    userinfo        BIGINT NOT NULL DEFAULT 0,        -- 1: the tokens may read /oauth2/userinfo
    key_name        TEXT NOT NULL DEFAULT '',         -- an API key asked for ('' : none)
    key_scope       TEXT NOT NULL DEFAULT '',
    key_days        BIGINT NOT NULL DEFAULT 0,
    requester_ip    TEXT NOT NULL DEFAULT '',
    requester_agent TEXT NOT NULL DEFAULT '',
    interval_micros BIGINT NOT NULL,                  -- raised by slow_down
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    polled_at       BIGINT,
    status          TEXT NOT NULL,                    -- pending | approved | denied
    user_id         TEXT COLLATE "C" NOT NULL DEFAULT '',
    grant_id        TEXT COLLATE "C" NOT NULL DEFAULT '',
    approver        TEXT COLLATE "C" NOT NULL DEFAULT '',
    auth_time       BIGINT NOT NULL DEFAULT 0,
    decided_at      BIGINT,
    used_at         BIGINT,
    session_id      TEXT COLLATE "C" NOT NULL DEFAULT '',
    key_id          TEXT COLLATE "C" NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX oauth_device_codes_by_user_code ON oauth_device_codes (user_code_hash);
CREATE INDEX oauth_device_codes_by_expiry ON oauth_device_codes (expires_at);
