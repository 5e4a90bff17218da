package httpapi

import (
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/gatehouse/gatehouse"
)

// Grants (the apps a user connected), and the admin API of clients, resources and grants.

type grantJSON struct {
	ID string `json:"id"`
	// Kind is "authorization" (consent to an app) or "delegation" (an agent allowed to act for
	// the user through token exchange).
	Kind       string   `json:"kind"`
	UserID     string   `json:"user_id"`
	ClientID   string   `json:"client_id"`
	ClientName string   `json:"client_name"`
	Resource   string   `json:"resource"`
	Scopes     []string `json:"scopes"`
	CreatedAt  string   `json:"created_at"`
	UpdatedAt  string   `json:"updated_at"`
}

func grantViews(gs []*gatehouse.Grant) []grantJSON {
	out := make([]grantJSON, 0, len(gs))
	for _, g := range gs {
		scopes := g.Scopes
		if scopes == nil {
			scopes = []string{}
		}
		kind := g.Kind
		if kind == "" {
			kind = gatehouse.GrantAuthorization
		}
		out = append(out, grantJSON{ID: g.ID, Kind: kind, UserID: g.UserID, ClientID: g.ClientID, ClientName: g.ClientName, Resource: g.Resource,
			Scopes: scopes, CreatedAt: g.CreatedAt.UTC().Format(time.RFC3339), UpdatedAt: g.UpdatedAt.UTC().Format(time.RFC3339)})
	}
	return out
}

func (a *api) handleListGrants() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gs, err := a.AuthServer.ListGrants(r.Context(), principalFrom(r.Context()))
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		respond(w, http.StatusOK, grantViews(gs))
	})
}

func (a *api) handleRevokeGrant() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.AuthServer.RevokeGrant(r.Context(), principalFrom(r.Context()), r.PathValue("id")); err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func (a *api) handleAdminGrants() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		gs, err := a.AuthServer.ListGrantsOf(r.Context(), gatehouse.GrantFilter{UserID: q.Get("user_id"), ClientID: q.Get("client_id")})
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		respond(w, http.StatusOK, grantViews(gs))
	})
}

func (a *api) handleAdminRevokeGrant() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.AuthServer.RevokeGrantOf(r.Context(), principalFrom(r.Context()), r.PathValue("id")); err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

type clientJSON struct {
	ClientID     string   `json:"client_id"`
	Kind         string   `json:"kind"`
	Name         string   `json:"name"`
	RedirectURIs []string `json:"redirect_uris"`
	GrantTypes   []string `json:"grant_types"`
	AuthMethod   string   `json:"token_endpoint_auth_method"`
	ClientURI    string   `json:"client_uri,omitempty"`
	LogoURI      string   `json:"logo_uri,omitempty"`
	// Scopes are what a client_credentials client was granted.
	Scopes []string `json:"scopes"`
	// JWKS or JWKSURI are a private_key_jwt client's public keys.
	JWKS      json.RawMessage `json:"jwks,omitempty"`
	JWKSURI   string          `json:"jwks_uri,omitempty"`
	CreatedAt string          `json:"created_at"`
	RevokedAt *string         `json:"revoked_at"`
}

func clientView(c *gatehouse.OAuthClient) clientJSON {
	scopes := c.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	return clientJSON{ClientID: c.ID, Kind: c.Kind, Name: c.Name, RedirectURIs: c.RedirectURIs, GrantTypes: c.GrantTypes,
		AuthMethod: c.AuthMethod, ClientURI: c.ClientURI, LogoURI: c.LogoURI, Scopes: scopes, JWKS: json.RawMessage(c.JWKS), JWKSURI: c.JWKSURI,
		CreatedAt: c.CreatedAt.UTC().Format(time.RFC3339), RevokedAt: timeOrNil(c.RevokedAt)}
}

func (a *api) handleListClients() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cs, err := a.AuthServer.ListClients(r.Context())
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		out := make([]clientJSON, 0, len(cs))
		for _, c := range cs {
			out = append(out, clientView(c))
		}
		respond(w, http.StatusOK, out)
	})
}

func (a *api) handleCreateClient() http.Handler {
	type request struct {
		Name         string   `json:"name"`
		RedirectURIs []string `json:"redirect_uris"`
		Confidential bool     `json:"confidential"`
		GrantTypes   []string `json:"grant_types"`
		ClientURI    string   `json:"client_uri"`
		LogoURI      string   `json:"logo_uri"`
		// RefreshReuseSeconds overrides the refresh retry window for this client.
		RefreshReuseSeconds *int `json:"refresh_reuse_seconds"`
		// Scopes are granted to a client_credentials client.
		Scopes []string `json:"scopes"`
		// JWKS (a public JWK or JWK Set) or JWKSURI makes a private_key_jwt client.
		JWKS    json.RawMessage `json:"jwks"`
		JWKSURI string          `json:"jwks_uri"`
	}
	type response struct {
		clientJSON
		ClientSecret string `json:"client_secret,omitempty"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[request](r, false)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		nc := gatehouse.NewClientInput{Name: in.Name, RedirectURIs: in.RedirectURIs, GrantTypes: in.GrantTypes,
			AuthMethod: gatehouse.AuthMethodNone, ClientURI: in.ClientURI, LogoURI: in.LogoURI,
			Scopes: in.Scopes, JWKSURI: in.JWKSURI}
		if len(in.JWKS) > 0 && string(in.JWKS) != "null" {
			nc.JWKS = in.JWKS
		}
		// A client_credentials client, or one with keys, is confidential by definition.
		if in.Confidential || slices.Contains(in.GrantTypes, gatehouse.GrantClientCredentials) || nc.JWKS != nil || nc.JWKSURI != "" {
			nc.AuthMethod = gatehouse.AuthMethodBasic
		}
		if in.RefreshReuseSeconds != nil {
			d := time.Duration(*in.RefreshReuseSeconds) * time.Second
			nc.RefreshReuse = &d
		}
		c, secret, err := a.AuthServer.CreateClient(r.Context(), principalFrom(r.Context()), nc)
		if err != nil {
			writeError(w, r, a.Log, asValidation(err))
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		respond(w, http.StatusCreated, response{clientJSON: clientView(c), ClientSecret: secret})
	})
}

// asValidation reports an OAuth registration error on the admin API as the validation problem
// it is there (422).
func asValidation(err error) error {
	if e, ok := err.(*gatehouse.Error); ok && (e.Code == gatehouse.OAuthInvalidRedirectURI || e.Code == gatehouse.OAuthInvalidClientMetadata) {
		field := "redirect_uris"
		if e.Code == gatehouse.OAuthInvalidClientMetadata {
			field = "client"
		}
		return gatehouse.Invalid(gatehouse.FieldError{Field: field, Message: e.Message})
	}
	return err
}

func (a *api) handleRevokeClient() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.AuthServer.RevokeClient(r.Context(), principalFrom(r.Context()), r.PathValue("id")); err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

type resourceJSON struct {
	URI       string                `json:"uri"`
	Name      string                `json:"name"`
	Scopes    []gatehouse.ScopeInfo `json:"scopes"`
	CreatedAt string                `json:"created_at"`
}

func resourceView(res *gatehouse.Resource) resourceJSON {
	scopes := res.Scopes
	if scopes == nil {
		scopes = []gatehouse.ScopeInfo{}
	}
	return resourceJSON{URI: res.URI, Name: res.Name, Scopes: scopes, CreatedAt: res.CreatedAt.UTC().Format(time.RFC3339)}
}

func (a *api) handleListResources() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rs, err := a.AuthServer.ListResources(r.Context())
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		out := make([]resourceJSON, 0, len(rs))
		for _, res := range rs {
			out = append(out, resourceView(res))
		}
		respond(w, http.StatusOK, out)
	})
}

func (a *api) handleAddResource() http.Handler {
	type request struct {
		URI    string   `json:"uri"`
		Name   string   `json:"name"`
		Scopes []string `json:"scopes"` // "name" or "name=description"
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[request](r, false)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		res, err := a.AuthServer.AddResource(r.Context(), principalFrom(r.Context()), gatehouse.NewResourceInput(in))
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		respond(w, http.StatusCreated, resourceView(res))
	})
}

// handleRemoveResource removes the resource named by the uri query parameter (a URI does not
// fit in a path segment).
func (a *api) handleRemoveResource() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		uri := r.URL.Query().Get("uri")
		if uri == "" {
			writeError(w, r, a.Log, gatehouse.Invalid(gatehouse.FieldError{Field: "uri", Message: "uri is required."}))
			return
		}
		if err := a.AuthServer.RemoveResource(r.Context(), principalFrom(r.Context()), uri); err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
