package gatehouse

import (
	"context"
	"crypto/subtle"
	"errors"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Kinds of OAuth clients.
const (
	ClientRegistered = "registered" // by an operator: the command line, the admin API or dashboard
	ClientDynamic    = "dynamic"    // by itself, through RFC 7591 registration
	ClientMetadata   = "metadata"   // identified by the URL of its Client ID Metadata Document
)

// Token endpoint authentication methods.
const (
	AuthMethodNone   = "none"
	AuthMethodBasic  = "client_secret_basic"
	AuthMethodPost   = "client_secret_post"
	AuthMethodJWT    = "private_key_jwt"
	GrantAuthCode    = "authorization_code"
	GrantRefresh     = "refresh_token"
	clientSecretSize = 32
)

// OAuthClient is an application that asks users for access.
type OAuthClient struct {
	ID           string
	Kind         string
	Name         string
	SecretHash   []byte // SHA-256 of the secret; nil for public clients
	RedirectURIs []string
	GrantTypes   []string
	AuthMethod   string
	ClientURI    string
	LogoURI      string
	// RefreshReuse overrides the server's refresh retry window for this client; nil: the server's.
	RefreshReuse *time.Duration
	// JWKS (a JWK Set) or JWKSURI holds the public keys of a private_key_jwt client.
	JWKS    []byte
	JWKSURI string
	// Scopes are what an admin granted a client_credentials client (sorted).
	Scopes    []string
	CreatedBy string // who registered it: a user ID, "operator", or "" for dynamic registration
	CreatedAt time.Time
	RevokedAt *time.Time
}

// Public reports whether the client has no secret (RFC 6749 §2.1).
func (c *OAuthClient) Public() bool { return c.AuthMethod == AuthMethodNone }

// Allows reports whether the client may use the grant type. A public client may always refresh
// (OAuth 2.1 §4.3: refresh tokens for public clients are sender-constrained or rotated, as here).
func (c *OAuthClient) Allows(grant string) bool {
	return slices.Contains(c.GrantTypes, grant) || grant == GrantRefresh && c.Public() &&
		(slices.Contains(c.GrantTypes, GrantAuthCode) || slices.Contains(c.GrantTypes, GrantDeviceCode))
}

// Host is the host of the client's identity: the metadata document's host for a URL client_id,
// else the host of its client_uri, else "".
func (c *OAuthClient) Host() string {
	s := c.ClientURI
	if c.Kind == ClientMetadata {
		s = c.ID
	}
	if u, err := url.Parse(s); err == nil {
		return u.Host
	}
	return ""
}

// LoopbackOnly reports whether every redirect URI of the client points at the user's own machine
// (or at a private-use scheme): any program there can claim it, so the consent page warns.
func (c *OAuthClient) LoopbackOnly() bool {
	for _, r := range c.RedirectURIs {
		u, err := url.Parse(r)
		if err != nil || u.Scheme == "https" {
			return false
		}
	}
	return len(c.RedirectURIs) > 0
}

// ClientMetadataFetcher fetches and checks a Client ID Metadata Document.
type ClientMetadataFetcher interface {
	FetchClientMetadata(ctx context.Context, clientID string) (*ClientMetadataDocument, error)
}

// ClientMetadataDocument is what the authorization server uses of a metadata document; the
// fetcher has checked that its client_id equals the URL it came from.
type ClientMetadataDocument struct {
	ClientName              string
	ClientURI               string
	LogoURI                 string
	RedirectURIs            []string
	GrantTypes              []string
	TokenEndpointAuthMethod string
	// JWKS or JWKSURI: the keys of a private_key_jwt client.
	JWKS    []byte
	JWKSURI string
}

// IsMetadataClientID reports whether a client_id names a metadata document.
func IsMetadataClientID(id string) bool { return strings.HasPrefix(id, "https://") }

var errUnknownClient = oauthError(OAuthInvalidClient, "The client is unknown or has been revoked; register again.")

const maxClientIDLength = 2048

// Client finds a client by client_id: a stored client, or the client a metadata document
// describes. An unknown, revoked or unreachable client is invalid_client.
func (as *AuthorizationServer) Client(ctx context.Context, clientID string) (*OAuthClient, error) {
	if clientID == "" || len(clientID) > maxClientIDLength {
		return nil, errUnknownClient
	}
	if IsMetadataClientID(clientID) {
		if as.metadata == nil {
			return nil, oauthError(OAuthInvalidClient, "This server does not accept client metadata documents.")
		}
		// An operator revokes a metadata-document client by storing it revoked.
		if stored, err := as.store.OAuthClientByID(ctx, clientID); err == nil && stored.RevokedAt != nil {
			return nil, errUnknownClient
		} else if err != nil && !isNotFound(err) {
			return nil, err
		}
		doc, err := as.metadata.FetchClientMetadata(ctx, clientID)
		if err != nil {
			var e *Error
			if errors.As(err, &e) && e.Kind == KindUnavailable {
				return nil, e
			}
			return nil, &Error{Kind: KindUnauthorized, Code: OAuthInvalidClient,
				Message: "The client metadata document could not be used: " + err.Error(), Err: err}
		}
		return as.clientFromDocument(clientID, doc)
	}
	c, err := as.store.OAuthClientByID(ctx, clientID)
	if isNotFound(err) || err == nil && c.RevokedAt != nil {
		return nil, errUnknownClient
	}
	return c, err
}

// clientFromDocument is the client a metadata document describes. Such a client has no secret:
// the document is public. It is public (none) or proves itself with the keys its document
// publishes (private_key_jwt). Its redirect URIs are checked as a registration's would be.
func (as *AuthorizationServer) clientFromDocument(id string, d *ClientMetadataDocument) (*OAuthClient, error) {
	method := d.TokenEndpointAuthMethod
	if method == "" {
		method = AuthMethodNone
	}
	switch {
	case method == AuthMethodNone:
	case method == AuthMethodJWT && as.assertions != nil && (len(d.JWKS) > 0) != (d.JWKSURI != ""):
	default:
		return nil, oauthError(OAuthInvalidClient, "The client metadata document asks for token_endpoint_auth_method %q; this server supports \"none\" and \"private_key_jwt\" (with jwks or jwks_uri) for metadata documents.", cleanText(method, 50))
	}
	if err := checkRedirectURIs(d.RedirectURIs); err != nil {
		return nil, oauthError(OAuthInvalidClient, "The client metadata document is invalid: %s", err.Message)
	}
	grants := d.GrantTypes
	if len(grants) == 0 {
		grants = []string{GrantAuthCode}
	}
	name := cleanText(d.ClientName, 100)
	u, _ := url.Parse(id)
	if name == "" && u != nil {
		name = u.Host
	}
	return &OAuthClient{ID: id, Kind: ClientMetadata, Name: name, RedirectURIs: d.RedirectURIs, GrantTypes: grants,
		AuthMethod: method, ClientURI: d.ClientURI, LogoURI: d.LogoURI, JWKS: d.JWKS, JWKSURI: d.JWKSURI}, nil
}

// ClientCredentials is how a client authenticated at the token, revocation or introspection
// endpoint: the edge reads them from the Authorization header or the form.
type ClientCredentials struct {
	ClientID string
	Secret   string
	// Method is how the client authenticated: client_secret_basic, client_secret_post,
	// private_key_jwt, or none.
	Method string
	// AssertionType and Assertion are client_assertion_type and client_assertion (RFC 7523
	// §2.2), sent with private_key_jwt.
	AssertionType string
	Assertion     string
}

// authenticateClient checks a client's credentials (RFC 6749 §2.3): a confidential client must
// present its secret, a public client must not present one.
func (as *AuthorizationServer) authenticateClient(ctx context.Context, cc ClientCredentials) (*OAuthClient, error) {
	if cc.Method == AuthMethodJWT {
		return as.authenticateAssertion(ctx, cc)
	}
	c, err := as.Client(ctx, cc.ClientID)
	if err != nil {
		return nil, err
	}
	if c.AuthMethod == AuthMethodJWT {
		return nil, oauthError(OAuthInvalidClient, "This client authenticates with private_key_jwt: send client_assertion_type and client_assertion.")
	}
	if c.Public() {
		if cc.Secret != "" {
			return nil, oauthError(OAuthInvalidClient, "This client is public and has no secret.")
		}
		return c, nil
	}
	if cc.Secret == "" || subtle.ConstantTimeCompare(HashToken(cc.Secret), c.SecretHash) != 1 {
		return nil, oauthError(OAuthInvalidClient, "Client authentication failed.")
	}
	return c, nil
}

// NewClientInput registers a client: through RFC 7591 (dynamic) or by an operator.
type NewClientInput struct {
	Name         string
	RedirectURIs []string
	GrantTypes   []string
	AuthMethod   string // none (public), client_secret_basic or client_secret_post
	ClientURI    string
	LogoURI      string
	// RefreshReuse overrides the refresh retry window; nil: the server's.
	RefreshReuse *time.Duration
	// JWKS (a public JWK or JWK Set) or JWKSURI makes a private_key_jwt client, without a
	// secret. Operators only.
	JWKS    []byte
	JWKSURI string
	// Scopes are what a client_credentials client may be granted. Operators only.
	Scopes []string
}

// RegisterClient registers a client on its own request (RFC 7591). The secret, for a
// confidential client, is returned once and stored hashed.
func (as *AuthorizationServer) RegisterClient(ctx context.Context, in NewClientInput, client Client) (*OAuthClient, string, error) {
	if !as.cfg.DynamicRegistration {
		return nil, "", Errorf(KindForbidden, "registration_disabled", "Dynamic client registration is turned off on this server.")
	}
	in.RefreshReuse, in.JWKS, in.JWKSURI, in.Scopes = nil, nil, "", nil
	return as.createClient(ctx, ClientDynamic, "", in, client)
}

// CreateClient registers a client by an operator or admin.
func (as *AuthorizationServer) CreateClient(ctx context.Context, p *Principal, in NewClientInput) (*OAuthClient, string, error) {
	by := "operator"
	if p != nil && p.User != nil {
		by = p.User.ID
	}
	return as.createClient(ctx, ClientRegistered, by, in, p.Client)
}

func (as *AuthorizationServer) createClient(ctx context.Context, kind, by string, in NewClientInput, client Client) (*OAuthClient, string, error) {
	c, err := newClient(kind, in)
	if err != nil {
		return nil, "", err
	}
	if err := as.checkClientKeys(c, in); err != nil {
		return nil, "", err
	}
	c.CreatedBy = by
	c.CreatedAt = as.now()
	var secret string
	if !c.Public() && c.AuthMethod != AuthMethodJWT {
		secret = "ghs_" + RandomToken(clientSecretSize)
		c.SecretHash = HashToken(secret)
	}
	err = as.auth.tx(ctx, func(tx StoreTx) error {
		if err := tx.CreateOAuthClient(ctx, c); err != nil {
			return err
		}
		return as.auth.auditTx(ctx, tx, client, EventOAuthClientRegistered, "", OutcomeSuccess,
			kind+" client "+c.ID+" ("+c.Name+")")
	})
	if err != nil {
		return nil, "", err
	}
	return c, secret, nil
}

// newClient checks a registration (RFC 7591 §2, §3.2.2) and builds the client.
func newClient(kind string, in NewClientInput) (*OAuthClient, error) {
	name := cleanText(in.Name, 100)
	if name == "" {
		name = "Unnamed app"
	}
	method := in.AuthMethod
	switch method {
	case "":
		// RFC 7591 §2 defaults to client_secret_basic.
		method = AuthMethodBasic
	case AuthMethodNone, AuthMethodBasic, AuthMethodPost:
	default:
		return nil, oauthError(OAuthInvalidClientMetadata, "token_endpoint_auth_method must be none, client_secret_basic or client_secret_post.")
	}
	grants := in.GrantTypes
	if len(grants) == 0 {
		grants = []string{GrantAuthCode}
	}
	grants = slices.Clone(grants)
	slices.Sort(grants)
	grants = slices.Compact(grants)
	for _, g := range grants {
		if g == GrantTokenExchange {
			if err := checkExchangeClient(kind, method); err != nil {
				return nil, err
			}
			continue
		}
		if g == GrantClientCredentials && kind == ClientRegistered {
			continue
		}
		if g != GrantAuthCode && g != GrantRefresh && g != GrantDeviceCode {
			if kind == ClientRegistered {
				return nil, oauthError(OAuthInvalidClientMetadata, "grant_types may hold only authorization_code, refresh_token, client_credentials, "+GrantDeviceCode+" and "+GrantTokenExchange+".")
			}
			return nil, oauthError(OAuthInvalidClientMetadata, "grant_types may hold only authorization_code, refresh_token and "+GrantDeviceCode+".")
		}
	}
	// A client that only gets tokens of its own (client_credentials) signs nobody in: it has
	// no redirect URIs. Every other client has authorization_code (with redirect URIs) or the
	// device grant (a device-only client has no redirect URI either).
	machineOnly := slices.Equal(grants, []string{GrantClientCredentials})
	if !machineOnly && !slices.Contains(grants, GrantAuthCode) && !slices.Contains(grants, GrantDeviceCode) {
		return nil, oauthError(OAuthInvalidClientMetadata, "grant_types must include authorization_code or "+GrantDeviceCode+".")
	}
	switch {
	case machineOnly:
		if len(in.RedirectURIs) > 0 {
			return nil, oauthError(OAuthInvalidRedirectURI, "A client_credentials client signs no user in: it has no redirect URIs (add the authorization_code grant for that).")
		}
	case deviceOnly(grants) && len(in.RedirectURIs) == 0:
	default:
		if err := checkRedirectURIs(in.RedirectURIs); err != nil {
			return nil, err
		}
	}
	for _, u := range []string{in.ClientURI, in.LogoURI} {
		if u != "" && !isHTTPSURL(u) {
			return nil, oauthError(OAuthInvalidClientMetadata, "client_uri and logo_uri must be https URLs.")
		}
	}
	if in.RefreshReuse != nil && (*in.RefreshReuse < 0 || *in.RefreshReuse > time.Minute) {
		return nil, oauthError(OAuthInvalidClientMetadata, "The refresh retry window must be from 0 to 60 seconds.")
	}
	redirects := slices.Clone(in.RedirectURIs)
	if redirects == nil {
		redirects = []string{}
	}
	return &OAuthClient{ID: NewID(), Kind: kind, Name: name, RedirectURIs: redirects, GrantTypes: grants,
		AuthMethod: method, ClientURI: in.ClientURI, LogoURI: in.LogoURI, RefreshReuse: in.RefreshReuse}, nil
}

const (
	maxRedirectURIs      = 20
	maxRedirectURILength = 2000
)

// checkRedirectURIs enforces what redirect URIs may be (OAuth 2.1 §2.3.1, RFC 8252 §7): https;
// http only on a loopback address; or a private-use scheme of a native app (cursor://,
// com.example.app:/). Never a fragment, never a scheme that runs code in the browser.
func checkRedirectURIs(uris []string) *Error {
	if len(uris) == 0 {
		return oauthError(OAuthInvalidRedirectURI, "At least one redirect URI is required.")
	}
	if len(uris) > maxRedirectURIs {
		return oauthError(OAuthInvalidRedirectURI, "At most %d redirect URIs are allowed.", maxRedirectURIs)
	}
	for _, raw := range uris {
		if err := checkRedirectURI(raw); err != "" {
			return oauthError(OAuthInvalidRedirectURI, "Redirect URI %q: %s", cleanText(raw, 200), err)
		}
	}
	return nil
}

func checkRedirectURI(raw string) string {
	if raw == "" || len(raw) > maxRedirectURILength || strings.ContainsAny(raw, " \t\r\n\\") {
		return "not a valid URI"
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return "not an absolute URI"
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return "must not have a fragment"
	}
	if u.User != nil {
		return "must not carry credentials"
	}
	switch scheme := strings.ToLower(u.Scheme); scheme {
	case "https":
		if u.Host == "" {
			return "has no host"
		}
	case "http":
		if !isLoopbackHost(u.Hostname()) {
			return "http is allowed only for loopback addresses (127.0.0.1, [::1], localhost); use https"
		}
	case "javascript", "data", "vbscript", "file", "about", "blob", "filesystem", "ws", "wss", "ftp", "mailto", "tel":
		return "scheme " + scheme + " cannot be a redirect URI"
	default:
		// A private-use scheme of a native app (RFC 8252 §7.1).
		if u.Opaque != "" && !strings.HasPrefix(u.Opaque, "/") {
			return "not a valid private-use URI"
		}
	}
	return ""
}

// isLoopbackHost reports whether host is a loopback IP literal or localhost.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func isHTTPSURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "https" && u.Host != "" && len(s) <= maxRedirectURILength
}

// redirectMatches reports whether a redirect URI from a request is one the client registered:
// the same string exactly, except that for a loopback IP literal over http any port is
// accepted (RFC 8252 §7.3), the rest still compared exactly.
func (c *OAuthClient) redirectMatches(requested string) bool {
	for _, r := range c.RedirectURIs {
		if r == requested {
			return true
		}
	}
	req, err := url.Parse(requested)
	if err != nil || req.Scheme != "http" || !isLoopbackIP(req.Hostname()) {
		return false
	}
	for _, r := range c.RedirectURIs {
		reg, err := url.Parse(r)
		if err != nil || reg.Scheme != "http" || !isLoopbackIP(reg.Hostname()) {
			continue
		}
		if reg.Hostname() == req.Hostname() && reg.EscapedPath() == req.EscapedPath() && reg.RawQuery == req.RawQuery &&
			reg.User == nil && req.User == nil && req.Fragment == "" {
			return true
		}
	}
	return false
}

// isLoopbackIP is a loopback IP literal: 127.0.0.1 or ::1 (not the name localhost, RFC 8252 §8.3).
func isLoopbackIP(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// RevokeClient revokes a stored client: its grants are deleted, and its sessions (so its refresh
// tokens at once, and its access tokens on this server at once) revoked.
func (as *AuthorizationServer) RevokeClient(ctx context.Context, p *Principal, clientID string) error {
	var revoked []string
	err := as.auth.tx(ctx, func(tx StoreTx) error {
		now := as.now()
		if IsMetadataClientID(clientID) {
			// Nothing is stored of a metadata-document client until it is revoked: the revoked
			// row is what refuses it from then on.
			err := tx.CreateOAuthClient(ctx, &OAuthClient{ID: clientID, Kind: ClientMetadata, Name: hostOf(clientID),
				RedirectURIs: []string{}, GrantTypes: []string{}, AuthMethod: AuthMethodNone, CreatedBy: "revoked", CreatedAt: now, RevokedAt: &now})
			if errors.Is(err, ErrClientExists) {
				return ErrNotFound // already revoked
			} else if err != nil {
				return err
			}
		} else if err := tx.RevokeOAuthClient(ctx, clientID, now); isNotFound(err) && clientID == CLIClientID {
			// The built-in client of "gatehouse login" is stored on first use; revoked before
			// that, it is stored revoked, and command-line sign-in is off from the start.
			c := cliClient(now)
			c.RevokedAt = &now
			if err := tx.CreateOAuthClient(ctx, c); errors.Is(err, ErrClientExists) {
				return ErrNotFound // stored and revoked already
			} else if err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		// Grants first: an exchange in flight holds its grant's row, so this waits for it, and
		// the sessions revoked next include the one it issued.
		if _, err := tx.DeleteGrants(ctx, GrantFilter{ClientID: clientID}); err != nil {
			return err
		}
		var err error
		if revoked, err = tx.RevokeSessionsWhere(ctx, GrantFilter{ClientID: clientID}, now); err != nil {
			return err
		}
		return as.auth.auditTx(ctx, tx, p.Client, EventOAuthClientRevoked, "", OutcomeSuccess, "client "+clientID+p.actor())
	})
	if err != nil {
		return err
	}
	as.auth.cache.invalidateSessions(revoked...)
	return nil
}

// ListClients returns the stored clients (metadata-document clients are not stored).
func (as *AuthorizationServer) ListClients(ctx context.Context) ([]*OAuthClient, error) {
	return as.store.ListOAuthClients(ctx)
}

func hostOf(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Host
	}
	return ""
}
