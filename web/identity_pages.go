package web

import (
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse"
)

type identityRow struct {
	Provider, Email       string
	CreatedAt, LastUsedAt time.Time
}

type identitiesData struct {
	HasPassword bool
	Identities  []identityRow
}

func (s *server) identitiesView(r *http.Request, v *visit) (*view, error) {
	d := identitiesData{HasPassword: s.freshUser(r, v).HasPassword()}
	if s.OAuth != nil {
		list, err := s.OAuth.Identities(r.Context(), v.p)
		if err != nil {
			return nil, err
		}
		for _, id := range list {
			d.Identities = append(d.Identities, identityRow{Provider: id.Provider, Email: id.Email, CreatedAt: id.CreatedAt, LastUsedAt: id.LastUsedAt})
		}
	}
	return &view{Title: "Sign-in methods", Nav: "identities", Data: d}, nil
}

func (s *server) identitiesPage(w http.ResponseWriter, r *http.Request, v *visit) {
	vw, err := s.identitiesView(r, v)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	s.render(w, r, v, http.StatusOK, "identities", vw)
}

// identitiesAction is DELETE /users/me/identities/{provider}: the domain refuses to remove the
// last way to sign in.
func (s *server) identitiesAction(w http.ResponseWriter, r *http.Request, v *visit) {
	var err error
	switch {
	case r.PostFormValue("action") != "unlink":
		err = gatehouse.Errorf(gatehouse.KindBadRequest, "unknown_action", "Unknown action.")
	case s.OAuth == nil:
		err = gatehouse.ErrIdentityNotFound
	default:
		err = s.OAuth.Unlink(r.Context(), v.p, r.PostFormValue("provider"))
	}
	if err == nil {
		redirect(w, r, "/account/identities?notice=identity_unlinked")
		return
	}
	vw, lerr := s.identitiesView(r, v)
	if lerr != nil {
		s.fail(w, r, v, lerr)
		return
	}
	s.failForm(w, r, v, "identities", vw, err)
}
