package gatehouseauth_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/gatehouse/gatehouse/sdks/go/gatehouseauth"
)

// TestMetadataAtBothURLs serves the protected-resource metadata on a real server and reads it
// at the path-inserted and the root well-known URL.
func TestMetadataAtBothURLs(t *testing.T) {
	r := newRig(t, func(c *gatehouseauth.Config) {
		c.ScopesSupported = []string{"mcp:tools"}
		c.ResourceName = "Example MCP server"
	})
	r.v.Middleware("files:read", "mcp:tools") // scopes named by routes are listed too
	mux := http.NewServeMux()
	r.v.HandleMetadata(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	if got := r.v.MetadataURL(); got != metadataURL {
		t.Fatalf("MetadataURL %s", got)
	}
	for _, path := range []string{"/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		err = json.NewDecoder(resp.Body).Decode(&m)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %d %v", path, resp.StatusCode, err)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s: Content-Type %s", path, ct)
		}
		if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("%s: no CORS", path)
		}
		want := map[string]any{
			"resource":                 resource,
			"authorization_servers":    []any{r.iss.URL},
			"scopes_supported":         []any{"mcp:tools", "files:read"},
			"bearer_methods_supported": []any{"header"},
			"resource_name":            "Example MCP server",
		}
		gotJSON, _ := json.Marshal(m)
		wantJSON, _ := json.Marshal(want)
		if string(gotJSON) != string(wantJSON) {
			t.Errorf("%s:\n got %s\nwant %s", path, gotJSON, wantJSON)
		}
	}
	resp, err := http.Post(srv.URL+"/.well-known/oauth-protected-resource/mcp", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", resp.StatusCode)
	}
}

func TestMetadataURLOfAResourceAtTheRoot(t *testing.T) {
	for res, want := range map[string]string{
		"https://api.example":          "https://api.example/.well-known/oauth-protected-resource",
		"https://api.example/":         "https://api.example/.well-known/oauth-protected-resource",
		"https://api.example:8443/a/b": "https://api.example:8443/.well-known/oauth-protected-resource/a/b",
	} {
		v, err := gatehouseauth.New(gatehouseauth.Config{Issuer: "https://auth.example", Resource: res})
		if err != nil {
			t.Fatal(err)
		}
		if got := v.MetadataURL(); got != want {
			t.Errorf("%s: %s, want %s", res, got, want)
		}
		if paths := v.MetadataPaths(); !slices.Contains(paths, "/.well-known/oauth-protected-resource") {
			t.Errorf("%s: paths %v", res, paths)
		}
		if m := v.Metadata(); m.Resource != res {
			t.Errorf("resource %q, want exactly %q", m.Resource, res)
		}
	}
}
