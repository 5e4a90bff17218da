package main

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/httpapi"
	"github.com/gatehouse/gatehouse/httpkit"
	"github.com/gatehouse/gatehouse/password"
)

// hashRoutes are the API's endpoints that need a password hash (POST only): the ones a flood of
// sign-ins or sign-ups aims at. TestHashRoutesExist checks each against the API's routes.
var hashRoutes = func() map[string]bool {
	m := map[string]bool{"/api/v1/users/me/password": true}
	for _, prefix := range []string{"/api/v1/auth", "/v1/auth", "/api/v1/public/auth", "/v1/public/auth"} {
		for _, p := range []string{"/login", "/register", "/reset-password"} {
			m[prefix+p] = true
		}
	}
	return m
}()

// shedBody is the API's problem document for gatehouse.ErrBusy, byte for byte.
var shedBody = func() []byte {
	status := httpkit.StatusOf(gatehouse.KindUnavailable)
	b, err := json.Marshal(struct {
		Type      string `json:"type"`
		Title     string `json:"title"`
		Status    int    `json:"status"`
		Detail    string `json:"detail"`
		ErrorCode string `json:"error_code"`
	}{"about:blank", http.StatusText(status), status, gatehouse.ErrBusy.Message, gatehouse.ErrBusy.Code})
	if err != nil {
		panic(err)
	}
	return append(b, '\n')
}()

// saturation is what the edge asks of the hash pool: *password.Hasher.
type saturation interface{ Saturated() bool }

var _ saturation = (*password.Hasher)(nil)

// shedWhenHashPoolFull answers a request for a password hash with 503 server_busy at once, before
// its body is read, while the hash pool would refuse it anyway (every slot taken and as many
// waiting as can be served within GATEHOUSE_HASH_MAX_WAIT). Such a request would otherwise be
// decoded, rate-limited, looked up in the database and logged only to be refused by the pool:
// under a closed-loop flood, refusals come back at once and are sent again at once, and that work
// competes with the hashes for the same CPUs.
//
// The decision depends on the pool alone, never on the account, so it reveals nothing about
// accounts. Requests with an Origin header go the usual way, for the API's CORS headers. Requests
// shed here count in the request metrics like any other and are logged at debug level: a flood
// must not turn into a flood of log lines.
func shedWhenHashPoolFull(pool saturation, metrics httpapi.RequestObserver, log *slog.Logger, https bool, next http.Handler) http.Handler {
	contentLength := strconv.Itoa(len(shedBody))
	status := httpkit.StatusOf(gatehouse.KindUnavailable)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !hashRoutes[r.URL.Path] || !pool.Saturated() || r.Header.Get("Origin") != "" {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		h := w.Header()
		// The headers every API answer carries (httpapi's SecurityHeaders and writeProblem's); the
		// test compares this answer with the one the pool itself produces.
		httpkit.SetSecurityHeaders(h, r, httpapi.SecurityHeaders, https)
		httpkit.SetRetryAfter(h, gatehouse.ErrBusy.RetryAfter)
		h.Set("Content-Type", "application/problem+json")
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Length", contentLength)
		w.WriteHeader(status)
		_, _ = w.Write(shedBody)
		if metrics != nil {
			metrics.ObserveRequest(r.Method+" "+r.URL.Path, r.Method, status, time.Since(start))
		}
		log.LogAttrs(r.Context(), slog.LevelDebug, "request shed: password hash pool full",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("remote", r.RemoteAddr))
	})
}
