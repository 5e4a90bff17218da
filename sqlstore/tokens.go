package sqlstore

import (
	"context"
	"database/sql"
	"time"

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

func (t *tx) SpendRefreshToken(ctx context.Context, hash []byte, at time.Time, successorSalt []byte) error {
	return t.execOne(ctx, `UPDATE refresh_tokens SET spent_at = ?, successor_salt = ? WHERE hash = ? AND spent_at IS NULL`,
		micros(at), successorSalt, hash)
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
