package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
)

// TestCLIOAuthClientsCreate: a confidential client's secret is alone on the last line and
// authenticates at the token endpoint; a public client prints no secret; list shows both.
func TestCLIOAuthClientsCreate(t *testing.T) {
	s := startServer(t)

	out := s.cliOut(t, "clients", "create", "--name", "Team wiki", "--redirect-uri", "https://wiki.example.com/oauth/callback",
		"--redirect-uri", "https://wiki.example.com/other", "--confidential", "--grant", "refresh_token", "--client-uri", "https://wiki.example.com")
	confidential := clientIDOf(t, out)
	secret := lastOutputLine(out)
	if !strings.HasPrefix(secret, "ghs_") || strings.ContainsAny(secret, " \t:") || len(secret) < 40 {
		t.Fatalf("the last line is not the secret alone: %q\n%s", secret, out)
	}
	if strings.Count(out, secret) != 1 {
		t.Fatalf("the secret is printed more than once:\n%s", out)
	}
	// The secret is the client's: the made-up code is what is refused, not the client.
	expectOAuthError(t, s.tokenWithMadeUpCode(t, confidential, secret), http.StatusBadRequest, "invalid_grant")
	expectOAuthError(t, s.tokenWithMadeUpCode(t, confidential, secret+"x"), http.StatusUnauthorized, "invalid_client")
	expectOAuthError(t, s.tokenWithMadeUpCode(t, confidential, ""), http.StatusUnauthorized, "invalid_client")

	out = s.cliOut(t, "clients", "create", "--name", "my CLI", "--redirect-uri", "http://127.0.0.1/callback", "--refresh-reuse", "5s")
	public := clientIDOf(t, out)
	if strings.Contains(out, "ghs_") || strings.Contains(out, "secret is shown") {
		t.Fatalf("a public client printed a secret:\n%s", out)
	}
	if lastOutputLine(out) != "client_id: "+public {
		t.Fatalf("a public client's last line is %q, want its client_id", lastOutputLine(out))
	}
	expectOAuthError(t, s.tokenWithMadeUpCode(t, public, ""), http.StatusBadRequest, "invalid_grant")

	list := s.cliOut(t, "clients", "list")
	lines := strings.Split(strings.TrimSpace(list), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "CLIENT ID") {
		t.Fatalf("clients list:\n%s", list)
	}
	// Newest first.
	if !strings.HasPrefix(lines[1], public) || !strings.Contains(lines[1], "my CLI") || !strings.Contains(lines[1], "public") || !strings.Contains(lines[1], "active") {
		t.Fatalf("public client's row: %q", lines[1])
	}
	if !strings.HasPrefix(lines[2], confidential) || !strings.Contains(lines[2], "Team wiki") || !strings.Contains(lines[2], "confidential") ||
		!strings.Contains(lines[2], "https://wiki.example.com/oauth/callback https://wiki.example.com/other") {
		t.Fatalf("confidential client's row: %q", lines[2])
	}
	if strings.Contains(list, secret) {
		t.Fatal("clients list shows the secret")
	}
}

// TestCLIOAuthClientsCreateErrors: each mistake gets a one-line message naming the flag, and
// registers nothing.
func TestCLIOAuthClientsCreateErrors(t *testing.T) {
	s := startServer(t)
	for _, c := range []struct {
		want string
		args []string
	}{
		{"clients create: --name is required", []string{"--redirect-uri", "https://app.example.com/cb"}},
		{"clients create: --redirect-uri is required", []string{"--name", "app"}},
		{`clients create: --redirect-uri: redirect URI "http://app.example.com/cb": http is allowed only for loopback addresses`, []string{"--name", "app", "--redirect-uri", "http://app.example.com/cb"}},
		{"clients create: --redirect-uri: redirect URI \"https://app.example.com/cb#x\": must not have a fragment", []string{"--name", "app", "--redirect-uri", "https://app.example.com/cb#x"}},
		{"clients create: --redirect-uri: redirect URI \"javascript:alert(1)\": scheme javascript cannot be a redirect URI", []string{"--name", "app", "--redirect-uri", "javascript:alert(1)"}},
		{"clients create: --redirect-uri: redirect URI \"/cb\": not an absolute URI", []string{"--name", "app", "--redirect-uri", "/cb"}},
		{"clients create: a client_credentials client needs --scope", []string{"--name", "app", "--grant", "client_credentials"}},
		{"clients create: --scope is for client_credentials clients", []string{"--name", "app", "--redirect-uri", "https://app.example.com/cb", "--scope", "mcp:tools"}},
		{"clients create: --grant authorization_code and refresh_token sign users in and need --redirect-uri", []string{"--name", "app", "--grant", "client_credentials,refresh_token", "--scope", "s"}},
		{"clients create: give --jwk or --jwks-uri, not both", []string{"--name", "app", "--grant", "client_credentials", "--scope", "s", "--jwk", "x.json", "--jwks-uri", "https://a.example/jwks"}},
		{"clients create: --jwks-uri must be an https URL", []string{"--name", "app", "--grant", "client_credentials", "--scope", "s", "--jwks-uri", "http://a.example/jwks"}},
		{"clients create: --jwk: open /nonexistent/key.jwk", []string{"--name", "app", "--grant", "client_credentials", "--scope", "s", "--jwk", "/nonexistent/key.jwk"}},
		{"confidential clients", []string{"--name", "app", "--redirect-uri", "https://app.example.com/cb", "--grant", "urn:ietf:params:oauth:grant-type:token-exchange"}},
		{"clients create: --client-uri must be an https URL", []string{"--name", "app", "--redirect-uri", "https://app.example.com/cb", "--client-uri", "http://app.example.com"}},
		{"clients create: --refresh-reuse must be a duration from 0s to 1m0s", []string{"--name", "app", "--redirect-uri", "https://app.example.com/cb", "--refresh-reuse", "2m"}},
		{"clients create: --refresh-reuse must be a duration", []string{"--name", "app", "--redirect-uri", "https://app.example.com/cb", "--refresh-reuse", "soon"}},
	} {
		s.cliFails(t, c.want, append([]string{"clients", "create"}, c.args...)...)
	}
	if list := s.cliOut(t, "clients", "list"); strings.Count(strings.TrimSpace(list), "\n") != 0 {
		t.Fatalf("refused registrations were stored:\n%s", list)
	}
}

// TestCLIOAuthClientsRevoke: a revoked client gets 401 invalid_client at the token endpoint at
// once, shows as revoked, and cannot be revoked twice; unknown IDs are named.
func TestCLIOAuthClientsRevoke(t *testing.T) {
	s := startServer(t)
	out := s.cliOut(t, "clients", "create", "--name", "Doomed", "--redirect-uri", "https://app.example.com/cb", "--confidential")
	id, secret := clientIDOf(t, out), lastOutputLine(out)
	expectOAuthError(t, s.tokenWithMadeUpCode(t, id, secret), http.StatusBadRequest, "invalid_grant")

	out = s.cliOut(t, "clients", "revoke", id)
	if !strings.Contains(out, "revoked client "+id+" (Doomed)") {
		t.Fatalf("clients revoke printed %q", out)
	}
	expectOAuthError(t, s.tokenWithMadeUpCode(t, id, secret), http.StatusUnauthorized, "invalid_client")
	if list := s.cliOut(t, "clients", "list"); !strings.Contains(list, "revoked ") {
		t.Fatalf("clients list does not show the revocation:\n%s", list)
	}

	s.cliFails(t, "clients revoke: client "+id+" (Doomed) was already revoked on ", "clients", "revoke", id)
	s.cliFails(t, `clients revoke: no client "no-such-client" in database `, "clients", "revoke", "no-such-client")
	s.cliFails(t, "clients revoke: want one client ID", "clients", "revoke")
}

// An operator registers a confidential client for token exchange; the secret it prints exchanges
// an API key at once.
func TestCLIOAuthClientsCreateTokenExchange(t *testing.T) {
	s := startServer(t)
	out := s.cliOut(t, "clients", "create", "--name", "Gateway", "--redirect-uri", "https://gw.example.com/cb", "--confidential",
		"--grant", gatehouse.GrantTokenExchange)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if !strings.Contains(out, gatehouse.GrantTokenExchange) {
		t.Fatalf("output does not name the grant:\n%s", out)
	}
	var id string
	for _, l := range lines {
		if v, ok := strings.CutPrefix(l, "client_id: "); ok {
			id = v
		}
	}
	secret := lines[len(lines)-1]
	a := s.register(t)
	key := s.createKey(t, a.Access)["api_key"].(string)
	r := s.postForm(t, "/oauth2/token", url.Values{"grant_type": {gatehouse.GrantTokenExchange}, "subject_token": {key},
		"subject_token_type": {gatehouse.TokenTypeAPIKey}}, o2Basic(id, secret))
	expectStatus(t, r, http.StatusOK)
}
