package httpapi

import (
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse"
)

type apiKeyJSON struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Prefix     string   `json:"prefix"`
	Scopes     []string `json:"scopes"`
	CreatedAt  string   `json:"created_at"`
	LastUsedAt *string  `json:"last_used_at"`
	ExpiresAt  *string  `json:"expires_at"`
	UseCount   int64    `json:"use_count"`
}

func timeOrNil(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := t.UTC().Format(time.RFC3339)
	return &s
}

func apiKeyView(k *gatehouse.APIKey) apiKeyJSON {
	return apiKeyJSON{
		ID:         k.ID,
		Name:       k.Name,
		Prefix:     k.Prefix,
		Scopes:     k.Scopes,
		CreatedAt:  k.CreatedAt.UTC().Format(time.RFC3339),
		LastUsedAt: timeOrNil(k.LastUsedAt),
		ExpiresAt:  timeOrNil(k.ExpiresAt),
		UseCount:   k.UseCount,
	}
}

func (a *api) handleListAPIKeys() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		keys, err := a.Auth.ListAPIKeys(r.Context(), principalFrom(r.Context()))
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		out := make([]apiKeyJSON, 0, len(keys))
		for _, k := range keys {
			out = append(out, apiKeyView(k))
		}
		respond(w, http.StatusOK, out)
	})
}

func (a *api) handleCreateAPIKey() http.Handler {
	type request struct {
		Name          string   `json:"name"`
		Scopes        []string `json:"scopes"`
		ExpiresInDays *int     `json:"expires_in_days"`
	}
	type response struct {
		apiKeyJSON
		APIKey string `json:"api_key"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[request](r, false)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		k, secret, err := a.Auth.CreateAPIKey(r.Context(), principalFrom(r.Context()), gatehouse.NewAPIKeyInput(in))
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		respond(w, http.StatusCreated, response{apiKeyJSON: apiKeyView(k), APIKey: secret})
	})
}

func (a *api) handleRevokeAPIKey() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.Auth.RevokeAPIKey(r.Context(), principalFrom(r.Context()), r.PathValue("id")); err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
	})
}

// requireKey admits any live API key.
func (a *api) requireKey(next http.Handler) http.Handler {
	return a.withPrincipal(next, func(p *gatehouse.Principal) error {
		if p.APIKey == nil {
			return errKeyRequired
		}
		return nil
	})
}

func (a *api) handleVerifyAPIKey() http.Handler {
	type response struct {
		Valid     bool     `json:"valid"`
		KeyID     string   `json:"key_id"`
		UserID    string   `json:"user_id"`
		OrgID     string   `json:"org_id,omitempty"` // an organization's key; user_id is then its creator
		Name      string   `json:"name"`
		Prefix    string   `json:"prefix"`
		Scopes    []string `json:"scopes"`
		ExpiresAt *string  `json:"expires_at"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := principalFrom(r.Context())
		respond(w, http.StatusOK, response{Valid: true, KeyID: p.APIKey.ID, UserID: p.User.ID, OrgID: p.APIKey.OrgID, Name: p.APIKey.Name,
			Prefix: p.APIKey.Prefix, Scopes: p.Scopes, ExpiresAt: timeOrNil(p.APIKey.ExpiresAt)})
	})
}
