package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
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

// TestMFARequiredRoles: with GATEHOUSE_MFA_REQUIRED_ROLES=admin an admin without a second factor
// signs in into a session that may only enrol one (403 mfa_enrollment_required elsewhere, admin
// routes included); once the app is confirmed the same session is free and the next sign-in asks
// for a code. Users of other roles are untouched; API keys are not sign-ins and keep working.
func TestMFARequiredRoles(t *testing.T) {
	s := startServer(t, "GATEHOUSE_MFA_REQUIRED_ROLES=Admin, admin")
	user := s.register(t)
	r := s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": user.Email, "password": user.Password})
	expectStatus(t, r, http.StatusOK)
	if _, ok := r.json(t)["mfa_enrollment_required"]; ok {
		t.Fatalf("a user flagged: %s", r.Body)
	}
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me/sessions", nil, bearer(user.Access)), http.StatusOK)

	adm := s.admin(t)
	r = s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": adm.Email, "password": adm.Password})
	expectStatus(t, r, http.StatusOK)
	if r.json(t)["mfa_enrollment_required"] != true {
		t.Fatalf("the admin's login does not say it must enrol: %s", r.Body)
	}
	access, refresh := r.str(t, "access_token"), r.str(t, "refresh_token")
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/api/v1/users/me/sessions", nil},
		{"PATCH", "/api/v1/users/me", map[string]string{"name": "x"}},
		{"GET", "/api/v1/admin/users", nil},
		{"POST", "/api/v1/api-keys", map[string]any{"name": "k"}},
		{"GET", "/api/v1/api-keys", nil},
		{"POST", "/api/v1/users/me/password", map[string]string{"current_password": adm.Password, "new_password": "a new long passphrase"}},
	} {
		expectProblem(t, s.do(t, c.method, c.path, c.body, bearer(access)), http.StatusForbidden, "mfa_enrollment_required")
	}
	// Who it is, its factors, and signing out stay open; so does refreshing.
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(access)), http.StatusOK)
	expectStatus(t, s.do(t, "GET", "/api/v1/auth/me", nil, bearer(access)), http.StatusOK)
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me/mfa", nil, bearer(access)), http.StatusOK)
	r = s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": refresh})
	expectStatus(t, r, http.StatusOK)
	if r.json(t)["mfa_enrollment_required"] != true {
		t.Fatalf("refresh forgot the requirement: %s", r.Body)
	}
	access = r.str(t, "access_token")
	expectProblem(t, s.do(t, "GET", "/api/v1/admin/users", nil, bearer(access)), http.StatusForbidden, "mfa_enrollment_required")
	// An operator's admin key is no sign-in: it works.
	key := strings.TrimSpace(s.cli(t, "keys", "create", "--email", adm.Email, "--scope", "admin"))
	key = key[strings.LastIndex(key, "\n")+1:]
	expectStatus(t, s.do(t, "GET", "/api/v1/admin/users", nil, "X-API-Key: "+key), http.StatusOK)

	// Enrolling frees this session at once, and the next sign-in asks for a code.
	adm.Access = access
	s.enrolTOTP(t, adm)
	expectStatus(t, s.do(t, "GET", "/api/v1/admin/users", nil, bearer(access)), http.StatusOK)
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me/sessions", nil, bearer(access)), http.StatusOK)
	s.mfaLogin(t, adm)
}

// TestWebMFARequiredRoles: on the dashboard such a session is sent to /account/security from
// every other page, with a notice, until it enrols.
func TestWebMFARequiredRoles(t *testing.T) {
	s := startServer(t, "GATEHOUSE_MFA_REQUIRED_ROLES=admin")
	adm := s.admin(t)
	b := s.webClient(t)
	b.signIn(adm.Email, adm.Password)
	for _, path := range []string{"/account", "/account/keys", "/admin/users"} {
		expectRedirect(t, b.get(path), "/account/security?notice=mfa_enrol")
	}
	expectRedirect(t, b.submit("/account/keys", url.Values{"action": {"create"}, "name": {"x"}, "scopes": {"profile:read"}, "expires_in_days": {"30"}}), "/account/security?notice=mfa_enrol")
	r := b.get("/account/security?notice=mfa_enrol")
	expectPage(t, r, http.StatusOK, "Your role requires two-step sign-in", "Set up an authenticator app")
	r = b.submit("/account/security", url.Values{"action": {"begin"}})
	m := setupKey.FindSubmatch(r.Body)
	if m == nil {
		t.Fatalf("no setup key: %s", r.Body)
	}
	r = b.submit("/account/security", url.Values{"action": {"confirm"}, "code": {totpCode(t, string(m[1]), time.Now().Add(-30*time.Second))}})
	expectPage(t, r, http.StatusOK, "Your recovery codes")
	expectPage(t, b.get("/admin/users"), http.StatusOK, adm.Email)
}

// TestMFARequiredRolesTokenExchange: the access token of a session that must first enrol is no
// subject for token exchange; once the user has enrolled, it is.
func TestMFARequiredRolesTokenExchange(t *testing.T) {
	s := startServer(t, "GATEHOUSE_MFA_REQUIRED_ROLES=user")
	x := &exRig{s: s, admin: s.admin(t), ownAPI: s.URL + "/api/v1"}
	s.addOAuthResource(t, x.admin, exResource, "Tools", "tools:read=Read your tools")
	x.svcID, x.svcSecret = x.exchangeClient(t, "Key service")
	user := s.register(t)
	r := x.exchange(t, x.svcID, x.svcSecret, "subject_token="+user.Access, accessType, "resource="+exResource)
	expectO2Error(t, r, http.StatusBadRequest, gatehouse.OAuthInvalidGrant)
	s.enrolTOTP(t, user)
	exchangeOK(t, x.exchange(t, x.svcID, x.svcSecret, "subject_token="+user.Access, accessType, "resource="+exResource))
}
