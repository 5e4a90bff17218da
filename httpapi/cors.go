package httpapi

import (
	"net/http"
	"slices"
	"strings"
)

// cors lets the browser origins listed in GATEHOUSE_CORS_ORIGINS call the API. An origin is
// echoed back only when it is on the list, exactly; anything else gets no CORS headers at all,
// so a foreign page can neither read responses nor send credentials. The authorization server's
// public endpoints (openCORSPaths) are open to every origin, without credentials.
func cors(origins []string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		if openCORSPaths[r.URL.Path] {
			if !openCORS(w, r) {
				next.ServeHTTP(w, r)
			}
			return
		}
		w.Header().Add("Vary", "Origin")
		allowed := slices.Contains(origins, normalizeOrigin(origin))
		preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
		if preflight {
			w.Header().Add("Vary", "Access-Control-Request-Method")
			w.Header().Add("Vary", "Access-Control-Request-Headers")
			if !allowed {
				writeProblem(w, http.StatusForbidden, "origin_not_allowed", "This origin may not call the API.", nil)
				return
			}
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Set("Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-API-Key")
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if allowed {
			w.Header().Set("Access-Control-Allow-Origin", origin)
			w.Header().Set("Access-Control-Allow-Credentials", "true")
			w.Header().Set("Access-Control-Expose-Headers", "Retry-After, WWW-Authenticate")
		}
		next.ServeHTTP(w, r)
	})
}

// normalizeOrigin lower-cases scheme and host and drops a trailing slash, as browsers send them.
func normalizeOrigin(o string) string {
	return strings.TrimRight(strings.ToLower(strings.TrimSpace(o)), "/")
}
