// Package httpapi serves Gatehouse's HTTP API: routing, JSON, problem documents, authentication
// of requests. It holds no rules of its own; those live in the gatehouse package.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/httpkit"
)

// Pinger reports whether the database answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// KeySet publishes the public signing keys.
type KeySet interface {
	JWKS(ctx context.Context) ([]byte, error)
}

// Config is what the HTTP edge needs to know about its deployment.
type Config struct {
	PublicURL      string // issuer and base of server links, without a trailing slash
	TrustedProxies []netip.Prefix
	SigningAlg     string
	CORSOrigins    []string // exact origins, such as https://app.example.com

}

// Deps are the services the API serves.
type Deps struct {
	Auth  *gatehouse.AuthService
	MFA   *gatehouse.MFAService   // second factors; nil answers mfa_unavailable
	OAuth *gatehouse.OAuthService // social sign-in; nil serves every provider as unknown
	// SignIn is the passwordless sign-in by email; nil answers email_unavailable.
	SignIn *gatehouse.EmailSignInService
	// Passkeys (WebAuthn); nil answers passkeys_unavailable.
	Passkeys *gatehouse.PasskeyService
	// Impersonation lets admins act as users for support; nil answers 404 on its route.
	Impersonation *gatehouse.Impersonation
	// AuthServer is Gatehouse as an OAuth 2.1 / OpenID Connect provider.
	AuthServer *gatehouse.AuthorizationServer
	DB         Pinger
	Keys       KeySet
	Log        *slog.Logger
	Config     Config
	Limits     RateLimits
	// Metrics, when set, is told of every request; MetricsHandler serves /metrics.
	Metrics        RequestObserver
	MetricsHandler http.Handler
}

// RequestObserver records finished requests, for metrics.
type RequestObserver = httpkit.RequestObserver

// NewServer returns the whole API as one handler.
func NewServer(d Deps) http.Handler {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	mux := http.NewServeMux()
	for _, rt := range routes(d) {
		mux.Handle(rt.Method+" "+rt.Path, rt.Handler)
	}
	var h http.Handler = problemOnMuxErrors(mux)
	h = limitBody(h)
	h = cleanRequestText(h)
	h = cors(d.Config.CORSOrigins, h)
	h = httpkit.SecurityHeaders(SecurityHeaders, strings.HasPrefix(d.Config.PublicURL, "https://"), h)
	// accessLog reads the pattern the router sets on the request it is handed, so nothing
	// between them may replace the request.
	h = httpkit.AccessLog(d.Log, d.Metrics, "", h)
	h = httpkit.Recover(d.Log, func(w http.ResponseWriter, _ *http.Request) {
		writeProblem(w, http.StatusInternalServerError, "internal_error", "Something went wrong on our side.", nil)
	}, h)
	return h
}

// shortContext bounds calls such as readiness probes.
func shortContext(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), 2*time.Second)
}
