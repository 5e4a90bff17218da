package gatehouse

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// AuthorizationServer is Gatehouse as an OAuth 2.1 authorization server and OpenID Connect
// provider: MCP clients, agents, CLIs and other apps get tokens for registered resources with the
// user's consent. It builds on the AuthService's core (transactions, the audit log, sessions and
// refresh-token rotation, token signing): the tokens it issues live in sessions of their own,
// marked with the client, the grant, the resource and the scope, so that revoking a grant, a
// client or a user ends them exactly as a logout ends a first-party session.
//
// The files of this area: authserver.go (the service, its types and errors),
// authserver_clients.go (clients: metadata documents, dynamic registration, pre-registration),
// authserver_resources.go (resources and scopes), authserver_authorize.go (the authorization
// request and consent), authserver_token.go (the token endpoint, revocation, introspection,
// userinfo), authserver_grants.go (what users and admins see and revoke), authserver_device.go
// (device authorization, RFC 8628, and the API keys "gatehouse login --api-key" asks for),
// authserver_exchange.go (token exchange and delegation, RFC 8693), authserver_machine.go
// (client credentials and private_key_jwt).
type AuthorizationServer struct {
	auth     *AuthService
	store    Store
	metadata ClientMetadataFetcher
	// assertions verifies private_key_jwt client assertions; nil turns private_key_jwt off.
	assertions ClientAssertionVerifier
	cfg        AuthServerConfig
	log        *slog.Logger
	now        func() time.Time
}

// AuthServerConfig holds the authorization server's settings.
type AuthServerConfig struct {
	// Issuer is the public URL, exactly: the "iss" of every token and of every authorization
	// response (RFC 9207).
	Issuer string
	// CodeTTL is how long an authorization code can be exchanged; at most a minute.
	CodeTTL time.Duration
	// DynamicRegistration turns RFC 7591 registration on.
	DynamicRegistration bool
	// DeviceCodeTTL is how long a device code (RFC 8628) waits for the user; 0: 10 minutes.
	DeviceCodeTTL time.Duration
	// DeviceInterval is the polling interval a device is told; 0: 5 seconds.
	DeviceInterval time.Duration
}

// DefaultCodeTTL is the lifetime of an authorization code.
const DefaultCodeTTL = time.Minute

// AuthServerDeps is what an AuthorizationServer is built from.
type AuthServerDeps struct {
	Auth *AuthService
	// Metadata fetches Client ID Metadata Documents; nil turns URL client_ids off.
	Metadata ClientMetadataFetcher
	// Assertions verifies private_key_jwt client assertions; nil turns private_key_jwt off.
	Assertions ClientAssertionVerifier
	Config     AuthServerConfig
}

// NewAuthorizationServer builds the authorization server on the account rules of d.Auth.
func NewAuthorizationServer(d AuthServerDeps) *AuthorizationServer {
	cfg := d.Config
	if cfg.CodeTTL <= 0 || cfg.CodeTTL > DefaultCodeTTL {
		cfg.CodeTTL = DefaultCodeTTL
	}
	return &AuthorizationServer{auth: d.Auth, store: d.Auth.store, metadata: d.Metadata, assertions: d.Assertions, cfg: cfg, log: d.Auth.log, now: d.Auth.now}
}

// Issuer is the server's issuer identifier.
func (as *AuthorizationServer) Issuer() string { return as.cfg.Issuer }

// OwnAPI is the resource URI of Gatehouse's own API.
func (as *AuthorizationServer) OwnAPI() string { return OwnAPIResource(as.cfg.Issuer) }

// MetadataDocuments reports whether URL client_ids (Client ID Metadata Documents) are accepted.
func (as *AuthorizationServer) MetadataDocuments() bool { return as.metadata != nil }

// DynamicRegistration reports whether RFC 7591 registration is on.
func (as *AuthorizationServer) DynamicRegistration() bool { return as.cfg.DynamicRegistration }

// OwnAPIResource is the resource URI of Gatehouse's own API at the public URL issuer.
func OwnAPIResource(issuer string) string { return issuer + "/api/v1" }

// Security events of the authorization server.
const (
	EventOAuthClientRegistered = "oauth.client_registered"
	EventOAuthClientRevoked    = "oauth.client_revoked"
	EventOAuthConsented        = "oauth.consent_granted"
	EventOAuthDenied           = "oauth.consent_denied"
	EventOAuthCodeIssued       = "oauth.code_issued"
	EventOAuthTokenIssued      = "oauth.token_issued"
	EventOAuthCodeReuse        = "oauth.code_reuse_detected"
	EventOAuthGrantRevoked     = "oauth.grant_revoked"
	EventOAuthTokenRevoked     = "oauth.token_revoked"
	EventOAuthResourceAdded    = "oauth.resource_added"
	EventOAuthResourceRemoved  = "oauth.resource_removed"
)

// OAuth 2.0 error codes (RFC 6749 §4.1.2.1, §5.2; RFC 8707; RFC 7591; OIDC Core §3.1.2.6). An
// *Error whose Code is one of these is written on the wire as that OAuth error.
const (
	OAuthInvalidRequest          = "invalid_request"
	OAuthInvalidClient           = "invalid_client"
	OAuthInvalidGrant            = "invalid_grant"
	OAuthUnauthorizedClient      = "unauthorized_client"
	OAuthUnsupportedGrantType    = "unsupported_grant_type"
	OAuthUnsupportedResponseType = "unsupported_response_type"
	OAuthInvalidScope            = "invalid_scope"
	OAuthInvalidTarget           = "invalid_target"
	OAuthAccessDenied            = "access_denied"
	OAuthLoginRequired           = "login_required"
	OAuthConsentRequired         = "consent_required"
	OAuthInvalidRedirectURI      = "invalid_redirect_uri"
	OAuthInvalidClientMetadata   = "invalid_client_metadata"
	OAuthRequestNotSupported     = "request_not_supported"
	OAuthRequestURINotSupported  = "request_uri_not_supported"
	OAuthInvalidToken            = "invalid_token"
	OAuthInsufficientScope       = "insufficient_scope"
)

// oauthError is an OAuth error of the given code; invalid_client is the one that is 401.
func oauthError(code, format string, args ...any) *Error {
	kind := KindBadRequest
	switch code {
	case OAuthInvalidClient, OAuthInvalidToken:
		kind = KindUnauthorized
	case OAuthInsufficientScope, OAuthAccessDenied:
		kind = KindForbidden
	}
	return Errorf(kind, code, format, args...)
}

// IsOAuthErrorCode reports whether code is an OAuth error code this server sends.
func IsOAuthErrorCode(code string) bool {
	switch code {
	case OAuthInvalidRequest, OAuthInvalidClient, OAuthInvalidGrant, OAuthUnauthorizedClient,
		OAuthUnsupportedGrantType, OAuthUnsupportedResponseType, OAuthInvalidScope, OAuthInvalidTarget,
		OAuthAccessDenied, OAuthLoginRequired, OAuthConsentRequired, OAuthInvalidRedirectURI,
		OAuthInvalidClientMetadata, OAuthRequestNotSupported, OAuthRequestURINotSupported,
		OAuthInvalidToken, OAuthInsufficientScope,
		OAuthAuthorizationPending, OAuthSlowDown, OAuthExpiredToken:
		return true
	}
	return false
}

// AuthorizeError is a failed authorization request. Redirect tells whether the error may be
// sent to the client's redirect URI: never before the client and the redirect URI are known
// to be good (RFC 6749 §4.1.2.1), when the user must see an error page instead.
type AuthorizeError struct {
	Err      *Error
	Redirect bool
}

func (e *AuthorizeError) Error() string { return e.Err.Error() }
func (e *AuthorizeError) Unwrap() error { return e.Err }

func pageError(format string, args ...any) *AuthorizeError {
	return &AuthorizeError{Err: oauthError(OAuthInvalidRequest, format, args...)}
}

func redirectError(code, format string, args ...any) *AuthorizeError {
	return &AuthorizeError{Err: oauthError(code, format, args...), Redirect: true}
}

// notFoundAs turns ErrNotFound into the error the caller should see instead (an OAuth error
// that reveals nothing more).
func notFoundAs(err, as error) error {
	if isNotFound(err) {
		return as
	}
	return err
}

// AsAuthorizeError reports err as an AuthorizeError.
func AsAuthorizeError(err error) (*AuthorizeError, bool) {
	var ae *AuthorizeError
	ok := errors.As(err, &ae)
	return ae, ok
}

// AuthServerReader reads the authorization server's clients, resources, grants and codes.
type AuthServerReader interface {
	OAuthClientByID(ctx context.Context, id string) (*OAuthClient, error)
	// ListOAuthClients returns every stored client, newest first.
	ListOAuthClients(ctx context.Context) ([]*OAuthClient, error)
	ResourceByURI(ctx context.Context, uri string) (*Resource, error)
	// ListResources returns every registered resource ordered by URI.
	ListResources(ctx context.Context) ([]*Resource, error)
	GrantByID(ctx context.Context, id string) (*Grant, error)
	// GrantFor is the user's authorization grant to the client for the resource, given for the
	// organization orgID ("": personal).
	GrantFor(ctx context.Context, userID, clientID, resource, orgID string) (*Grant, error)
	// ListGrants returns the grants of a user, of a client, or both, newest first.
	ListGrants(ctx context.Context, f GrantFilter) ([]*Grant, error)
}

// AuthServerWriter writes them.
type AuthServerWriter interface {
	CreateOAuthClient(ctx context.Context, c *OAuthClient) error
	// LockOAuthClient reads a stored client and locks its row until the transaction ends.
	LockOAuthClient(ctx context.Context, id string) (*OAuthClient, error)
	// RevokeOAuthClient marks the client revoked; ErrNotFound when it is missing or already revoked.
	RevokeOAuthClient(ctx context.Context, id string, at time.Time) error
	// CreateResource inserts r; ErrConflict-kind error (ErrResourceExists) when its URI is taken.
	CreateResource(ctx context.Context, r *Resource) error
	// DeleteResource removes a resource; ErrNotFound when there is none.
	DeleteResource(ctx context.Context, uri string) error
	// SaveGrant inserts g, or updates the scope, client name and time of the grant with its key.
	SaveGrant(ctx context.Context, g *Grant) error
	// LockGrant reads a grant and locks it until the transaction ends: a code exchange holds it
	// so that a revocation of the grant waits, then sees (and revokes) the session it issued.
	LockGrant(ctx context.Context, id string) (*Grant, error)
	// DeleteGrant removes a grant; ErrNotFound when there is none.
	DeleteGrant(ctx context.Context, id string) error
	// DeleteGrants removes the grants of a client, or of a resource, and returns their IDs.
	DeleteGrants(ctx context.Context, f GrantFilter) ([]string, error)
	CreateAuthCode(ctx context.Context, c *AuthCode) error
	// LockAuthCode reads a code by hash and locks it until the transaction ends.
	LockAuthCode(ctx context.Context, hash []byte) (*AuthCode, error)
	// UseAuthCode marks an unused code used by the session it issued; ErrNotFound when it is
	// missing or was used meanwhile.
	UseAuthCode(ctx context.Context, hash []byte, at time.Time, sessionID string) error
	// DeleteExpiredAuthCodes removes codes that expired before the given time.
	DeleteExpiredAuthCodes(ctx context.Context, before time.Time) (int64, error)
	// RevokeSessionsWhere revokes the active OAuth sessions of a grant, of a client, or for a
	// resource, and returns their IDs (first-party sessions are never selected).
	RevokeSessionsWhere(ctx context.Context, f GrantFilter, at time.Time) ([]string, error)
}

// GrantFilter selects grants (or their sessions) by user, client, resource or grant ID; empty
// fields match everything, but at least one must be set.
type GrantFilter struct {
	UserID, ClientID, Resource, GrantID string
}

// Grant is a user's consent to one client for one resource, with the scopes consented to.
type Grant struct {
	ID string
	// Kind is GrantAuthorization (the authorization consent page) or GrantDelegation (the user
	// let an agent act for them through token exchange); empty means GrantAuthorization.
	Kind       string
	UserID     string
	ClientID   string
	ClientName string
	Resource   string
	Scopes     []string
	// OrgID is the organization the user consented for (empty: for themselves). The grant's
	// sessions and tokens carry it; consent for one organization never stands for another.
	OrgID     string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// AuthCode is the stored form of an authorization code: only its hash is kept.
type AuthCode struct {
	Hash        []byte
	GrantID     string
	ClientID    string
	UserID      string
	RedirectURI string
	Challenge   string // the PKCE S256 code challenge
	Resource    string
	Scope       string
	Nonce       string
	AuthTime    time.Time
	CreatedAt   time.Time
	ExpiresAt   time.Time
	UsedAt      *time.Time
	SessionID   string // the session the code issued, once used
	// Approver is the first-party session in which the user approved: a code whose approving
	// session has ended (a logout, a password change, a takeover) is refused.
	Approver string
	UserInfo bool // the tokens it issues may read /oauth2/userinfo
	// AMR is how the user had authenticated in the approving session (RFC 8176 values): the
	// grant's session, its tokens and its ID token (amr, acr) say the same.
	AMR []string
}

// ErrClientExists is a client ID already stored (for a metadata-document client: already revoked).
var ErrClientExists = &Error{Kind: KindConflict, Code: "client_exists", Message: "A client with this ID is already stored."}

// ErrResourceExists is a registration of a resource URI that is already registered.
var ErrResourceExists = &Error{Kind: KindConflict, Code: "resource_exists", Message: "A resource with this URI is already registered."}
