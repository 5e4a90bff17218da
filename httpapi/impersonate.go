package httpapi

import (
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse"
)

// handleImpersonate is POST /admin/users/{id}/impersonate {reason}: an admin opens a session as
// the user, for support. The answer is one access token (sub the user, act the admin) and no
// refresh token.
func (a *api) handleImpersonate() http.Handler {
	type request struct {
		Reason string `json:"reason"`
	}
	type response struct {
		AccessToken string   `json:"access_token"`
		TokenType   string   `json:"token_type"`
		ExpiresIn   int      `json:"expires_in"`
		User        userJSON `json:"user"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.Impersonation == nil {
			writeError(w, r, a.Log, gatehouse.ErrNotFound)
			return
		}
		in, err := decode[request](r, false)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		t, err := a.Impersonation.Start(r.Context(), principalFrom(r.Context()), r.PathValue("id"), in.Reason)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Pragma", "no-cache")
		respond(w, http.StatusOK, response{AccessToken: t.AccessToken, TokenType: "bearer",
			ExpiresIn: int(t.ExpiresIn / time.Second), User: userView(t.User)})
	})
}
