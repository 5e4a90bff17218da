package httpapi

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse"
)

func (a *api) handleMe() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		respond(w, http.StatusOK, userView(principalFrom(r.Context()).User))
	})
}

// optionalString tells an absent JSON field from an explicit null.
type optionalString struct {
	set   bool
	value *string
}

func (o *optionalString) UnmarshalJSON(b []byte) error {
	o.set = true
	return json.Unmarshal(b, &o.value)
}

func (a *api) handleUpdateMe() http.Handler {
	type request struct {
		Name      optionalString `json:"name"`
		AvatarURL optionalString `json:"avatar_url"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[request](r, false)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		var up gatehouse.ProfileUpdate
		if in.Name.set {
			if in.Name.value == nil {
				writeError(w, r, a.Log, gatehouse.Invalid(gatehouse.FieldError{Field: "name", Message: "Name cannot be null."}))
				return
			}
			up.Name = in.Name.value
		}
		if in.AvatarURL.set {
			up.AvatarURL = &in.AvatarURL.value
		}
		u, err := a.Auth.UpdateProfile(r.Context(), principalFrom(r.Context()), up)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		respond(w, http.StatusOK, userView(u))
	})
}

func (a *api) handleChangePassword() http.Handler {
	type request struct {
		CurrentPassword string `json:"current_password"`
		NewPassword     string `json:"new_password"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[request](r, false)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		if err := a.Auth.ChangePassword(r.Context(), principalFrom(r.Context()), in.CurrentPassword, in.NewPassword); err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		respond(w, http.StatusOK, messageJSON{Message: "Password changed; other sessions were signed out."})
	})
}

type sessionJSON struct {
	ID         string `json:"id"`
	CreatedAt  string `json:"created_at"`
	LastUsedAt string `json:"last_used_at"`
	ExpiresAt  string `json:"expires_at"`
	UserAgent  string `json:"user_agent"`
	IP         string `json:"ip"`
	Current    bool   `json:"current"`
	// ImpersonatedBy names the admin who opened the session as the user, for support.
	ImpersonatedBy string `json:"impersonated_by,omitempty"`
}

func (a *api) handleListSessions() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		list, err := a.Auth.ListSessions(r.Context(), principalFrom(r.Context()))
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		out := make([]sessionJSON, 0, len(list))
		for _, s := range list {
			out = append(out, sessionJSON{
				ID:         s.ID,
				CreatedAt:  s.CreatedAt.Format(time.RFC3339),
				LastUsedAt: s.LastUsedAt.Format(time.RFC3339),
				ExpiresAt:  s.ExpiresAt.Format(time.RFC3339),
				UserAgent:  s.UserAgent,
				IP:         s.IP,
				Current:    s.Current,
			})
			if s.Impersonation() {
				out[len(out)-1].ImpersonatedBy = s.Act.Subject
			}
		}
		respond(w, http.StatusOK, out)
	})
}

func (a *api) handleRevokeSession() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.Auth.RevokeSession(r.Context(), principalFrom(r.Context()), r.PathValue("id")); err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
	})
}
