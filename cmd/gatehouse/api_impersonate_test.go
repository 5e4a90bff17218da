package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// impersonate starts an impersonation of user by admin and returns the access token.
func (s *testServer) impersonate(t *testing.T, admin *account, userID string) string {
	t.Helper()
	r := s.do(t, "POST", "/api/v1/admin/users/"+userID+"/impersonate", map[string]string{"reason": "ticket #42: the user cannot see their credits"}, bearer(admin.Access))
	expectStatus(t, r, http.StatusOK)
	return r.str(t, "access_token")
}

func TestImpersonationToken(t *testing.T) {
	s := startServer(t)
	admin := s.admin(t)
	u := s.register(t)
	before := time.Now().Add(-time.Second)
	r := s.do(t, "POST", "/api/v1/admin/users/"+u.ID+"/impersonate", map[string]string{"reason": "ticket #42"}, bearer(admin.Access))
	expectStatus(t, r, http.StatusOK)
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("Cache-Control %q", cc)
	}
	m := r.json(t)
	if _, ok := m["refresh_token"]; ok {
		t.Fatalf("an impersonation answer carries a refresh token: %s", r.Body)
	}
	expiresIn, _ := m["expires_in"].(float64)
	if expiresIn <= 0 || expiresIn > 3600 {
		t.Fatalf("expires_in %v", m["expires_in"])
	}
	access, _ := m["access_token"].(string)
	c := claimsOf(t, access)
	act, _ := c["act"].(map[string]any)
	if c["sub"] != u.ID || act == nil || act["sub"] != admin.ID || len(act) != 1 {
		t.Fatalf("claims sub %v act %v, want sub %s act {sub: %s}", c["sub"], c["act"], u.ID, admin.ID)
	}
	exp, _ := c["exp"].(float64)
	iat, _ := c["iat"].(float64)
	if exp-iat > 3600 || exp-iat != expiresIn || time.Unix(int64(exp), 0).After(before.Add(time.Hour+time.Minute)) {
		t.Fatalf("exp %v iat %v expires_in %v: longer than an hour, or not what the answer says", exp, iat, expiresIn)
	}
	// The token works as the user's: the API sees the user, and introspection names the actor.
	me := s.do(t, "GET", "/api/v1/users/me", nil, bearer(access))
	expectStatus(t, me, http.StatusOK)
	if me.str(t, "id") != u.ID {
		t.Fatalf("/users/me as the impersonated user: %s", me.Body)
	}
	// The user sees the session among theirs.
	sid, _ := c["sid"].(string)
	list := s.do(t, "GET", "/api/v1/users/me/sessions", nil, bearer(u.Access))
	expectStatus(t, list, http.StatusOK)
	var sessions []map[string]any
	if err := json.Unmarshal(list.Body, &sessions); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, sess := range sessions {
		switch sess["id"] {
		case sid:
			found = true
			if sess["impersonated_by"] != admin.ID {
				t.Fatalf("the impersonation session does not name the admin: %v", sess)
			}
		default:
			if _, ok := sess["impersonated_by"]; ok {
				t.Fatalf("the user's own session names an admin: %v", sess)
			}
		}
	}
	if sid == "" || !found {
		t.Fatalf("the impersonation session %q is not among the user's: %s", sid, list.Body)
	}
}

func TestImpersonationRefusals(t *testing.T) {
	s := startServer(t)
	admin := s.admin(t)
	other := s.register(t)
	expectStatus(t, s.do(t, "PATCH", "/api/v1/admin/users/"+other.ID, map[string]any{"role": "admin"}, bearer(admin.Access)), http.StatusOK)
	u := s.register(t)
	path := "/api/v1/admin/users/" + u.ID + "/impersonate"

	// A reason is required, non-empty and bounded.
	expectProblem(t, s.do(t, "POST", path, map[string]string{}, bearer(admin.Access)), http.StatusBadRequest, "reason_required")
	expectProblem(t, s.do(t, "POST", path, map[string]string{"reason": "   "}, bearer(admin.Access)), http.StatusBadRequest, "reason_required")
	expectProblem(t, s.do(t, "POST", path, map[string]string{"reason": strings.Repeat("x", 501)}, bearer(admin.Access)), http.StatusUnprocessableEntity, "validation_failed")
	// Users are refused, and so are admins' API keys.
	v := s.register(t)
	expectProblem(t, s.do(t, "POST", path, map[string]string{"reason": "curious"}, bearer(v.Access)), http.StatusForbidden, "forbidden")
	kr := s.do(t, "POST", "/api/v1/api-keys", map[string]any{"name": "ops", "scopes": []string{"admin"}}, bearer(admin.Access))
	expectStatus(t, kr, http.StatusCreated)
	key, _ := kr.json(t)["api_key"].(string)
	expectProblem(t, s.do(t, "POST", path, map[string]string{"reason": "script"}, "X-API-Key: "+key), http.StatusForbidden, "session_required")
	// Admins cannot be impersonated, themselves included; unknown users are 404.
	expectProblem(t, s.do(t, "POST", "/api/v1/admin/users/"+admin.ID+"/impersonate", map[string]string{"reason": "self"}, bearer(admin.Access)), http.StatusForbidden, "impersonation_not_allowed")
	expectProblem(t, s.do(t, "POST", "/api/v1/admin/users/"+other.ID+"/impersonate", map[string]string{"reason": "peer"}, bearer(admin.Access)), http.StatusForbidden, "impersonation_not_allowed")
	expectProblem(t, s.do(t, "POST", "/api/v1/admin/users/nobody/impersonate", map[string]string{"reason": "ghost"}, bearer(admin.Access)), http.StatusNotFound, "")
	// None of the refused requests started a session for the user.
	r := s.do(t, "GET", "/api/v1/admin/audit?type=impersonation.started", nil, bearer(admin.Access))
	expectStatus(t, r, http.StatusOK)
	if items, _ := r.json(t)["items"].([]any); len(items) != 0 {
		t.Fatalf("refused impersonations were recorded as started: %s", r.Body)
	}

	// Inside the session, what would take the account from its owner is refused.
	tok := s.impersonate(t, admin, u.ID)
	forbidden := []struct {
		method, path string
		body         any
	}{
		{"POST", "/api/v1/users/me/password", map[string]string{"current_password": u.Password, "new_password": "a brand new password 123"}},
		{"POST", "/api/v1/users/me/mfa/totp", nil},
		{"POST", "/api/v1/users/me/mfa/totp/confirm", map[string]string{"code": "123456"}},
		{"DELETE", "/api/v1/users/me/mfa/totp", map[string]string{"password": u.Password}},
		{"POST", "/api/v1/users/me/mfa/recovery-codes", map[string]string{"code": "123456"}},
		{"POST", "/api/v1/api-keys", map[string]any{"name": "backdoor"}},
		{"DELETE", "/api/v1/api-keys/some-key", nil},
		{"DELETE", "/api/v1/users/me/identities/github", nil},
		{"DELETE", "/api/v1/users/me/grants/some-grant", nil},
		{"DELETE", "/api/v1/users/me/sessions/some-session", nil},
		{"GET", "/api/v1/admin/users", nil},
		{"GET", "/api/v1/admin/audit", nil},
		{"POST", "/api/v1/admin/users/" + v.ID + "/impersonate", map[string]string{"reason": "chain"}},
	}
	for _, f := range forbidden {
		expectProblem(t, s.do(t, f.method, f.path, f.body, bearer(tok)), http.StatusForbidden, "impersonation_forbidden")
	}
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/logout", map[string]bool{"all": true}, bearer(tok)), http.StatusForbidden, "impersonation_forbidden")
	// Nothing was changed: the user's password still signs in, no key or second factor exists.
	s.login(t, u.Email, u.Password)
	if r := s.do(t, "GET", "/api/v1/api-keys", nil, bearer(u.Access)); r.Status != http.StatusOK || strings.Contains(string(r.Body), "backdoor") {
		t.Fatalf("keys after the refusals: %d %s", r.Status, r.Body)
	}
	mfa := s.do(t, "GET", "/api/v1/users/me/mfa", nil, bearer(u.Access))
	expectStatus(t, mfa, http.StatusOK)
	if mfa.json(t)["totp"] == true {
		t.Fatalf("a factor was enrolled: %s", mfa.Body)
	}
	// The user's other sessions stand.
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(u.Access)), http.StatusOK)
	// Reading and the profile name are allowed: support can see and fix what the user sees.
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me/sessions", nil, bearer(tok)), http.StatusOK)
	expectStatus(t, s.do(t, "PATCH", "/api/v1/users/me", map[string]string{"name": "Fixed Name"}, bearer(tok)), http.StatusOK)
}

// auditItems lists the admin audit log filtered by query.
func (s *testServer) auditItems(t *testing.T, admin *account, query string) []map[string]any {
	t.Helper()
	r := s.do(t, "GET", "/api/v1/admin/audit?limit=200&"+query, nil, bearer(admin.Access))
	expectStatus(t, r, http.StatusOK)
	var out struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal(r.Body, &out); err != nil {
		t.Fatal(err)
	}
	return out.Items
}

func TestImpersonationAudit(t *testing.T) {
	s := startServer(t)
	admin := s.admin(t)
	u := s.register(t)
	tok := s.impersonate(t, admin, u.ID)
	// The start names both, with the reason.
	started := s.auditItems(t, admin, "type=impersonation.started")
	if len(started) != 1 || started[0]["user_id"] != u.ID || started[0]["actor_id"] != admin.ID ||
		!strings.Contains(started[0]["detail"].(string), "ticket #42") || !strings.Contains(started[0]["detail"].(string), admin.ID) {
		t.Fatalf("impersonation.started events: %v", started)
	}
	// Every event written in the session names the admin beside the user, refusals included.
	expectStatus(t, s.do(t, "PATCH", "/api/v1/users/me", map[string]string{"name": "Support Fixed"}, bearer(tok)), http.StatusOK)
	expectProblem(t, s.do(t, "POST", "/api/v1/api-keys", map[string]any{"name": "x"}, bearer(tok)), http.StatusForbidden, "impersonation_forbidden")
	expectStatus(t, s.do(t, "POST", "/api/v1/auth/logout", nil, bearer(tok)), http.StatusOK)
	for _, typ := range []string{"user.profile_updated", "impersonation.refused", "session.logged_out"} {
		items := s.auditItems(t, admin, "type="+typ+"&user_id="+u.ID)
		if len(items) != 1 || items[0]["user_id"] != u.ID || items[0]["actor_id"] != admin.ID {
			t.Fatalf("%s events: %v", typ, items)
		}
	}
	// The user's own actions name no actor.
	expectStatus(t, s.do(t, "PATCH", "/api/v1/users/me", map[string]string{"name": "Myself"}, bearer(u.Access)), http.StatusOK)
	items := s.auditItems(t, admin, "type=user.profile_updated&user_id="+u.ID)
	if len(items) != 2 || items[0]["actor_id"] != nil {
		t.Fatalf("the user's own event: %v", items)
	}
	// The user sees it in their own log too.
	r := s.do(t, "GET", "/api/v1/users/me/audit", nil, bearer(u.Access))
	expectStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.Body), "impersonation.started") || !strings.Contains(string(r.Body), admin.ID) {
		t.Fatalf("the user's log does not show the impersonation: %s", r.Body)
	}
}

func TestImpersonationEnds(t *testing.T) {
	s := startServer(t)
	admin := s.admin(t)
	u := s.register(t)

	// Logout ends it.
	tok := s.impersonate(t, admin, u.ID)
	expectStatus(t, s.do(t, "POST", "/api/v1/auth/logout", nil, bearer(tok)), http.StatusOK)
	expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(tok)), http.StatusUnauthorized, "")
	// The user's own session did not end with it.
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(u.Access)), http.StatusOK)

	// The user revoking it from their session list ends it.
	tok = s.impersonate(t, admin, u.ID)
	sid, _ := claimsOf(t, tok)["sid"].(string)
	expectStatus(t, s.do(t, "DELETE", "/api/v1/users/me/sessions/"+sid, nil, bearer(u.Access)), http.StatusNoContent)
	expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(tok)), http.StatusUnauthorized, "")

	// The user signing out everywhere ends it.
	tok = s.impersonate(t, admin, u.ID)
	expectStatus(t, s.do(t, "POST", "/api/v1/auth/logout", map[string]bool{"all": true}, bearer(u.Access)), http.StatusOK)
	expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(tok)), http.StatusUnauthorized, "")

	// Disabling the user ends it.
	w := s.register(t)
	tok = s.impersonate(t, admin, w.ID)
	expectStatus(t, s.do(t, "PATCH", "/api/v1/admin/users/"+w.ID, map[string]any{"is_active": false}, bearer(admin.Access)), http.StatusOK)
	expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(tok)), http.StatusUnauthorized, "")

	// The admin losing the admin role ends the sessions they opened as others.
	x := s.register(t)
	tok = s.impersonate(t, admin, x.ID)
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(tok)), http.StatusOK)
	expectStatus(t, s.do(t, "PATCH", "/api/v1/admin/users/"+admin.ID, map[string]any{"role": "user"}, bearer(admin.Access)), http.StatusOK)
	expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(tok)), http.StatusUnauthorized, "")
}

func TestImpersonationNeedsAdminMFA(t *testing.T) {
	s := startServer(t, "GATEHOUSE_ADMIN_REQUIRE_MFA=true")
	admin := s.admin(t)
	u := s.register(t)
	path := "/api/v1/admin/users/" + u.ID + "/impersonate"
	expectProblem(t, s.do(t, "POST", path, map[string]string{"reason": "ticket"}, bearer(admin.Access)), http.StatusForbidden, "mfa_required_for_admin")
	admin.Access = s.enrolAndSignIn(t, admin)
	tok := s.impersonate(t, admin, u.ID)
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(tok)), http.StatusOK)
}

// Parallel starts by two admins and a disable of the user: every start either happened before
// the disable (and its session is dead after it) or is refused; none survives.
func TestImpersonationRaceWithDisable(t *testing.T) {
	s := startServer(t)
	admin := s.admin(t)
	u := s.register(t)
	rs := concurrently(9, func(i int) *response {
		if i == 4 {
			return s.do(t, "PATCH", "/api/v1/admin/users/"+u.ID, map[string]any{"is_active": false}, bearer(admin.Access))
		}
		return s.do(t, "POST", "/api/v1/admin/users/"+u.ID+"/impersonate", map[string]string{"reason": "race"}, bearer(admin.Access))
	})
	expectStatus(t, rs[4], http.StatusOK)
	started := 0
	for i, r := range rs {
		if i == 4 {
			continue
		}
		switch r.Status {
		case http.StatusOK:
			started++
			expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(r.str(t, "access_token"))), http.StatusUnauthorized, "")
		case http.StatusForbidden:
			expectProblem(t, r, http.StatusForbidden, "impersonation_not_allowed")
		default:
			t.Fatalf("impersonation racing a disable: %d %s", r.Status, r.Body)
		}
	}
	if n := len(s.auditItems(t, admin, "type=impersonation.started")); n != started {
		t.Fatalf("%d starts answered, %d audited", started, n)
	}
}
