package cimd

import (
	"net/http"
	"strings"
	"testing"
)

// docRuleCase is one document served over HTTPS and the outcome expected.
type docRuleCase struct {
	name  string
	extra map[string]any // members set over a valid document; nil value removes
	raw   string         // or a raw body, with %s for the client_id (JSON-quoted)
	want  string         // reason substring, or "" for accepted
}

// runDocRules serves every case at its own path of one TLS server and fetches each.
func runDocRules(t *testing.T, cases []docRuleCase) {
	t.Helper()
	bodies := map[string]docRuleCase{}
	for i, c := range cases {
		bodies["/doc/"+string(rune('a'+i/26))+string(rune('a'+i%26))] = c
	}
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := bodies[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		id := requestClientID(r)
		if c.raw != "" {
			w.Write([]byte(strings.ReplaceAll(c.raw, "%s", quoteJSON(id))))
			return
		}
		w.Write(docJSON(id, c.extra))
	}))
	f := newTestFetcher(srv, Options{})
	for path, c := range bodies {
		t.Run(c.name, func(t *testing.T) {
			doc, err := fetch(t, f, srv.URL+path)
			if c.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if doc.ClientID != srv.URL+path {
					t.Fatalf("client_id %q", doc.ClientID)
				}
				return
			}
			mustFail(t, err, c.want)
		})
	}
}

func quoteJSON(s string) string { return `"` + s + `"` } // test URLs need no escaping

func TestDocumentRedirectURIs(t *testing.T) {
	runDocRules(t, []docRuleCase{
		{name: "missing", extra: map[string]any{"redirect_uris": nil}, want: "at least one redirect_uris"},
		{name: "null", raw: `{"client_id":%s,"redirect_uris":null}`, want: "at least one redirect_uris"},
		{name: "empty", extra: map[string]any{"redirect_uris": []string{}}, want: "at least one redirect_uris"},
		{name: "not an array", extra: map[string]any{"redirect_uris": "https://a.example/cb"}, want: "wrong type"},
		{name: "not strings", extra: map[string]any{"redirect_uris": []int{1}}, want: "wrong type"},
		{name: "relative", extra: map[string]any{"redirect_uris": []string{"/callback"}}, want: "not an absolute URI"},
		{name: "empty string", extra: map[string]any{"redirect_uris": []string{""}}, want: "not an absolute URI"},
		{name: "one of two relative", extra: map[string]any{"redirect_uris": []string{"https://a.example/cb", "cb"}}, want: "not an absolute URI"},
		{name: "fragment", extra: map[string]any{"redirect_uris": []string{"https://a.example/cb#x"}}, want: "fragment"},
		{name: "javascript", extra: map[string]any{"redirect_uris": []string{"javascript:alert(1)"}}, want: "forbidden scheme"},
		{name: "data", extra: map[string]any{"redirect_uris": []string{"data:text/html,hi"}}, want: "forbidden scheme"},
		{name: "https", extra: map[string]any{"redirect_uris": []string{"https://a.example/cb"}}},
		{name: "loopback http", extra: map[string]any{"redirect_uris": []string{"http://127.0.0.1:3000/callback"}}},
		{name: "private-use scheme", extra: map[string]any{"redirect_uris": []string{"com.example.app:/oauth2redirect"}}},
	})
}

func TestDocumentSharedSecretsRefused(t *testing.T) {
	runDocRules(t, []docRuleCase{
		{name: "client_secret", extra: map[string]any{"client_secret": "s3cret"}, want: "must not contain client_secret"},
		{name: "client_secret null", raw: `{"client_id":%s,"redirect_uris":["https://a.example/cb"],"client_secret":null}`, want: "must not contain client_secret"},
		{name: "client_secret_expires_at", extra: map[string]any{"client_secret_expires_at": 0}, want: "must not contain client_secret_expires_at"},
	})
}

func TestDocumentTokenEndpointAuthMethod(t *testing.T) {
	jwks := map[string]any{"keys": []any{map[string]any{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}}}
	runDocRules(t, []docRuleCase{
		{name: "absent means none", extra: map[string]any{"token_endpoint_auth_method": nil}},
		{name: "none", extra: map[string]any{"token_endpoint_auth_method": "none"}},
		{name: "private_key_jwt with jwks_uri", extra: map[string]any{"token_endpoint_auth_method": "private_key_jwt", "jwks_uri": "https://a.example/jwks.json"}},
		{name: "private_key_jwt with jwks", extra: map[string]any{"token_endpoint_auth_method": "private_key_jwt", "jwks": jwks}},
		{name: "private_key_jwt without keys", extra: map[string]any{"token_endpoint_auth_method": "private_key_jwt"}, want: "requires jwks or jwks_uri"},
		{name: "client_secret_basic", extra: map[string]any{"token_endpoint_auth_method": "client_secret_basic"}, want: "token_endpoint_auth_method must be"},
		{name: "client_secret_post", extra: map[string]any{"token_endpoint_auth_method": "client_secret_post"}, want: "token_endpoint_auth_method must be"},
		{name: "client_secret_jwt", extra: map[string]any{"token_endpoint_auth_method": "client_secret_jwt"}, want: "token_endpoint_auth_method must be"},
		{name: "tls_client_auth", extra: map[string]any{"token_endpoint_auth_method": "tls_client_auth"}, want: "token_endpoint_auth_method must be"},
		{name: "unknown", extra: map[string]any{"token_endpoint_auth_method": "magic"}, want: "token_endpoint_auth_method must be"},
		{name: "case variant", extra: map[string]any{"token_endpoint_auth_method": "None"}, want: "token_endpoint_auth_method must be"},
		{name: "not a string", extra: map[string]any{"token_endpoint_auth_method": []string{"none"}}, want: "wrong type"},
	})
}

func TestDocumentKeys(t *testing.T) {
	pub := map[string]any{"kty": "RSA", "n": "AQAB", "e": "AQAB"}
	runDocRules(t, []docRuleCase{
		{name: "public jwks", extra: map[string]any{"jwks": map[string]any{"keys": []any{pub}}}},
		{name: "jwks null is absent", raw: `{"client_id":%s,"redirect_uris":["https://a.example/cb"],"jwks":null}`},
		{name: "private RSA key", extra: map[string]any{"jwks": map[string]any{"keys": []any{map[string]any{"kty": "RSA", "n": "AQAB", "e": "AQAB", "d": "AQAB"}}}}, want: "only public keys"},
		{name: "symmetric key", extra: map[string]any{"jwks": map[string]any{"keys": []any{map[string]any{"kty": "oct", "k": "c2VjcmV0"}}}}, want: "only public keys"},
		{name: "jwks without keys", extra: map[string]any{"jwks": map[string]any{}}, want: `"keys" array`},
		{name: "jwks an array", extra: map[string]any{"jwks": []any{pub}}, want: `"keys" array`},
		{name: "jwks key not an object", extra: map[string]any{"jwks": map[string]any{"keys": []any{"x"}}}, want: `"keys" array`},
		{name: "jwks and jwks_uri", extra: map[string]any{"jwks": map[string]any{"keys": []any{pub}}, "jwks_uri": "https://a.example/jwks.json"}, want: "both jwks and jwks_uri"},
		{name: "jwks_uri http", extra: map[string]any{"jwks_uri": "http://a.example/jwks.json"}, want: "jwks_uri must be an absolute https URL"},
	})
}

func TestDocumentURLMembers(t *testing.T) {
	runDocRules(t, []docRuleCase{
		{name: "https logo", extra: map[string]any{"logo_uri": "https://a.example/logo.png"}},
		{name: "http client_uri", extra: map[string]any{"client_uri": "http://a.example/"}},
		{name: "javascript client_uri", extra: map[string]any{"client_uri": "javascript:alert(1)"}, want: "client_uri must be"},
		{name: "data logo_uri", extra: map[string]any{"logo_uri": "data:image/png;base64,AA"}, want: "logo_uri must be"},
		{name: "relative tos_uri", extra: map[string]any{"tos_uri": "/tos"}, want: "tos_uri must be"},
		{name: "userinfo policy_uri", extra: map[string]any{"policy_uri": "https://u:p@a.example/p"}, want: "policy_uri must be"},
	})
}

func TestDocumentStructure(t *testing.T) {
	runDocRules(t, []docRuleCase{
		{name: "duplicate client_id", raw: `{"client_id":"https://evil.example/x","client_id":%s,"redirect_uris":["https://a.example/cb"]}`, want: `duplicate member "client_id"`},
		{name: "duplicate redirect_uris", raw: `{"client_id":%s,"redirect_uris":["https://a.example/cb"],"redirect_uris":["https://b.example/cb"]}`, want: "duplicate member"},
		{name: "client_name a number", extra: map[string]any{"client_name": 7}, want: "wrong type"},
		{name: "contacts a string", extra: map[string]any{"contacts": "ops@a.example"}, want: "wrong type"},
		{name: "unknown members ignored", extra: map[string]any{"x_vendor": map[string]any{"a": []int{1}}}},
		{name: "whitespace around", raw: "\n {\"client_id\":%s,\"redirect_uris\":[\"https://a.example/cb\"]} \n"},
	})
}
