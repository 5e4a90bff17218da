package gatehouseauth

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
)

// metadataPrefix is RFC 9728's well-known path.
const metadataPrefix = "/.well-known/oauth-protected-resource"

// Metadata is the RFC 9728 protected-resource metadata of this resource.
type Metadata struct {
	Resource               string   `json:"resource"`
	AuthorizationServers   []string `json:"authorization_servers"`
	ScopesSupported        []string `json:"scopes_supported,omitempty"`
	BearerMethodsSupported []string `json:"bearer_methods_supported"`
	ResourceName           string   `json:"resource_name,omitempty"`
}

// Metadata returns the protected-resource metadata: resource exactly as configured, the
// issuer as the one authorization server, scopes_supported (Config.ScopesSupported plus every
// scope named by Middleware) and the header as the only bearer method.
func (v *Verifier) Metadata() Metadata {
	v.scopesMu.Lock()
	scopes := slices.Clone(v.scopes)
	v.scopesMu.Unlock()
	return Metadata{
		Resource:               v.resource,
		AuthorizationServers:   []string{v.issuer},
		ScopesSupported:        scopes,
		BearerMethodsSupported: []string{"header"},
		ResourceName:           v.resourceName,
	}
}

// MetadataURL is where clients find the metadata, the resource_metadata of the challenges:
// the well-known path inserted between the resource's host and path (RFC 9728 §3.1), e.g.
// "https://api.example.com/.well-known/oauth-protected-resource/mcp" for
// "https://api.example.com/mcp".
func (v *Verifier) MetadataURL() string { return v.metadataURL }

// MetadataPaths are the paths [Verifier.HandleMetadata] serves: the path-inserted one and the
// root "/.well-known/oauth-protected-resource" (which some clients try first).
func (v *Verifier) MetadataPaths() []string { return slices.Clone(v.metadataPaths) }

// HandleMetadata registers [Verifier.MetadataHandler] on mux at every one of MetadataPaths.
func (v *Verifier) HandleMetadata(mux *http.ServeMux) {
	h := v.MetadataHandler()
	for _, p := range v.metadataPaths {
		mux.Handle(p, h)
	}
}

// MetadataHandler serves the metadata as JSON to GET and HEAD, with CORS open to every origin
// (the document is public and browser-based MCP clients read it).
func (v *Verifier) MetadataHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		switch r.Method {
		case http.MethodGet, http.MethodHead:
		case http.MethodOptions:
			h.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "*")
			w.WriteHeader(http.StatusNoContent)
			return
		default:
			h.Set("Allow", "GET, HEAD, OPTIONS")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		body, _ := json.Marshal(v.Metadata())
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "public, max-age=300")
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			_, _ = w.Write(body)
		}
	})
}

func (v *Verifier) addScopes(scopes ...string) {
	v.scopesMu.Lock()
	defer v.scopesMu.Unlock()
	for _, s := range scopes {
		for _, one := range strings.Fields(s) {
			if !slices.Contains(v.scopes, one) {
				v.scopes = append(v.scopes, one)
			}
		}
	}
}
