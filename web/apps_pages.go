package web

import (
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse"
)

// grantRow is one app's access to one resource, as the connected-apps and admin pages list it.
type grantRow struct {
	ID, UserID, ClientID, ClientName string
	Kind                             string // authorization or delegation
	ResourceURI, ResourceName        string
	Scopes                           []string
	CreatedAt, UpdatedAt             time.Time
}

// grantRows names each grant's resource: a registered one, or Gatehouse's own API.
func (s *server) grantRows(r *http.Request, gs []*gatehouse.Grant) ([]grantRow, error) {
	resources, err := s.AuthServer.ListResources(r.Context())
	if err != nil {
		return nil, err
	}
	names := map[string]string{s.AuthServer.OwnAPI(): "Gatehouse API"}
	for _, res := range resources {
		names[res.URI] = res.Name
	}
	out := make([]grantRow, 0, len(gs))
	for _, g := range gs {
		name := g.ClientName
		if name == "" {
			name = g.ClientID
		}
		out = append(out, grantRow{ID: g.ID, Kind: g.Kind, UserID: g.UserID, ClientID: g.ClientID, ClientName: name, ResourceURI: g.Resource,
			ResourceName: names[g.Resource], Scopes: g.Scopes, CreatedAt: g.CreatedAt, UpdatedAt: g.UpdatedAt})
	}
	return out, nil
}

type appsData struct {
	Grants []grantRow
}

// appsPage is "Connected apps": the apps the user let act for them (GET /users/me/grants).
func (s *server) appsPage(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.AuthServer == nil {
		s.notFound(w, r, v)
		return
	}
	vw, err := s.appsView(r, v)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	s.render(w, r, v, http.StatusOK, "apps", vw)
}

func (s *server) appsView(r *http.Request, v *visit) (*view, error) {
	gs, err := s.AuthServer.ListGrants(r.Context(), v.p)
	if err != nil {
		return nil, err
	}
	rows, err := s.grantRows(r, gs)
	if err != nil {
		return nil, err
	}
	return &view{Title: "Connected apps", Nav: "apps", Data: appsData{Grants: rows}}, nil
}

// appsAction revokes one grant (DELETE /users/me/grants/{id}): the app's refresh tokens stop
// working at once, and so do its access tokens on this server.
func (s *server) appsAction(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.AuthServer == nil {
		s.notFound(w, r, v)
		return
	}
	var err error
	switch r.PostFormValue("action") {
	case "revoke":
		err = s.AuthServer.RevokeGrant(r.Context(), v.p, r.PostFormValue("id"))
		if gatehouse.ErrorKindOf(err) == gatehouse.KindNotFound {
			err = gatehouse.Errorf(gatehouse.KindNotFound, "not_found", "That app is not connected, or its access was already revoked.")
		}
	default:
		err = gatehouse.Errorf(gatehouse.KindBadRequest, "unknown_action", "Unknown action.")
	}
	if err != nil {
		vw, lerr := s.appsView(r, v)
		if lerr != nil {
			s.fail(w, r, v, lerr)
			return
		}
		s.failForm(w, r, v, "apps", vw, err)
		return
	}
	redirect(w, r, "/account/apps?notice=app_revoked")
}
