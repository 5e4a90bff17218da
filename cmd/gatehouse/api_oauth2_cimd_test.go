package main

import (
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document; MCP 2025-11-25
// "Client ID Metadata Documents"): a client_id that is an https URL names a JSON document the
// authorization server fetches. Without the browser flow, the token endpoint shows whether the
// server accepted the client: a known client with a bogus refresh token is 400 invalid_grant, a
// refused one 401 invalid_client.
//
// The documents are served by an httptest TLS server on loopback. The server under test runs in
// this process and uses the system CA bundle, which Go reads once per process and which honours
// SSL_CERT_FILE; so SSL_CERT_FILE names httptest's certificate (every httptest TLS server shares
// it) before any test runs.

func init() {
	ts := httptest.NewUnstartedServer(http.NotFoundHandler())
	ts.StartTLS()
	cert := ts.Certificate()
	ts.Close()
	dir, err := os.MkdirTemp("", "gatehouse-cimd-ca-")
	if err != nil {
		panic(err)
	}
	file := filepath.Join(dir, "httptest-ca.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o644); err != nil {
		panic(err)
	}
	os.Setenv("SSL_CERT_FILE", file)
}

// cimdHost serves client metadata documents over TLS and counts requests per path.
type cimdHost struct {
	*httptest.Server
	mu   sync.Mutex
	docs map[string]func(w http.ResponseWriter)
	hits map[string]int
}

func startCIMDHost(t *testing.T) *cimdHost {
	t.Helper()
	h := &cimdHost{docs: map[string]func(http.ResponseWriter){}, hits: map[string]int{}}
	h.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.hits[r.URL.Path]++
		serve := h.docs[r.URL.Path]
		h.mu.Unlock()
		if serve == nil {
			http.NotFound(w, r)
			return
		}
		serve(w)
	}))
	t.Cleanup(h.Close)
	return h
}

// doc publishes a metadata document at path and returns the URL that is its client_id.
func (h *cimdHost) doc(path string, doc map[string]any) string {
	body, _ := json.Marshal(doc)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.docs[path] = func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}
	return h.URL + path
}

func (h *cimdHost) handle(path string, serve func(w http.ResponseWriter)) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.docs[path] = serve
	return h.URL + path
}

func (h *cimdHost) hitsOf(path string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.hits[path]
}

// cimdDoc is a well-formed document for a public client whose client_id is clientID.
func cimdDoc(clientID string) map[string]any {
	return map[string]any{
		"client_id":                  clientID,
		"client_name":                "Test MCP client",
		"client_uri":                 "https://mcp-client.example",
		"redirect_uris":              []string{"http://127.0.0.1/callback"},
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"response_types":             []string{"code"},
		"token_endpoint_auth_method": "none",
	}
}

func startCIMDServer(t *testing.T) *testServer {
	return startServer(t, "GATEHOUSE_OAUTH_CIMD_ALLOW_PRIVATE_NETWORKS=true")
}

// expectCIMDAccepted: the token endpoint knows the client (the refresh token is what is wrong).
func expectCIMDAccepted(t *testing.T, s *testServer, clientID string) {
	t.Helper()
	expectO2Error(t, s.o2Form(t, "/oauth2/token", o2Refresh(clientID, "bogus")), http.StatusBadRequest, "invalid_grant")
}

// expectCIMDRefused: the token endpoint refuses the client as invalid_client.
func expectCIMDRefused(t *testing.T, s *testServer, clientID string) {
	t.Helper()
	expectO2Error(t, s.o2Form(t, "/oauth2/token", o2Refresh(clientID, "bogus")), http.StatusUnauthorized, "invalid_client")
}

// The baseline: with private networks allowed (development and tests only) a well-formed
// document on loopback makes its URL a client.
func TestOAuth2CIMDAcceptedWhenPrivateNetworksAllowed(t *testing.T) {
	h := startCIMDHost(t)
	id := h.URL + "/client.json"
	h.doc("/client.json", cimdDoc(id))
	s := startCIMDServer(t)
	expectCIMDAccepted(t, s, id)
	if h.hitsOf("/client.json") == 0 {
		t.Fatalf("the document was never fetched")
	}
}

// CIMD draft, Security Considerations (SSRF) and MCP 2025-11-25: by default a document on a
// loopback or private address is refused, and the address is not contacted at all.
func TestOAuth2CIMDPrivateNetworkRefusedByDefault(t *testing.T) {
	h := startCIMDHost(t)
	id := h.URL + "/client.json"
	h.doc("/client.json", cimdDoc(id))
	s := startServer(t)
	expectCIMDRefused(t, s, id)
	// The same URL with localhost instead of the IP literal resolves to loopback too.
	localhost := strings.Replace(id, "127.0.0.1", "localhost", 1)
	h.doc("/client.json", cimdDoc(localhost))
	expectCIMDRefused(t, s, localhost)
	if n := h.hitsOf("/client.json"); n != 0 {
		t.Fatalf("the server fetched a document from loopback %d times with private networks refused", n)
	}
}

// CIMD draft (Maximum Response Size; 5 KB is the size clients are told to stay under, not the
// server's limit) and the 64 KiB limit: a document of 8 KB is accepted.
func TestOAuth2CIMDDocumentOver5KBAccepted(t *testing.T) {
	h := startCIMDHost(t)
	id := h.URL + "/big.json"
	doc := cimdDoc(id)
	doc["x_padding"] = strings.Repeat("a", 8*1024)
	doc["logo_uri"] = "https://mcp-client.example/logo.png"
	h.doc("/big.json", doc)
	s := startCIMDServer(t)
	expectCIMDAccepted(t, s, id)
}

// A document over the server's limit (64 KiB) is refused (CIMD draft, Maximum Response Size).
func TestOAuth2CIMDDocumentOver64KiBRefused(t *testing.T) {
	h := startCIMDHost(t)
	id := h.URL + "/huge.json"
	doc := cimdDoc(id)
	doc["x_padding"] = strings.Repeat("a", 100*1024)
	h.doc("/huge.json", doc)
	s := startCIMDServer(t)
	expectCIMDRefused(t, s, id)
}

// CIMD draft (Client ID Metadata Document): the document's client_id MUST equal the URL it was
// fetched from, by simple string comparison (RFC 3986 §6.2.1), without normalisation.
func TestOAuth2CIMDClientIDMismatchRefused(t *testing.T) {
	h := startCIMDHost(t)
	other := h.doc("/other.json", cimdDoc(h.URL+"/other.json"))
	s := startCIMDServer(t)
	expectCIMDAccepted(t, s, other) // the host works

	id := h.doc("/mismatch.json", cimdDoc(h.URL+"/other.json"))
	expectCIMDRefused(t, s, id)
	// Equivalent after normalisation is still not equal byte for byte.
	id = h.doc("/case.json", cimdDoc(strings.Replace(h.URL, "https://", "HTTPS://", 1)+"/case.json"))
	expectCIMDRefused(t, s, id)
	noClientID := cimdDoc("")
	delete(noClientID, "client_id")
	expectCIMDRefused(t, s, h.doc("/none.json", noClientID))
}

// CIMD draft (Client Information Discovery): the server MUST NOT follow redirects when it fetches
// the document; a 3xx is a failure, even when the target holds a document naming the original URL.
func TestOAuth2CIMDRedirectNotFollowed(t *testing.T) {
	h := startCIMDHost(t)
	id := h.URL + "/moved.json"
	h.doc("/target.json", cimdDoc(id))
	h.handle("/moved.json", func(w http.ResponseWriter) {
		w.Header().Set("Location", h.URL+"/target.json")
		w.WriteHeader(http.StatusFound)
	})
	s := startCIMDServer(t)
	expectCIMDRefused(t, s, id)
	if n := h.hitsOf("/target.json"); n != 0 {
		t.Fatalf("the server followed the redirect (%d fetches of its target)", n)
	}
}

// CIMD draft (Metadata Discovery Errors): a document that cannot be fetched (404) or is not a
// JSON object is no client.
func TestOAuth2CIMDUnfetchableDocumentRefused(t *testing.T) {
	h := startCIMDHost(t)
	s := startCIMDServer(t)
	expectCIMDRefused(t, s, h.URL+"/missing.json")
	id := h.handle("/html.json", func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html>not a document</html>"))
	})
	expectCIMDRefused(t, s, id)
}

// CIMD draft (Client ID Metadata Document): the document MUST NOT carry client_secret, and its
// token_endpoint_auth_method MUST NOT be a shared-secret method: the secret would be public.
func TestOAuth2CIMDSharedSecretRefused(t *testing.T) {
	h := startCIMDHost(t)
	s := startCIMDServer(t)
	id := h.URL + "/basic.json"
	doc := cimdDoc(id)
	doc["token_endpoint_auth_method"] = "client_secret_basic"
	h.doc("/basic.json", doc)
	expectCIMDRefused(t, s, id)

	id = h.URL + "/secret.json"
	doc = cimdDoc(id)
	doc["client_secret"] = "published-for-everyone"
	h.doc("/secret.json", doc)
	expectCIMDRefused(t, s, id)
	// Presenting the published secret does not help.
	form := o2Refresh(id, "bogus")
	form.Set("client_secret", "published-for-everyone")
	expectO2Error(t, s.o2Form(t, "/oauth2/token", form), http.StatusUnauthorized, "invalid_client")
}

// CIMD draft (Client Identifier URL): the URL MUST have a path component, and MUST NOT contain a
// fragment, credentials, or single- or double-dot path segments. Such client_ids are refused
// whatever the host serves.
func TestOAuth2CIMDClientIDURLRulesEnforced(t *testing.T) {
	h := startCIMDHost(t)
	s := startCIMDServer(t)
	for name, id := range map[string]string{
		"no path":     h.URL,
		"root path":   h.URL + "/",
		"fragment":    h.URL + "/frag.json#x",
		"credentials": strings.Replace(h.URL, "https://", "https://user:pass@", 1) + "/cred.json",
		"dot segment": h.URL + "/a/../dots.json",
		"dot":         h.URL + "/./dot.json",
	} {
		t.Run(name, func(t *testing.T) {
			// Serve a document that would match, at every path the server might fetch.
			for _, p := range []string{"/", "/frag.json", "/cred.json", "/dots.json", "/a/../dots.json", "/dot.json", "/./dot.json"} {
				h.doc(p, cimdDoc(id))
			}
			expectCIMDRefused(t, s, id)
		})
	}
}

// CIMD draft (Metadata Caching) and the policy: documents are cached by their HTTP cache
// headers, clamped to at least 5 minutes; a document that says no-store is still not fetched again
// for each request (otherwise every token request makes the server fetch a URL of the client's
// choosing).
func TestOAuth2CIMDDocumentCached(t *testing.T) {
	h := startCIMDHost(t)
	id := h.URL + "/nostore.json"
	body := mustJSON(t, cimdDoc(id))
	h.handle("/nostore.json", func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(body)
	})
	s := startCIMDServer(t)
	for range 3 {
		expectCIMDAccepted(t, s, id)
	}
	if n := h.hitsOf("/nostore.json"); n != 1 {
		t.Fatalf("document fetched %d times for 3 requests, want 1", n)
	}
}

// CIMD draft (Client Identifier URL): the client_id URL MUST use the https scheme; an http URL is
// not a metadata document client and is never fetched.
func TestOAuth2CIMDPlainHTTPClientIDNotFetched(t *testing.T) {
	var hits int
	var mu sync.Mutex
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write(mustJSON(t, cimdDoc("http://"+r.Host+r.URL.Path)))
	}))
	t.Cleanup(plain.Close)
	s := startCIMDServer(t)
	expectCIMDRefused(t, s, plain.URL+"/client.json")
	mu.Lock()
	defer mu.Unlock()
	if hits != 0 {
		t.Fatalf("the server fetched an http client_id %d times", hits)
	}
}
