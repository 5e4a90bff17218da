package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
)

const apiKeyColumns = `id, user_id, name, prefix, hash, scopes, created_at, expires_at, last_used_at, use_count, revoked_at, org_id`

func scanAPIKey(row rowScanner) (*gatehouse.APIKey, error) {
	var k gatehouse.APIKey
	var scopes string
	var created int64
	var expires, lastUsed, revoked sql.NullInt64
	if err := row.Scan(&k.ID, &k.UserID, &k.Name, &k.Prefix, &k.Hash, &scopes, &created, &expires, &lastUsed, &k.UseCount, &revoked, &k.OrgID); err != nil {
		return nil, err
	}
	k.Scopes = strings.Fields(scopes)
	if k.Scopes == nil {
		k.Scopes = []string{}
	}
	k.CreatedAt = fromMicros(created)
	k.ExpiresAt, k.LastUsedAt, k.RevokedAt = fromNullMicros(expires), fromNullMicros(lastUsed), fromNullMicros(revoked)
	return &k, nil
}

func (r reader) APIKeyByHash(ctx context.Context, hash []byte) (*gatehouse.APIKey, error) {
	k, err := scanAPIKey(r.queryRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE hash = ?`, hash))
	return k, r.s.mapErr(err)
}

func (r reader) APIKeyByID(ctx context.Context, id string) (*gatehouse.APIKey, error) {
	k, err := scanAPIKey(r.queryRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE id = ?`, id))
	return k, r.s.mapErr(err)
}

func (r reader) ListAPIKeys(ctx context.Context, userID string) ([]*gatehouse.APIKey, error) {
	return queryAll(ctx, r, scanAPIKey, `SELECT `+apiKeyColumns+` FROM api_keys WHERE user_id = ? AND org_id = '' AND revoked_at IS NULL ORDER BY created_at DESC, id DESC`, userID)
}

func (r reader) APIKeysByPrefix(ctx context.Context, prefix string) ([]*gatehouse.APIKey, error) {
	return queryAll(ctx, r, scanAPIKey, `SELECT `+apiKeyColumns+` FROM api_keys WHERE prefix = ? ORDER BY created_at DESC, id DESC`, prefix)
}

func (t *tx) CreateAPIKey(ctx context.Context, k *gatehouse.APIKey) error {
	_, err := t.exec(ctx, `INSERT INTO api_keys (`+apiKeyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.UserID, k.Name, k.Prefix, k.Hash, strings.Join(k.Scopes, " "), micros(k.CreatedAt),
		nullMicros(k.ExpiresAt), nullMicros(k.LastUsedAt), k.UseCount, nullMicros(k.RevokedAt), k.OrgID)
	return err
}

func (t *tx) RevokeAPIKey(ctx context.Context, id string, at time.Time) error {
	return t.execOne(ctx, `UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, micros(at), id)
}

func (t *tx) RevokeUserAPIKeys(ctx context.Context, userID string, at time.Time) (int, error) {
	res, err := t.exec(ctx, `UPDATE api_keys SET revoked_at = ? WHERE user_id = ? AND org_id = '' AND revoked_at IS NULL`, micros(at), userID)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), t.s.mapErr(err)
}

func (t *tx) RecordAPIKeyUse(ctx context.Context, id string, uses int64, lastUsed time.Time) error {
	return t.execOne(ctx, `UPDATE api_keys SET use_count = use_count + ?,
		last_used_at = CASE WHEN last_used_at IS NULL OR last_used_at < ? THEN ? ELSE last_used_at END WHERE id = ?`,
		uses, micros(lastUsed), micros(lastUsed), id)
}
