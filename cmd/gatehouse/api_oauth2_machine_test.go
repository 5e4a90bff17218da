package main

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// The client credentials grant (RFC 6749 §4.4; the MCP extension
// io.modelcontextprotocol/oauth-client-credentials) and private_key_jwt client authentication
// (RFC 7523 §2.2, OIDC Core §9), over HTTP through run.

// expectMachineToken checks what every client_credentials token is: an at+jwt whose sub and
// client_id are the client, for the one resource, with the scope, and no refresh token.
func expectMachineToken(t *testing.T, r *response, clientID, resource, scope string) map[string]any {
	t.Helper()
	header, claims, body := machineToken(t, r)
	if header["typ"] != "at+jwt" || header["kid"] == nil {
		t.Fatalf("header %v, want typ at+jwt and a kid", header)
	}
	if claims["sub"] != clientID || claims["client_id"] != clientID {
		t.Fatalf("sub %v, client_id %v, want the client %s", claims["sub"], claims["client_id"], clientID)
	}
	if claims["aud"] != resource {
		t.Fatalf("aud %v, want exactly %s", claims["aud"], resource)
	}
	if claims["scope"] != scope || body["scope"] != scope {
		t.Fatalf("token scope %v, response scope %v, want %q", claims["scope"], body["scope"], scope)
	}
	if _, ok := body["refresh_token"]; ok {
		t.Fatalf("a client_credentials response carries a refresh token: %s", r.Body)
	}
	if _, ok := body["id_token"]; ok {
		t.Fatalf("a client_credentials response carries an ID token: %s", r.Body)
	}
	if claims["email"] != nil || claims["role"] != nil {
		t.Fatalf("a client's token carries user claims: %v", claims)
	}
	return claims
}

func TestOAuth2MachineSecretBasic(t *testing.T) {
	rig := newMachineRig(t)
	id, secret := rig.client(t, nil)
	if !strings.HasPrefix(secret, "ghs_") {
		t.Fatalf("no secret for a client_credentials client: %q", secret)
	}
	r := rig.s.o2Form(t, "/oauth2/token", ccForm("scope=mcp:tools"), o2Basic(id, secret))
	expectMachineToken(t, r, id, machineResource, "mcp:tools")
	// A wrong secret is invalid_client, with a Basic challenge.
	r = rig.s.o2Form(t, "/oauth2/token", ccForm(), o2Basic(id, secret+"x"))
	expectO2Error(t, r, http.StatusUnauthorized, "invalid_client")
	if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Basic") {
		t.Fatalf("WWW-Authenticate %q, want Basic", r.Header.Get("WWW-Authenticate"))
	}
}

func TestOAuth2MachineSecretPost(t *testing.T) {
	rig := newMachineRig(t)
	id, secret := rig.client(t, nil)
	r := rig.s.o2Form(t, "/oauth2/token", ccForm("client_id="+id, "client_secret="+secret, "resource="+machineResource))
	expectMachineToken(t, r, id, machineResource, "mcp:read mcp:tools")
	r = rig.s.o2Form(t, "/oauth2/token", ccForm("client_id="+id, "client_secret=ghs_wrong"))
	expectO2Error(t, r, http.StatusUnauthorized, "invalid_client")
}

// A client registered on the command line with --jwk FILE authenticates with an assertion
// signed by that key; without client_id in the form (RFC 7523 §3: the assertion's sub names it),
// as the MCP extension's example does.
func TestOAuth2MachinePrivateKeyJWTFromJWKFile(t *testing.T) {
	rig := newMachineRig(t)
	key := newMachineKey(t, "k1")
	file := filepath.Join(t.TempDir(), "agent.jwk")
	if err := os.WriteFile(file, key.jwk(t), 0o600); err != nil {
		t.Fatal(err)
	}
	out := rig.s.cliOut(t, "clients", "create", "--name", "build agent", "--grant", "client_credentials", "--scope", "mcp:tools", "--jwk", file)
	if strings.Contains(out, "ghs_") || !strings.Contains(out, "private_key_jwt") {
		t.Fatalf("a private_key_jwt client printed a secret, or not its method:\n%s", out)
	}
	id := clientIDOf(t, out)
	r := rig.s.o2Form(t, "/oauth2/token", withAssertion(ccForm(), key.assertion(t, assertionClaims(id, rig.token))))
	expectMachineToken(t, r, id, machineResource, "mcp:tools")
	// The issuer is an audience too; client_id may be sent when it agrees.
	r = rig.s.o2Form(t, "/oauth2/token", withAssertion(ccForm("client_id="+id), key.assertion(t, assertionClaims(id, o2IssuerOf(t, rig.s)))))
	expectMachineToken(t, r, id, machineResource, "mcp:tools")
	// Another key does not pass for this one.
	other := newMachineKey(t, "k1")
	r = rig.s.o2Form(t, "/oauth2/token", withAssertion(ccForm(), other.assertion(t, assertionClaims(id, rig.token))))
	expectO2Error(t, r, http.StatusUnauthorized, "invalid_client")
	// A client_id that disagrees with the assertion is refused.
	otherID, _ := rig.client(t, nil)
	r = rig.s.o2Form(t, "/oauth2/token", withAssertion(ccForm("client_id="+otherID), key.assertion(t, assertionClaims(id, rig.token))))
	expectO2Error(t, r, http.StatusUnauthorized, "invalid_client")
}

func o2IssuerOf(t *testing.T, s *testServer) string {
	t.Helper()
	return s.do(t, "GET", "/.well-known/oauth-authorization-server", nil).str(t, "issuer")
}

// A client registered with --jwks-uri: Gatehouse fetches its key set over https (through the
// same guarded client as metadata documents; loopback is allowed here only by
// GATEHOUSE_OAUTH_CIMD_ALLOW_PRIVATE_NETWORKS), and again when an assertion names a kid it has
// not seen (the client rotated its keys).
func TestOAuth2MachinePrivateKeyJWTFromJWKSURI(t *testing.T) {
	rig := newMachineRig(t, "GATEHOUSE_OAUTH_CIMD_ALLOW_PRIVATE_NETWORKS=true")
	host := startCIMDHost(t)
	var mu sync.Mutex
	key := newMachineKey(t, "k1")
	set := key.jwks(t)
	jwksURI := host.handle("/jwks.json", func(w http.ResponseWriter) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write(set)
	})
	id, secret := rig.client(t, map[string]any{"jwks_uri": jwksURI})
	if secret != "" {
		t.Fatalf("a private_key_jwt client got a secret")
	}
	r := rig.s.o2Form(t, "/oauth2/token", withAssertion(ccForm("scope=mcp:read"), key.assertion(t, assertionClaims(id, rig.token))))
	expectMachineToken(t, r, id, machineResource, "mcp:read")
	if host.hitsOf("/jwks.json") != 1 {
		t.Fatalf("the key set was fetched %d times, want 1", host.hitsOf("/jwks.json"))
	}
	// Cached: a second assertion does not fetch again.
	r = rig.s.o2Form(t, "/oauth2/token", withAssertion(ccForm(), key.assertion(t, assertionClaims(id, rig.token))))
	expectStatus(t, r, http.StatusOK)
	if host.hitsOf("/jwks.json") != 1 {
		t.Fatalf("the key set was fetched %d times, want it cached", host.hitsOf("/jwks.json"))
	}
	// The client rotates to a new key with a new kid: the unknown kid makes Gatehouse fetch again.
	rotated := newMachineKey(t, "k2")
	mu.Lock()
	set = rotated.jwks(t)
	mu.Unlock()
	r = rig.s.o2Form(t, "/oauth2/token", withAssertion(ccForm(), rotated.assertion(t, assertionClaims(id, rig.token))))
	expectMachineToken(t, r, id, machineResource, "mcp:read mcp:tools")
	if host.hitsOf("/jwks.json") != 2 {
		t.Fatalf("the key set was fetched %d times, want a refetch for the new kid", host.hitsOf("/jwks.json"))
	}
}

// Without GATEHOUSE_OAUTH_CIMD_ALLOW_PRIVATE_NETWORKS, a jwks_uri on loopback is never fetched:
// the same SSRF guard as metadata documents.
func TestOAuth2MachineJWKSURIPrivateNetworkRefused(t *testing.T) {
	rig := newMachineRig(t)
	host := startCIMDHost(t)
	key := newMachineKey(t, "k1")
	jwksURI := host.doc("/jwks.json", map[string]any{"keys": []json.RawMessage{key.jwk(t)}})
	id, _ := rig.client(t, map[string]any{"jwks_uri": jwksURI})
	r := rig.s.o2Form(t, "/oauth2/token", withAssertion(ccForm(), key.assertion(t, assertionClaims(id, rig.token))))
	m := expectO2Error(t, r, http.StatusUnauthorized, "invalid_client")
	if !strings.Contains(m["error_description"].(string), "non-public address") {
		t.Fatalf("description %q does not say why", m["error_description"])
	}
	if host.hitsOf("/jwks.json") != 0 {
		t.Fatal("Gatehouse connected to a loopback jwks_uri")
	}
}

// keyClient is a rig with a private_key_jwt client_credentials client registered with its JWK.
func keyClient(t *testing.T) (*machineRig, *machineKey, string) {
	t.Helper()
	rig := newMachineRig(t)
	key := newMachineKey(t, "k1")
	id, _ := rig.client(t, map[string]any{"jwks": json.RawMessage(key.jwks(t))})
	return rig, key, id
}

func TestOAuth2MachineAssertionWrongIssSubAud(t *testing.T) {
	rig, key, id := keyClient(t)
	for name, change := range map[string]func(c map[string]any){
		"iss another client":      func(c map[string]any) { c["iss"] = "someone-else" },
		"sub another client":      func(c map[string]any) { c["sub"] = "someone-else" },
		"no iss":                  func(c map[string]any) { c["iss"] = nil },
		"aud another server":      func(c map[string]any) { c["aud"] = "https://other.example.com/oauth2/token" },
		"aud the resource":        func(c map[string]any) { c["aud"] = machineResource },
		"no aud":                  func(c map[string]any) { c["aud"] = nil },
		"aud two values":          func(c map[string]any) { c["aud"] = []string{rig.token, "https://other.example.com"} },
		"aud token endpoint typo": func(c map[string]any) { c["aud"] = rig.token + "/" },
	} {
		t.Run(name, func(t *testing.T) {
			c := assertionClaims(id, rig.token)
			change(c)
			r := rig.s.o2Form(t, "/oauth2/token", withAssertion(ccForm("client_id="+id), key.assertion(t, c)))
			expectO2Error(t, r, http.StatusUnauthorized, "invalid_client")
		})
	}
}

func TestOAuth2MachineAssertionExpTooFar(t *testing.T) {
	rig, key, id := keyClient(t)
	c := assertionClaims(id, rig.token)
	c["exp"] = time.Now().Add(10 * time.Minute).Unix()
	m := expectO2Error(t, rig.s.o2Form(t, "/oauth2/token", withAssertion(ccForm(), key.assertion(t, c))), http.StatusUnauthorized, "invalid_client")
	if !strings.Contains(m["error_description"].(string), "5 minutes") {
		t.Fatalf("description %q does not say why", m["error_description"])
	}
	c = assertionClaims(id, rig.token)
	c["exp"] = nil
	expectO2Error(t, rig.s.o2Form(t, "/oauth2/token", withAssertion(ccForm(), key.assertion(t, c))), http.StatusUnauthorized, "invalid_client")
	c = assertionClaims(id, rig.token)
	c["exp"] = time.Now().Add(-2 * time.Minute).Unix()
	expectO2Error(t, rig.s.o2Form(t, "/oauth2/token", withAssertion(ccForm(), key.assertion(t, c))), http.StatusUnauthorized, "invalid_client")
	// Five minutes ahead is allowed.
	c = assertionClaims(id, rig.token)
	c["exp"] = time.Now().Add(5 * time.Minute).Unix()
	expectStatus(t, rig.s.o2Form(t, "/oauth2/token", withAssertion(ccForm(), key.assertion(t, c))), http.StatusOK)
}

func TestOAuth2MachineAssertionMissingJTI(t *testing.T) {
	rig, key, id := keyClient(t)
	c := assertionClaims(id, rig.token)
	c["jti"] = nil
	m := expectO2Error(t, rig.s.o2Form(t, "/oauth2/token", withAssertion(ccForm(), key.assertion(t, c))), http.StatusUnauthorized, "invalid_client")
	if !strings.Contains(m["error_description"].(string), "jti") {
		t.Fatalf("description %q does not name jti", m["error_description"])
	}
}

// One assertion, one request: the same jti is refused the second time, even within its exp.
func TestOAuth2MachineAssertionReplayRefused(t *testing.T) {
	rig, key, id := keyClient(t)
	a := key.assertion(t, assertionClaims(id, rig.token))
	expectStatus(t, rig.s.o2Form(t, "/oauth2/token", withAssertion(ccForm(), a)), http.StatusOK)
	m := expectO2Error(t, rig.s.o2Form(t, "/oauth2/token", withAssertion(ccForm(), a)), http.StatusUnauthorized, "invalid_client")
	if !strings.Contains(m["error_description"].(string), "already used") {
		t.Fatalf("description %q does not say the assertion was used", m["error_description"])
	}
	// A new assertion (a new jti) is fine.
	expectStatus(t, rig.s.o2Form(t, "/oauth2/token", withAssertion(ccForm(), key.assertion(t, assertionClaims(id, rig.token)))), http.StatusOK)
}

// Two instances on one PostgreSQL database: an assertion accepted by one is refused by the other,
// and of one assertion sent to both at once exactly one is accepted (the jti's unique key).
func TestOAuth2MachineAssertionReplayRefusedAcrossInstances(t *testing.T) {
	env := clusterEnv(t)
	servers := startCluster(t, env, with(env))
	a, b := servers[0], servers[1]
	admin := a.admin(t)
	r := a.do(t, "POST", "/api/v1/admin/oauth/resources", map[string]any{"uri": machineResource, "name": "MCP", "scopes": []string{"mcp:tools"}}, bearer(admin.Access))
	expectStatus(t, r, http.StatusCreated)
	key := newMachineKey(t, "k1")
	r = a.do(t, "POST", "/api/v1/admin/oauth/clients", map[string]any{"name": "agent", "grant_types": []string{"client_credentials"},
		"scopes": []string{"mcp:tools"}, "jwks": json.RawMessage(key.jwks(t))}, bearer(admin.Access))
	expectStatus(t, r, http.StatusCreated)
	id := r.str(t, "client_id")
	aud := a.do(t, "GET", "/.well-known/oauth-authorization-server", nil).str(t, "token_endpoint")

	first := key.assertion(t, assertionClaims(id, aud))
	expectMachineToken(t, a.o2Form(t, "/oauth2/token", withAssertion(ccForm(), first)), id, machineResource, "mcp:tools")
	expectO2Error(t, b.o2Form(t, "/oauth2/token", withAssertion(ccForm(), first)), http.StatusUnauthorized, "invalid_client")

	for round := range 5 {
		both := key.assertion(t, assertionClaims(id, aud))
		results := make([]*response, 2)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, s := range []*testServer{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				results[i] = s.postFormAsync("/oauth2/token", withAssertion(ccForm(), both).Encode())
			}()
		}
		close(start)
		wg.Wait()
		if n := statusCounts(results); n[http.StatusOK] != 1 || n[http.StatusUnauthorized] != 1 {
			t.Fatalf("round %d: one assertion sent to two instances at once was answered %v, want one 200 and one 401", round, n)
		}
	}
}

func TestOAuth2MachinePublicClientRefused(t *testing.T) {
	rig := newMachineRig(t)
	id := rig.s.o2PublicClient(t)
	r := rig.s.o2Form(t, "/oauth2/token", ccForm("client_id="+id))
	m := expectO2Error(t, r, http.StatusBadRequest, "unauthorized_client")
	if !strings.Contains(m["error_description"].(string), "public") {
		t.Fatalf("description %q does not say why", m["error_description"])
	}
	// Nor can an admin register a public client for the grant.
	r = rig.s.do(t, "POST", "/api/v1/admin/oauth/clients", map[string]any{"name": "x", "grant_types": []string{"client_credentials"}, "confidential": false,
		"scopes": []string{"mcp:tools"}}, bearer(rig.admin.Access))
	expectStatus(t, r, http.StatusCreated) // made confidential: the grant needs it
	if r.str(t, "client_secret") == "" || r.str(t, "token_endpoint_auth_method") == "none" {
		t.Fatalf("a client_credentials client was registered public: %s", r.Body)
	}
}

// A client without the grant (here a confidential web app) is unauthorized_client; so is a
// client that registered itself, which can never hold the grant.
func TestOAuth2MachineClientWithoutGrantRefused(t *testing.T) {
	rig := newMachineRig(t)
	id, secret := rig.s.o2ConfidentialClient(t, "client_secret_basic")
	expectO2Error(t, rig.s.o2Form(t, "/oauth2/token", ccForm(), o2Basic(id, secret)), http.StatusBadRequest, "unauthorized_client")

	meta := map[string]any{"client_name": "self-made", "redirect_uris": []string{"https://app.example.com/cb"},
		"token_endpoint_auth_method": "client_secret_basic", "grant_types": []string{"authorization_code", "client_credentials"}}
	expectO2Error(t, rig.s.o2Register(t, meta), http.StatusBadRequest, "invalid_client_metadata")

	r := rig.s.do(t, "POST", "/api/v1/admin/oauth/clients", map[string]any{"name": "web", "confidential": true,
		"redirect_uris": []string{"https://app.example.com/cb"}, "grant_types": []string{"authorization_code"}}, bearer(rig.admin.Access))
	expectStatus(t, r, http.StatusCreated)
	expectO2Error(t, rig.s.o2Form(t, "/oauth2/token", ccForm(), o2Basic(r.str(t, "client_id"), r.str(t, "client_secret"))),
		http.StatusBadRequest, "unauthorized_client")
}

// The scope is what the client asked for among what an admin granted it (and the resource
// defines): never more.
func TestOAuth2MachineScopeNarrowedToGranted(t *testing.T) {
	rig := newMachineRig(t)
	id, secret := rig.client(t, map[string]any{"scopes": []string{"mcp:tools", "mcp:read", "not-of-the-resource"}})
	basic := o2Basic(id, secret)
	for _, c := range []struct{ ask, want string }{
		{"mcp:tools mcp:admin", "mcp:tools"},
		{"mcp:read mcp:tools", "mcp:read mcp:tools"},
		{"openid mcp:read", "mcp:read"},
		{"", "mcp:read mcp:tools"}, // none asked: all granted that the resource defines
	} {
		form := ccForm()
		if c.ask != "" {
			form.Set("scope", c.ask)
		}
		expectMachineToken(t, rig.s.o2Form(t, "/oauth2/token", form, basic), id, machineResource, c.want)
	}
	expectO2Error(t, rig.s.o2Form(t, "/oauth2/token", ccForm("scope=mcp:admin"), basic), http.StatusBadRequest, "invalid_scope")
	expectO2Error(t, rig.s.o2Form(t, "/oauth2/token", ccForm("scope=not-of-the-resource"), basic), http.StatusBadRequest, "invalid_scope")
}

func TestOAuth2MachineNoRefreshToken(t *testing.T) {
	rig := newMachineRig(t)
	id, secret := rig.client(t, nil)
	r := rig.s.o2Form(t, "/oauth2/token", ccForm("scope=offline_access mcp:tools"), o2Basic(id, secret))
	expectMachineToken(t, r, id, machineResource, "mcp:tools")
	// Nor can the client use the refresh grant, which it was not registered for.
	expectO2Error(t, rig.s.o2Form(t, "/oauth2/token", o2Refresh(id, "anything"), o2Basic(id, secret)), http.StatusBadRequest, "")
}

// aud is exactly one registered resource: the one named, or the only one registered; never
// Gatehouse's own API, never an unregistered URI.
func TestOAuth2MachineAudienceIsResource(t *testing.T) {
	rig := newMachineRig(t)
	id, secret := rig.client(t, nil)
	basic := o2Basic(id, secret)
	// One resource registered: it is the default.
	expectMachineToken(t, rig.s.o2Form(t, "/oauth2/token", ccForm(), basic), id, machineResource, "mcp:read mcp:tools")

	const second = "https://tools.example.com/mcp"
	rig.addResource(t, second, "mcp:tools")
	m := expectO2Error(t, rig.s.o2Form(t, "/oauth2/token", ccForm(), basic), http.StatusBadRequest, "invalid_target")
	if !strings.Contains(m["error_description"].(string), "resource") {
		t.Fatalf("description %q does not ask for a resource", m["error_description"])
	}
	expectMachineToken(t, rig.s.o2Form(t, "/oauth2/token", ccForm("resource="+second), basic), id, second, "mcp:tools")
	expectMachineToken(t, rig.s.o2Form(t, "/oauth2/token", ccForm("resource="+machineResource), basic), id, machineResource, "mcp:read mcp:tools")
	expectO2Error(t, rig.s.o2Form(t, "/oauth2/token", ccForm("resource=https://unregistered.example.com"), basic), http.StatusBadRequest, "invalid_target")
	expectO2Error(t, rig.s.o2Form(t, "/oauth2/token", ccForm("resource="+o2IssuerOf(t, rig.s)+"/api/v1"), basic), http.StatusBadRequest, "invalid_target")
	expectO2Error(t, rig.s.o2Form(t, "/oauth2/token", ccForm("resource="+second, "resource="+machineResource), basic), http.StatusBadRequest, "invalid_target")
}

// A client's token has no user: Gatehouse's own API, whose endpoints act for a user, refuses it
// (it is for another resource), and userinfo has nothing to say.
func TestOAuth2MachineTokenRefusedByOwnAPI(t *testing.T) {
	rig := newMachineRig(t)
	id, secret := rig.client(t, nil)
	access := rig.s.o2Form(t, "/oauth2/token", ccForm(), o2Basic(id, secret)).str(t, "access_token")
	for _, path := range []string{"/api/v1/users/me", "/api/v1/api-keys", "/api/v1/users/me/grants", "/api/v1/admin/users"} {
		r := rig.s.do(t, "GET", path, nil, bearer(access))
		expectProblem(t, r, http.StatusUnauthorized, "")
	}
	expectO2Error(t, rig.s.do(t, "GET", "/oauth2/userinfo", nil, bearer(access)), http.StatusUnauthorized, "invalid_token")
}

// Introspection answers for a client's token (for the client itself at /oauth2/introspect, for
// resource servers at /api/v1/auth/introspect) with sub = the client; /oauth2/revoke ends one
// token at once, and revoking the client ends them all.
func TestOAuth2MachineIntrospectionAndRevocation(t *testing.T) {
	rig := newMachineRig(t)
	id, secret := rig.client(t, nil)
	basic := o2Basic(id, secret)
	issue := func() string {
		return rig.s.o2Form(t, "/oauth2/token", ccForm("scope=mcp:tools"), basic).str(t, "access_token")
	}
	introspector := rig.s.createKey(t, rig.admin.Access, "tokens:introspect")["api_key"].(string)
	rsActive := func(token string) map[string]any {
		r := rig.s.do(t, "POST", "/api/v1/auth/introspect", map[string]any{"token": token}, "X-API-Key: "+introspector)
		expectStatus(t, r, http.StatusOK)
		return r.json(t)
	}
	selfActive := func(token string) map[string]any {
		r := rig.s.o2Form(t, "/oauth2/introspect", ccForm("token="+token), basic)
		expectStatus(t, r, http.StatusOK)
		return r.json(t)
	}
	one, two := issue(), issue()
	for _, in := range []map[string]any{rsActive(one), selfActive(one)} {
		if in["active"] != true || in["sub"] != id || in["client_id"] != id || in["aud"] != machineResource || in["scope"] != "mcp:tools" {
			t.Fatalf("introspection of a live client token: %v", in)
		}
		if in["email"] != nil {
			t.Fatalf("introspection invents a user: %v", in)
		}
	}
	// Another client learns nothing about it.
	otherID, otherSecret := rig.client(t, nil)
	r := rig.s.o2Form(t, "/oauth2/introspect", ccForm("token="+one), o2Basic(otherID, otherSecret))
	if r.json(t)["active"] != false {
		t.Fatalf("another client introspected the token: %s", r.Body)
	}
	// Another client cannot revoke it either.
	expectStatus(t, rig.s.o2Form(t, "/oauth2/revoke", ccForm("token="+one), o2Basic(otherID, otherSecret)), http.StatusOK)
	if rsActive(one)["active"] != true {
		t.Fatal("another client revoked the token")
	}

	expectStatus(t, rig.s.o2Form(t, "/oauth2/revoke", ccForm("token="+one), basic), http.StatusOK)
	if rsActive(one)["active"] != false || selfActive(one)["active"] != false {
		t.Fatal("a revoked client token is still active")
	}
	if rsActive(two)["active"] != true {
		t.Fatal("revoking one token ended another")
	}
	r = rig.s.do(t, "DELETE", "/api/v1/admin/oauth/clients/"+id, nil, bearer(rig.admin.Access))
	expectStatus(t, r, http.StatusNoContent)
	if rsActive(two)["active"] != false {
		t.Fatal("a revoked client's token is still active")
	}
	expectO2Error(t, rig.s.o2Form(t, "/oauth2/token", ccForm(), basic), http.StatusUnauthorized, "invalid_client")
}

// What an MCP client following io.modelcontextprotocol/oauth-client-credentials reads.
func TestOAuth2MachineMetadata(t *testing.T) {
	s := startServer(t)
	m := s.do(t, "GET", "/.well-known/oauth-authorization-server", nil).json(t)
	has := func(field, want string) {
		t.Helper()
		list, _ := m[field].([]any)
		if !slices.Contains(list, any(want)) {
			t.Fatalf("%s = %v, want %s in it", field, m[field], want)
		}
	}
	has("grant_types_supported", "client_credentials")
	has("token_endpoint_auth_methods_supported", "private_key_jwt")
	has("token_endpoint_auth_methods_supported", "client_secret_basic")
	has("token_endpoint_auth_signing_alg_values_supported", "ES256")
	has("token_endpoint_auth_signing_alg_values_supported", "RS256")
	for _, a := range m["token_endpoint_auth_signing_alg_values_supported"].([]any) {
		if a == "none" || strings.HasPrefix(a.(string), "HS") {
			t.Fatalf("signing algorithms announce %v", a)
		}
	}
}

// The algorithm is the key's: an assertion signed with HMAC (with the public key as the secret,
// the classic confusion), or not at all, is refused.
func TestOAuth2MachineAssertionAlgorithmPinned(t *testing.T) {
	rig, key, id := keyClient(t)
	claims, _ := json.Marshal(assertionClaims(id, rig.token))
	seg := func(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
	none := seg([]byte(`{"alg":"none","kid":"k1"}`)) + "." + seg(claims) + "."
	expectO2Error(t, rig.s.o2Form(t, "/oauth2/token", withAssertion(ccForm("client_id="+id), none)), http.StatusUnauthorized, "invalid_client")

	signing := seg([]byte(`{"alg":"HS256","kid":"k1","typ":"JWT"}`)) + "." + seg(claims)
	mac := hmac.New(sha256.New, key.jwk(t))
	mac.Write([]byte(signing))
	hs := signing + "." + seg(mac.Sum(nil))
	expectO2Error(t, rig.s.o2Form(t, "/oauth2/token", withAssertion(ccForm("client_id="+id), hs)), http.StatusUnauthorized, "invalid_client")

	// An Ed25519 signature under the registered P-256 key's kid does not fit the key.
	_, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	ed := &machineKey{priv: edPriv, kid: "k1", alg: jose.EdDSA}
	expectO2Error(t, rig.s.o2Form(t, "/oauth2/token", withAssertion(ccForm(), ed.assertion(t, assertionClaims(id, rig.token)))), http.StatusUnauthorized, "invalid_client")

	// Garbage is a clear 401, never a 500.
	for _, junk := range []string{"x", "a.b.c", strings.Repeat("A", 9000), seg([]byte("{")) + "." + seg([]byte("[")) + ".x"} {
		r := rig.s.o2Form(t, "/oauth2/token", withAssertion(ccForm("client_id="+id), junk))
		expectO2Error(t, r, http.StatusUnauthorized, "invalid_client")
	}
	// A wrong assertion type, or an assertion together with a secret, is refused.
	f := withAssertion(ccForm(), key.assertion(t, assertionClaims(id, rig.token)))
	f.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:saml2-bearer")
	expectO2Error(t, rig.s.o2Form(t, "/oauth2/token", f), http.StatusUnauthorized, "invalid_client")
	f = withAssertion(ccForm("client_secret=x"), key.assertion(t, assertionClaims(id, rig.token)))
	expectO2Error(t, rig.s.o2Form(t, "/oauth2/token", f), http.StatusBadRequest, "invalid_request")
}

// A private_key_jwt client has no secret to present, and a secret client cannot switch to
// assertions.
func TestOAuth2MachineAuthMethodsDoNotMix(t *testing.T) {
	rig, key, id := keyClient(t)
	expectO2Error(t, rig.s.o2Form(t, "/oauth2/token", ccForm(), o2Basic(id, "ghs_guess")), http.StatusUnauthorized, "invalid_client")
	expectO2Error(t, rig.s.o2Form(t, "/oauth2/token", ccForm("client_id="+id)), http.StatusUnauthorized, "invalid_client")
	secretID, _ := rig.client(t, nil)
	r := rig.s.o2Form(t, "/oauth2/token", withAssertion(ccForm(), key.assertion(t, assertionClaims(secretID, rig.token))))
	expectO2Error(t, r, http.StatusUnauthorized, "invalid_client")
}

// Keys an admin registers are public signing keys; anything else is a 422 naming the problem.
func TestOAuth2MachineClientKeysChecked(t *testing.T) {
	rig := newMachineRig(t)
	priv, _ := json.Marshal(jose.JSONWebKey{Key: newMachineKey(t, "p").priv, KeyID: "p"})
	for name, body := range map[string]map[string]any{
		"private key":          {"jwks": json.RawMessage(priv)},
		"symmetric key":        {"jwks": json.RawMessage(`{"kty":"oct","k":"c2VjcmV0"}`)},
		"not JSON":             {"jwks": "a string"},
		"jwks and jwks_uri":    {"jwks": json.RawMessage(newMachineKey(t, "a").jwk(t)), "jwks_uri": "https://a.example/jwks"},
		"jwks_uri not https":   {"jwks_uri": "http://a.example/jwks"},
		"scopes without grant": {"grant_types": []string{"authorization_code"}, "redirect_uris": []string{"https://a.example/cb"}},
	} {
		t.Run(name, func(t *testing.T) {
			req := map[string]any{"name": "x", "grant_types": []string{"client_credentials"}, "scopes": []string{"mcp:tools"}}
			for k, v := range body {
				req[k] = v
			}
			r := rig.s.do(t, "POST", "/api/v1/admin/oauth/clients", req, bearer(rig.admin.Access))
			expectProblem(t, r, http.StatusUnprocessableEntity, "")
		})
	}
}

// A client whose metadata document says token_endpoint_auth_method private_key_jwt with its jwks
// authenticates with an assertion signed by that key (and with nothing else); it still cannot use
// client_credentials, which only an admin grants.
func TestOAuth2MachineCIMDPrivateKeyJWT(t *testing.T) {
	rig := newMachineRig(t, "GATEHOUSE_OAUTH_CIMD_ALLOW_PRIVATE_NETWORKS=true")
	host := startCIMDHost(t)
	key := newMachineKey(t, "doc-key")
	doc := cimdDoc(host.URL + "/client.json")
	doc["token_endpoint_auth_method"] = "private_key_jwt"
	doc["jwks"] = json.RawMessage(key.jwks(t))
	id := host.doc("/client.json", doc)

	// Authenticated: the made-up refresh token is what is refused.
	f := withAssertion(o2Refresh(id, "bogus"), key.assertion(t, assertionClaims(id, rig.token)))
	expectO2Error(t, rig.s.o2Form(t, "/oauth2/token", f), http.StatusBadRequest, "invalid_grant")
	// Without an assertion, or with another key's, it is not.
	expectO2Error(t, rig.s.o2Form(t, "/oauth2/token", o2Refresh(id, "bogus")), http.StatusUnauthorized, "invalid_client")
	f = withAssertion(o2Refresh(id, "bogus"), newMachineKey(t, "doc-key").assertion(t, assertionClaims(id, rig.token)))
	expectO2Error(t, rig.s.o2Form(t, "/oauth2/token", f), http.StatusUnauthorized, "invalid_client")
	// No client_credentials for a client nobody registered.
	f = withAssertion(ccForm(), key.assertion(t, assertionClaims(id, rig.token)))
	expectO2Error(t, rig.s.o2Form(t, "/oauth2/token", f), http.StatusBadRequest, "unauthorized_client")
}
