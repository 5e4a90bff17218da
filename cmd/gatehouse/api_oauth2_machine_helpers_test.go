package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Helpers for the client-credentials tests (api_oauth2_machine_*_test.go): machine clients,
// their keys, and client assertions (RFC 7523 §2.2) signed the way a client library signs them.

const jwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// machineKey is a client's signing key and the public JWK registered for it.
type machineKey struct {
	priv crypto.Signer
	kid  string
	alg  jose.SignatureAlgorithm
}

func newMachineKey(t *testing.T, kid string) *machineKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &machineKey{priv: priv, kid: kid, alg: jose.ES256}
}

// jwk is the public key as a JWK (JSON).
func (k *machineKey) jwk(t *testing.T) []byte {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Use: "sig", Algorithm: string(k.alg)})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// jwks is the public key as a JWK Set (JSON).
func (k *machineKey) jwks(t *testing.T) []byte {
	t.Helper()
	return []byte(`{"keys":[` + string(k.jwk(t)) + `]}`)
}

// assertion signs claims with the key; claims with a nil value are left out.
func (k *machineKey) assertion(t *testing.T, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if k.kid != "" {
		opts = opts.WithHeader("kid", k.kid)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: k.priv}, opts)
	if err != nil {
		t.Fatal(err)
	}
	clean := map[string]any{}
	for n, v := range claims {
		if v != nil {
			clean[n] = v
		}
	}
	s, err := jwt.Signed(signer).Claims(clean).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// assertionClaims are good claims for client id at a server whose token endpoint is aud.
func assertionClaims(id, aud string) map[string]any {
	now := time.Now()
	return map[string]any{"iss": id, "sub": id, "aud": aud, "exp": now.Add(2 * time.Minute).Unix(), "iat": now.Unix(),
		"jti": randomJTI()}
}

func randomJTI() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// machineRig is a server with a registered resource and an admin.
type machineRig struct {
	s        *testServer
	admin    *account
	resource string
	token    string // the token endpoint URL, as the metadata announces it
}

const machineResource = "https://mcp.example.com/mcp"

func newMachineRig(t *testing.T, overrides ...string) *machineRig {
	t.Helper()
	s := startServer(t, overrides...)
	rig := &machineRig{s: s, admin: s.admin(t), resource: machineResource}
	rig.addResource(t, machineResource, "mcp:tools", "mcp:read", "mcp:admin")
	meta := s.do(t, "GET", "/.well-known/oauth-authorization-server", nil)
	expectStatus(t, meta, http.StatusOK)
	rig.token = meta.str(t, "token_endpoint")
	return rig
}

func (rig *machineRig) addResource(t *testing.T, uri string, scopes ...string) {
	t.Helper()
	r := rig.s.do(t, "POST", "/api/v1/admin/oauth/resources", map[string]any{"uri": uri, "name": "Resource " + uri, "scopes": scopes},
		bearer(rig.admin.Access))
	expectStatus(t, r, http.StatusCreated)
}

// client registers a client through the admin API; body adds to a client_credentials client
// with scopes mcp:tools and mcp:read. It returns the client_id and the secret ("" with keys).
func (rig *machineRig) client(t *testing.T, body map[string]any) (id, secret string) {
	t.Helper()
	req := map[string]any{"name": "Nightly job", "grant_types": []string{"client_credentials"}, "scopes": []string{"mcp:tools", "mcp:read"}}
	for k, v := range body {
		req[k] = v
	}
	r := rig.s.do(t, "POST", "/api/v1/admin/oauth/clients", req, bearer(rig.admin.Access))
	expectStatus(t, r, http.StatusCreated)
	m := r.json(t)
	secret, _ = m["client_secret"].(string)
	return r.str(t, "client_id"), secret
}

// ccForm is a client_credentials request; extra "name=value" pairs are added.
func ccForm(extra ...string) url.Values {
	f := url.Values{"grant_type": {"client_credentials"}}
	for _, kv := range extra {
		k, v, _ := strings.Cut(kv, "=")
		f.Add(k, v)
	}
	return f
}

// withAssertion adds private_key_jwt client authentication to a form.
func withAssertion(f url.Values, assertion string) url.Values {
	f.Set("client_assertion_type", jwtBearer)
	f.Set("client_assertion", assertion)
	return f
}

// machineToken checks a token response of the client credentials grant and returns the access
// token's header and claims.
func machineToken(t *testing.T, r *response) (header, claims map[string]any, body map[string]any) {
	t.Helper()
	expectStatus(t, r, http.StatusOK)
	body = r.json(t)
	if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Fatalf("token response Cache-Control %q, want no-store", cc)
	}
	access, _ := body["access_token"].(string)
	if access == "" || !strings.EqualFold(body["token_type"].(string), "bearer") {
		t.Fatalf("token response: %s", r.Body)
	}
	parts := strings.Split(access, ".")
	if len(parts) != 3 {
		t.Fatalf("access token is not a JWS: %q", access)
	}
	decode := func(s string) map[string]any {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatalf("token part: %v", err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("token part: %v", err)
		}
		return m
	}
	return decode(parts[0]), decode(parts[1]), body
}

// postFormAsync is a form post that goroutines can send: a transport error is status 0.
func (s *testServer) postFormAsync(path, body string) *response {
	resp, err := httpClient.Post(s.URL+path, "application/x-www-form-urlencoded", strings.NewReader(body))
	if err != nil {
		return &response{Body: []byte(err.Error())}
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return &response{Status: resp.StatusCode, Header: resp.Header, Body: data}
}
