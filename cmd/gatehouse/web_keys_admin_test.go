package main

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var newKeyInput = regexp.MustCompile(`id="new-key" class="mono" type="text" value="(ak_[0-9A-Za-z]+)"`)

// createWebKey creates a key through the keys page and returns it and its id.
func (b *webClient) createWebKey(name string, days string, scopes ...string) string {
	b.t.Helper()
	expectRedirect(b.t, b.submit("/account/keys", url.Values{"action": {"create"}, "name": {name}, "scopes": scopes, "expires_in_days": {days}}), "/account/keys")
	r := b.get("/account/keys")
	expectPage(b.t, r, http.StatusOK, "this is the only time it is shown", `data-copy="new-key"`)
	if r.Header.Get("Cache-Control") != "no-store" {
		b.t.Fatal("the page with a new key may be cached")
	}
	m := newKeyInput.FindSubmatch(r.Body)
	if m == nil {
		b.t.Fatalf("no key on the page: %s", r.Body)
	}
	return string(m[1])
}

var revokeKeyID = regexp.MustCompile(`name="action" value="revoke"><input type="hidden" name="id" value="([^"]+)"`)

// TestWebAPIKeysCreateUseRevoke: a key made on the keys page works against the API within its
// scopes, is listed by prefix, shown once, and stops working when revoked there.
func TestWebAPIKeysCreateUseRevoke(t *testing.T) {
	s := startServer(t)
	b := s.webClient(t)
	b.signUp(newWebEmail("keys"), "correct horse battery staple")
	key := b.createWebKey("billing worker", "30", "credits:read")

	bal := s.do(t, "GET", "/api/v1/public/credits/balance", nil, "X-API-Key: "+key)
	expectStatus(t, bal, http.StatusOK)
	expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, "X-API-Key: "+key), http.StatusForbidden, "insufficient_scope")

	list := b.get("/account/keys")
	expectPage(t, list, http.StatusOK, "billing worker", key[:11]+"…", "credits:read")
	if strings.Contains(string(list.Body), key) {
		t.Fatal("the key is shown again after it was created")
	}
	m := revokeKeyID.FindSubmatch(list.Body)
	if m == nil {
		t.Fatalf("no revoke button: %s", list.Body)
	}
	expectRedirect(t, b.submit("/account/keys", url.Values{"action": {"revoke"}, "id": {string(m[1])}}), "/account/keys?notice=key_revoked")
	expectProblem(t, s.do(t, "GET", "/api/v1/public/credits/balance", nil, "X-API-Key: "+key), http.StatusUnauthorized, "")
	expectPage(t, b.get("/account/keys?notice=key_revoked"), http.StatusOK, "You have no API keys yet", "no longer works")

	// The API's rules hold on the form: no admin scope for a user, no eternal key, no empty name.
	expectPage(t, b.submit("/account/keys", url.Values{"action": {"create"}, "name": {"x"}, "scopes": {"admin"}, "expires_in_days": {"30"}}),
		http.StatusForbidden, "cannot have more rights")
	expectPage(t, b.submit("/account/keys", url.Values{"action": {"create"}, "name": {"x"}, "scopes": {"profile:read"}, "expires_in_days": {"0"}}),
		http.StatusUnprocessableEntity, "may create keys that never expire", `id="f-expires_in_days-error"`)
	expectPage(t, b.submit("/account/keys", url.Values{"action": {"create"}, "name": {" "}, "scopes": {"profile:read"}, "expires_in_days": {"30"}}),
		http.StatusUnprocessableEntity, `id="f-name-error"`)
	expectPage(t, b.submit("/account/keys", url.Values{"action": {"create"}, "name": {"none"}, "expires_in_days": {"30"}}),
		http.StatusUnprocessableEntity, "Choose at least one scope.")
	// Another user's key id is not found, as through the API.
	other := s.register(t)
	k := s.createKey(t, other.Access)
	expectPage(t, b.submit("/account/keys", url.Values{"action": {"revoke"}, "id": {k["id"].(string)}}), http.StatusNotFound)
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, "X-API-Key: "+k["api_key"].(string)), http.StatusOK)
}

// TestWebAdminPages: non-admins get 403 and change nothing; an admin searches, disables (which
// revokes every session and key of the account at once), re-enables, changes a role, reads the
// audit log, and cannot lock themselves out.
func TestWebAdminPages(t *testing.T) {
	s := startServer(t)
	victim := s.register(t)
	victimKey := s.createKey(t, victim.Access)["api_key"].(string)
	user := s.webClient(t)
	user.signUp(newWebEmail("plain"), "correct horse battery staple")
	expectPage(t, user.get("/admin/users"), http.StatusForbidden, "Admins only")
	expectPage(t, user.submit("/admin/users", url.Values{"action": {"disable"}, "id": {victim.ID}}), http.StatusForbidden, "Admins only")
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(victim.Access)), http.StatusOK)

	adm := s.admin(t)
	b := s.webClient(t)
	b.signIn(adm.Email, adm.Password)
	expectPage(t, b.get("/account"), http.StatusOK, `href="/admin/users"`, `href="/admin/audit"`)
	found := b.get("/admin/users?q=" + url.QueryEscape(strings.ToUpper(victim.Email[:8])))
	expectPage(t, found, http.StatusOK, victim.Email)
	if strings.Contains(string(found.Body), `<span class="strong">`+adm.Email) {
		t.Fatal("the search shows an account that does not match")
	}
	expectPage(t, b.get("/admin/users?q=no-such-person"), http.StatusOK, "No user matches")
	expectPage(t, b.get("/admin/users"), http.StatusOK, victim.Email, adm.Email)

	r := b.submit("/admin/users", url.Values{"action": {"disable"}, "id": {victim.ID}, "q": {"user"}})
	expectRedirect(t, r, "/admin/users?notice=user_updated&q=user")
	expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(victim.Access)), http.StatusUnauthorized, "")
	expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, "X-API-Key: "+victimKey), http.StatusUnauthorized, "")
	expectPage(t, b.get("/admin/users?q="+url.QueryEscape(victim.Email)), http.StatusOK, "Disabled", `value="enable"`)
	expectRedirect(t, b.submit("/admin/users", url.Values{"action": {"enable"}, "id": {victim.ID}}), "/admin/users?notice=user_updated")
	expectRedirect(t, b.submit("/admin/users", url.Values{"action": {"role"}, "id": {victim.ID}, "role": {"admin"}}), "/admin/users?notice=user_updated")
	me := s.do(t, "GET", "/api/v1/users/me", nil, bearer(s.loginAccess(t, victim)))
	if me.str(t, "role") != "admin" {
		t.Fatalf("role not changed: %s", me.Body)
	}
	expectPage(t, b.submit("/admin/users", url.Values{"action": {"role"}, "id": {victim.ID}, "role": {"root"}}), http.StatusUnprocessableEntity, "Role must be user or admin")
	expectPage(t, b.submit("/admin/users", url.Values{"action": {"disable"}, "id": {adm.ID}}), http.StatusConflict, "lock yourself out")
	expectPage(t, b.submit("/admin/users", url.Values{"action": {"role"}, "id": {adm.ID}, "role": {"user"}}), http.StatusConflict, "lock yourself out")
	expectPage(t, b.submit("/admin/users", url.Values{"action": {"disable"}, "id": {"no-such-user"}}), http.StatusNotFound)

	audit := b.get("/admin/audit")
	expectPage(t, audit, http.StatusOK, "user.disabled", "Account disabled", "user.role_changed", victim.Email)
	filtered := b.get("/admin/audit?type=user.disabled&user=" + url.QueryEscape(victim.Email))
	expectPage(t, filtered, http.StatusOK, "user.disabled")
	if strings.Contains(string(filtered.Body), "user.registered</code>") {
		t.Fatal("the type filter let other events through")
	}
	expectPage(t, b.get("/admin/audit?user=nobody@example.com"), http.StatusOK, "No account has the address")
}

// loginAccess signs an account in again through the API and returns the access token.
func (s *testServer) loginAccess(t *testing.T, a *account) string {
	t.Helper()
	access, _ := s.login(t, a.Email, a.Password)
	return access
}
