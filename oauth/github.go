package oauth

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse"
)

// GitHubConfig configures sign-in with GitHub (or GitHub Enterprise Server).
type GitHubConfig struct {
	ClientID     string
	ClientSecret string
	URL          string // web base: https://github.com
	APIURL       string // REST base: https://api.github.com (https://HOST/api/v3 on Enterprise Server)
	Timeout      time.Duration
}

// GitHub signs users in with a GitHub OAuth app. The identity is GitHub's numeric user id, which
// survives a renamed login; the email is the account's primary address, and only if GitHub has
// verified it.
type GitHub struct {
	conf    oauth2.Config
	api     string
	client  *http.Client
	timeout time.Duration
}

var _ gatehouse.Provider = (*GitHub)(nil)

// NewGitHub returns the GitHub provider.
func NewGitHub(c GitHubConfig) *GitHub {
	base := trimBase(c.URL)
	return &GitHub{
		conf: oauth2.Config{
			ClientID:     c.ClientID,
			ClientSecret: c.ClientSecret,
			Endpoint: oauth2.Endpoint{
				AuthURL:  base + "/login/oauth/authorize",
				TokenURL: base + "/login/oauth/access_token",
				// Stated, not probed: auto-detection would send a refused code a second time.
				AuthStyle: oauth2.AuthStyleInParams,
			},
			Scopes: []string{"read:user", "user:email"},
		},
		api:     trimBase(c.APIURL),
		client:  newHTTPClient(c.Timeout),
		timeout: c.Timeout,
	}
}

func (g *GitHub) AuthCodeURL(_ context.Context, r gatehouse.AuthCodeRequest) (string, error) {
	conf := g.conf
	conf.RedirectURL = r.RedirectURI
	return conf.AuthCodeURL(r.State, authCodeOptions(r, false)...), nil
}

// githubHeaders are what GitHub's REST API asks every client to send.
var githubHeaders = http.Header{
	"Accept":               {"application/vnd.github+json"},
	"X-Github-Api-Version": {"2022-11-28"},
}

func (g *GitHub) Exchange(ctx context.Context, r gatehouse.CodeExchange) (*gatehouse.ProviderIdentity, error) {
	ctx, cancel := withBudget(ctx, g.timeout)
	defer cancel()
	tok, err := exchange(ctx, "github", g.client, g.conf, r)
	if err != nil {
		return nil, err
	}
	var user struct {
		ID        int64  `json:"id"`
		Login     string `json:"login"`
		Name      string `json:"name"`
		AvatarURL string `json:"avatar_url"`
	}
	if err := getJSON(ctx, "github", g.client, g.api+"/user", tok, githubHeaders, &user); err != nil {
		return nil, err
	}
	if user.ID <= 0 {
		return nil, gatehouse.ProviderError("github", errNoUserID)
	}
	id := &gatehouse.ProviderIdentity{
		Subject:   strconv.FormatInt(user.ID, 10),
		Name:      user.Name,
		AvatarURL: user.AvatarURL,
	}
	if id.Name == "" {
		id.Name = user.Login
	}
	var emails []struct {
		Email    string `json:"email"`
		Primary  bool   `json:"primary"`
		Verified bool   `json:"verified"`
	}
	status, err := getJSONStatus(ctx, g.client, g.api+"/user/emails", tok, githubHeaders, &emails)
	switch {
	case err != nil:
		return nil, gatehouse.ProviderError("github", err)
	case status == http.StatusForbidden || status == http.StatusNotFound:
		// A GitHub App without the email permission: no address GitHub vouches for. An identity
		// already linked still signs in; nothing new is linked or created.
		return id, nil
	case status != http.StatusOK:
		return nil, gatehouse.ProviderError("github", errStatus("/user/emails", status))
	}
	for _, e := range emails {
		if e.Primary {
			id.Email, id.EmailVerified = e.Email, e.Verified
		}
	}
	return id, nil
}
