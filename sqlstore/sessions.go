package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/gatehouse/gatehouse"
)

const sessionColumns = `id, user_id, created_at, last_used_at, expires_at, user_agent, ip, revoked_at`

func scanSession(row rowScanner) (*gatehouse.Session, error) {
	var s gatehouse.Session
	var created, used, expires int64
	var revoked sql.NullInt64
	if err := row.Scan(&s.ID, &s.UserID, &created, &used, &expires, &s.UserAgent, &s.IP, &revoked); err != nil {
		return nil, err
	}
	s.CreatedAt, s.LastUsedAt, s.ExpiresAt = fromMicros(created), fromMicros(used), fromMicros(expires)
	s.RevokedAt = fromNullMicros(revoked)
	return &s, nil
}

func (r reader) SessionByID(ctx context.Context, id string) (*gatehouse.Session, error) {
	s, err := scanSession(r.queryRow(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE id = ?`, id))
	return s, r.s.mapErr(err)
}

func (r reader) ListActiveSessions(ctx context.Context, userID string, now time.Time) ([]*gatehouse.Session, error) {
	rows, err := r.query(ctx, `SELECT `+sessionColumns+` FROM sessions
		WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ? ORDER BY created_at DESC, id DESC`, userID, micros(now))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*gatehouse.Session
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, r.s.mapErr(err)
		}
		out = append(out, s)
	}
	return out, r.s.mapErr(rows.Err())
}

func (t *tx) CreateSession(ctx context.Context, s *gatehouse.Session) error {
	_, err := t.exec(ctx, `INSERT INTO sessions (`+sessionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.UserID, micros(s.CreatedAt), micros(s.LastUsedAt), micros(s.ExpiresAt), s.UserAgent, s.IP, nullMicros(s.RevokedAt))
	return err
}

func (t *tx) LockRefreshToken(ctx context.Context, hash []byte) (*gatehouse.RefreshToken, *gatehouse.Session, *gatehouse.User, error) {
	// Both rows are locked: waiting for them makes PostgreSQL return their latest committed
	// versions, so a token spent by a concurrent refresh is seen spent, with no second read.
	lock := ""
	if t.s.dialect.ForUpdate != "" {
		lock = t.s.dialect.ForUpdate + " OF s, r"
	}
	return t.refreshTokenSession(ctx, hash, lock)
}

func (r reader) RefreshTokenSession(ctx context.Context, hash []byte) (*gatehouse.RefreshToken, *gatehouse.Session, *gatehouse.User, error) {
	return r.refreshTokenSession(ctx, hash, "")
}

func (r reader) refreshTokenSession(ctx context.Context, hash []byte, lock string) (*gatehouse.RefreshToken, *gatehouse.Session, *gatehouse.User, error) {
	row := r.queryRow(ctx, `SELECT r.hash, r.session_id, r.created_at, r.expires_at, r.spent_at, r.successor_salt,
		s.id, s.user_id, s.created_at, s.last_used_at, s.expires_at, s.user_agent, s.ip, s.revoked_at,
		u.id, u.email, u.name, u.password_hash, u.email_verified, u.role, u.is_active, u.avatar_url, u.created_at, u.updated_at
		FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id JOIN users u ON u.id = s.user_id
		WHERE r.hash = ?`+lock, hash)
	var rt gatehouse.RefreshToken
	var sess gatehouse.Session
	var u gatehouse.User
	var rCreated, rExpires, sCreated, sUsed, sExpires, uCreated, uUpdated int64
	var spent, revoked sql.NullInt64
	var avatar sql.NullString
	err := row.Scan(&rt.Hash, &rt.SessionID, &rCreated, &rExpires, &spent, &rt.SuccessorSalt,
		&sess.ID, &sess.UserID, &sCreated, &sUsed, &sExpires, &sess.UserAgent, &sess.IP, &revoked,
		&u.ID, &u.Email, &u.Name, &u.PasswordHash, &u.EmailVerified, &u.Role, &u.IsActive, &avatar, &uCreated, &uUpdated)
	if err != nil {
		return nil, nil, nil, r.s.mapErr(err)
	}
	rt.CreatedAt, rt.ExpiresAt, rt.SpentAt = fromMicros(rCreated), fromMicros(rExpires), fromNullMicros(spent)
	sess.CreatedAt, sess.LastUsedAt, sess.ExpiresAt, sess.RevokedAt = fromMicros(sCreated), fromMicros(sUsed), fromMicros(sExpires), fromNullMicros(revoked)
	u.CreatedAt, u.UpdatedAt = fromMicros(uCreated), fromMicros(uUpdated)
	if avatar.Valid {
		u.AvatarURL = &avatar.String
	}
	return &rt, &sess, &u, nil
}

func (t *tx) LockSession(ctx context.Context, id string) (*gatehouse.Session, error) {
	s, err := scanSession(t.queryRow(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE id = ?`+t.s.dialect.ForUpdate, id))
	return s, t.s.mapErr(err)
}

// touchSession records a session's last use (the rotation's, on SQLite).
func (t *tx) touchSession(ctx context.Context, id string, at time.Time, ip, userAgent string) error {
	return t.execOne(ctx, `UPDATE sessions SET last_used_at = ?, ip = ?, user_agent = ? WHERE id = ?`, micros(at), ip, userAgent, id)
}

func (t *tx) RevokeSession(ctx context.Context, id string, at time.Time) error {
	_, err := t.exec(ctx, `UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, micros(at), id)
	return err
}

func (t *tx) RevokeUserSessions(ctx context.Context, userID, exceptID string, at time.Time) ([]string, error) {
	ids, err := t.queryIDs(ctx, `SELECT id FROM sessions WHERE user_id = ? AND id <> ? AND revoked_at IS NULL`+t.s.dialect.ForUpdate, userID, exceptID)
	if err != nil {
		return nil, err
	}
	if _, err := t.exec(ctx, `UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND id <> ? AND revoked_at IS NULL`,
		micros(at), userID, exceptID); err != nil {
		return nil, err
	}
	return ids, nil
}
