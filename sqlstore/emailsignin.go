package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/gatehouse/gatehouse"
)

// Pending passwordless sign-ins by email (migration 0012): one row per user.

const emailSignInColumns = `user_id, email, code_hash, link_hash, attempts, created_at, expires_at, used_at`

func scanEmailSignIn(row rowScanner) (*gatehouse.EmailSignIn, error) {
	var s gatehouse.EmailSignIn
	var created, expires int64
	var used sql.NullInt64
	if err := row.Scan(&s.UserID, &s.Email, &s.CodeHash, &s.LinkHash, &s.Attempts, &created, &expires, &used); err != nil {
		return nil, err
	}
	s.CreatedAt, s.ExpiresAt, s.UsedAt = fromMicros(created), fromMicros(expires), fromNullMicros(used)
	return &s, nil
}

func (r reader) EmailSignInByLink(ctx context.Context, linkHash []byte) (*gatehouse.EmailSignIn, error) {
	s, err := scanEmailSignIn(r.queryRow(ctx, `SELECT `+emailSignInColumns+` FROM email_signins WHERE link_hash = ?`, linkHash))
	return s, r.s.mapErr(err)
}

// PutEmailSignIn replaces the user's pending sign-in in one statement; its attempts start again.
func (t *tx) PutEmailSignIn(ctx context.Context, s *gatehouse.EmailSignIn) error {
	_, err := t.exec(ctx, `INSERT INTO email_signins (`+emailSignInColumns+`) VALUES (?, ?, ?, ?, 0, ?, ?, NULL)
		ON CONFLICT (user_id) DO UPDATE SET email = excluded.email, code_hash = excluded.code_hash,
		link_hash = excluded.link_hash, attempts = 0, created_at = excluded.created_at,
		expires_at = excluded.expires_at, used_at = NULL`,
		s.UserID, s.Email, s.CodeHash, s.LinkHash, micros(s.CreatedAt), micros(s.ExpiresAt))
	return err
}

// TakeEmailSignInAttempt is one conditional UPDATE: PostgreSQL re-checks attempts < max on the
// row it waited for, and SQLite has one writer, so concurrent attempts never exceed max. The row
// read after it is this transaction's, still locked.
func (t *tx) TakeEmailSignInAttempt(ctx context.Context, userID string, now time.Time, max int) (*gatehouse.EmailSignIn, error) {
	if err := t.execOne(ctx, `UPDATE email_signins SET attempts = attempts + 1
		WHERE user_id = ? AND used_at IS NULL AND expires_at > ? AND attempts < ?`, userID, micros(now), max); err != nil {
		return nil, err
	}
	s, err := scanEmailSignIn(t.queryRow(ctx, `SELECT `+emailSignInColumns+` FROM email_signins WHERE user_id = ?`, userID))
	return s, t.s.mapErr(err)
}

func (t *tx) SpendEmailSignInCode(ctx context.Context, userID string, codeHash []byte, now time.Time) (*gatehouse.EmailSignIn, error) {
	if err := t.execOne(ctx, `UPDATE email_signins SET used_at = ?
		WHERE user_id = ? AND code_hash = ? AND used_at IS NULL AND expires_at > ?`, micros(now), userID, codeHash, micros(now)); err != nil {
		return nil, err
	}
	s, err := scanEmailSignIn(t.queryRow(ctx, `SELECT `+emailSignInColumns+` FROM email_signins WHERE user_id = ?`, userID))
	return s, t.s.mapErr(err)
}

func (t *tx) SpendEmailSignInLink(ctx context.Context, linkHash []byte, now time.Time, max int) (*gatehouse.EmailSignIn, error) {
	if err := t.execOne(ctx, `UPDATE email_signins SET used_at = ?
		WHERE link_hash = ? AND used_at IS NULL AND expires_at > ? AND attempts < ?`, micros(now), linkHash, micros(now), max); err != nil {
		return nil, err
	}
	s, err := scanEmailSignIn(t.queryRow(ctx, `SELECT `+emailSignInColumns+` FROM email_signins WHERE link_hash = ?`, linkHash))
	return s, t.s.mapErr(err)
}
