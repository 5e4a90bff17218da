package gatehouse

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"sort"
	"time"
)

// OAuthConfig holds the rules of social sign-in.
type OAuthConfig struct {
	// RedirectURIs is the allow-list of redirect URIs, compared exactly: a client can only have
	// codes and states sent where the operator said.
	RedirectURIs []string
	// RequireState refuses callbacks without a server-issued state. Turning it off serves clients
	// that build their own authorization URL; they get no PKCE and no nonce check from the server.
	RequireState bool
	StateTTL     time.Duration
}

// DefaultOAuthConfig is the contract's defaults.
var DefaultOAuthConfig = OAuthConfig{RequireState: true, StateTTL: 10 * time.Minute}

// OAuthService holds the rules of sign-in through external providers: issuing states, checking
// callbacks, and linking provider accounts to local accounts.
type OAuthService struct {
	auth      *AuthService
	providers map[string]Provider
	cfg       OAuthConfig
}

// NewOAuthService builds the social sign-in rules over the account rules of auth. providers maps
// the name used in URLs (github, linkedin, an OIDC provider's name) to its implementation.
func NewOAuthService(auth *AuthService, providers map[string]Provider, cfg OAuthConfig) *OAuthService {
	if cfg.StateTTL <= 0 {
		cfg.StateTTL = DefaultOAuthConfig.StateTTL
	}
	return &OAuthService{auth: auth, providers: providers, cfg: cfg}
}

// Providers returns the configured provider names, sorted.
func (o *OAuthService) Providers() []string {
	names := make([]string, 0, len(o.providers))
	for name := range o.providers {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

func (o *OAuthService) provider(name string) (Provider, error) {
	if p, ok := o.providers[name]; ok {
		return p, nil
	}
	return nil, ErrUnknownProvider
}

func (o *OAuthService) redirectAllowed(uri string) bool {
	return uri != "" && slices.Contains(o.cfg.RedirectURIs, uri)
}

// Errors of social sign-in.
var (
	ErrUnknownProvider       = &Error{Kind: KindNotFound, Code: "unknown_provider", Message: "No such sign-in provider is configured."}
	ErrRedirectURINotAllowed = &Error{Kind: KindBadRequest, Code: "redirect_uri_not_allowed", Message: "redirect_uri is not one of the server's allowed redirect URIs."}
	ErrOAuthStateRequired    = &Error{Kind: KindBadRequest, Code: "oauth_state_required", Message: "state is required: start the sign-in with the provider's authorize endpoint."}
	ErrOAuthStateInvalid     = &Error{Kind: KindBadRequest, Code: "invalid_oauth_state", Message: "The state is unknown, or was issued for another provider or redirect_uri."}
	ErrOAuthStateExpired     = &Error{Kind: KindBadRequest, Code: "oauth_state_expired", Message: "The state has expired; start the sign-in again."}
	ErrOAuthStateUsed        = &Error{Kind: KindBadRequest, Code: "oauth_state_used", Message: "The state was already used; start the sign-in again."}
	ErrInvalidOAuthCode      = &Error{Kind: KindBadRequest, Code: "invalid_oauth_code", Message: "The authorization code is invalid, expired, already used, or was issued for another request."}
	// ErrProviderEmailUnverified refuses a provider account that cannot vouch for an address: it
	// could otherwise claim anyone's email and take over their account.
	ErrProviderEmailUnverified = &Error{Kind: KindForbidden, Code: "provider_email_unverified",
		Message: "Your account at the provider has no verified email address; verify one there, then sign in again."}
	// ErrAccountEmailUnverified refuses to link a provider account to a local account whose owner
	// never proved the address: whoever registered it first may not be its owner.
	ErrAccountEmailUnverified = &Error{Kind: KindConflict, Code: "account_email_unverified",
		Message: "An account with this email address exists but the address is not verified; sign in with your password and verify it, then sign in with this provider again."}
	ErrIdentityTaken = &Error{Kind: KindConflict, Code: "identity_already_linked",
		Message: "This account is already linked to another account of this provider."}
	ErrIdentityNotFound = &Error{Kind: KindNotFound, Code: "identity_not_found", Message: "No identity of this provider is linked to your account."}
	ErrLastSignInMethod = &Error{Kind: KindConflict, Code: "last_sign_in_method", Message: "This is your only way to sign in; set a password or link another provider first."}
)

// oauthStateBytes is the randomness of a state: 256 bits.
const oauthStateBytes = 32

// maxOAuthParam bounds what a client may send as a code or state before anything hashes or forwards it.
const maxOAuthParam = 2048

// oauthSecrets derives the PKCE verifier and the OIDC nonce of an authorization request from its
// plain state and the salt stored with the state's hash. The verifier thus stays on the server (the
// client and the provider see only its challenge) while the database never holds it in plain text.
func oauthSecrets(state string, salt []byte) (verifier, nonce string) {
	derive := func(label string) string {
		mac := hmac.New(sha256.New, []byte(state))
		mac.Write([]byte(label))
		mac.Write(salt)
		return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	}
	return derive("gatehouse pkce verifier v1"), derive("gatehouse oidc nonce v1")
}

// pkceChallenge is the S256 challenge of a verifier (RFC 7636 §4.2).
func pkceChallenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
