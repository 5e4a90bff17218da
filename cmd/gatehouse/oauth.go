package main

import (
	"log/slog"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/oauth"
)

// newOAuthService builds the configured sign-in providers. No provider is contacted here: OpenID
// Connect discovery happens on first use, so a provider that is down does not stop the server.
func newOAuthService(cfg *config, auth *gatehouse.AuthService, log *slog.Logger) *gatehouse.OAuthService {
	oc := cfg.OAuth
	providers := oauthProviders(oc)
	svc := gatehouse.NewOAuthService(auth, providers, gatehouse.OAuthConfig{
		RedirectURIs: oc.RedirectURIs,
		RequireState: oc.RequireState,
		StateTTL:     oc.StateTTL,
	})
	if len(providers) > 0 {
		log.Info("social sign-in enabled", "providers", svc.Providers(), "redirect_uris", len(oc.RedirectURIs))
		if len(oc.RedirectURIs) == 0 {
			log.Warn("GATEHOUSE_OAUTH_REDIRECT_URIS is empty: every social sign-in will be refused")
		}
	}
	return svc
}

// oauthProviders builds the configured providers by name; the API's and the dashboard's sign-in
// rules each get their own set, with their own allow-lists of redirect URIs.
func oauthProviders(oc oauthConfig) map[string]gatehouse.Provider {
	providers := map[string]gatehouse.Provider{}
	if c := oc.GitHub; c != nil {
		providers["github"] = oauth.NewGitHub(oauth.GitHubConfig{ClientID: c.ClientID, ClientSecret: c.ClientSecret,
			URL: c.URL, APIURL: c.APIURL, Timeout: oc.Timeout})
	}
	if c := oc.LinkedIn; c != nil {
		providers["linkedin"] = oauth.NewLinkedIn(oauth.LinkedInConfig{ClientID: c.ClientID, ClientSecret: c.ClientSecret,
			URL: c.URL, APIURL: c.APIURL, Timeout: oc.Timeout})
	}
	for _, c := range oc.OIDC {
		providers[c.Name] = oauth.NewOIDC(oauth.OIDCConfig{Name: c.Name, Issuer: c.Issuer, ClientID: c.ClientID,
			ClientSecret: c.ClientSecret, Scopes: c.Scopes, Timeout: oc.Timeout})
	}
	return providers
}
