package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/gatehouse/gatehouse"
)

// Second factors (migration 0010).

func (r reader) TOTPFactorOf(ctx context.Context, userID string) (*gatehouse.TOTPFactor, error) {
	var f gatehouse.TOTPFactor
	var created int64
	var confirmed sql.NullInt64
	err := r.queryRow(ctx, `SELECT user_id, secret, created_at, confirmed_at, last_step FROM mfa_totp WHERE user_id = ?`, userID).
		Scan(&f.UserID, &f.Secret, &created, &confirmed, &f.LastStep)
	if err != nil {
		return nil, r.s.mapErr(err)
	}
	f.CreatedAt, f.ConfirmedAt = fromMicros(created), fromNullMicros(confirmed)
	return &f, nil
}

func (r reader) RecoveryCodesLeft(ctx context.Context, userID string) (int, error) {
	var n int
	err := r.queryRow(ctx, `SELECT COUNT(*) FROM mfa_recovery_codes WHERE user_id = ? AND used_at IS NULL`, userID).Scan(&n)
	return n, r.s.mapErr(err)
}

const mfaChallengeColumns = `hash, user_id, amr, created_at, expires_at, used_at`

func scanMFAChallenge(row rowScanner) (*gatehouse.MFAChallenge, error) {
	var c gatehouse.MFAChallenge
	var created, expires int64
	var used sql.NullInt64
	if err := row.Scan(&c.Hash, &c.UserID, &c.AMR, &created, &expires, &used); err != nil {
		return nil, err
	}
	c.CreatedAt, c.ExpiresAt, c.UsedAt = fromMicros(created), fromMicros(expires), fromNullMicros(used)
	return &c, nil
}

func (r reader) MFAChallengeByHash(ctx context.Context, hash []byte) (*gatehouse.MFAChallenge, error) {
	c, err := scanMFAChallenge(r.queryRow(ctx, `SELECT `+mfaChallengeColumns+` FROM mfa_challenges WHERE hash = ?`, hash))
	return c, r.s.mapErr(err)
}

func (t *tx) PutTOTPFactor(ctx context.Context, f *gatehouse.TOTPFactor) error {
	if _, err := t.exec(ctx, `DELETE FROM mfa_totp WHERE user_id = ?`, f.UserID); err != nil {
		return err
	}
	if _, err := t.exec(ctx, `INSERT INTO mfa_totp (user_id, secret, created_at, confirmed_at, last_step) VALUES (?, ?, ?, ?, ?)`,
		f.UserID, f.Secret, micros(f.CreatedAt), nullMicros(f.ConfirmedAt), f.LastStep); err != nil {
		return err
	}
	return t.syncMFAEnabled(ctx, f.UserID)
}

// syncMFAEnabled sets users.mfa_enabled (migration 0013) from the factor tables, in the
// transaction of the change of factors: the one place that knows what counts as a second factor
// (a confirmed TOTP factor, a passkey), with SecondFactorsOf.
func (t *tx) syncMFAEnabled(ctx context.Context, userID string) error {
	_, err := t.exec(ctx, `UPDATE users SET mfa_enabled = (
		EXISTS (SELECT 1 FROM mfa_totp WHERE user_id = ? AND confirmed_at IS NOT NULL)
		OR EXISTS (SELECT 1 FROM passkeys WHERE user_id = ?)) WHERE id = ?`, userID, userID, userID)
	return err
}

func (r reader) SecondFactorsOf(ctx context.Context, userID string) (totp, passkeys bool, err error) {
	err = r.queryRow(ctx, `SELECT
		EXISTS (SELECT 1 FROM mfa_totp WHERE user_id = ? AND confirmed_at IS NOT NULL),
		EXISTS (SELECT 1 FROM passkeys WHERE user_id = ?)`, userID, userID).Scan(&totp, &passkeys)
	return totp, passkeys, r.s.mapErr(err)
}

// UseTOTPStep is one conditional UPDATE: the database decides which of concurrent uses of one
// code wins (PostgreSQL re-checks the WHERE clause once the row lock is granted).
func (t *tx) UseTOTPStep(ctx context.Context, userID string, step int64, confirmAt *time.Time) error {
	if confirmAt != nil {
		if err := t.execOne(ctx, `UPDATE mfa_totp SET last_step = ?, confirmed_at = ? WHERE user_id = ? AND last_step < ? AND confirmed_at IS NULL`,
			step, micros(*confirmAt), userID, step); err != nil {
			return err
		}
		return t.syncMFAEnabled(ctx, userID)
	}
	return t.execOne(ctx, `UPDATE mfa_totp SET last_step = ? WHERE user_id = ? AND last_step < ? AND confirmed_at IS NOT NULL`,
		step, userID, step)
}

func (t *tx) DeleteMFAFactors(ctx context.Context, userID string) (bool, error) {
	res, err := t.exec(ctx, `DELETE FROM mfa_totp WHERE user_id = ?`, userID)
	if err != nil {
		return false, err
	}
	n1, err := res.RowsAffected()
	if err != nil {
		return false, t.s.mapErr(err)
	}
	if res, err = t.exec(ctx, `DELETE FROM mfa_recovery_codes WHERE user_id = ?`, userID); err != nil {
		return false, err
	}
	n2, err := res.RowsAffected()
	if err != nil {
		return false, t.s.mapErr(err)
	}
	if _, err := t.exec(ctx, `DELETE FROM mfa_challenges WHERE user_id = ?`, userID); err != nil {
		return false, err
	}
	return n1+n2 > 0, t.syncMFAEnabled(ctx, userID)
}

func (t *tx) ReplaceRecoveryCodes(ctx context.Context, userID string, hashes [][]byte, at time.Time) error {
	if _, err := t.exec(ctx, `DELETE FROM mfa_recovery_codes WHERE user_id = ?`, userID); err != nil {
		return err
	}
	for _, h := range hashes {
		if _, err := t.exec(ctx, `INSERT INTO mfa_recovery_codes (hash, user_id, created_at) VALUES (?, ?, ?)`, h, userID, micros(at)); err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) UseRecoveryCode(ctx context.Context, userID string, hash []byte, at time.Time) error {
	return t.execOne(ctx, `UPDATE mfa_recovery_codes SET used_at = ? WHERE hash = ? AND user_id = ? AND used_at IS NULL`,
		micros(at), hash, userID)
}

func (t *tx) CreateMFAChallenge(ctx context.Context, c *gatehouse.MFAChallenge) error {
	// Challenges nobody answered are of no use once expired; each new one clears its user's.
	if _, err := t.exec(ctx, `DELETE FROM mfa_challenges WHERE user_id = ? AND expires_at <= ?`, c.UserID, micros(c.CreatedAt)); err != nil {
		return err
	}
	_, err := t.exec(ctx, `INSERT INTO mfa_challenges (`+mfaChallengeColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
		c.Hash, c.UserID, c.AMR, micros(c.CreatedAt), micros(c.ExpiresAt), nullMicros(c.UsedAt))
	return err
}

func (t *tx) SpendMFAChallenge(ctx context.Context, hash []byte, now time.Time) (*gatehouse.MFAChallenge, error) {
	if err := t.execOne(ctx, `UPDATE mfa_challenges SET used_at = ? WHERE hash = ? AND used_at IS NULL AND expires_at > ?`,
		micros(now), hash, micros(now)); err != nil {
		return nil, err
	}
	c, err := scanMFAChallenge(t.queryRow(ctx, `SELECT `+mfaChallengeColumns+` FROM mfa_challenges WHERE hash = ?`, hash))
	return c, t.s.mapErr(err)
}
