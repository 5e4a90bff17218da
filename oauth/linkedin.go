package oauth

import (
	"context"
	"net/http"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse"
)

// LinkedInConfig configures "Sign In with LinkedIn using OpenID Connect".
type LinkedInConfig struct {
	ClientID     string
	ClientSecret string
	URL          string // https://www.linkedin.com: authorization and token endpoints
	APIURL       string // https://api.linkedin.com: userinfo
	Timeout      time.Duration
}

// LinkedIn signs users in with LinkedIn's OpenID Connect product. The claims come from the
// userinfo endpoint, which LinkedIn answers over TLS with the access token just redeemed, so no
// ID token signature has to be checked against LinkedIn's keys.
type LinkedIn struct {
	conf     oauth2.Config
	userinfo string
	client   *http.Client
	timeout  time.Duration
}

var _ gatehouse.Provider = (*LinkedIn)(nil)

// NewLinkedIn returns the LinkedIn provider.
func NewLinkedIn(c LinkedInConfig) *LinkedIn {
	base := trimBase(c.URL)
	return &LinkedIn{
		conf: oauth2.Config{
			ClientID:     c.ClientID,
			ClientSecret: c.ClientSecret,
			Endpoint: oauth2.Endpoint{
				AuthURL:   base + "/oauth/v2/authorization",
				TokenURL:  base + "/oauth/v2/accessToken",
				AuthStyle: oauth2.AuthStyleInParams,
			},
			Scopes: []string{"openid", "profile", "email"},
		},
		userinfo: trimBase(c.APIURL) + "/v2/userinfo",
		client:   newHTTPClient(c.Timeout),
		timeout:  c.Timeout,
	}
}

func (l *LinkedIn) AuthCodeURL(_ context.Context, r gatehouse.AuthCodeRequest) (string, error) {
	conf := l.conf
	conf.RedirectURL = r.RedirectURI
	return conf.AuthCodeURL(r.State, authCodeOptions(r, false)...), nil
}

func (l *LinkedIn) Exchange(ctx context.Context, r gatehouse.CodeExchange) (*gatehouse.ProviderIdentity, error) {
	ctx, cancel := withBudget(ctx, l.timeout)
	defer cancel()
	// LinkedIn refuses an unknown, expired or mismatched code with invalid_request.
	tok, err := exchange(ctx, "linkedin", l.client, l.conf, r, "invalid_request")
	if err != nil {
		return nil, err
	}
	var claims struct {
		Sub           string   `json:"sub"`
		Name          string   `json:"name"`
		Picture       string   `json:"picture"`
		Email         string   `json:"email"`
		EmailVerified flexBool `json:"email_verified"`
	}
	if err := getJSON(ctx, "linkedin", l.client, l.userinfo, tok, nil, &claims); err != nil {
		return nil, err
	}
	if claims.Sub == "" {
		return nil, gatehouse.ProviderError("linkedin", errNoUserID)
	}
	return &gatehouse.ProviderIdentity{
		Subject:       claims.Sub,
		Email:         claims.Email,
		EmailVerified: bool(claims.EmailVerified),
		Name:          claims.Name,
		AvatarURL:     claims.Picture,
	}, nil
}
