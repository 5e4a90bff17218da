package main

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The authorization server's rules that need a whole flow (sign-in and consent on the dashboard,
// then the token endpoint): audience binding, refresh rotation, code reuse, ID tokens, revocation.

const flowResource = "https://mcp.example/mcp"

// flowRig is a server with one registered resource, a public client registered by itself, and a
// signed-in browser that has approved it.
type flowRig struct {
	s        *testServer
	admin    *account
	user     *account
	clientID string
	redirect string
	b        *webClient
}

func newFlowRig(t *testing.T, env ...string) *flowRig {
	s := startServer(t, env...)
	admin := s.admin(t)
	s.addOAuthResource(t, admin, flowResource, "Notes MCP", "mcp:tools=Use your notes tools", "mcp:read=Read your notes")
	redirect := "http://127.0.0.1:9/callback"
	r := &flowRig{s: s, admin: admin, user: s.register(t), clientID: s.registerOAuthClient(t, "Agent", redirect), redirect: redirect, b: s.webClient(t)}
	r.b.signIn(r.user.Email, r.user.Password)
	return r
}

// authorize runs an authorization request through the consent page (approving) and returns the
// token response of its code.
func (r *flowRig) authorize(t *testing.T, extra ...string) (map[string]any, *oauthRequest) {
	t.Helper()
	o := newOAuthRequest(r.clientID, r.redirect, extra...)
	code := r.s.expectCode(t, r.b.decide(expectConsent(t, r.b.get(o.path())), "allow"), o)
	return r.s.exchangeCode(t, o, code), o
}

func (r *flowRig) refresh(t *testing.T, refresh string, extra ...string) *response {
	t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {r.clientID}}
	for _, kv := range extra {
		k, v, _ := strings.Cut(kv, "=")
		form.Add(k, v)
	}
	return r.s.postForm(t, "/oauth2/token", form)
}

// claims decodes a JWT's payload (its signature is the servers' and kits' business).
func claims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

// TestOAuth2AudienceBinding: a token's aud is exactly the resource asked for (RFC 8707); a token
// for another resource is refused by Gatehouse's own API, which accepts its own tokens within
// their scopes only.
func TestOAuth2AudienceBinding(t *testing.T) {
	r := newFlowRig(t)
	tok, _ := r.authorize(t, "scope=mcp:tools", "resource="+flowResource)
	access := str(tok, "access_token")
	c := claims(t, access)
	if c["aud"] != flowResource || c["client_id"] != r.clientID || c["scope"] != "mcp:tools" || c["sub"] != r.user.ID || c["iss"] != r.s.URL {
		t.Fatalf("claims %v", c)
	}
	if tok["scope"] != "mcp:tools" {
		t.Fatalf("granted scope %v", tok["scope"])
	}
	// Another resource's token at Gatehouse's own API: 401.
	expectStatus(t, r.s.do(t, "GET", "/api/v1/users/me", nil, bearer(access)), http.StatusUnauthorized)

	// A token for the own API works there, within its scopes, never on first-party-only routes.
	own := r.s.URL + "/api/v1"
	tok2, _ := r.authorize(t, "scope=profile:read keys:write admin", "resource="+own)
	if tok2["scope"] != "profile:read" {
		t.Fatalf("an app got %v on the own API (keys:write and admin are never granted)", tok2["scope"])
	}
	a2 := str(tok2, "access_token")
	if claims(t, a2)["aud"] != own {
		t.Fatalf("aud %v", claims(t, a2)["aud"])
	}
	me := r.s.do(t, "GET", "/api/v1/users/me", nil, bearer(a2))
	expectStatus(t, me, http.StatusOK)
	if me.str(t, "id") != r.user.ID {
		t.Fatalf("me %s", me.Body)
	}
	expectStatus(t, r.s.do(t, "GET", "/api/v1/users/me/sessions", nil, bearer(a2)), http.StatusForbidden)
	expectStatus(t, r.s.do(t, "POST", "/api/v1/api-keys", map[string]any{"name": "x", "scopes": []string{"profile:read"}}, bearer(a2)), http.StatusForbidden)
	expectStatus(t, r.s.do(t, "GET", "/api/v1/admin/users", nil, bearer(a2)), http.StatusForbidden)

	// An unregistered resource is invalid_target, sent back to the client with iss.
	o := newOAuthRequest(r.clientID, r.redirect, "resource=https://elsewhere.example/mcp")
	r.s.expectOAuthError(t, r.b.get(o.path()), o, "invalid_target")
	// One resource per request.
	o = newOAuthRequest(r.clientID, r.redirect, "resource="+flowResource, "resource="+own)
	r.s.expectOAuthError(t, r.b.get(o.path()), o, "invalid_target")
}

// TestOAuth2DefaultResource: with no resource and exactly one registered resource, that one; the
// unknown scopes of a request are dropped, not fatal.
func TestOAuth2DefaultResourceAndUnknownScopes(t *testing.T) {
	r := newFlowRig(t)
	tok, _ := r.authorize(t, "scope=mcp:tools nonsense:scope")
	if aud := claims(t, str(tok, "access_token"))["aud"]; aud != flowResource {
		t.Fatalf("aud %v, want the one registered resource", aud)
	}
	if tok["scope"] != "mcp:tools" {
		t.Fatalf("scope %v: unknown scopes are dropped", tok["scope"])
	}
}

// TestOAuth2PKCERequired: a request without a challenge, with plain, or with a missing method is
// sent back as invalid_request (with iss); a wrong verifier at the token endpoint is invalid_grant.
func TestOAuth2PKCERequired(t *testing.T) {
	r := newFlowRig(t)
	for _, tc := range []struct {
		name string
		edit func(q url.Values)
	}{
		{"no challenge", func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") }},
		{"plain", func(q url.Values) { q.Set("code_challenge_method", "plain") }},
		{"no method (means plain)", func(q url.Values) { q.Del("code_challenge_method") }},
		{"lower-case s256", func(q url.Values) { q.Set("code_challenge_method", "s256") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := newOAuthRequest(r.clientID, r.redirect)
			tc.edit(o.Params)
			r.s.expectOAuthError(t, r.b.get(o.path()), o, "invalid_request")
		})
	}
	o := newOAuthRequest(r.clientID, r.redirect)
	code := r.s.expectCode(t, r.b.decide(expectConsent(t, r.b.get(o.path())), "allow"), o)
	wrong := strings.Repeat("a", 43)
	res := r.s.postForm(t, "/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {r.redirect}, "client_id": {r.clientID}, "code_verifier": {wrong}})
	if res.Status != http.StatusBadRequest || res.str(t, "error") != "invalid_grant" {
		t.Fatalf("wrong verifier: %d %s", res.Status, res.Body)
	}
}

// TestOAuth2CodeReuseRevokesWhatItIssued: a code presented twice is refused, and the tokens the
// first exchange issued stop working (RFC 6749 §4.1.2, OAuth 2.1 §4.1.3).
func TestOAuth2CodeReuseRevokesWhatItIssued(t *testing.T) {
	r := newFlowRig(t)
	o := newOAuthRequest(r.clientID, r.redirect, "scope=profile:read", "resource="+r.s.URL+"/api/v1")
	code := r.s.expectCode(t, r.b.decide(expectConsent(t, r.b.get(o.path())), "allow"), o)
	tok := r.s.exchangeCode(t, o, code)
	expectStatus(t, r.s.do(t, "GET", "/api/v1/users/me", nil, bearer(str(tok, "access_token"))), http.StatusOK)
	again := r.s.postForm(t, "/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {r.redirect}, "client_id": {r.clientID}, "code_verifier": {o.Verifier}})
	if again.Status != http.StatusBadRequest || again.str(t, "error") != "invalid_grant" {
		t.Fatalf("reuse: %d %s", again.Status, again.Body)
	}
	if res := r.refresh(t, str(tok, "refresh_token")); res.Status != http.StatusBadRequest || res.str(t, "error") != "invalid_grant" {
		t.Fatalf("the first exchange's refresh token after reuse: %d %s", res.Status, res.Body)
	}
	expectStatus(t, r.s.do(t, "GET", "/api/v1/users/me", nil, bearer(str(tok, "access_token"))), http.StatusUnauthorized)
}

// TestOAuth2RefreshRotationPublicClient: a public client gets a refresh token without asking for
// offline_access; each refresh rotates it; a retry within the window gets the same successor while
// that is unspent; a reuse after that revokes the grant's session.
func TestOAuth2RefreshRotationPublicClient(t *testing.T) {
	r := newFlowRig(t)
	tok, _ := r.authorize(t, "scope=mcp:tools", "resource="+flowResource)
	first := str(tok, "refresh_token")
	if first == "" {
		t.Fatalf("no refresh token for a public client: %v", tok)
	}
	a := r.refresh(t, first)
	expectStatus(t, a, http.StatusOK)
	second := a.str(t, "refresh_token")
	if second == first || a.str(t, "scope") != "mcp:tools" || claims(t, a.str(t, "access_token"))["aud"] != flowResource {
		t.Fatalf("refresh answer %s", a.Body)
	}
	// A retry (a lost answer) gets the same successor.
	retry := r.refresh(t, first)
	expectStatus(t, retry, http.StatusOK)
	if retry.str(t, "refresh_token") != second {
		t.Fatal("a retry within the window got another successor")
	}
	// The successor is used; the first token again is theft: the session is revoked.
	expectStatus(t, r.refresh(t, second), http.StatusOK)
	if res := r.refresh(t, first); res.Status != http.StatusBadRequest || res.str(t, "error") != "invalid_grant" {
		t.Fatalf("reuse: %d %s", res.Status, res.Body)
	}
	audit := r.s.do(t, "GET", "/api/v1/users/me/audit", nil, bearer(r.user.Access))
	if !strings.Contains(string(audit.Body), "token.reuse_detected") {
		t.Fatalf("no reuse event in the audit log: %s", audit.Body)
	}
}

// TestOAuth2RefreshResourceAndScope: a refresh without resource keeps the grant's; another
// resource, or a wider scope, is refused before anything is spent; a narrower scope is granted.
func TestOAuth2RefreshResourceAndScope(t *testing.T) {
	r := newFlowRig(t)
	tok, _ := r.authorize(t, "scope=mcp:tools mcp:read", "resource="+flowResource)
	rt := str(tok, "refresh_token")
	if res := r.refresh(t, rt, "resource="+r.s.URL+"/api/v1"); res.Status != http.StatusBadRequest || res.str(t, "error") != "invalid_grant" {
		t.Fatalf("another resource: %d %s", res.Status, res.Body)
	}
	if res := r.refresh(t, rt, "scope=mcp:tools mcp:admin"); res.Status != http.StatusBadRequest {
		t.Fatalf("a wider scope: %d %s", res.Status, res.Body)
	}
	// Nothing was spent: the same token still refreshes, narrowed.
	res := r.refresh(t, rt, "scope=mcp:read", "resource="+flowResource)
	expectStatus(t, res, http.StatusOK)
	if res.str(t, "scope") != "mcp:read" || claims(t, res.str(t, "access_token"))["scope"] != "mcp:read" {
		t.Fatalf("narrowed refresh %s", res.Body)
	}
	next := r.refresh(t, res.str(t, "refresh_token"))
	expectStatus(t, next, http.StatusOK)
	if next.str(t, "scope") != "mcp:read mcp:tools" || claims(t, next.str(t, "access_token"))["aud"] != flowResource {
		t.Fatalf("a refresh without resource or scope keeps the grant's: %s", next.Body)
	}
}

// TestOAuth2IDToken: openid adds an ID token with nonce, auth_time, at_hash and azp, typ JWT, that
// Gatehouse's own API refuses as an access token; userinfo answers for the flow's token.
func TestOAuth2IDToken(t *testing.T) {
	r := newFlowRig(t)
	own := r.s.URL + "/api/v1"
	tok, _ := r.authorize(t, "scope=openid email profile", "nonce=n-42", "resource="+own)
	id := str(tok, "id_token")
	c := claims(t, id)
	access := str(tok, "access_token")
	sum := sha256.Sum256([]byte(access))
	if c["iss"] != r.s.URL || c["aud"] != r.clientID || c["azp"] != r.clientID || c["sub"] != r.user.ID || c["nonce"] != "n-42" ||
		c["email"] != r.user.Email || c["at_hash"] != base64.RawURLEncoding.EncodeToString(sum[:16]) || c["auth_time"] == nil {
		t.Fatalf("ID token claims %v", c)
	}
	header, _ := base64.RawURLEncoding.DecodeString(strings.Split(id, ".")[0])
	if !strings.Contains(string(header), `"typ":"JWT"`) {
		t.Fatalf("ID token header %s", header)
	}
	expectStatus(t, r.s.do(t, "GET", "/api/v1/users/me", nil, bearer(id)), http.StatusUnauthorized)
	info := r.s.do(t, "GET", "/oauth2/userinfo", nil, bearer(access))
	expectStatus(t, info, http.StatusOK)
	if info.str(t, "sub") != r.user.ID || info.str(t, "email") != r.user.Email {
		t.Fatalf("userinfo %s", info.Body)
	}
	// A token for another resource stays with it.
	tok2, _ := r.authorize(t, "scope=openid mcp:tools", "resource="+flowResource)
	expectStatus(t, r.s.do(t, "GET", "/oauth2/userinfo", nil, bearer(str(tok2, "access_token"))), http.StatusUnauthorized)
}

// TestOAuth2RevocationIsImmediate: revoking through RFC 7009, disabling the user, and revoking
// the client each end the grant's refresh token at once and its access token on the own API at once.
func TestOAuth2RevocationIsImmediate(t *testing.T) {
	own := func(r *flowRig) string { return "resource=" + r.s.URL + "/api/v1" }
	check := func(t *testing.T, r *flowRig, tok map[string]any) {
		t.Helper()
		expectStatus(t, r.s.do(t, "GET", "/api/v1/users/me", nil, bearer(str(tok, "access_token"))), http.StatusUnauthorized)
		if res := r.refresh(t, str(tok, "refresh_token")); res.Status == http.StatusOK {
			t.Fatalf("the refresh token still works: %s", res.Body)
		}
	}
	t.Run("revocation endpoint", func(t *testing.T) {
		r := newFlowRig(t)
		tok, _ := r.authorize(t, "scope=profile:read", own(r))
		expectStatus(t, r.s.do(t, "GET", "/api/v1/users/me", nil, bearer(str(tok, "access_token"))), http.StatusOK)
		expectStatus(t, r.s.postForm(t, "/oauth2/revoke", url.Values{"token": {str(tok, "refresh_token")}, "client_id": {r.clientID}}), http.StatusOK)
		check(t, r, tok)
	})
	t.Run("user disabled", func(t *testing.T) {
		r := newFlowRig(t)
		tok, _ := r.authorize(t, "scope=profile:read", own(r))
		expectStatus(t, r.s.do(t, "PATCH", "/api/v1/admin/users/"+r.user.ID, map[string]any{"is_active": false}, bearer(r.admin.Access)), http.StatusOK)
		check(t, r, tok)
	})
	t.Run("client revoked", func(t *testing.T) {
		r := newFlowRig(t)
		tok, _ := r.authorize(t, "scope=profile:read", own(r))
		expectStatus(t, r.s.do(t, "DELETE", "/api/v1/admin/oauth/clients/"+r.clientID, nil, bearer(r.admin.Access)), http.StatusNoContent)
		check(t, r, tok)
		res := r.refresh(t, str(tok, "refresh_token"))
		if res.Status != http.StatusUnauthorized || res.str(t, "error") != "invalid_client" {
			t.Fatalf("a revoked client: %d %s (want 401 invalid_client, so it registers again)", res.Status, res.Body)
		}
	})
	t.Run("grant revoked by the user", func(t *testing.T) {
		r := newFlowRig(t)
		tok, _ := r.authorize(t, "scope=profile:read", own(r))
		grants := r.s.do(t, "GET", "/api/v1/users/me/grants", nil, bearer(r.user.Access))
		expectStatus(t, grants, http.StatusOK)
		var list []map[string]any
		if err := json.Unmarshal(grants.Body, &list); err != nil || len(list) != 1 || list[0]["client_id"] != r.clientID {
			t.Fatalf("grants %s", grants.Body)
		}
		expectStatus(t, r.s.do(t, "DELETE", "/api/v1/users/me/grants/"+str(list[0], "id"), nil, bearer(r.user.Access)), http.StatusNoContent)
		check(t, r, tok)
	})
}
