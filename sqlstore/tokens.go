package sqlstore

import (
	"context"
	"database/sql"

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

func (t *tx) CreateRefreshToken(ctx context.Context, rt *gatehouse.RefreshToken) error {
	_, err := t.exec(ctx, `INSERT INTO refresh_tokens (hash, session_id, created_at, expires_at, spent_at, successor_salt)
		VALUES (?, ?, ?, ?, ?, ?)`, rt.Hash, rt.SessionID, micros(rt.CreatedAt), micros(rt.ExpiresAt), nullMicros(rt.SpentAt), rt.SuccessorSalt)
	return err
}

func (t *tx) RotateRefreshToken(ctx context.Context, r gatehouse.Rotation) error {
	next, e := r.Successor, r.Event
	if !t.s.dialect.WritableCTE {
		if err := t.execOne(ctx, `UPDATE refresh_tokens SET spent_at = ?, successor_salt = ? WHERE hash = ? AND spent_at IS NULL`,
			micros(r.SpentAt), r.SuccessorSalt, r.SpentHash); err != nil {
			return err
		}
		if err := t.CreateRefreshToken(ctx, next); err != nil {
			return err
		}
		return t.AppendAuditEvent(ctx, e)
	}
	// Each round trip to a database server costs more than the statements themselves: the three
	// writes go as one, and the inserts happen only if the spend did.
	var spent int
	err := t.queryRow(ctx, `WITH spent AS (
			UPDATE refresh_tokens SET spent_at = ?, successor_salt = ? WHERE hash = ? AND spent_at IS NULL RETURNING 1
		), successor AS (
			INSERT INTO refresh_tokens (hash, session_id, created_at, expires_at) SELECT ?, ?, ?, ? FROM spent
		), audit AS (
			INSERT INTO audit_events (id, at, type, user_id, ip, user_agent, outcome, detail) SELECT ?, ?, ?, ?, ?, ?, ?, ? FROM spent
		)
		SELECT count(*) FROM spent`,
		micros(r.SpentAt), r.SuccessorSalt, r.SpentHash,
		next.Hash, next.SessionID, micros(next.CreatedAt), micros(next.ExpiresAt),
		e.ID, micros(e.At), e.Type, e.UserID, e.IP, e.UserAgent, e.Outcome, e.Detail).Scan(&spent)
	if err != nil {
		return t.s.mapErr(err)
	}
	if spent == 0 {
		return gatehouse.ErrNotFound
	}
	return nil
}

func (r reader) SigningKeys(ctx context.Context) ([]gatehouse.SigningKey, error) {
	rows, err := r.query(ctx, `SELECT id, algorithm, private_key, created_at FROM signing_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []gatehouse.SigningKey
	for rows.Next() {
		var k gatehouse.SigningKey
		var created int64
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.Private, &created); err != nil {
			return nil, r.s.mapErr(err)
		}
		k.CreatedAt = fromMicros(created)
		out = append(out, k)
	}
	return out, r.s.mapErr(rows.Err())
}

func (t *tx) ReplaceSigningKeyPrivate(ctx context.Context, id string, private []byte) error {
	return t.execOne(ctx, `UPDATE signing_keys SET private_key = ? WHERE id = ?`, private, id)
}

func (t *tx) CreateSigningKey(ctx context.Context, k gatehouse.SigningKey) error {
	_, err := t.exec(ctx, `INSERT INTO signing_keys (id, algorithm, private_key, created_at) VALUES (?, ?, ?, ?)`,
		k.ID, k.Algorithm, k.Private, micros(k.CreatedAt))
	return err
}
