package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// The admin pages of the authorization server: OAuth clients, resources and grants. Each calls
// the domain method the admin API calls (/api/v1/admin/oauth/...).

// splitLines reads a textarea: one entry per line, blank lines skipped.
func splitLines(s string) []string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

// newClientSecret is a confidential client just created; its secret is on one page only.
type newClientSecret struct {
	ClientID, Name, Secret string
}

type clientsData struct {
	Clients []*gatehouse.OAuthClient
	Created *newClientSecret
	// Missed: the browser came for a new secret that can no longer be shown.
	Missed bool
}

func (s *server) clientsView(r *http.Request) (*view, error) {
	list, err := s.AuthServer.ListClients(r.Context())
	if err != nil {
		return nil, err
	}
	return &view{Title: "OAuth clients", Nav: "clients", Form: map[string]string{}, Data: clientsData{Clients: list}}, nil
}

// clientsPage lists the clients; right after "Create client" it shows the new secret, once (the
// same one-time slot as a new API key's).
func (s *server) clientsPage(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.AuthServer == nil {
		s.notFound(w, r, v)
		return
	}
	vw, err := s.clientsView(r)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	d := vw.Data.(clientsData)
	if c, err := r.Cookie(s.cookies.newSecret); err == nil && c.Value != "" {
		http.SetCookie(w, s.cookie(s.cookies.newSecret, "", -1))
		id, secret, ok := s.secrets.take(c.Value, v.p.User.ID, v.p.SessionID)
		if ok {
			d.Created = &newClientSecret{ClientID: id, Name: id, Secret: secret}
			for _, cl := range d.Clients {
				if cl.ID == id {
					d.Created.Name = cl.Name
				}
			}
		} else {
			d.Missed = true
		}
	}
	vw.Data = d
	s.render(w, r, v, http.StatusOK, "clients", vw)
}

func (s *server) clientsAction(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.AuthServer == nil {
		s.notFound(w, r, v)
		return
	}
	ctx := r.Context()
	form := map[string]string{}
	var err error
	switch r.PostFormValue("action") {
	case "create":
		form["name"], form["redirect_uris"] = r.PostFormValue("name"), r.PostFormValue("redirect_uris")
		in := gatehouse.NewClientInput{Name: r.PostFormValue("name"), RedirectURIs: splitLines(r.PostFormValue("redirect_uris")),
			AuthMethod: gatehouse.AuthMethodNone}
		if r.PostFormValue("confidential") != "" {
			form["confidential"] = "on"
			in.AuthMethod = gatehouse.AuthMethodBasic
		}
		form["scopes"] = r.PostFormValue("scopes")
		in.Scopes = strings.Fields(form["scopes"])
		if r.PostFormValue("client_credentials") != "" {
			// A service with tokens of its own: confidential; with redirect URIs it signs users
			// in too.
			form["client_credentials"] = "on"
			in.AuthMethod = gatehouse.AuthMethodBasic
			in.GrantTypes = []string{gatehouse.GrantClientCredentials}
			if len(in.RedirectURIs) > 0 {
				in.GrantTypes = append(in.GrantTypes, gatehouse.GrantAuthCode)
			}
		}
		var c *gatehouse.OAuthClient
		var secret string
		c, secret, err = s.AuthServer.CreateClient(ctx, v.p, in)
		if err == nil {
			if secret != "" {
				id := s.secrets.put(v.p.User.ID, v.p.SessionID, c.ID, secret)
				http.SetCookie(w, s.cookie(s.cookies.newSecret, id, revealTTL))
				redirect(w, r, "/admin/oauth/clients")
				return
			}
			redirect(w, r, "/admin/oauth/clients?notice=client_created")
			return
		}
		if e, ok := err.(*gatehouse.Error); ok && e.Code == gatehouse.OAuthInvalidRedirectURI {
			err = invalid("redirect_uris", e.Message)
		} else if ok && e.Code == gatehouse.OAuthInvalidClientMetadata {
			err = invalid("scopes", e.Message)
		}
	case "revoke":
		err = s.AuthServer.RevokeClient(ctx, v.p, r.PostFormValue("id"))
		if err == nil {
			redirect(w, r, "/admin/oauth/clients?notice=client_revoked")
			return
		}
		if gatehouse.ErrorKindOf(err) == gatehouse.KindNotFound {
			err = gatehouse.Errorf(gatehouse.KindNotFound, "not_found", "That client does not exist or was already revoked.")
		}
	default:
		err = gatehouse.Errorf(gatehouse.KindBadRequest, "unknown_action", "Unknown action.")
	}
	vw, lerr := s.clientsView(r)
	if lerr != nil {
		s.fail(w, r, v, lerr)
		return
	}
	vw.Form = form
	s.failForm(w, r, v, "clients", vw, err)
}

// discardNewSecret forgets a client secret still waiting to be shown in this browser.
func (s *server) discardNewSecret(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(s.cookies.newSecret); err == nil && c.Value != "" {
		s.secrets.forget(c.Value)
		http.SetCookie(w, s.cookie(s.cookies.newSecret, "", -1))
	}
}

type resourcesData struct {
	Resources []*gatehouse.Resource
	OwnAPI    string
}

func (s *server) resourcesView(r *http.Request) (*view, error) {
	list, err := s.AuthServer.ListResources(r.Context())
	if err != nil {
		return nil, err
	}
	return &view{Title: "Resources", Nav: "resources", Form: map[string]string{},
		Data: resourcesData{Resources: list, OwnAPI: s.AuthServer.OwnAPI()}}, nil
}

func (s *server) resourcesPage(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.AuthServer == nil {
		s.notFound(w, r, v)
		return
	}
	vw, err := s.resourcesView(r)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	s.render(w, r, v, http.StatusOK, "resources", vw)
}

func (s *server) resourcesAction(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.AuthServer == nil {
		s.notFound(w, r, v)
		return
	}
	ctx := r.Context()
	form := map[string]string{}
	var err error
	switch r.PostFormValue("action") {
	case "add":
		form["uri"], form["name"], form["scopes"] = r.PostFormValue("uri"), r.PostFormValue("name"), r.PostFormValue("scopes")
		_, err = s.AuthServer.AddResource(ctx, v.p, gatehouse.NewResourceInput{URI: strings.TrimSpace(r.PostFormValue("uri")),
			Name: r.PostFormValue("name"), Scopes: splitLines(r.PostFormValue("scopes"))})
		if err == nil {
			redirect(w, r, "/admin/oauth/resources?notice=resource_added")
			return
		}
		if gatehouse.ErrorKindOf(err) == gatehouse.KindConflict {
			err = invalid("uri", "A resource with this URI is already registered.")
		}
	case "remove":
		err = s.AuthServer.RemoveResource(ctx, v.p, r.PostFormValue("uri"))
		if err == nil {
			redirect(w, r, "/admin/oauth/resources?notice=resource_removed")
			return
		}
		if gatehouse.ErrorKindOf(err) == gatehouse.KindNotFound {
			err = gatehouse.Errorf(gatehouse.KindNotFound, "not_found", "That resource is not registered.")
		}
	default:
		err = gatehouse.Errorf(gatehouse.KindBadRequest, "unknown_action", "Unknown action.")
	}
	vw, lerr := s.resourcesView(r)
	if lerr != nil {
		s.fail(w, r, v, lerr)
		return
	}
	vw.Form = form
	s.failForm(w, r, v, "resources", vw, err)
}

type adminGrantsData struct {
	UserID, ClientID string
	Filtered         bool
	Grants           []grantRow
}

// grantsView lists the grants of a user or of a client (GET /admin/oauth/grants).
func (s *server) grantsView(r *http.Request, userID, clientID string) (*view, error) {
	userID, clientID = strings.TrimSpace(userID), strings.TrimSpace(clientID)
	d := adminGrantsData{UserID: userID, ClientID: clientID, Filtered: userID != "" || clientID != ""}
	vw := &view{Title: "App grants", Nav: "grants", Form: map[string]string{"user": userID, "client": clientID}, Data: d}
	if !d.Filtered {
		return vw, nil
	}
	gs, err := s.AuthServer.ListGrantsOf(r.Context(), gatehouse.GrantFilter{UserID: userID, ClientID: clientID})
	if err != nil {
		return nil, err
	}
	if d.Grants, err = s.grantRows(r, gs); err != nil {
		return nil, err
	}
	vw.Data = d
	return vw, nil
}

func (s *server) grantsPage(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.AuthServer == nil {
		s.notFound(w, r, v)
		return
	}
	q := r.URL.Query()
	vw, err := s.grantsView(r, q.Get("user"), q.Get("client"))
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	s.render(w, r, v, http.StatusOK, "grants", vw)
}

func (s *server) grantsAction(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.AuthServer == nil {
		s.notFound(w, r, v)
		return
	}
	userID, clientID := r.PostFormValue("user"), r.PostFormValue("client")
	var err error
	switch r.PostFormValue("action") {
	case "revoke":
		err = s.AuthServer.RevokeGrantOf(r.Context(), v.p, r.PostFormValue("id"))
		if gatehouse.ErrorKindOf(err) == gatehouse.KindNotFound {
			err = gatehouse.Errorf(gatehouse.KindNotFound, "not_found", "That grant does not exist or was already revoked.")
		}
	default:
		err = gatehouse.Errorf(gatehouse.KindBadRequest, "unknown_action", "Unknown action.")
	}
	if err != nil {
		vw, lerr := s.grantsView(r, userID, clientID)
		if lerr != nil {
			s.fail(w, r, v, lerr)
			return
		}
		s.failForm(w, r, v, "grants", vw, err)
		return
	}
	back := url.Values{"notice": {"grant_revoked"}}
	if userID != "" {
		back.Set("user", userID)
	}
	if clientID != "" {
		back.Set("client", clientID)
	}
	redirect(w, r, "/admin/oauth/grants?"+back.Encode())
}
