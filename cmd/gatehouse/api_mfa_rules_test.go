package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestStepUpForAdminKeys: creating a key with the admin scope needs a sign-in within the last
// 10 minutes, like the password change; other keys do not. Signing in again allows it.
func TestStepUpForAdminKeys(t *testing.T) {
	// No principal cache, so the aged session is read as the database holds it.
	s := startServer(t, "GATEHOUSE_CACHE_TTL=0")
	adm := s.admin(t)
	adminKey := s.createKey(t, adm.Access, "admin", "keys:write")["api_key"].(string) // a fresh sign-in may
	s.ageSessions(t, adm.ID)

	r := s.do(t, "POST", "/api/v1/api-keys", map[string]any{"name": "ops", "scopes": []string{"admin"}}, bearer(adm.Access))
	expectProblem(t, r, http.StatusForbidden, "reauthentication_required")
	r = s.do(t, "POST", "/api/v1/public/api-keys", map[string]any{"name": "ops", "scopes": []string{"profile:read", "admin"}}, bearer(adm.Access))
	expectProblem(t, r, http.StatusForbidden, "reauthentication_required")
	// Keys without admin powers need no fresh sign-in.
	s.createKey(t, adm.Access, "profile:read", "credits:read")
	// Nothing was created by the refused requests: the two keys made above and no other.
	list := s.do(t, "GET", "/api/v1/api-keys", nil, bearer(adm.Access))
	expectStatus(t, list, http.StatusOK)
	if n := strings.Count(string(list.Body), `"prefix"`); n != 2 {
		t.Fatalf("%d keys listed, want 2: %s", n, list.Body)
	}
	// An admin key (no session, no sign-in to refresh) may still mint one within its scopes.
	r = s.do(t, "POST", "/api/v1/api-keys", map[string]any{"name": "ops", "scopes": []string{"admin"}}, "X-API-Key: "+adminKey)
	expectStatus(t, r, http.StatusCreated)
	fresh, _ := s.login(t, adm.Email, adm.Password)
	s.createKey(t, fresh, "admin")
}

// TestWebStepUpForAdminKeys: on the dashboard the refusal says why and links to a sign-in that
// comes back to the keys page; after it the key is made.
func TestWebStepUpForAdminKeys(t *testing.T) {
	s := startServer(t, "GATEHOUSE_CACHE_TTL=0")
	adm := s.admin(t)
	b := s.webClient(t)
	b.signIn(adm.Email, adm.Password)
	s.ageSessions(t, adm.ID)

	create := url.Values{"action": {"create"}, "name": {"ops"}, "scopes": {"admin"}, "expires_in_days": {"30"}}
	r := b.submit("/account/keys", create)
	expectPage(t, r, http.StatusForbidden, "needs a recent sign-in", `href="/login?prompt=login&amp;next=%2Faccount%2Fkeys"`, "Sign in again")
	// The link shows the sign-in form to the signed-in visitor; signing in comes back here.
	expectPage(t, b.get("/login?prompt=login&next=%2Faccount%2Fkeys"), http.StatusOK, `name="password"`)
	r = b.submit("/login", url.Values{"email": {adm.Email}, "password": {adm.Password}, "prompt": {"login"}, "next": {"/account/keys"}})
	expectRedirect(t, r, "/account/keys")
	b.createWebKey("ops", "30", "admin")
}
