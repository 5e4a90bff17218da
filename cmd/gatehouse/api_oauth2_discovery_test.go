package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// Authorization server metadata: RFC 8414, OpenID Connect Discovery 1.0, RFC 9207, the MCP
// authorization specification (2025-11-25) and the Client ID Metadata Document draft.

func o2Metadata(t *testing.T, s *testServer) map[string]any {
	t.Helper()
	r := s.do(t, "GET", "/.well-known/oauth-authorization-server", nil)
	expectStatus(t, r, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("metadata content type %q, want application/json (RFC 8414 §3.2)", ct)
	}
	return r.json(t)
}

func o2Strings(t *testing.T, m map[string]any, key string) []string {
	t.Helper()
	raw, ok := m[key].([]any)
	if !ok {
		t.Fatalf("metadata %q is %v, want a JSON array", key, m[key])
	}
	var out []string
	for _, v := range raw {
		s, ok := v.(string)
		if !ok {
			t.Fatalf("metadata %q holds a non-string %v", key, v)
		}
		out = append(out, s)
	}
	return out
}

// RFC 8414 §3 and OIDC Discovery §4: both well-known documents answer 200 with the same content.
func TestOAuth2DiscoveryBothWellKnownSameDocument(t *testing.T) {
	s := startServer(t, "GATEHOUSE_PUBLIC_URL="+o2PublicURL)
	a := s.do(t, "GET", "/.well-known/oauth-authorization-server", nil)
	b := s.do(t, "GET", "/.well-known/openid-configuration", nil)
	expectStatus(t, a, http.StatusOK)
	expectStatus(t, b, http.StatusOK)
	var ma, mb any
	if err := json.Unmarshal(a.Body, &ma); err != nil {
		t.Fatalf("oauth-authorization-server is not JSON: %s", a.Body)
	}
	if err := json.Unmarshal(b.Body, &mb); err != nil {
		t.Fatalf("openid-configuration is not JSON: %s", b.Body)
	}
	ja, _ := json.Marshal(ma)
	jb, _ := json.Marshal(mb)
	if !bytes.Equal(ja, jb) {
		t.Fatalf("the two metadata documents differ:\n%s\n%s", ja, jb)
	}
}

// RFC 8414 §2 and §3.3: the issuer is the public URL exactly, and the client compares it byte for
// byte with the URL it derived the metadata location from (MCP 2025-11-25 issuer equality).
func TestOAuth2DiscoveryIssuerIsPublicURL(t *testing.T) {
	s := startServer(t, "GATEHOUSE_PUBLIC_URL="+o2PublicURL)
	for _, path := range []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"} {
		r := s.do(t, "GET", path, nil)
		expectStatus(t, r, http.StatusOK)
		if got := r.str(t, "issuer"); got != o2PublicURL {
			t.Fatalf("%s: issuer %q, want %q", path, got, o2PublicURL)
		}
	}
}

// RFC 7636 §4.2 with OAuth 2.1 and MCP 2025-11-25: only S256 is offered; "plain" never is.
func TestOAuth2DiscoveryPKCEOnlyS256(t *testing.T) {
	s := startServer(t, "GATEHOUSE_PUBLIC_URL="+o2PublicURL)
	m := o2Metadata(t, s)
	if got := o2Strings(t, m, "code_challenge_methods_supported"); !slices.Equal(got, []string{"S256"}) {
		t.Fatalf("code_challenge_methods_supported %v, want [S256]", got)
	}
}

// Client ID Metadata Document draft (Authorization Server Metadata section), MCP 2025-11-25.
func TestOAuth2DiscoveryAdvertisesClientIDMetadataDocuments(t *testing.T) {
	s := startServer(t, "GATEHOUSE_PUBLIC_URL="+o2PublicURL)
	if v, ok := o2Metadata(t, s)["client_id_metadata_document_supported"].(bool); !ok || !v {
		t.Fatalf("client_id_metadata_document_supported is not true")
	}
}

// RFC 9207 §3: the server says it puts iss in authorization responses.
func TestOAuth2DiscoveryAdvertisesIssParameter(t *testing.T) {
	s := startServer(t, "GATEHOUSE_PUBLIC_URL="+o2PublicURL)
	if v, ok := o2Metadata(t, s)["authorization_response_iss_parameter_supported"].(bool); !ok || !v {
		t.Fatalf("authorization_response_iss_parameter_supported is not true")
	}
}

// RFC 8414 §2: the endpoints are the OAuth ones under the issuer; the token endpoint is
// /oauth2/token, not the first-party password login.
func TestOAuth2DiscoveryEndpoints(t *testing.T) {
	s := startServer(t, "GATEHOUSE_PUBLIC_URL="+o2PublicURL)
	m := o2Metadata(t, s)
	for key, want := range map[string]string{
		"authorization_endpoint": o2PublicURL + "/oauth2/authorize",
		"token_endpoint":         o2PublicURL + "/oauth2/token",
		"revocation_endpoint":    o2PublicURL + "/oauth2/revoke",
		"introspection_endpoint": o2PublicURL + "/oauth2/introspect",
		"userinfo_endpoint":      o2PublicURL + "/oauth2/userinfo",
		"jwks_uri":               o2PublicURL + "/.well-known/jwks.json",
	} {
		if got, _ := m[key].(string); got != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
	if strings.Contains(string(mustJSON(t, m)), "/auth/login") {
		t.Errorf("metadata still names the password login: %v", m)
	}
}

// RFC 8414 §2 and OAuth 2.1: only the code flow; no implicit or password grant is offered, and
// the three client authentication methods Gatehouse accepts are listed.
func TestOAuth2DiscoveryGrantsAndResponseTypes(t *testing.T) {
	s := startServer(t, "GATEHOUSE_PUBLIC_URL="+o2PublicURL)
	m := o2Metadata(t, s)
	if got := o2Strings(t, m, "response_types_supported"); !slices.Equal(got, []string{"code"}) {
		t.Errorf("response_types_supported %v, want [code]", got)
	}
	grants := o2Strings(t, m, "grant_types_supported")
	for _, want := range []string{"authorization_code", "refresh_token"} {
		if !slices.Contains(grants, want) {
			t.Errorf("grant_types_supported %v lacks %s", grants, want)
		}
	}
	for _, never := range []string{"password", "implicit"} {
		if slices.Contains(grants, never) {
			t.Errorf("grant_types_supported %v offers %s", grants, never)
		}
	}
	methods := o2Strings(t, m, "token_endpoint_auth_methods_supported")
	for _, want := range []string{"none", "client_secret_basic", "client_secret_post"} {
		if !slices.Contains(methods, want) {
			t.Errorf("token_endpoint_auth_methods_supported %v lacks %s", methods, want)
		}
	}
}

// OpenID Connect Discovery 1.0 §3: the REQUIRED provider metadata is present.
func TestOAuth2DiscoveryOpenIDRequiredFields(t *testing.T) {
	s := startServer(t, "GATEHOUSE_PUBLIC_URL="+o2PublicURL)
	m := o2Metadata(t, s)
	for _, key := range []string{"subject_types_supported", "id_token_signing_alg_values_supported", "response_types_supported"} {
		if len(o2Strings(t, m, key)) == 0 {
			t.Errorf("%s is empty", key)
		}
	}
	// ID tokens are signed with the server's key; "none" would let anyone forge them.
	if slices.Contains(o2Strings(t, m, "id_token_signing_alg_values_supported"), "none") {
		t.Errorf("id_token_signing_alg_values_supported offers none")
	}
	if !slices.Contains(o2Strings(t, m, "scopes_supported"), "openid") {
		t.Errorf("scopes_supported lacks openid")
	}
}

// RFC 8414 §2 and RFC 7591 §3: dynamic registration is on by default and advertised.
func TestOAuth2DiscoveryRegistrationEndpoint(t *testing.T) {
	s := startServer(t, "GATEHOUSE_PUBLIC_URL="+o2PublicURL)
	if got, _ := o2Metadata(t, s)["registration_endpoint"].(string); got != o2PublicURL+"/oauth2/register" {
		t.Fatalf("registration_endpoint %q, want %q", got, o2PublicURL+"/oauth2/register")
	}
}

// With GATEHOUSE_OAUTH_DCR=off no registration endpoint is advertised (RFC 8414 §2: OPTIONAL,
// present only when offered).
func TestOAuth2DiscoveryNoRegistrationWhenDCROff(t *testing.T) {
	s := startServer(t, "GATEHOUSE_PUBLIC_URL="+o2PublicURL, "GATEHOUSE_OAUTH_DCR=off")
	m := o2Metadata(t, s)
	if v, present := m["registration_endpoint"]; present {
		t.Fatalf("registration_endpoint %v advertised while dynamic registration is off", v)
	}
	if v, ok := m["client_id_metadata_document_supported"].(bool); !ok || !v {
		t.Fatalf("turning DCR off also dropped client_id_metadata_document_supported")
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// o2CORSPaths are the endpoints a browser-based MCP client calls cross-origin: metadata, JWKS,
// token, registration and revocation.
var o2CORSPaths = []struct{ method, path string }{
	{"GET", "/.well-known/oauth-authorization-server"},
	{"GET", "/.well-known/openid-configuration"},
	{"GET", "/.well-known/jwks.json"},
	{"POST", "/oauth2/token"},
	{"POST", "/oauth2/register"},
	{"POST", "/oauth2/revoke"},
}

// Fetch standard (CORS protocol): a cross-origin answer carries Access-Control-Allow-Origin *, no
// Access-Control-Allow-Credentials (credentials with * are refused by browsers, and these
// endpoints take no cookies), and exposes WWW-Authenticate so a browser client reads 401 details.
func TestOAuth2CORSOpenOnPublicEndpoints(t *testing.T) {
	s := startServer(t, "GATEHOUSE_PUBLIC_URL="+o2PublicURL)
	for _, ep := range o2CORSPaths {
		t.Run(strings.ReplaceAll(ep.path, "/", "_"), func(t *testing.T) {
			var r *response
			origin := "Origin: https://mcp-client.example"
			switch ep.path {
			case "/oauth2/register":
				r = s.do(t, ep.method, ep.path, map[string]any{"redirect_uris": []string{"https://app.example.com/cb"}, "token_endpoint_auth_method": "none"}, origin)
			case "/oauth2/token", "/oauth2/revoke":
				r = s.o2Form(t, ep.path, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}, "token": {"x"}, "client_id": {"nobody"}}, origin)
			default:
				r = s.do(t, ep.method, ep.path, nil, origin)
			}
			if got := r.Header.Get("Access-Control-Allow-Origin"); got != "*" {
				t.Fatalf("status %d: Access-Control-Allow-Origin %q, want *", r.Status, got)
			}
			if got := r.Header.Get("Access-Control-Allow-Credentials"); got != "" {
				t.Fatalf("Access-Control-Allow-Credentials %q, want none", got)
			}
			if exposed := strings.ToLower(strings.Join(r.Header.Values("Access-Control-Expose-Headers"), ",")); !strings.Contains(exposed, "www-authenticate") {
				t.Fatalf("Access-Control-Expose-Headers %q does not expose WWW-Authenticate", exposed)
			}
		})
	}
}

// Fetch standard (CORS-preflight fetch): an OPTIONS preflight succeeds and allows the method and
// the headers a client sends (Authorization for client_secret_basic and Content-Type for form and
// JSON bodies; Authorization is never covered by a "*" wildcard, so it has to be named).
func TestOAuth2CORSPreflight(t *testing.T) {
	s := startServer(t, "GATEHOUSE_PUBLIC_URL="+o2PublicURL)
	for _, ep := range o2CORSPaths {
		t.Run(strings.ReplaceAll(ep.path, "/", "_"), func(t *testing.T) {
			want := []string{"authorization", "content-type"}
			if ep.method == "GET" {
				want = []string{"content-type"}
			}
			r := s.do(t, "OPTIONS", ep.path, nil,
				"Origin: https://mcp-client.example",
				"Access-Control-Request-Method: "+ep.method,
				"Access-Control-Request-Headers: "+strings.Join(want, ", "))
			if r.Status != http.StatusOK && r.Status != http.StatusNoContent {
				t.Fatalf("preflight status %d, want 200 or 204; body %s", r.Status, r.Body)
			}
			if got := r.Header.Get("Access-Control-Allow-Origin"); got != "*" {
				t.Fatalf("Access-Control-Allow-Origin %q, want *", got)
			}
			if got := r.Header.Get("Access-Control-Allow-Credentials"); got != "" {
				t.Fatalf("Access-Control-Allow-Credentials %q, want none", got)
			}
			methods := strings.ToUpper(strings.Join(r.Header.Values("Access-Control-Allow-Methods"), ","))
			if !strings.Contains(methods, ep.method) && methods != "*" {
				t.Fatalf("Access-Control-Allow-Methods %q lacks %s", methods, ep.method)
			}
			allowed := strings.ToLower(strings.Join(r.Header.Values("Access-Control-Allow-Headers"), ","))
			for _, h := range want {
				if !strings.Contains(allowed, h) {
					t.Fatalf("Access-Control-Allow-Headers %q lacks %s", allowed, h)
				}
			}
		})
	}
}

// MCP 2025-03-26 fallback (docs/oauth-server.md): /token and /register at the root are the same endpoints,
// with the same open CORS for browser-based clients.
func TestOAuth2CORSOnRootFallbacks(t *testing.T) {
	s := startServer(t, "GATEHOUSE_PUBLIC_URL="+o2PublicURL)
	for _, path := range []string{"/token", "/register"} {
		r := s.do(t, "OPTIONS", path, nil, "Origin: https://mcp-client.example", "Access-Control-Request-Method: POST", "Access-Control-Request-Headers: content-type")
		if r.Status != http.StatusOK && r.Status != http.StatusNoContent {
			t.Fatalf("%s preflight: status %d; body %s", path, r.Status, r.Body)
		}
		if got := r.Header.Get("Access-Control-Allow-Origin"); got != "*" {
			t.Fatalf("%s preflight: Access-Control-Allow-Origin %q, want *", path, got)
		}
	}
}
