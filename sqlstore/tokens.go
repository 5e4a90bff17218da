package sqlstore

import (
	"context"
	"database/sql"
	"strings"

	"github.com/gatehouse/gatehouse"
)

func (r reader) RefreshTokenByHash(ctx context.Context, hash []byte) (*gatehouse.RefreshToken, error) {
	var t gatehouse.RefreshToken
	var created, expires int64
	var spent sql.NullInt64
	err := r.queryRow(ctx, `SELECT hash, session_id, created_at, expires_at, spent_at, successor_salt
		FROM refresh_tokens WHERE hash = ?`, hash).Scan(&t.Hash, &t.SessionID, &created, &expires, &spent, &t.SuccessorSalt)
	if err != nil {
		return nil, r.s.mapErr(err)
	}
	t.CreatedAt, t.ExpiresAt, t.SpentAt = fromMicros(created), fromMicros(expires), fromNullMicros(spent)
	return &t, nil
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
		s.client_id, s.grant_id, s.resource, s.scope, s.auth_time, s.userinfo, s.amr, s.org_id, s.org_role,
		u.id, u.email, u.name, u.password_hash, u.email_verified, u.role, u.is_active, u.avatar_url, u.created_at, u.updated_at, u.mfa_enabled
		FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id JOIN users u ON u.id = s.user_id
		WHERE r.hash = ?`+lock, hash)
	var rt gatehouse.RefreshToken
	var sess gatehouse.Session
	var u gatehouse.User
	var rCreated, rExpires, sCreated, sUsed, sExpires, sAuth, sUserInfo, uCreated, uUpdated int64
	var spent, revoked sql.NullInt64
	var avatar sql.NullString
	var amr string
	err := row.Scan(&rt.Hash, &rt.SessionID, &rCreated, &rExpires, &spent, &rt.SuccessorSalt,
		&sess.ID, &sess.UserID, &sCreated, &sUsed, &sExpires, &sess.UserAgent, &sess.IP, &revoked,
		&sess.ClientID, &sess.GrantID, &sess.Resource, &sess.Scope, &sAuth, &sUserInfo, &amr, &sess.OrgID, &sess.OrgRole,
		&u.ID, &u.Email, &u.Name, &u.PasswordHash, &u.EmailVerified, &u.Role, &u.IsActive, &avatar, &uCreated, &uUpdated, &u.MFAEnabled)
	if err != nil {
		return nil, nil, nil, r.s.mapErr(err)
	}
	rt.CreatedAt, rt.ExpiresAt, rt.SpentAt = fromMicros(rCreated), fromMicros(rExpires), fromNullMicros(spent)
	sess.CreatedAt, sess.LastUsedAt, sess.ExpiresAt, sess.RevokedAt = fromMicros(sCreated), fromMicros(sUsed), fromMicros(sExpires), fromNullMicros(revoked)
	if sAuth != 0 {
		sess.AuthTime = fromMicros(sAuth)
	}
	sess.UserInfo = sUserInfo != 0
	sess.AMR = strings.Fields(amr)
	u.CreatedAt, u.UpdatedAt = fromMicros(uCreated), fromMicros(uUpdated)
	if avatar.Valid {
		u.AvatarURL = &avatar.String
	}
	return &rt, &sess, &u, nil
}

func (t *tx) CreateRefreshToken(ctx context.Context, rt *gatehouse.RefreshToken) error {
	_, err := t.exec(ctx, `INSERT INTO refresh_tokens (hash, session_id, created_at, expires_at, spent_at, successor_salt)
		VALUES (?, ?, ?, ?, ?, ?)`, rt.Hash, rt.SessionID, micros(rt.CreatedAt), micros(rt.ExpiresAt), nullMicros(rt.SpentAt), rt.SuccessorSalt)
	return err
}

// spendGuarded spends a token only if the refresh that decided to spend it still holds: the token
// unspent and unexpired, its session neither revoked nor expired and still in the organization
// and role it was read with, its user active and unchanged (updated_at, and mfa_enabled, which
// factor changes set without touching updated_at). What the refresh read may be old (the
// rotation cache's snapshots): this is what makes that safe. The session
// row is locked until the transaction ends (SQLite's single writer locks everything), so a
// logout or revocation waits for the refresh or is seen by it, as on the locked path.
func spendGuarded(forUpdate string) string {
	lock := ""
	if forUpdate != "" {
		lock = forUpdate + " OF s"
	}
	return `UPDATE refresh_tokens SET spent_at = ?, successor_salt = ?
	WHERE hash = ? AND spent_at IS NULL AND expires_at > ? AND EXISTS (
		SELECT 1 FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.id = refresh_tokens.session_id AND s.revoked_at IS NULL AND s.expires_at > ?
			AND s.org_id = ? AND s.org_role = ? AND u.is_active AND u.updated_at = ? AND u.mfa_enabled = ?` + lock + `)`
}

// rotateInOne is the whole rotation as one statement, for databases with writable CTEs: the
// other writes happen only if the spend did. Each round trip to a database server costs more
// than the statements themselves.
func rotateInOne(forUpdate string) string {
	return `WITH spent AS (` + spendGuarded(forUpdate) + ` RETURNING 1
	), successor AS (
		INSERT INTO refresh_tokens (hash, session_id, created_at, expires_at) SELECT ?, ?, ?, ? FROM spent
	), audit AS (
		INSERT INTO audit_events (id, at, type, user_id, ip, user_agent, outcome, detail) SELECT ?, ?, ?, ?, ?, ?, ?, ? FROM spent
	), used AS (
		UPDATE sessions SET last_used_at = ?, ip = ?, user_agent = ? WHERE id = ? AND ? AND EXISTS (SELECT 1 FROM spent)
	)
	SELECT count(*) FROM spent`
}

func (s *Store) CommitRotation(ctx context.Context, r gatehouse.Rotation) error {
	if s.dialect.WritableCTE {
		// One statement is a transaction of its own.
		return rotate(ctx, reader{s: s, q: s.write, db: s.write}, r)
	}
	return s.Tx(ctx, func(tx gatehouse.StoreTx) error { return tx.RotateRefreshToken(ctx, r) })
}

func (t *tx) RotateRefreshToken(ctx context.Context, r gatehouse.Rotation) error {
	if t.s.dialect.WritableCTE {
		return rotate(ctx, t.reader, r)
	}
	if err := t.execOne(ctx, t.s.spendSQL, micros(r.SpentAt), r.SuccessorSalt, r.SpentHash, micros(r.SpentAt), micros(r.SpentAt), r.OrgID, r.OrgRole, micros(r.UserUpdatedAt), r.UserMFAEnabled); err != nil {
		return err
	}
	if err := t.CreateRefreshToken(ctx, r.Successor); err != nil {
		return err
	}
	if err := t.AppendAuditEvent(ctx, r.Event); err != nil {
		return err
	}
	if u := r.Use; u != nil {
		return t.touchSession(ctx, r.Successor.SessionID, u.At, u.IP, u.UserAgent)
	}
	return nil
}

func rotate(ctx context.Context, q reader, r gatehouse.Rotation) error {
	next, e, use := r.Successor, r.Event, r.Use
	touch := use != nil
	if !touch {
		use = &gatehouse.SessionUse{}
	}
	var spent int
	err := q.queryRow(ctx, q.s.rotateSQL,
		micros(r.SpentAt), r.SuccessorSalt, r.SpentHash, micros(r.SpentAt), micros(r.SpentAt), r.OrgID, r.OrgRole, micros(r.UserUpdatedAt), r.UserMFAEnabled,
		next.Hash, next.SessionID, micros(next.CreatedAt), micros(next.ExpiresAt),
		e.ID, micros(e.At), e.Type, e.UserID, e.IP, e.UserAgent, e.Outcome, e.Detail,
		micros(use.At), use.IP, use.UserAgent, next.SessionID, touch).Scan(&spent)
	if err != nil {
		return q.s.mapErr(err)
	}
	if spent == 0 {
		return gatehouse.ErrNotFound
	}
	return nil
}

func (r reader) SigningKeys(ctx context.Context) ([]gatehouse.SigningKey, error) {
	return queryAll(ctx, r, func(row rowScanner) (k gatehouse.SigningKey, err error) {
		var created int64
		err = row.Scan(&k.ID, &k.Algorithm, &k.Private, &created)
		k.CreatedAt = fromMicros(created)
		return k, err
	}, `SELECT id, algorithm, private_key, created_at FROM signing_keys ORDER BY created_at, id`)
}

func (t *tx) ReplaceSigningKeyPrivate(ctx context.Context, id string, private []byte) error {
	return t.execOne(ctx, `UPDATE signing_keys SET private_key = ? WHERE id = ?`, private, id)
}

func (t *tx) CreateSigningKey(ctx context.Context, k gatehouse.SigningKey) error {
	_, err := t.exec(ctx, `INSERT INTO signing_keys (id, algorithm, private_key, created_at) VALUES (?, ?, ?, ?)`,
		k.ID, k.Algorithm, k.Private, micros(k.CreatedAt))
	return err
}
