package gatehouse

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"
)

// Machine grants: the client credentials grant (RFC 6749 §4.4; the MCP extension
// io.modelcontextprotocol/oauth-client-credentials) and private_key_jwt client authentication
// (RFC 7523 §2.2, OIDC Core §9), which any confidential client may use at the token, revocation
// and introspection endpoints.
//
// A client_credentials token has no user: its "sub" is the client. It is not a session (sessions
// belong to users), so each issuance writes a MachineSession, the token's "sid": introspection
// answers from it and from the client, revocation ends it, revoking the client ends them all.
// These tokens are issued only for registered resources, never for Gatehouse's own API, whose
// endpoints all act for a user: /api/v1 refuses them as it refuses every other resource's token.

// GrantClientCredentials is the client credentials grant type.
const GrantClientCredentials = "client_credentials"

// ClientAssertionTypeJWT is the client_assertion_type of private_key_jwt (RFC 7523 §2.2).
const ClientAssertionTypeJWT = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

const (
	// MaxAssertionLifetime is how far ahead of now a client assertion's exp may be.
	MaxAssertionLifetime = 5 * time.Minute
	// assertionLeeway absorbs clock skew between the client and Gatehouse on exp, nbf and iat.
	assertionLeeway = 30 * time.Second
	// maxAssertionLength bounds what is parsed before the signature is checked.
	maxAssertionLength = 8 << 10
	maxJTILength       = 256
	// maxClientScopes bounds the scopes an admin grants one client.
	maxClientScopes = 50
)

// ClientKeys are where a private_key_jwt client's public keys are: a JWK Set stored with the
// client (or inline in its metadata document), or an https URL to fetch it from.
type ClientKeys struct {
	JWKS    []byte
	JWKSURI string
}

// ClientAssertion is the claims of a client assertion whose signature verified against one of
// the client's keys, with the algorithm pinned to that key's. The rules about them are here.
type ClientAssertion struct {
	Issuer    string
	Subject   string
	Audience  []string
	ID        string // jti
	ExpiresAt *time.Time
	NotBefore *time.Time
	IssuedAt  *time.Time
}

// ClientAssertionVerifier checks private_key_jwt assertions against a client's keys; package
// token implements it (fetching jwks_uri through package cimd's guarded client).
type ClientAssertionVerifier interface {
	// VerifyClientAssertion checks the assertion's signature with one of keys, the algorithm
	// pinned to that key (never none, never HMAC), and returns its claims. Errors carry a message
	// safe to show the client.
	VerifyClientAssertion(ctx context.Context, assertion string, keys ClientKeys) (*ClientAssertion, error)
	// PublicKeySet checks a JWK or JWK Set that an admin registers for a client: public signing
	// keys of a supported type only. It returns the keys as a JWK Set.
	PublicKeySet(raw []byte) ([]byte, error)
}

// MachineSession is what one client_credentials token lives in: its "sid". It has no user.
type MachineSession struct {
	ID        string
	ClientID  string
	Resource  string
	Scope     string
	IP        string
	UserAgent string
	CreatedAt time.Time
	ExpiresAt time.Time
	RevokedAt *time.Time
}

// Active reports whether the token of the session may be used at now.
func (m *MachineSession) Active(now time.Time) bool {
	return m.RevokedAt == nil && now.Before(m.ExpiresAt)
}

// MachineReader reads client_credentials sessions.
type MachineReader interface {
	MachineSessionByID(ctx context.Context, id string) (*MachineSession, error)
}

// MachineWriter writes client_credentials sessions and spent client assertions.
type MachineWriter interface {
	CreateMachineSession(ctx context.Context, m *MachineSession) error
	// RevokeMachineSession marks it revoked; ErrNotFound when it is missing or already revoked.
	RevokeMachineSession(ctx context.Context, id string, at time.Time) error
	// RevokeResourceMachineSessions revokes the active machine sessions for a resource.
	RevokeResourceMachineSessions(ctx context.Context, resource string, at time.Time) error
	// DeleteExpiredMachineSessions removes those that expired before the given time.
	DeleteExpiredMachineSessions(ctx context.Context, before time.Time) (int64, error)
	// UseAssertionID records the jti of a client's assertion until expiresAt. It returns
	// ErrAssertionReplayed when that jti is recorded for the client and has not expired at now:
	// one statement on a unique key, so two instances on one database cannot both accept it.
	UseAssertionID(ctx context.Context, clientID, jti string, expiresAt, now time.Time) error
	// DeleteExpiredAssertionIDs removes the jtis that expired before the given time.
	DeleteExpiredAssertionIDs(ctx context.Context, before time.Time) (int64, error)
}

// ErrAssertionReplayed is a client assertion whose jti was already used.
var ErrAssertionReplayed = &Error{Kind: KindConflict, Code: "assertion_replayed", Message: "This client assertion (jti) was already used."}

// Machine reports whether the claims are a client_credentials token's: RFC 9068 §2.2 makes the
// client its own subject when no user is involved. User and client IDs never meet: both are
// random IDs, or a URL for a metadata-document client.
func (c *AccessClaims) Machine() bool { return c.ClientID != "" && c.Subject == c.ClientID }

// TokenEndpoint is the URL of the token endpoint.
func (as *AuthorizationServer) TokenEndpoint() string { return as.cfg.Issuer + "/oauth2/token" }

// PrivateKeyJWT reports whether private_key_jwt client authentication is available.
func (as *AuthorizationServer) PrivateKeyJWT() bool { return as.assertions != nil }

// AssertionAlgorithms are the JWS algorithms accepted in client assertions; each key is held to
// its own (RFC 8725 §3.1). Never none, never HMAC: a client secret is not a signing key here.
var AssertionAlgorithms = []string{"ES256", "ES384", "ES512", "EdDSA", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512"}

// clientCredentials answers grant_type=client_credentials: a confidential client that an admin
// registered for the grant gets an access token of its own (sub = the client) for one registered
// resource, with the scopes it asked for among those the admin granted it. No refresh token.
func (as *AuthorizationServer) clientCredentials(ctx context.Context, req TokenRequest, client Client) (*OAuthTokens, error) {
	c, err := as.authenticateClient(ctx, req.Credentials)
	if err != nil {
		return nil, err
	}
	if c.Public() {
		return nil, oauthError(OAuthUnauthorizedClient, "A public client cannot use client_credentials: it has no credentials to prove who it is.")
	}
	// A client that describes itself (a metadata document) or registered itself (RFC 7591) was
	// never approved by anyone: only an admin can register a client for this grant.
	if c.Kind != ClientRegistered || !c.Allows(GrantClientCredentials) {
		return nil, oauthError(OAuthUnauthorizedClient, "This client may not use the client_credentials grant; an admin registers clients for it (gatehouse clients create --grant client_credentials).")
	}
	if len(req.Resources) > 1 {
		return nil, oauthError(OAuthInvalidTarget, "Ask for one resource per token request.")
	}
	r, err := as.machineResource(ctx, req.Resources)
	if err != nil {
		return nil, err
	}
	scope, err := machineScope(req.Scope, c, r)
	if err != nil {
		return nil, err
	}
	now := as.now()
	ttl := as.auth.cfg.AccessTokenTTL
	cl := client.normalized()
	m := &MachineSession{ID: NewID(), ClientID: c.ID, Resource: r.URI, Scope: scope, IP: cl.IP, UserAgent: cl.UserAgent,
		CreatedAt: now, ExpiresAt: now.Add(ttl)}
	err = as.auth.tx(ctx, func(tx StoreTx) error {
		// The client may have been revoked since it authenticated.
		stored, err := tx.OAuthClientByID(ctx, c.ID)
		if isNotFound(err) || err == nil && stored.RevokedAt != nil {
			return errUnknownClient
		} else if err != nil {
			return err
		}
		// These rows live as long as their token; sweeping the dead ones here keeps the table small.
		if _, err := tx.DeleteExpiredMachineSessions(ctx, now.Add(-time.Minute)); err != nil {
			return err
		}
		if err := tx.CreateMachineSession(ctx, m); err != nil {
			return err
		}
		return as.auth.auditTx(ctx, tx, client, EventOAuthTokenIssued, "", OutcomeSuccess,
			"client_credentials: client "+c.ID+" resource "+r.URI+" scope "+scope)
	})
	if err != nil {
		return nil, err
	}
	access, err := as.auth.tokens.Sign(ctx, AccessClaims{Subject: c.ID, SessionID: m.ID, Audience: r.URI, ClientID: c.ID,
		Scope: scope, IssuedAt: now, ExpiresAt: m.ExpiresAt})
	if err != nil {
		return nil, err
	}
	return &OAuthTokens{AccessToken: access, Scope: scope, ExpiresIn: ttl}, nil
}

// machineResource is the resource a client_credentials request names, or the one registered
// resource when it names none. Gatehouse's own API is never one: its endpoints act for a user.
func (as *AuthorizationServer) machineResource(ctx context.Context, resources []string) (*Resource, error) {
	if len(resources) == 1 {
		if resources[0] == as.OwnAPI() || resources[0] == as.cfg.Issuer {
			return nil, oauthError(OAuthInvalidTarget, "Gatehouse's own API acts for users; client_credentials tokens are issued for registered resources only.")
		}
		return as.resource(ctx, resources[0])
	}
	list, err := as.store.ListResources(ctx)
	if err != nil {
		return nil, err
	}
	switch len(list) {
	case 1:
		return list[0], nil
	case 0:
		return nil, oauthError(OAuthInvalidTarget, "No resource is registered on this server; client_credentials tokens are issued for registered resources only.")
	}
	return nil, oauthError(OAuthInvalidTarget, "Several resources are registered: name one with the resource parameter (RFC 8707).")
}

// machineScope is the scope of a client_credentials token: what the client asked for among the
// scopes an admin granted it that the resource defines; all of those when it asked for none.
// Scopes not granted are dropped; nothing left is invalid_scope.
func machineScope(requested string, c *OAuthClient, r *Resource) (string, error) {
	offered := ScopeNames(r.Scopes)
	var allowed []string
	for _, s := range c.Scopes {
		if slices.Contains(offered, s) {
			allowed = append(allowed, s)
		}
	}
	if len(allowed) == 0 {
		return "", oauthError(OAuthInvalidScope, "This client was granted no scope of the resource %s.", cleanText(r.URI, 200))
	}
	if strings.TrimSpace(requested) == "" {
		return scopeString(allowed), nil
	}
	var out []string
	for _, s := range strings.Fields(requested) {
		if slices.Contains(allowed, s) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return "", oauthError(OAuthInvalidScope, "None of the requested scopes was granted to this client for this resource.")
	}
	return scopeString(out), nil
}

var errBadAssertion = oauthError(OAuthInvalidClient, "Client authentication failed: the client assertion is not valid.")

// authenticateAssertion authenticates a client by its private_key_jwt assertion (RFC 7523 §3,
// OIDC Core §9): signed by one of the client's keys, iss = sub = the client, aud = this server's
// issuer or token endpoint (one value), exp at most five minutes ahead, a jti never seen before.
// The jti is recorded at once, in a transaction of its own: an assertion is good for one request,
// whatever that request's outcome.
func (as *AuthorizationServer) authenticateAssertion(ctx context.Context, cc ClientCredentials) (*OAuthClient, error) {
	if as.assertions == nil {
		return nil, oauthError(OAuthInvalidClient, "This server does not accept private_key_jwt client authentication.")
	}
	if cc.AssertionType != ClientAssertionTypeJWT {
		return nil, oauthError(OAuthInvalidClient, "client_assertion_type must be %s.", ClientAssertionTypeJWT)
	}
	if cc.Assertion == "" || len(cc.Assertion) > maxAssertionLength {
		return nil, oauthError(OAuthInvalidClient, "client_assertion is required: a signed JWT of at most 8 KiB.")
	}
	// RFC 7523 §3: the client is the assertion's sub; client_id may be left out.
	id := cc.ClientID
	if id == "" {
		id = unverifiedSubject(cc.Assertion)
		if id == "" {
			return nil, oauthError(OAuthInvalidClient, "The client assertion names no client (sub).")
		}
	}
	c, err := as.Client(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.AuthMethod != AuthMethodJWT {
		return nil, oauthError(OAuthInvalidClient, "This client does not authenticate with private_key_jwt.")
	}
	a, err := as.assertions.VerifyClientAssertion(ctx, cc.Assertion, ClientKeys{JWKS: c.JWKS, JWKSURI: c.JWKSURI})
	if err != nil {
		var e *Error
		if errors.As(err, &e) && e.Kind == KindUnavailable {
			return nil, e
		}
		return nil, &Error{Kind: KindUnauthorized, Code: OAuthInvalidClient, Message: "Client authentication failed: " + cleanText(err.Error(), 300), Err: err}
	}
	now := as.now()
	if err := as.checkAssertion(a, c.ID, now); err != nil {
		return nil, err
	}
	expires := a.ExpiresAt.Add(assertionLeeway)
	err = as.auth.tx(ctx, func(tx StoreTx) error {
		if _, err := tx.DeleteExpiredAssertionIDs(ctx, now); err != nil {
			return err
		}
		return tx.UseAssertionID(ctx, c.ID, a.ID, expires, now)
	})
	if errors.Is(err, ErrAssertionReplayed) {
		as.log.WarnContext(ctx, "client assertion replayed", "client_id", c.ID)
		return nil, oauthError(OAuthInvalidClient, "Client authentication failed: this client assertion (jti) was already used.")
	} else if err != nil {
		return nil, err
	}
	return c, nil
}

// checkAssertion applies the claim rules to a verified assertion of client id.
func (as *AuthorizationServer) checkAssertion(a *ClientAssertion, id string, now time.Time) error {
	if a.Issuer != id || a.Subject != id {
		return oauthError(OAuthInvalidClient, "Client authentication failed: the client assertion's iss and sub must both be the client_id.")
	}
	if len(a.Audience) != 1 || !slices.Contains([]string{as.cfg.Issuer, as.TokenEndpoint(), as.cfg.Issuer + "/token"}, a.Audience[0]) {
		return oauthError(OAuthInvalidClient, "Client authentication failed: the client assertion's aud must be one value, this server's issuer (%s) or token endpoint (%s).", as.cfg.Issuer, as.TokenEndpoint())
	}
	if a.ExpiresAt == nil {
		return oauthError(OAuthInvalidClient, "Client authentication failed: the client assertion has no exp.")
	}
	if !now.Before(a.ExpiresAt.Add(assertionLeeway)) {
		return oauthError(OAuthInvalidClient, "Client authentication failed: the client assertion has expired.")
	}
	if a.ExpiresAt.After(now.Add(MaxAssertionLifetime + assertionLeeway)) {
		return oauthError(OAuthInvalidClient, "Client authentication failed: the client assertion's exp is more than 5 minutes ahead.")
	}
	if a.NotBefore != nil && a.NotBefore.After(now.Add(assertionLeeway)) {
		return oauthError(OAuthInvalidClient, "Client authentication failed: the client assertion is not valid yet (nbf).")
	}
	if a.IssuedAt != nil && a.IssuedAt.After(now.Add(assertionLeeway)) {
		return oauthError(OAuthInvalidClient, "Client authentication failed: the client assertion was issued in the future (iat).")
	}
	if a.ID == "" || len(a.ID) > maxJTILength {
		return oauthError(OAuthInvalidClient, "Client authentication failed: the client assertion needs a jti (at most 256 characters).")
	}
	return nil
}

// unverifiedSubject reads the sub of a JWT without checking anything, to know which client's keys
// to check it with. Nothing else is trusted before the signature is verified.
func unverifiedSubject(jwt string) string {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var claims struct {
		Sub string `json:"sub"`
	}
	if json.Unmarshal(payload, &claims) != nil || len(claims.Sub) > maxClientIDLength {
		return ""
	}
	return claims.Sub
}

// machineSession returns the MachineSession of a client_credentials token's claims when it and
// its client still stand at now; ok false when the token is no longer good.
func (s *AuthService) machineSession(ctx context.Context, claims *AccessClaims) (*MachineSession, bool, error) {
	m, err := s.store.MachineSessionByID(ctx, claims.SessionID)
	if isNotFound(err) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, err
	}
	now := s.now()
	if m.ClientID != claims.ClientID || !m.Active(now) {
		return nil, false, nil
	}
	c, err := s.store.OAuthClientByID(ctx, m.ClientID)
	if isNotFound(err) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, err
	}
	if c.RevokedAt != nil {
		return nil, false, nil
	}
	return m, true, nil
}

// inspectMachine is introspection's answer for a client_credentials token.
func (as *AuthorizationServer) inspectMachine(ctx context.Context, claims *AccessClaims) (*TokenInfo, error) {
	m, ok, err := as.auth.machineSession(ctx, claims)
	if err != nil || !ok {
		return &TokenInfo{}, err
	}
	return &TokenInfo{Active: true, TokenType: "access_token", Subject: claims.Subject, ClientID: claims.ClientID, Scope: claims.Scope,
		Audience: claims.Audience, SessionID: m.ID, JTI: claims.ID, IssuedAt: claims.IssuedAt, ExpiresAt: claims.ExpiresAt}, nil
}

// revokeMachine revokes the MachineSession of a client_credentials token of client c (RFC 7009).
func (as *AuthorizationServer) revokeMachine(ctx context.Context, c *OAuthClient, claims *AccessClaims, client Client) error {
	if claims.ClientID != c.ID {
		return nil
	}
	return as.auth.tx(ctx, func(tx StoreTx) error {
		err := tx.RevokeMachineSession(ctx, claims.SessionID, as.now())
		if isNotFound(err) {
			return nil
		} else if err != nil {
			return err
		}
		return as.auth.auditTx(ctx, tx, client, EventOAuthTokenRevoked, "", OutcomeSuccess, "client "+c.ID+" client_credentials token "+claims.SessionID)
	})
}

// checkClientKeys checks the keys and scopes an admin gives a client at registration.
func (as *AuthorizationServer) checkClientKeys(c *OAuthClient, in NewClientInput) error {
	if len(in.JWKS) > 0 && in.JWKSURI != "" {
		return oauthError(OAuthInvalidClientMetadata, "Give the client's keys as jwks or as jwks_uri, not both.")
	}
	if len(in.JWKS) > 0 || in.JWKSURI != "" {
		if as.assertions == nil {
			return oauthError(OAuthInvalidClientMetadata, "This server does not accept private_key_jwt client authentication.")
		}
		if in.JWKSURI != "" {
			if !isHTTPSURL(in.JWKSURI) {
				return oauthError(OAuthInvalidClientMetadata, "jwks_uri must be an https URL.")
			}
			c.JWKSURI = in.JWKSURI
		} else {
			set, err := as.assertions.PublicKeySet(in.JWKS)
			if err != nil {
				return oauthError(OAuthInvalidClientMetadata, "jwks: %s", cleanText(err.Error(), 300))
			}
			c.JWKS = set
		}
		c.AuthMethod = AuthMethodJWT
	}
	if len(in.Scopes) > 0 && !slices.Contains(c.GrantTypes, GrantClientCredentials) {
		return oauthError(OAuthInvalidClientMetadata, "scopes are granted to client_credentials clients only.")
	}
	if len(in.Scopes) > maxClientScopes {
		return oauthError(OAuthInvalidClientMetadata, "At most %d scopes.", maxClientScopes)
	}
	for _, s := range in.Scopes {
		if !validScopeToken(s) || len(s) > maxScopeLength {
			return oauthError(OAuthInvalidClientMetadata, "A scope is printable ASCII without spaces, quotes or backslashes, at most 100 characters.")
		}
	}
	c.Scopes = strings.Fields(scopeString(in.Scopes))
	if slices.Contains(c.GrantTypes, GrantClientCredentials) {
		if c.Public() {
			return oauthError(OAuthInvalidClientMetadata, "A client_credentials client must be confidential (a secret, or keys for private_key_jwt).")
		}
		if len(c.Scopes) == 0 {
			return oauthError(OAuthInvalidClientMetadata, "A client_credentials client needs at least one scope (a scope of a resource it will call).")
		}
	}
	return nil
}
