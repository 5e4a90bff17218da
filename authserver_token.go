package gatehouse

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"slices"
	"strings"
	"time"
)

// TokenRequest is a request to the token endpoint (RFC 6749 §4.1.3, §6; RFC 8707 §2.2).
type TokenRequest struct {
	GrantType    string
	Code         string
	RedirectURI  string
	CodeVerifier string
	RefreshToken string
	DeviceCode   string // RFC 8628 §3.4
	Scope        string
	Resources    []string
	Credentials  ClientCredentials
	Exchange     TokenExchangeParams // the token-exchange grant's parameters (authserver_exchange.go)
}

// OAuthTokens is a token response (RFC 6749 §5.1, OIDC Core §3.1.3.3).
type OAuthTokens struct {
	AccessToken  string
	RefreshToken string
	IDToken      string
	Scope        string
	ExpiresIn    time.Duration
	APIKey       *IssuedAPIKey // minted with a device flow's tokens, when the user approved one
	// IssuedTokenType is the issued_token_type of a token exchange (RFC 8693 §2.2.1).
	IssuedTokenType string
}

var (
	errBadCode       = oauthError(OAuthInvalidGrant, "The authorization code is invalid, expired or already used.")
	errBadRefresh    = oauthError(OAuthInvalidGrant, "The refresh token is invalid, expired or revoked.")
	errBadVerifier   = oauthError(OAuthInvalidGrant, "The code_verifier does not match the code_challenge.")
	errRedirectShift = oauthError(OAuthInvalidGrant, "redirect_uri differs from the one of the authorization request.")
)

// Token answers the token endpoint.
func (as *AuthorizationServer) Token(ctx context.Context, req TokenRequest, client Client) (*OAuthTokens, error) {
	switch req.GrantType {
	case GrantTokenExchange:
		return as.exchange(ctx, req, client)
	case GrantAuthCode, GrantRefresh:
	case GrantDeviceCode:
		return as.deviceToken(ctx, req, client)
	case GrantClientCredentials:
		return as.clientCredentials(ctx, req, client)
	case "":
		return nil, oauthError(OAuthInvalidRequest, "grant_type is required.")
	default:
		return nil, oauthError(OAuthUnsupportedGrantType, "This server supports the authorization_code, refresh_token, client_credentials, device_code and token-exchange grants.")
	}
	c, err := as.authenticateClient(ctx, req.Credentials)
	if err != nil {
		return nil, err
	}
	// A refresh is allowed to clients registered for it, and to any client the user granted
	// offline_access (checked against the grant's session in refresh).
	if req.GrantType == GrantAuthCode && !c.Allows(GrantAuthCode) {
		return nil, oauthError(OAuthUnauthorizedClient, "This client may not use the %s grant.", req.GrantType)
	}
	if len(req.Resources) > 1 {
		return nil, oauthError(OAuthInvalidTarget, "Ask for one resource per token request.")
	}
	if req.GrantType == GrantAuthCode {
		return as.exchangeCode(ctx, c, req, client)
	}
	return as.refresh(ctx, c, req, client)
}

// exchangeCode redeems an authorization code (RFC 6749 §4.1.3, RFC 7636 §4.6). A code is good
// once, for a minute, for the client it was issued to, with the redirect URI and the PKCE
// verifier of its request. A code presented again revokes what it issued (RFC 6749 §4.1.2).
func (as *AuthorizationServer) exchangeCode(ctx context.Context, c *OAuthClient, req TokenRequest, client Client) (*OAuthTokens, error) {
	if req.Code == "" || len(req.Code) > 256 {
		return nil, errBadCode
	}
	if !validVerifier(req.CodeVerifier) {
		return nil, oauthError(OAuthInvalidRequest, "code_verifier is required: 43 to 128 characters of A-Z a-z 0-9 - . _ ~.")
	}
	hash := HashToken(req.Code)
	var (
		code    *AuthCode
		sess    *Session
		user    *User
		refresh string
		reused  string
	)
	err := as.auth.tx(ctx, func(tx StoreTx) error {
		var err error
		code, err = tx.LockAuthCode(ctx, hash)
		if isNotFound(err) {
			return errBadCode
		} else if err != nil {
			return err
		}
		now := as.now()
		if code.UsedAt != nil {
			// Presented again: someone else holds the code. Revoke what it issued; the
			// transaction commits, and the answer is invalid_grant.
			if code.SessionID != "" {
				if err := tx.RevokeSession(ctx, code.SessionID, now); err != nil {
					return err
				}
				reused = code.SessionID
			}
			return as.auth.auditTx(ctx, tx, client, EventOAuthCodeReuse, code.UserID, OutcomeFailure,
				"client "+code.ClientID+" session "+code.SessionID+" revoked")
		}
		if !now.Before(code.ExpiresAt) || code.ClientID != c.ID {
			return errBadCode
		}
		if req.RedirectURI != code.RedirectURI {
			return errRedirectShift
		}
		if !pkceMatches(req.CodeVerifier, code.Challenge) {
			return errBadVerifier
		}
		if len(req.Resources) == 1 && req.Resources[0] != code.Resource {
			return oauthError(OAuthInvalidTarget, "The resource differs from the one the user authorized.")
		}
		user, err = tx.LockUser(ctx, code.UserID)
		if err != nil {
			return notFoundAsBadCode(err)
		}
		if !user.IsActive {
			return errBadCode
		}
		// The user must still be signed in where the code was approved: a logout, a password
		// change or a takeover since then voids it.
		approver, err := tx.SessionByID(ctx, code.Approver)
		if err != nil {
			return notFoundAsBadCode(err)
		}
		if !sessionUsable(approver, user, now) || !approver.FirstParty() {
			return errBadCode
		}
		// The grant must still stand: the user may have revoked it since the code was issued. Its
		// row stays locked until the session is created, so a revocation waits and then sees it.
		g, err := tx.LockGrant(ctx, code.GrantID)
		if err != nil {
			return notFoundAsBadCode(err)
		}
		if g.UserID != user.ID || g.ClientID != c.ID {
			return errBadCode
		}
		// A grant for an organization issues tokens in it, with the user's role of now: one
		// removed from it since the approval gets nothing. The organization's row is locked
		// first, as every membership change locks it (org.go): a removal either commits before
		// (and the membership is gone) or waits and then takes this new session out of it.
		orgRole := ""
		if g.OrgID != "" {
			if _, err := tx.LockOrg(ctx, g.OrgID); err != nil {
				return notFoundAsBadCode(err)
			}
			m, err := tx.MembershipOf(ctx, g.OrgID, user.ID)
			if err != nil {
				return notFoundAsBadCode(err)
			}
			orgRole = m.Role
		}
		sess, refresh, err = as.startGrantSession(ctx, tx, user, c, code, g.OrgID, orgRole, client, now)
		if err != nil {
			return err
		}
		if err := tx.UseAuthCode(ctx, hash, now, sess.ID); isNotFound(err) {
			return errBadCode
		} else if err != nil {
			return err
		}
		return as.auth.auditTx(ctx, tx, client, EventOAuthTokenIssued, user.ID, OutcomeSuccess,
			"client "+c.ID+" resource "+code.Resource+" scope "+code.Scope)
	})
	if err != nil {
		return nil, err
	}
	if code.UsedAt != nil {
		if reused != "" {
			as.auth.cache.invalidateSessions(reused)
		}
		as.log.WarnContext(ctx, "authorization code reuse detected", "client_id", code.ClientID, "session_id", reused)
		return nil, errBadCode
	}
	if !issuesRefresh(c, code.Scope) {
		refresh = ""
	}
	return as.tokens(ctx, user, sess, c, code.Scope, refresh, code.Nonce)
}

func notFoundAsBadCode(err error) error { return notFoundAs(err, errBadCode) }

// issuesRefresh: public clients get a refresh token without asking (OAuth 2.1 §4.3.1 with
// rotation), as do clients registered for the refresh_token grant, and those asking for
// offline_access.
func issuesRefresh(c *OAuthClient, scope string) bool {
	return c.Allows(GrantRefresh) || slices.Contains(strings.Fields(scope), ScopeOfflineAccess)
}

// startGrantSession starts the session an authorization code issues: it carries the client,
// the grant, the resource, the scope, and the grant's organization with the user's role in it.
func (as *AuthorizationServer) startGrantSession(ctx context.Context, tx StoreTx, u *User, c *OAuthClient, code *AuthCode, orgID, orgRole string, client Client, now time.Time) (*Session, string, error) {
	client = client.normalized()
	sess := &Session{
		ID: NewID(), UserID: u.ID, CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(as.auth.cfg.SessionLifetime),
		UserAgent: client.UserAgent, IP: client.IP,
		ClientID: c.ID, GrantID: code.GrantID, Resource: code.Resource, Scope: code.Scope, AuthTime: code.AuthTime,
		UserInfo: code.UserInfo, AMR: code.AMR, OrgID: orgID, OrgRole: orgRole,
	}
	if err := tx.CreateSession(ctx, sess); err != nil {
		return nil, "", err
	}
	refresh := RandomToken(refreshTokenBytes)
	if err := tx.CreateRefreshToken(ctx, as.auth.newRefreshToken(refresh, sess, now)); err != nil {
		return nil, "", err
	}
	return sess, refresh, nil
}

// refresh spends a refresh token of the client (RFC 6749 §6) with the rotation and retry window
// of first-party sessions. The token must be the client's; a resource, when sent, must be the
// one the grant is for; a scope may narrow, never widen. Each is checked before anything is spent.
func (as *AuthorizationServer) refresh(ctx context.Context, c *OAuthClient, req TokenRequest, client Client) (*OAuthTokens, error) {
	var narrowed []string
	var grantErr error
	// check may run twice (rotate tries a cached snapshot first): what it leaves is its last run's.
	check := func(sess *Session) (time.Duration, bool) {
		narrowed, grantErr = nil, nil
		if sess.ClientID != c.ID || !issuesRefresh(c, sess.Scope) {
			return 0, false
		}
		if ok, err := as.sessionInGrantOrg(ctx, sess); err != nil || !ok {
			grantErr = err
			return 0, false
		}
		if len(req.Resources) == 1 && req.Resources[0] != sess.Resource {
			return 0, false
		}
		if req.Scope != "" {
			granted := strings.Fields(sess.Scope)
			for _, s := range strings.Fields(req.Scope) {
				if !slices.Contains(granted, s) {
					return 0, false
				}
			}
			narrowed = strings.Fields(req.Scope)
		}
		if c.RefreshReuse != nil {
			return *c.RefreshReuse, true
		}
		return -1, true
	}
	spent, err := as.auth.rotate(ctx, req.RefreshToken, client, check)
	if grantErr != nil {
		return nil, grantErr
	}
	if err != nil {
		if ErrorKindOf(err) == KindUnauthorized || ErrorKindOf(err) == KindBadRequest {
			return nil, errBadRefresh
		}
		return nil, err
	}
	scope := spent.session.Scope
	if narrowed != nil {
		scope = scopeString(narrowed)
	}
	return as.tokens(ctx, spent.user, spent.session, c, scope, spent.successor, "")
}

// sessionInGrantOrg reports whether a grant's session is still in the organization its grant
// was given for. A removal from the organization (or its deletion) takes the session out of it
// (membership.go): the grant's refresh tokens then stop working, as its access tokens already
// have (tokenAgreesWithSession). A session of no grant has nothing to compare.
func (as *AuthorizationServer) sessionInGrantOrg(ctx context.Context, sess *Session) (bool, error) {
	if sess.GrantID == "" {
		return true, nil
	}
	g, err := as.store.GrantByID(ctx, sess.GrantID)
	if isNotFound(err) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return g.OrgID == sess.OrgID, nil
}

// tokens signs the access token (and, for openid, the ID token) of a grant's session. The access
// token carries the session's organization, role and permissions as first-party tokens do.
func (as *AuthorizationServer) tokens(ctx context.Context, u *User, sess *Session, c *OAuthClient, scope, refresh, nonce string) (*OAuthTokens, error) {
	now := as.now()
	ttl := as.auth.cfg.AccessTokenTTL
	scopes := strings.Fields(scope)
	orgPerms, err := sessionOrgPermissions(ctx, as.auth.store, sess)
	if err != nil {
		return nil, err
	}
	claims := AccessClaims{Subject: u.ID, SessionID: sess.ID, Audience: sess.Resource, ClientID: c.ID, Scope: scope,
		IssuedAt: now, ExpiresAt: now.Add(ttl), AMR: sess.AMR, AAL: AAL(sess.AMR),
		OrgID: sess.OrgID, OrgRole: sess.OrgRole, OrgPermissions: orgPerms}
	if slices.Contains(scopes, ScopeEmail) {
		claims.Email, claims.EmailVerified = u.Email, u.EmailVerified
	}
	access, err := as.auth.tokens.Sign(ctx, claims)
	if err != nil {
		return nil, err
	}
	out := &OAuthTokens{AccessToken: access, RefreshToken: refresh, Scope: scope, ExpiresIn: ttl}
	if slices.Contains(scopes, ScopeOpenID) {
		id := IDClaims{Subject: u.ID, Audience: c.ID, Nonce: nonce, AuthTime: sess.AuthTime, SessionID: sess.ID,
			AMR: sess.AMR, ACR: ACR(sess.AMR),
			AccessToken: access, WithEmail: slices.Contains(scopes, ScopeEmail), Email: u.Email, EmailVerified: u.EmailVerified,
			WithProfile: slices.Contains(scopes, ScopeProfile), Name: u.Name}
		if u.AvatarURL != nil {
			id.Picture = *u.AvatarURL
		}
		if out.IDToken, err = as.auth.tokens.SignIDToken(ctx, id); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// validVerifier: RFC 7636 §4.1, 43 to 128 unreserved characters.
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; !isBase64URLChar(c) && c != '.' && c != '~' {
			return false
		}
	}
	return true
}

// pkceMatches: BASE64URL(SHA256(verifier)) == challenge (RFC 7636 §4.6), in constant time.
func pkceMatches(verifier, challenge string) bool {
	sum := sha256.Sum256([]byte(verifier))
	return subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(challenge)) == 1
}

// Revoke revokes a token of the client (RFC 7009): a refresh token or an access token revokes
// its whole session, and with it every token of the grant's session on this server at once. A
// token that is unknown, malformed or another client's is answered the same way and left alone.
func (as *AuthorizationServer) Revoke(ctx context.Context, cc ClientCredentials, token string, client Client) error {
	c, err := as.authenticateClient(ctx, cc)
	if err != nil {
		return err
	}
	if token == "" || len(token) > 8<<10 {
		return nil
	}
	sessionID := ""
	if claims, err := as.auth.tokens.VerifyAnyAudience(ctx, token); err == nil {
		if claims.Machine() {
			return as.revokeMachine(ctx, c, claims, client)
		}
		if claims.ClientID == c.ID {
			sessionID = claims.SessionID
		}
	} else if len(token) <= maxRefreshTokenLength {
		_, sess, _, err := as.store.RefreshTokenSession(ctx, HashToken(token))
		if err == nil && sess.ClientID == c.ID {
			sessionID = sess.ID
		} else if err != nil && !isNotFound(err) {
			return err
		}
	}
	if sessionID == "" {
		return nil
	}
	err = as.auth.tx(ctx, func(tx StoreTx) error {
		sess, err := tx.LockSession(ctx, sessionID)
		if isNotFound(err) {
			return nil
		} else if err != nil {
			return err
		}
		if sess.RevokedAt != nil || sess.ClientID != c.ID {
			return nil
		}
		if err := tx.RevokeSession(ctx, sess.ID, as.now()); err != nil {
			return err
		}
		return as.auth.auditTx(ctx, tx, client, EventOAuthTokenRevoked, sess.UserID, OutcomeSuccess, "client "+c.ID+" session "+sess.ID)
	})
	if err != nil {
		return err
	}
	as.auth.cache.invalidateSessions(sessionID)
	return nil
}

// TokenInfo is an introspection answer (RFC 7662 §2.2); Active false says nothing else.
type TokenInfo struct {
	Active    bool
	TokenType string // "access_token" or "refresh_token"
	Subject   string
	ClientID  string
	Scope     string
	Audience  string
	SessionID string
	JTI       string
	Username  string
	IssuedAt  time.Time
	ExpiresAt time.Time
	Act       *Actor // the actor chain of a delegated token
	// OrgID, OrgRole and OrgPermissions are the organization an access token's grant was given
	// for, the user's role in it and what the role permits (as the token says, which agrees with
	// its session); empty for a personal grant and for refresh tokens.
	OrgID          string
	OrgRole        string
	OrgPermissions []string
}

// Introspect answers RFC 7662 for an authenticated confidential client: whether one of its own
// tokens (an access token for any resource, or a refresh token) is active now. A public client
// cannot introspect: it has no credentials to prove who asks.
func (as *AuthorizationServer) Introspect(ctx context.Context, cc ClientCredentials, token string) (*TokenInfo, error) {
	c, err := as.authenticateClient(ctx, cc)
	if err != nil {
		return nil, err
	}
	if c.Public() {
		return nil, oauthError(OAuthUnauthorizedClient, "A public client cannot introspect tokens.")
	}
	info, err := as.inspect(ctx, token)
	if err != nil {
		return nil, err
	}
	// A client learns about its own tokens only: anyone can register a confidential client, and
	// introspection must not become a way to test other people's tokens (RFC 7662 §4). Resource
	// servers introspect with an API key at /api/v1/auth/introspect.
	if !info.Active || info.ClientID != c.ID {
		return &TokenInfo{}, nil
	}
	return info, nil
}

// inspect describes a token of this server, or reports it inactive.
func (as *AuthorizationServer) inspect(ctx context.Context, token string) (*TokenInfo, error) {
	inactive := &TokenInfo{}
	if token == "" || len(token) > 8<<10 {
		return inactive, nil
	}
	if claims, err := as.auth.tokens.VerifyAnyAudience(ctx, token); err == nil {
		if claims.Machine() {
			return as.inspectMachine(ctx, claims)
		}
		sess, u, err := as.auth.loadSession(ctx, claims.SessionID, claims.Subject)
		if err != nil {
			if ErrorKindOf(err) == KindUnauthorized {
				return inactive, nil
			}
			return nil, err
		}
		if !tokenAgreesWithSession(claims, sess) {
			return inactive, nil
		}
		return &TokenInfo{Active: true, TokenType: "access_token", Subject: u.ID, ClientID: claims.ClientID, Scope: claims.Scope,
			Audience: claims.Audience, SessionID: sess.ID, JTI: claims.ID, IssuedAt: claims.IssuedAt, ExpiresAt: claims.ExpiresAt, Act: claims.Act,
			OrgID: claims.OrgID, OrgRole: claims.OrgRole, OrgPermissions: claims.OrgPermissions}, nil
	}
	if len(token) > maxRefreshTokenLength {
		return inactive, nil
	}
	rt, sess, u, err := as.store.RefreshTokenSession(ctx, HashToken(token))
	if isNotFound(err) {
		return inactive, nil
	} else if err != nil {
		return nil, err
	}
	now := as.now()
	if sess.ClientID == "" || rt.SpentAt != nil || !now.Before(rt.ExpiresAt) || !sessionUsable(sess, u, now) {
		return inactive, nil
	}
	return &TokenInfo{Active: true, TokenType: "refresh_token", Subject: u.ID, ClientID: sess.ClientID, Scope: sess.Scope,
		Audience: sess.Resource, SessionID: sess.ID, IssuedAt: rt.CreatedAt, ExpiresAt: rt.ExpiresAt}, nil
}

// UserInfo is the OpenID Connect userinfo answer (OIDC Core §5.3) for the scopes of the token.
type UserInfo struct {
	Subject       string
	Email         string
	EmailVerified bool
	Name          string
	Picture       string
	WithEmail     bool
	WithProfile   bool
}

// UserInfo answers the userinfo endpoint for the access token of an openid grant that named no
// resource (or Gatehouse's own API): its session must stand and the token must carry openid.
func (as *AuthorizationServer) UserInfo(ctx context.Context, accessToken string) (*UserInfo, error) {
	claims, err := as.auth.tokens.VerifyAnyAudience(ctx, accessToken)
	if err != nil || claims.ClientID == "" {
		return nil, oauthError(OAuthInvalidToken, "The access token is invalid or expired.")
	}
	if claims.Machine() {
		return nil, oauthError(OAuthInvalidToken, "A client_credentials token has no user.")
	}
	sess, u, err := as.auth.loadSession(ctx, claims.SessionID, claims.Subject)
	if err != nil {
		if ErrorKindOf(err) == KindUnauthorized {
			return nil, oauthError(OAuthInvalidToken, "The access token has been revoked.")
		}
		return nil, err
	}
	if sess.ClientID != claims.ClientID {
		return nil, oauthError(OAuthInvalidToken, "The access token is invalid.")
	}
	// A token for another resource is that resource's (RFC 8707): only the tokens of an openid
	// flow that named no resource, or Gatehouse's own API, read userinfo.
	if !sess.UserInfo {
		return nil, oauthError(OAuthInvalidToken, "This access token is for another resource.")
	}
	scopes := strings.Fields(claims.Scope)
	if !slices.Contains(scopes, ScopeOpenID) {
		return nil, oauthError(OAuthInsufficientScope, "The access token was not issued with the openid scope.")
	}
	info := &UserInfo{Subject: u.ID, WithEmail: slices.Contains(scopes, ScopeEmail), WithProfile: slices.Contains(scopes, ScopeProfile)}
	if info.WithEmail {
		info.Email, info.EmailVerified = u.Email, u.EmailVerified
	}
	if info.WithProfile {
		info.Name = u.Name
		if u.AvatarURL != nil {
			info.Picture = *u.AvatarURL
		}
	}
	return info, nil
}
