package gatehouse

import (
	"context"
	"strings"
)

// Provider is an external sign-in service (GitHub, LinkedIn, an OpenID Connect provider). The oauth
// package implements it; the rules here never see a provider's protocol.
type Provider interface {
	// AuthCodeURL is where the browser goes to sign in at the provider. It may need the network
	// (OpenID Connect discovery), hence the context and the error.
	AuthCodeURL(ctx context.Context, r AuthCodeRequest) (string, error)
	// Exchange redeems an authorization code and returns who signed in. A code the provider refuses
	// is a KindBadRequest error (InvalidOAuthCode); a provider that cannot be reached, times out or
	// answers nonsense is a KindBadGateway error (ProviderError).
	Exchange(ctx context.Context, r CodeExchange) (*ProviderIdentity, error)
}

// AuthCodeRequest is what an authorization URL carries.
type AuthCodeRequest struct {
	State         string
	CodeChallenge string // PKCE S256 challenge; empty sends none
	Nonce         string // for OpenID Connect ID tokens; empty sends none
	RedirectURI   string
}

// CodeExchange is what redeeming a code needs.
type CodeExchange struct {
	Code         string
	CodeVerifier string // PKCE verifier; empty when the request had no challenge
	Nonce        string // the ID token must carry it; empty skips the check
	RedirectURI  string
}

// ProviderLabel is how people see a provider's configured name: "GitHub", "LinkedIn", or the
// name of an OpenID Connect provider with a capital letter.
func ProviderLabel(name string) string {
	switch name {
	case "github":
		return "GitHub"
	case "linkedin":
		return "LinkedIn"
	case "":
		return ""
	}
	return strings.ToUpper(name[:1]) + name[1:]
}

// ProviderIdentity is the account that signed in at a provider.
type ProviderIdentity struct {
	Subject       string // the provider's stable user id
	Email         string
	EmailVerified bool // the provider vouches that the user controls Email
	Name          string
	AvatarURL     string
}

// ProviderError reports a provider that failed: unreachable, timed out, or an answer that makes no
// sense. It is a 502; cause goes to the log, never to the client.
func ProviderError(provider string, cause error) *Error {
	return &Error{Kind: KindBadGateway, Code: "oauth_provider_error",
		Message: "The sign-in provider " + provider + " did not answer correctly; try again later.", Err: cause}
}

// InvalidOAuthCode reports an authorization code the provider refused (unknown, expired, already
// redeemed, or issued for another request).
func InvalidOAuthCode(cause error) *Error {
	return &Error{Kind: KindBadRequest, Code: ErrInvalidOAuthCode.Code, Message: ErrInvalidOAuthCode.Message, Err: cause}
}
