package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/gatehouse/gatehouse"
)

const emailTokenColumns = `hash, purpose, user_id, email, created_at, expires_at, used_at, resend`

func (r reader) EmailTokenByHash(ctx context.Context, hash []byte) (*gatehouse.EmailToken, error) {
	var t gatehouse.EmailToken
	var purpose string
	var created, expires int64
	var used sql.NullInt64
	err := r.queryRow(ctx, `SELECT `+emailTokenColumns+` FROM email_tokens WHERE hash = ?`, hash).
		Scan(&t.Hash, &purpose, &t.UserID, &t.Email, &created, &expires, &used, &t.Resend)
	if err != nil {
		return nil, r.s.mapErr(err)
	}
	t.Purpose = gatehouse.EmailPurpose(purpose)
	t.CreatedAt, t.ExpiresAt, t.UsedAt = fromMicros(created), fromMicros(expires), fromNullMicros(used)
	return &t, nil
}

func (r reader) LastResendAt(ctx context.Context, userID string) (time.Time, error) {
	var last sql.NullInt64
	err := r.queryRow(ctx, `SELECT MAX(created_at) FROM email_tokens WHERE user_id = ? AND purpose = ? AND resend = ?`,
		userID, string(gatehouse.PurposeVerify), true).Scan(&last)
	if err != nil {
		return time.Time{}, r.s.mapErr(err)
	}
	if !last.Valid {
		return time.Time{}, gatehouse.ErrNotFound
	}
	return fromMicros(last.Int64), nil
}

func (t *tx) CreateEmailToken(ctx context.Context, et *gatehouse.EmailToken) error {
	_, err := t.exec(ctx, `INSERT INTO email_tokens (`+emailTokenColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		et.Hash, string(et.Purpose), et.UserID, et.Email, micros(et.CreatedAt), micros(et.ExpiresAt), nullMicros(et.UsedAt), et.Resend)
	return err
}

// UseEmailToken is one conditional UPDATE: the database, not a read before it, decides which of
// concurrent redemptions wins (PostgreSQL re-checks the WHERE clause after the row lock is granted).
func (t *tx) UseEmailToken(ctx context.Context, hash []byte, at time.Time) error {
	return t.execOne(ctx, `UPDATE email_tokens SET used_at = ? WHERE hash = ? AND used_at IS NULL AND expires_at > ?`,
		micros(at), hash, micros(at))
}

func (t *tx) DeleteEmailTokens(ctx context.Context, userID string, purpose gatehouse.EmailPurpose, keepHash []byte) error {
	if keepHash == nil {
		keepHash = []byte{}
	}
	_, err := t.exec(ctx, `DELETE FROM email_tokens WHERE user_id = ? AND purpose = ? AND used_at IS NULL AND hash <> ?`,
		userID, string(purpose), keepHash)
	return err
}

func (t *tx) SetEmailVerified(ctx context.Context, userID, email string, at time.Time) error {
	return t.execOne(ctx, `UPDATE users SET email_verified = ?, updated_at = ? WHERE id = ? AND email = ?`,
		true, micros(at), userID, email)
}
