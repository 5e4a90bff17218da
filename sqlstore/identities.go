package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/gatehouse/gatehouse"
)

const identityColumns = `provider, provider_user_id, user_id, email, created_at, last_used_at`

func scanIdentity(row rowScanner) (*gatehouse.Identity, error) {
	var id gatehouse.Identity
	var created, used int64
	if err := row.Scan(&id.Provider, &id.ProviderUserID, &id.UserID, &id.Email, &created, &used); err != nil {
		return nil, err
	}
	id.CreatedAt, id.LastUsedAt = fromMicros(created), fromMicros(used)
	return &id, nil
}

func (r reader) IdentityByProviderUserID(ctx context.Context, provider, providerUserID string) (*gatehouse.Identity, error) {
	id, err := scanIdentity(r.queryRow(ctx, `SELECT `+identityColumns+` FROM identities WHERE provider = ? AND provider_user_id = ?`,
		provider, providerUserID))
	return id, r.s.mapErr(err)
}

func (r reader) ListIdentities(ctx context.Context, userID string) ([]*gatehouse.Identity, error) {
	return r.identities(ctx, `SELECT `+identityColumns+` FROM identities WHERE user_id = ? ORDER BY provider`, userID)
}

func (r reader) identities(ctx context.Context, q string, args ...any) ([]*gatehouse.Identity, error) {
	out, err := queryAll(ctx, r, scanIdentity, q, args...)
	if out == nil && err == nil {
		out = []*gatehouse.Identity{} // listed as [] rather than null
	}
	return out, err
}

func (t *tx) CreateIdentity(ctx context.Context, id *gatehouse.Identity) error {
	_, err := t.exec(ctx, `INSERT INTO identities (`+identityColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
		id.Provider, id.ProviderUserID, id.UserID, id.Email, micros(id.CreatedAt), micros(id.LastUsedAt))
	if err != nil && t.s.dialect.IsUniqueViolation(err) {
		return gatehouse.ErrIdentityTaken
	}
	return err
}

func (t *tx) TouchIdentity(ctx context.Context, provider, providerUserID, email string, at time.Time) error {
	return t.execOne(ctx, `UPDATE identities SET email = ?, last_used_at = ? WHERE provider = ? AND provider_user_id = ?`,
		email, micros(at), provider, providerUserID)
}

func (t *tx) LockIdentities(ctx context.Context, userID string) ([]*gatehouse.Identity, error) {
	return t.identities(ctx, `SELECT `+identityColumns+` FROM identities WHERE user_id = ? ORDER BY provider`+t.s.dialect.ForUpdate, userID)
}

func (t *tx) DeleteIdentity(ctx context.Context, userID, provider string) error {
	return t.execOne(ctx, `DELETE FROM identities WHERE user_id = ? AND provider = ?`, userID, provider)
}

const oauthStateColumns = `hash, provider, redirect_uri, salt, created_at, expires_at, used_at`

func (r reader) OAuthStateByHash(ctx context.Context, hash []byte) (*gatehouse.OAuthState, error) {
	var s gatehouse.OAuthState
	var created, expires int64
	var used sql.NullInt64
	err := r.queryRow(ctx, `SELECT `+oauthStateColumns+` FROM oauth_states WHERE hash = ?`, hash).
		Scan(&s.Hash, &s.Provider, &s.RedirectURI, &s.Salt, &created, &expires, &used)
	if err != nil {
		return nil, r.s.mapErr(err)
	}
	s.CreatedAt, s.ExpiresAt, s.UsedAt = fromMicros(created), fromMicros(expires), fromNullMicros(used)
	return &s, nil
}

func (t *tx) CreateOAuthState(ctx context.Context, s *gatehouse.OAuthState) error {
	_, err := t.exec(ctx, `INSERT INTO oauth_states (`+oauthStateColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		s.Hash, s.Provider, s.RedirectURI, s.Salt, micros(s.CreatedAt), micros(s.ExpiresAt), nullMicros(s.UsedAt))
	return err
}

func (t *tx) UseOAuthState(ctx context.Context, hash []byte, at time.Time) error {
	return t.execOne(ctx, `UPDATE oauth_states SET used_at = ?, salt = NULL WHERE hash = ? AND used_at IS NULL`, micros(at), hash)
}

func (t *tx) DeleteExpiredOAuthStates(ctx context.Context, before time.Time) error {
	_, err := t.exec(ctx, `DELETE FROM oauth_states WHERE expires_at < ?`, micros(before))
	return err
}
