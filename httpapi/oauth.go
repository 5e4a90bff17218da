package httpapi

import (
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse"
)

// oauthService is the social sign-in rules, or an error when the server was built without them.
func (a *api) oauthService() (*gatehouse.OAuthService, error) {
	if a.OAuth == nil {
		return nil, gatehouse.ErrUnknownProvider
	}
	return a.OAuth, nil
}

func (a *api) handleOAuthAuthorize() http.Handler {
	type response struct {
		AuthorizationURL string `json:"authorization_url"`
		State            string `json:"state"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o, err := a.oauthService()
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		res, err := o.Authorize(r.Context(), r.PathValue("provider"), r.URL.Query().Get("redirect_uri"))
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		respond(w, http.StatusOK, response{AuthorizationURL: res.URL, State: res.State})
	})
}

func (a *api) handleOAuthCallback() http.Handler {
	type request struct {
		Code        string `json:"code"`
		RedirectURI string `json:"redirect_uri"`
		State       string `json:"state"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o, err := a.oauthService()
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		in, err := decode[request](r, false)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		ts, err := o.Callback(r.Context(), r.PathValue("provider"), gatehouse.OAuthCallback(in), a.client(r))
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		respondTokens(w, http.StatusOK, ts)
	})
}

type identityJSON struct {
	Provider       string `json:"provider"`
	ProviderUserID string `json:"provider_user_id"`
	Email          string `json:"email"`
	CreatedAt      string `json:"created_at"`
	LastUsedAt     string `json:"last_used_at"`
}

func (a *api) handleListIdentities() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out := []identityJSON{}
		if a.OAuth != nil {
			list, err := a.OAuth.Identities(r.Context(), principalFrom(r.Context()))
			if err != nil {
				writeError(w, r, a.Log, err)
				return
			}
			for _, id := range list {
				out = append(out, identityJSON{
					Provider:       id.Provider,
					ProviderUserID: id.ProviderUserID,
					Email:          id.Email,
					CreatedAt:      id.CreatedAt.Format(time.RFC3339),
					LastUsedAt:     id.LastUsedAt.Format(time.RFC3339),
				})
			}
		}
		respond(w, http.StatusOK, out)
	})
}

func (a *api) handleUnlinkIdentity() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.OAuth == nil {
			writeError(w, r, a.Log, gatehouse.ErrIdentityNotFound)
			return
		}
		if err := a.OAuth.Unlink(r.Context(), principalFrom(r.Context()), r.PathValue("provider")); err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
	})
}
