package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Review of impersonation: findings written as tests through the public surface.

// An impersonation session cannot spend the user's credits: usage writes no audit event (it is
// metered, not audited), so an admin could drain a balance with nothing naming them; support has
// no need to spend what the user paid for.
func TestImpersonationCannotSpendCredits(t *testing.T) {
	s := startServer(t)
	admin := s.admin(t)
	u := s.register(t)
	expectStatus(t, s.do(t, "POST", "/api/v1/admin/users/"+u.ID+"/credits", map[string]any{"amount": 10}, bearer(admin.Access)), http.StatusOK)
	tok := s.impersonate(t, admin, u.ID)
	expectProblem(t, s.do(t, "POST", "/api/v1/public/credits/usage", map[string]any{"amount": 10, "description": "support"}, bearer(tok)),
		http.StatusForbidden, "impersonation_forbidden")
	// Reading the balance stays allowed, and nothing was spent.
	r := s.do(t, "GET", "/api/v1/public/credits/balance", nil, bearer(tok))
	expectStatus(t, r, http.StatusOK)
	if b := s.do(t, "GET", "/api/v1/public/credits/balance", nil, bearer(u.Access)); !strings.Contains(string(b.Body), `"remaining_credits":10`) {
		t.Fatalf("the balance after a refused usage: %s", b.Body)
	}
	// The user's own session still spends.
	expectStatus(t, s.do(t, "POST", "/api/v1/public/credits/usage", map[string]any{"amount": 1}, bearer(u.Access)), http.StatusOK)
}

// The dashboard sets aside the admin's session as it is after the request that starts the
// impersonation: when that request refreshed the admin's expired access token, the refresh token
// it spent must not be what "End" puts back (replaying it later is refresh-token reuse, which
// revokes the admin's session as stolen). GATEHOUSE_REFRESH_REUSE_INTERVAL=0 stands for an admin
// who ends the impersonation after the retry window.
func TestWebImpersonationSetsAsideTheRefreshedSession(t *testing.T) {
	s := startServer(t, "GATEHOUSE_REFRESH_REUSE_INTERVAL=0")
	admin := s.admin(t)
	u := s.register(t)
	b := s.webClient(t)
	b.signIn(admin.Email, admin.Password)
	csrf := b.csrf()
	// The admin's access token has expired (stood for by one that no longer verifies): the next
	// request refreshes it server-side.
	_, refresh := b.sessionTokens()
	base, _ := url.Parse(s.URL)
	b.jar.SetCookies(base, []*http.Cookie{{Name: "gatehouse_session", Value: "v1." + refresh + ".expired", Path: "/"}})
	r := b.do("POST", "/admin/users/"+u.ID+"/impersonate", url.Values{"csrf_token": {csrf}, "reason": {"ticket #7"}},
		"Origin: "+s.URL, "Sec-Fetch-Site: same-origin")
	expectRedirect(t, r, "/account?notice=impersonation_started")
	expectRedirect(t, b.submit("/impersonation/end", url.Values{}), "/admin/users?notice=impersonation_ended")
	expectPage(t, b.get("/admin/users"), http.StatusOK, u.Email)
	// No refresh-token reuse was recorded against the admin.
	a := s.do(t, "GET", "/api/v1/admin/audit?type=token.reuse_detected", nil, bearer(admin.Access))
	expectStatus(t, a, http.StatusOK)
	if items, _ := a.json(t)["items"].([]any); len(items) != 0 {
		t.Fatalf("ending the impersonation replayed a spent refresh token: %s", a.Body)
	}
}

// An app's authorization request met in an impersonation session is refused as the user's
// refusal would be (access_denied), not answered server_error with an error in the server's log:
// the refusal is the rule working, not a fault.
func TestWebImpersonationAuthorizeIsAccessDenied(t *testing.T) {
	s := startServer(t)
	admin := s.admin(t)
	s.addOAuthResource(t, admin, "https://mcp.example/mcp", "Notes MCP", "mcp:tools=Use your notes tools", "mcp:read=Read your notes")
	redirect := "https://app.example/callback"
	clientID := s.createOAuthClient(t, admin, "Notes App", redirect)
	u := s.register(t)
	// The user consented once, in their own browser.
	ub := s.webClient(t)
	ub.signIn(u.Email, u.Password)
	o := newOAuthRequest(clientID, redirect, "scope=mcp:tools", "resource=https://mcp.example/mcp")
	s.expectCode(t, ub.decide(expectConsent(t, ub.get(o.path())), "allow"), o)

	b := s.webClient(t)
	b.signIn(admin.Email, admin.Password)
	expectRedirect(t, b.submit("/admin/users/"+u.ID+"/impersonate", url.Values{"reason": {"ticket #9"}}), "/account?notice=impersonation_started")
	// A remembered consent, with and without prompt=none.
	o1 := newOAuthRequest(clientID, redirect, "scope=mcp:tools", "resource=https://mcp.example/mcp")
	s.expectOAuthError(t, b.get(o1.path()), o1, "access_denied")
	o2 := newOAuthRequest(clientID, redirect, "scope=mcp:tools", "resource=https://mcp.example/mcp", "prompt=none")
	s.expectOAuthError(t, b.get(o2.path()), o2, "access_denied")
	// A consent page answered "allow".
	o3 := newOAuthRequest(clientID, redirect, "scope=mcp:tools mcp:read", "resource=https://mcp.example/mcp")
	r := b.get(o3.path())
	if r.Status == http.StatusOK {
		s.expectOAuthError(t, b.decide(expectConsent(t, r), "allow"), o3, "access_denied")
	} else {
		s.expectOAuthError(t, r, o3, "access_denied")
	}
	if strings.Contains(s.logs.String(), "authorization request failed") {
		t.Fatalf("a refused impersonation was logged as a server error: %s", s.logs.String())
	}
}

// An impersonation token stops working as soon as its admin is no longer an active admin, for
// the resource servers that ask Gatehouse too: introspection answers as the API does.
func TestImpersonationIntrospectionAfterAdminDemoted(t *testing.T) {
	s := startServer(t)
	admin := s.admin(t)
	rs := s.register(t)
	introspector := s.createKey(t, rs.Access, "tokens:introspect")["api_key"].(string)
	introspect := func(token string) map[string]any {
		r := s.do(t, "POST", "/api/v1/auth/introspect", map[string]string{"token": token}, "X-API-Key: "+introspector)
		expectStatus(t, r, http.StatusOK)
		return r.json(t)
	}
	u := s.register(t)
	tok := s.impersonate(t, admin, u.ID)
	if in := introspect(tok); in["active"] != true || in["act"] == nil {
		t.Fatalf("a live impersonation token introspects as %v", in)
	}
	expectStatus(t, s.do(t, "PATCH", "/api/v1/admin/users/"+admin.ID, map[string]any{"role": "user"}, bearer(admin.Access)), http.StatusOK)
	expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(tok)), http.StatusUnauthorized, "")
	if in := introspect(tok); in["active"] != false {
		t.Fatalf("the impersonation token of a demoted admin introspects as %v", in)
	}
}

// Admins cannot be impersonated, also when the user becomes one during the impersonation: the
// session ends then, or introspection would tell resource servers that the admin acting as the
// user holds role admin and the admin scope.
func TestImpersonationEndsWhenTheUserBecomesAdmin(t *testing.T) {
	s := startServer(t)
	admin := s.admin(t)
	rs := s.register(t)
	introspector := s.createKey(t, rs.Access, "tokens:introspect")["api_key"].(string)
	u := s.register(t)
	tok := s.impersonate(t, admin, u.ID)
	expectStatus(t, s.do(t, "PATCH", "/api/v1/admin/users/"+u.ID, map[string]any{"role": "admin"}, bearer(admin.Access)), http.StatusOK)
	r := s.do(t, "POST", "/api/v1/auth/introspect", map[string]string{"token": tok}, "X-API-Key: "+introspector)
	expectStatus(t, r, http.StatusOK)
	if in := r.json(t); in["active"] != false {
		t.Fatalf("the impersonation of a user who became admin introspects as %v", in)
	}
	expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(tok)), http.StatusUnauthorized, "")
}

// Demoting or disabling an admin ends the impersonation sessions they opened for good: making
// them admin again (or enabling them) does not bring those sessions back.
func TestImpersonationStaysEndedAfterTheAdminIsPromotedAgain(t *testing.T) {
	s := startServer(t)
	admin := s.admin(t)
	peer := s.register(t)
	expectStatus(t, s.do(t, "PATCH", "/api/v1/admin/users/"+peer.ID, map[string]any{"role": "admin"}, bearer(admin.Access)), http.StatusOK)
	u := s.register(t)
	tok := s.impersonate(t, admin, u.ID)
	expectStatus(t, s.do(t, "PATCH", "/api/v1/admin/users/"+admin.ID, map[string]any{"role": "user"}, bearer(peer.Access)), http.StatusOK)
	expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(tok)), http.StatusUnauthorized, "")
	expectStatus(t, s.do(t, "PATCH", "/api/v1/admin/users/"+admin.ID, map[string]any{"role": "admin"}, bearer(peer.Access)), http.StatusOK)
	expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(tok)), http.StatusUnauthorized, "")
	// The user's list no longer shows it.
	sid, _ := claimsOf(t, tok)["sid"].(string)
	if list := s.do(t, "GET", "/api/v1/users/me/sessions", nil, bearer(u.Access)); strings.Contains(string(list.Body), sid) {
		t.Fatalf("the ended impersonation session is still listed: %s", list.Body)
	}
}

// Introspection of an impersonation token reports only the scopes an impersonation may use: a
// resource server that trusts the answer must not let the admin do through it what Gatehouse
// refuses them (create or revoke keys, spend credits).
func TestImpersonationIntrospectedScopes(t *testing.T) {
	s := startServer(t)
	admin := s.admin(t)
	rs := s.register(t)
	introspector := s.createKey(t, rs.Access, "tokens:introspect")["api_key"].(string)
	scopeOf := func(token string) []string {
		r := s.do(t, "POST", "/api/v1/auth/introspect", map[string]string{"token": token}, "X-API-Key: "+introspector)
		expectStatus(t, r, http.StatusOK)
		m := r.json(t)
		if m["active"] != true {
			t.Fatalf("introspection: %v", m)
		}
		sc, _ := m["scope"].(string)
		return strings.Fields(sc)
	}
	u := s.register(t)
	tok := s.impersonate(t, admin, u.ID)
	got := scopeOf(tok)
	for _, refused := range []string{"keys:write", "credits:write", "admin"} {
		for _, sc := range got {
			if sc == refused {
				t.Fatalf("an impersonation token introspects with %s: %v", refused, got)
			}
		}
	}
	if !strings.Contains(strings.Join(got, " "), "profile:read") {
		t.Fatalf("an impersonation token lost the reading scopes: %v", got)
	}
	// The user's own session keeps every scope of a user.
	if own := strings.Join(scopeOf(u.Access), " "); !strings.Contains(own, "keys:write") || !strings.Contains(own, "credits:write") {
		t.Fatalf("the user's own token introspects with %q", own)
	}
}
