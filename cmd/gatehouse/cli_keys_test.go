package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func kidOf(t *testing.T, token string) string {
	t.Helper()
	var header map[string]any
	decodeSegment(t, strings.Split(token, ".")[0], &header)
	kid, _ := header["kid"].(string)
	return kid
}

func jwksKids(t *testing.T, s *testServer) map[string]bool {
	t.Helper()
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	r := s.do(t, "GET", "/.well-known/jwks.json", nil)
	expectStatus(t, r, http.StatusOK)
	if err := json.Unmarshal(r.Body, &set); err != nil {
		t.Fatal(err)
	}
	kids := map[string]bool{}
	for _, k := range set.Keys {
		kids[k.Kid] = true
	}
	return kids
}

// TestSigningKeyRotation rotates the key with the CLI while the server runs: the new key is
// published at once, tokens signed by the old key keep working, and a server that reloads its
// keys (as running servers do every 5 seconds; a restart here, to stay deterministic) signs with it.
func TestSigningKeyRotation(t *testing.T) {
	env := testEnv(t)
	// A fixed issuer: the restarted server listens on another port.
	env["GATEHOUSE_PUBLIC_URL"] = "https://auth.example.com"
	s := startServerEnv(t, env)
	a := s.register(t)
	oldKid := kidOf(t, a.Access)

	out := s.cli(t, "signing-keys", "rotate")
	if !strings.Contains(out, "new signing key") {
		t.Fatalf("rotate output: %q", out)
	}
	kids := jwksKids(t, s)
	if len(kids) != 2 || !kids[oldKid] {
		t.Fatalf("after rotation the JWKS has %v; want the old key and the new one", kids)
	}
	var newKid string
	for k := range kids {
		if k != oldKid {
			newKid = k
		}
	}
	if !strings.Contains(out, newKid) {
		t.Fatalf("rotate printed %q, the JWKS has new kid %s", out, newKid)
	}
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(a.Access)), http.StatusOK)

	s.stop()
	s2 := startServerEnv(t, env)
	access, _ := s2.login(t, a.Email, a.Password)
	if got := kidOf(t, access); got != newKid {
		t.Fatalf("restarted server signs with %s, want the new key %s", got, newKid)
	}
	// Tokens of the old key are still valid until they expire.
	expectStatus(t, s2.do(t, "GET", "/api/v1/users/me", nil, bearer(a.Access)), http.StatusOK)
	expectStatus(t, s2.do(t, "GET", "/api/v1/users/me", nil, bearer(access)), http.StatusOK)
}
