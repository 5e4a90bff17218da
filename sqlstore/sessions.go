package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
)

const sessionColumns = `id, user_id, created_at, last_used_at, expires_at, user_agent, ip, revoked_at, client_id, grant_id, resource, scope, auth_time, userinfo, parent_id, subject_key_id, act, amr, org_id, org_role`

func scanSession(row rowScanner) (*gatehouse.Session, error) {
	var s gatehouse.Session
	var created, used, expires, authTime, userinfo int64
	var revoked sql.NullInt64
	var act, amr string
	if err := row.Scan(&s.ID, &s.UserID, &created, &used, &expires, &s.UserAgent, &s.IP, &revoked,
		&s.ClientID, &s.GrantID, &s.Resource, &s.Scope, &authTime, &userinfo, &s.ParentID, &s.SubjectKeyID, &act, &amr, &s.OrgID, &s.OrgRole); err != nil {
		return nil, err
	}
	var err error
	if s.Act, err = gatehouse.UnmarshalActor(act); err != nil {
		return nil, err
	}
	s.AMR = strings.Fields(amr)
	s.UserInfo = userinfo != 0
	s.CreatedAt, s.LastUsedAt, s.ExpiresAt = fromMicros(created), fromMicros(used), fromMicros(expires)
	if authTime != 0 {
		s.AuthTime = fromMicros(authTime)
	}
	s.RevokedAt = fromNullMicros(revoked)
	return &s, nil
}

func (r reader) SessionByID(ctx context.Context, id string) (*gatehouse.Session, error) {
	s, err := scanSession(r.queryRow(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE id = ?`, id))
	return s, r.s.mapErr(err)
}

func (r reader) ListActiveSessions(ctx context.Context, userID string, now time.Time) ([]*gatehouse.Session, error) {
	return queryAll(ctx, r, scanSession, `SELECT `+sessionColumns+` FROM sessions
		WHERE user_id = ? AND client_id = '' AND revoked_at IS NULL AND expires_at > ? ORDER BY created_at DESC, id DESC`, userID, micros(now))
}

func (t *tx) CreateSession(ctx context.Context, s *gatehouse.Session) error {
	_, err := t.exec(ctx, `INSERT INTO sessions (`+sessionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.UserID, micros(s.CreatedAt), micros(s.LastUsedAt), micros(s.ExpiresAt), s.UserAgent, s.IP, nullMicros(s.RevokedAt),
		s.ClientID, s.GrantID, s.Resource, s.Scope, authMicros(s.AuthTime), boolInt(s.UserInfo),
		s.ParentID, s.SubjectKeyID, gatehouse.MarshalActor(s.Act), strings.Join(s.AMR, " "), s.OrgID, s.OrgRole)
	return err
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

func (t *tx) RevokeImpersonations(ctx context.Context, adminID string, at time.Time) ([]string, error) {
	act := gatehouse.MarshalActor(&gatehouse.Actor{Subject: adminID})
	ids, err := t.queryIDs(ctx, `SELECT id FROM sessions WHERE client_id = '' AND act = ? AND revoked_at IS NULL`+t.s.dialect.ForUpdate, act)
	if err != nil {
		return nil, err
	}
	if _, err := t.exec(ctx, `UPDATE sessions SET revoked_at = ? WHERE client_id = '' AND act = ? AND revoked_at IS NULL`,
		micros(at), act); err != nil {
		return nil, err
	}
	return ids, nil
}

// authMicros stores a zero auth time as 0.
func authMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return micros(t)
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
