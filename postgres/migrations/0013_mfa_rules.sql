-- The smaller MFA rules. Times are microseconds since the epoch.

-- Whether the user has a second factor (a confirmed authenticator app, a passkey): kept in the transaction of every change of
-- factors, so that a sign-in's user lookup knows whether to ask for one without reading the
-- factor tables (no extra query for users without a factor).
ALTER TABLE users ADD COLUMN mfa_enabled BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE users SET mfa_enabled = TRUE WHERE id IN (SELECT user_id FROM mfa_totp WHERE confirmed_at IS NOT NULL)
    OR id IN (SELECT user_id FROM passkeys);

-- How the user had authenticated when approving (RFC 8176 values, space-separated): the grant's
-- session and its ID token (amr, acr) say the same.
ALTER TABLE oauth_codes ADD COLUMN amr TEXT NOT NULL DEFAULT '';
