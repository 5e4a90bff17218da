package main

import (
	"log/slog"
	"net/http"
	"sort"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/httpapi"
	"github.com/gatehouse/gatehouse/web"
)

// dashboard builds the web dashboard. Its provider sign-ins run on sign-in rules of their own,
// whose allow-list holds only the dashboard's callback URLs on the public URL: the API's list
// (GATEHOUSE_OAUTH_REDIRECT_URIS) stays exactly as the operator wrote it, and since a state is bound
// to its redirect URI, neither side can redeem the other's states.
func (a *app) dashboard(cfg *config, log *slog.Logger) (http.Handler, error) {
	providers := oauthProviders(cfg.OAuth)
	callbacks := make([]string, 0, len(providers))
	for name := range providers {
		callbacks = append(callbacks, web.CallbackURL(cfg.PublicURL, name))
	}
	sort.Strings(callbacks)
	if len(callbacks) > 0 {
		log.Info("dashboard sign-in with providers: register these callback URLs at the providers", "callback_urls", callbacks)
	}
	oauthRules := gatehouse.NewOAuthService(a.auth, providers, gatehouse.OAuthConfig{
		RedirectURIs: callbacks,
		RequireState: true,
		StateTTL:     cfg.OAuth.StateTTL,
	})
	return web.New(web.Deps{
		Auth:  a.auth,
		MFA:   a.mfa,
		OAuth: oauthRules,
		// Passwordless sign-in by email: "Email me a sign-in code" and the magic link's page.
		SignIn:        a.signIn,
		Passkeys:      a.passkeys,
		Impersonation: a.imp,
		// The authorization endpoint and consent page of the OAuth 2.1 / OpenID Connect provider.
		AuthServer: a.authz,
		Limits:     a.httpLimits(),
		Log:        log,
		Metrics:    a.metrics,
		// The API reference page renders the document the API serves at /openapi.json.
		OpenAPI: httpapi.OpenAPIDocument(),
		Config: web.Config{
			PublicURL:         cfg.PublicURL,
			TrustedProxies:    cfg.TrustedProxies,
			SessionMaxAge:     cfg.RefreshTokenTTL,
			PasswordMinLength: cfg.PasswordMinLength,
			ProductName:       cfg.Email.ProductName,
		},
	})
}

// withDashboard sends the API's paths to the API and every other path to the dashboard, so that
// each answers with its own headers: the API keeps Content-Security-Policy default-src 'none'.
func withDashboard(api, dashboard http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if httpapi.OwnsPath(r.URL.Path) {
			api.ServeHTTP(w, r)
			return
		}
		dashboard.ServeHTTP(w, r)
	})
}
