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
	Auth   *gatehouse.AuthService
	OAuth  *gatehouse.OAuthService // social sign-in; nil serves every provider as unknown
	DB     Pinger
	Keys   KeySet
	Log    *slog.Logger
	Config Config
	Limits RateLimits
	// Metrics, when set, is told of every request; MetricsHandler serves /metrics.
	Metrics        RequestObserver
	MetricsHandler http.Handler
}

// RequestObserver records finished requests, for metrics.
type RequestObserver interface {
	ObserveRequest(route, method string, status int, d time.Duration)
}

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
	h = securityHeaders(strings.HasPrefix(d.Config.PublicURL, "https://"), h)
	// accessLog reads the pattern the router sets on the request it is handed, so nothing
	// between them may replace the request.
	h = accessLog(d.Log, d.Metrics, h)
	h = withClient(d.Config.TrustedProxies, h)
	h = recoverPanics(d.Log, h)
	return h
}

// clientOf describes the caller for sessions and logs.
func clientOf(r *http.Request, trusted []netip.Prefix) gatehouse.Client {
	return gatehouse.Client{IP: clientIP(r, trusted), UserAgent: r.UserAgent()}
}

// clientIP is the peer address, or, when the peer is a trusted proxy, the right-most address of
// X-Forwarded-For that is not itself a trusted proxy: the left part of that header is whatever
// the client chose to write.
func clientIP(r *http.Request, trusted []netip.Prefix) string {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	addr := peer.Addr().Unmap()
	if !isTrusted(addr, trusted) {
		return addr.String()
	}
	hops := r.Header.Values("X-Forwarded-For")
	var list []string
	for _, h := range hops {
		for _, part := range splitComma(h) {
			list = append(list, part)
		}
	}
	for i := len(list) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(list[i])
		if err != nil {
			break
		}
		a = a.Unmap()
		if !isTrusted(a, trusted) {
			return a.String()
		}
		addr = a
	}
	return addr.String()
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			part := s[start:i]
			for len(part) > 0 && (part[0] == ' ' || part[0] == '\t') {
				part = part[1:]
			}
			for len(part) > 0 && (part[len(part)-1] == ' ' || part[len(part)-1] == '\t') {
				part = part[:len(part)-1]
			}
			if part != "" {
				out = append(out, part)
			}
			start = i + 1
		}
	}
	return out
}

// shortContext bounds calls such as readiness probes.
func shortContext(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), 2*time.Second)
}
