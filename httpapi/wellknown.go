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

func (a *api) handleOpenIDConfiguration() http.Handler {
	type response struct {
		Issuer                           string   `json:"issuer"`
		JWKSURI                          string   `json:"jwks_uri"`
		TokenEndpoint                    string   `json:"token_endpoint"`
		UserinfoEndpoint                 string   `json:"userinfo_endpoint"`
		IntrospectionEndpoint            string   `json:"introspection_endpoint"`
		IDTokenSigningAlgValuesSupported []string `json:"id_token_signing_alg_values_supported"`
		SubjectTypesSupported            []string `json:"subject_types_supported"`
		ResponseTypesSupported           []string `json:"response_types_supported"`
		GrantTypesSupported              []string `json:"grant_types_supported"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		base := a.Config.PublicURL
		w.Header().Set("Cache-Control", "public, max-age=300")
		respond(w, http.StatusOK, response{
			Issuer:                           base,
			JWKSURI:                          base + "/.well-known/jwks.json",
			TokenEndpoint:                    base + "/api/v1/auth/login",
			UserinfoEndpoint:                 base + "/api/v1/users/me",
			IntrospectionEndpoint:            base + "/api/v1/auth/introspect",
			IDTokenSigningAlgValuesSupported: []string{a.Config.SigningAlg},
			SubjectTypesSupported:            []string{"public"},
			ResponseTypesSupported:           []string{"token"},
			GrantTypesSupported:              []string{"password", "refresh_token"},
		})
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
