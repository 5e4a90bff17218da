package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
)

// The authorization server's clients, resources, grants and codes (migration 0006).

const clientColumns = `id, kind, name, secret_hash, redirect_uris, grant_types, auth_method, client_uri, logo_uri,
	refresh_reuse_micros, created_by, created_at, revoked_at, jwks, jwks_uri, scopes`

func scanClient(row rowScanner) (*gatehouse.OAuthClient, error) {
	var c gatehouse.OAuthClient
	var redirects, grants, jwks, scopes string
	var reuse, revoked sql.NullInt64
	var created int64
	if err := row.Scan(&c.ID, &c.Kind, &c.Name, &c.SecretHash, &redirects, &grants, &c.AuthMethod, &c.ClientURI, &c.LogoURI,
		&reuse, &c.CreatedBy, &created, &revoked, &jwks, &c.JWKSURI, &scopes); err != nil {
		return nil, err
	}
	if jwks != "" {
		c.JWKS = []byte(jwks)
	}
	if err := json.Unmarshal([]byte(scopes), &c.Scopes); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(redirects), &c.RedirectURIs); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(grants), &c.GrantTypes); err != nil {
		return nil, err
	}
	if reuse.Valid {
		d := time.Duration(reuse.Int64) * time.Microsecond
		c.RefreshReuse = &d
	}
	c.CreatedAt, c.RevokedAt = fromMicros(created), fromNullMicros(revoked)
	return &c, nil
}

func (r reader) OAuthClientByID(ctx context.Context, id string) (*gatehouse.OAuthClient, error) {
	c, err := scanClient(r.queryRow(ctx, `SELECT `+clientColumns+` FROM oauth_clients WHERE id = ?`, id))
	return c, r.s.mapErr(err)
}

func (t *tx) LockOAuthClient(ctx context.Context, id string) (*gatehouse.OAuthClient, error) {
	c, err := scanClient(t.queryRow(ctx, `SELECT `+clientColumns+` FROM oauth_clients WHERE id = ?`+t.s.dialect.ForUpdate, id))
	return c, t.s.mapErr(err)
}

func (r reader) ListOAuthClients(ctx context.Context) ([]*gatehouse.OAuthClient, error) {
	out, err := queryAll(ctx, r, scanClient, `SELECT `+clientColumns+` FROM oauth_clients ORDER BY created_at DESC, id DESC`)
	if out == nil && err == nil {
		out = []*gatehouse.OAuthClient{}
	}
	return out, err
}

func (t *tx) CreateOAuthClient(ctx context.Context, c *gatehouse.OAuthClient) error {
	redirects, err := json.Marshal(c.RedirectURIs)
	if err != nil {
		return err
	}
	grants, err := json.Marshal(c.GrantTypes)
	if err != nil {
		return err
	}
	var reuse sql.NullInt64
	if c.RefreshReuse != nil {
		reuse = sql.NullInt64{Int64: c.RefreshReuse.Microseconds(), Valid: true}
	}
	scopes := c.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	scopesJSON, err := json.Marshal(scopes)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `INSERT INTO oauth_clients (`+clientColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.Kind, c.Name, c.SecretHash, string(redirects), string(grants), c.AuthMethod, c.ClientURI, c.LogoURI,
		reuse, c.CreatedBy, micros(c.CreatedAt), nullMicros(c.RevokedAt), string(c.JWKS), c.JWKSURI, string(scopesJSON))
	if err != nil && t.s.dialect.IsUniqueViolation(err) {
		return gatehouse.ErrClientExists
	}
	return err
}

func (t *tx) RevokeOAuthClient(ctx context.Context, id string, at time.Time) error {
	return t.execOne(ctx, `UPDATE oauth_clients SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, micros(at), id)
}

const resourceColumns = `uri, name, scopes, created_at`

func scanResource(row rowScanner) (*gatehouse.Resource, error) {
	var r gatehouse.Resource
	var scopes string
	var created int64
	if err := row.Scan(&r.URI, &r.Name, &scopes, &created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(scopes), &r.Scopes); err != nil {
		return nil, err
	}
	r.CreatedAt = fromMicros(created)
	return &r, nil
}

func (r reader) ResourceByURI(ctx context.Context, uri string) (*gatehouse.Resource, error) {
	res, err := scanResource(r.queryRow(ctx, `SELECT `+resourceColumns+` FROM oauth_resources WHERE uri = ?`, uri))
	return res, r.s.mapErr(err)
}

func (r reader) ListResources(ctx context.Context) ([]*gatehouse.Resource, error) {
	out, err := queryAll(ctx, r, scanResource, `SELECT `+resourceColumns+` FROM oauth_resources ORDER BY uri`)
	if out == nil && err == nil {
		out = []*gatehouse.Resource{}
	}
	return out, err
}

func (t *tx) CreateResource(ctx context.Context, res *gatehouse.Resource) error {
	scopes := res.Scopes
	if scopes == nil {
		scopes = []gatehouse.ScopeInfo{}
	}
	b, err := json.Marshal(scopes)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `INSERT INTO oauth_resources (`+resourceColumns+`) VALUES (?, ?, ?, ?)`, res.URI, res.Name, string(b), micros(res.CreatedAt))
	if err != nil && t.s.dialect.IsUniqueViolation(err) {
		return gatehouse.ErrResourceExists
	}
	return err
}

func (t *tx) DeleteResource(ctx context.Context, uri string) error {
	return t.execOne(ctx, `DELETE FROM oauth_resources WHERE uri = ?`, uri)
}

const grantColumns = `id, user_id, client_id, client_name, resource, scope, created_at, updated_at, kind, org_id`

func scanGrant(row rowScanner) (*gatehouse.Grant, error) {
	var g gatehouse.Grant
	var scope string
	var created, updated int64
	if err := row.Scan(&g.ID, &g.UserID, &g.ClientID, &g.ClientName, &g.Resource, &scope, &created, &updated, &g.Kind, &g.OrgID); err != nil {
		return nil, err
	}
	g.Scopes = strings.Fields(scope)
	g.CreatedAt, g.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &g, nil
}

func (r reader) GrantByID(ctx context.Context, id string) (*gatehouse.Grant, error) {
	g, err := scanGrant(r.queryRow(ctx, `SELECT `+grantColumns+` FROM oauth_grants WHERE id = ?`, id))
	return g, r.s.mapErr(err)
}

func (t *tx) LockGrant(ctx context.Context, id string) (*gatehouse.Grant, error) {
	g, err := scanGrant(t.queryRow(ctx, `SELECT `+grantColumns+` FROM oauth_grants WHERE id = ?`+t.s.dialect.ForUpdate, id))
	return g, t.s.mapErr(err)
}

func (r reader) GrantFor(ctx context.Context, userID, clientID, resource, orgID string) (*gatehouse.Grant, error) {
	g, err := scanGrant(r.queryRow(ctx, `SELECT `+grantColumns+` FROM oauth_grants WHERE user_id = ? AND client_id = ? AND resource = ? AND kind = ? AND org_id = ?`,
		userID, clientID, resource, gatehouse.GrantAuthorization, orgID))
	return g, r.s.mapErr(err)
}

// grantWhere is the WHERE clause of a filter; an empty filter matches nothing.
func grantWhere(f gatehouse.GrantFilter, idColumn string) (string, []any) {
	var conds []string
	var args []any
	add := func(col, v string) {
		if v != "" {
			conds = append(conds, col+" = ?")
			args = append(args, v)
		}
	}
	add("user_id", f.UserID)
	add("client_id", f.ClientID)
	add("resource", f.Resource)
	add(idColumn, f.GrantID)
	if len(conds) == 0 {
		return "1 = 0", nil
	}
	return strings.Join(conds, " AND "), args
}

func (r reader) ListGrants(ctx context.Context, f gatehouse.GrantFilter) ([]*gatehouse.Grant, error) {
	where, args := grantWhere(f, "id")
	out, err := queryAll(ctx, r, scanGrant, `SELECT `+grantColumns+` FROM oauth_grants WHERE `+where+` ORDER BY updated_at DESC, id DESC`, args...)
	if out == nil && err == nil {
		out = []*gatehouse.Grant{}
	}
	return out, err
}

func (t *tx) SaveGrant(ctx context.Context, g *gatehouse.Grant) error {
	scope := strings.Join(g.Scopes, " ")
	kind := g.Kind
	if kind == "" {
		kind = gatehouse.GrantAuthorization
	}
	res, err := t.exec(ctx, `UPDATE oauth_grants SET scope = ?, client_name = ?, updated_at = ? WHERE user_id = ? AND client_id = ? AND resource = ? AND kind = ? AND org_id = ?`,
		scope, g.ClientName, micros(g.UpdatedAt), g.UserID, g.ClientID, g.Resource, kind, g.OrgID)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return err
	}
	_, err = t.exec(ctx, `INSERT INTO oauth_grants (`+grantColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		g.ID, g.UserID, g.ClientID, g.ClientName, g.Resource, scope, micros(g.CreatedAt), micros(g.UpdatedAt), kind, g.OrgID)
	return err
}

func (t *tx) DeleteGrant(ctx context.Context, id string) error {
	return t.execOne(ctx, `DELETE FROM oauth_grants WHERE id = ?`, id)
}

func (t *tx) DeleteGrants(ctx context.Context, f gatehouse.GrantFilter) ([]string, error) {
	where, args := grantWhere(f, "id")
	ids, err := t.queryIDs(ctx, `SELECT id FROM oauth_grants WHERE `+where+t.s.dialect.ForUpdate, args...)
	if err != nil {
		return nil, err
	}
	if _, err := t.exec(ctx, `DELETE FROM oauth_grants WHERE `+where, args...); err != nil {
		return nil, err
	}
	return ids, nil
}

func (t *tx) RevokeSessionsWhere(ctx context.Context, f gatehouse.GrantFilter, at time.Time) ([]string, error) {
	if f.ClientID == "" && f.GrantID == "" && f.Resource == "" {
		return nil, nil // first-party sessions are never selected this way
	}
	where, args := grantWhere(gatehouse.GrantFilter{UserID: f.UserID, ClientID: f.ClientID, Resource: f.Resource, GrantID: f.GrantID}, "grant_id")
	where += " AND client_id <> '' AND revoked_at IS NULL"
	ids, err := t.queryIDs(ctx, `SELECT id FROM sessions WHERE `+where+t.s.dialect.ForUpdate, args...)
	if err != nil {
		return nil, err
	}
	if _, err := t.exec(ctx, `UPDATE sessions SET revoked_at = ? WHERE `+where, append([]any{micros(at)}, args...)...); err != nil {
		return nil, err
	}
	return ids, nil
}

const codeColumns = `hash, grant_id, client_id, user_id, redirect_uri, challenge, resource, scope, nonce, auth_time,
	created_at, expires_at, used_at, session_id, approver, userinfo, amr`

func (t *tx) CreateAuthCode(ctx context.Context, c *gatehouse.AuthCode) error {
	_, err := t.exec(ctx, `INSERT INTO oauth_codes (`+codeColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.Hash, c.GrantID, c.ClientID, c.UserID, c.RedirectURI, c.Challenge, c.Resource, c.Scope, c.Nonce, micros(c.AuthTime),
		micros(c.CreatedAt), micros(c.ExpiresAt), nullMicros(c.UsedAt), c.SessionID, c.Approver, boolInt(c.UserInfo), strings.Join(c.AMR, " "))
	return err
}

func (t *tx) LockAuthCode(ctx context.Context, hash []byte) (*gatehouse.AuthCode, error) {
	var c gatehouse.AuthCode
	var authTime, created, expires, userinfo int64
	var used sql.NullInt64
	var amr string
	err := t.queryRow(ctx, `SELECT `+codeColumns+` FROM oauth_codes WHERE hash = ?`+t.s.dialect.ForUpdate, hash).Scan(
		&c.Hash, &c.GrantID, &c.ClientID, &c.UserID, &c.RedirectURI, &c.Challenge, &c.Resource, &c.Scope, &c.Nonce, &authTime,
		&created, &expires, &used, &c.SessionID, &c.Approver, &userinfo, &amr)
	c.UserInfo, c.AMR = userinfo != 0, strings.Fields(amr)
	if err != nil {
		return nil, t.s.mapErr(err)
	}
	c.AuthTime, c.CreatedAt, c.ExpiresAt, c.UsedAt = fromMicros(authTime), fromMicros(created), fromMicros(expires), fromNullMicros(used)
	return &c, nil
}

func (t *tx) UseAuthCode(ctx context.Context, hash []byte, at time.Time, sessionID string) error {
	return t.execOne(ctx, `UPDATE oauth_codes SET used_at = ?, session_id = ? WHERE hash = ? AND used_at IS NULL`, micros(at), sessionID, hash)
}

func (t *tx) DeleteExpiredAuthCodes(ctx context.Context, before time.Time) (int64, error) {
	res, err := t.exec(ctx, `DELETE FROM oauth_codes WHERE expires_at < ?`, micros(before))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
