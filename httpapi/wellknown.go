package httpapi

import (
	"net/http"
)

func (a *api) handleJWKS() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := a.Keys.JWKS(r.Context())
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		// Shorter than the delay before servers sign with a newly rotated key, so verifiers that
		// honour it know the key before they meet a token signed with it.
		w.Header().Set("Cache-Control", "public, max-age=5")
		_, _ = w.Write(body)
	})
}

func handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		respond(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

func (a *api) handleReadyz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := shortContext(r)
		defer cancel()
		if err := a.DB.Ping(ctx); err != nil {
			w.Header().Set("Retry-After", "2")
			writeProblem(w, http.StatusServiceUnavailable, "database_unavailable", "The database is unreachable.", nil)
			return
		}
		respond(w, http.StatusOK, map[string]string{"status": "ready"})
	})
}
