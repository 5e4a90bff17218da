package main

import (
	"net/http"
	"slices"
	"testing"

	"github.com/gatehouse/gatehouse/internal/smtptest"
)

// The rotation cache (rotationcache.go, docs/security.md section 18): a successor's next
// refresh is decided from what its rotation remembered, with no read. Every test here refreshes
// once first, so that the token it then spends is such a cached successor, makes a change the
// snapshot cannot know, and refreshes the successor: the answer must be the one a fresh read
// gives. They fail if the guarded write of sqlstore's spendGuarded stops checking what changed.

// refreshOnce spends refresh on the first-party endpoint and returns the answer's tokens.
func (s *testServer) refreshOnce(t *testing.T, refresh string) (access, next string) {
	t.Helper()
	r := s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": refresh})
	expectStatus(t, r, http.StatusOK)
	return r.str(t, "access_token"), r.str(t, "refresh_token")
}

func TestRefreshCachedOrgRoleChange(t *testing.T) {
	g := startOrgRig(t)
	owner := g.s.register(t)
	orgID := g.createOrg(t, owner, "cached-role")
	member := g.join(t, orgID, owner, "member")
	g.switchOrg(t, member, orgID)
	_, cached := g.s.refreshOnce(t, member.Refresh)

	expectStatus(t, g.s.do(t, "PATCH", "/api/v1/orgs/"+orgID+"/members/"+member.ID, map[string]string{"role": "admin"}, bearer(owner.Access)), http.StatusOK)
	access, _ := g.s.refreshOnce(t, cached)
	if id, role, perms := orgClaims(t, access); id != orgID || role != "admin" || !slices.Contains(perms, "members:write") {
		t.Fatalf("a refresh after the role change carries %q %q %v", id, role, perms)
	}
	// The token agrees with its session: the API takes it.
	expectStatus(t, g.s.do(t, "GET", "/api/v1/users/me", nil, bearer(access)), http.StatusOK)
}

func TestRefreshCachedOrgRemoval(t *testing.T) {
	g := startOrgRig(t)
	owner := g.s.register(t)
	orgID := g.createOrg(t, owner, "cached-removal")
	member := g.join(t, orgID, owner, "member")
	g.switchOrg(t, member, orgID)
	_, cached := g.s.refreshOnce(t, member.Refresh)

	expectStatus(t, g.s.do(t, "DELETE", "/api/v1/orgs/"+orgID+"/members/"+member.ID, nil, bearer(owner.Access)), http.StatusNoContent)
	access, _ := g.s.refreshOnce(t, cached)
	if id, role, perms := orgClaims(t, access); id != "" || role != "" || len(perms) != 0 {
		t.Fatalf("a refresh after the removal still names the organization: %q %q %v", id, role, perms)
	}
	expectStatus(t, g.s.do(t, "GET", "/api/v1/users/me", nil, bearer(access)), http.StatusOK)
}

// A switch to another organization with the same role changes the session's org_id and not its
// org_role: the refresh carries the organization switched to.
func TestRefreshCachedOrgSwitchSameRole(t *testing.T) {
	g := startOrgRig(t)
	owner := g.s.register(t)
	first := g.createOrg(t, owner, "cached-first")
	second := g.createOrg(t, owner, "cached-second")
	member := g.join(t, first, owner, "member")
	expectStatus(t, g.accept(t, member, g.invite(t, second, owner, member.Email, "member")), http.StatusOK)
	member.Access = g.switchOrg(t, member, first)
	var cached string
	member.Access, cached = g.s.refreshOnce(t, member.Refresh)

	g.switchOrg(t, member, second)
	access, _ := g.s.refreshOnce(t, cached)
	if id, role, _ := orgClaims(t, access); id != second || role != "member" {
		t.Fatalf("a refresh after switching organizations carries %q %q, want %q member", id, role, second)
	}
	expectStatus(t, g.s.do(t, "GET", "/api/v1/users/me", nil, bearer(access)), http.StatusOK)
}

func TestRefreshCachedOAuthGrantAfterOrgRemoval(t *testing.T) {
	x := newOrgApp(t)
	o, r := x.consent(t, &x.orgID)
	tok := x.tokens(t, o, r)
	rr := x.refresh(t, tok["refresh_token"].(string))
	expectStatus(t, rr, http.StatusOK)
	cached := rr.str(t, "refresh_token")

	expectStatus(t, x.g.s.do(t, "DELETE", "/api/v1/orgs/"+x.orgID+"/members/"+x.member.ID, nil, bearer(x.owner.Access)), http.StatusNoContent)
	expectO2Error(t, x.refresh(t, cached), http.StatusBadRequest, "invalid_grant")
	// Refused, not spent-and-lost: still refused, and nothing else was handed out.
	expectO2Error(t, x.refresh(t, cached), http.StatusBadRequest, "invalid_grant")
}

func TestRefreshCachedUserDisabled(t *testing.T) {
	s := startServer(t)
	admin := s.admin(t)
	u := s.register(t)
	_, cached := s.refreshOnce(t, u.Refresh)

	expectStatus(t, s.do(t, "PATCH", "/api/v1/admin/users/"+u.ID, map[string]any{"is_active": false}, bearer(admin.Access)), http.StatusOK)
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": cached}), http.StatusUnauthorized, "invalid_refresh_token")
	// Enabling the account again revives nothing.
	expectStatus(t, s.do(t, "PATCH", "/api/v1/admin/users/"+u.ID, map[string]any{"is_active": true}, bearer(admin.Access)), http.StatusOK)
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": cached}), http.StatusUnauthorized, "invalid_refresh_token")
}

func TestRefreshCachedUserRoleChange(t *testing.T) {
	s := startServer(t)
	admin := s.admin(t)
	u := s.register(t)
	_, cached := s.refreshOnce(t, u.Refresh)

	expectStatus(t, s.do(t, "PATCH", "/api/v1/admin/users/"+u.ID, map[string]any{"role": "admin"}, bearer(admin.Access)), http.StatusOK)
	r := s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": cached})
	expectStatus(t, r, http.StatusOK)
	if role := claimsOf(t, r.str(t, "access_token"))["role"]; role != "admin" {
		t.Fatalf("a refresh after the promotion carries role %v", role)
	}
	if user, _ := r.json(t)["user"].(map[string]any); user["role"] != "admin" {
		t.Fatalf("the refresh answer's user: %v", user)
	}
}

func TestRefreshCachedTOTPEnrolled(t *testing.T) {
	s := startServer(t, "GATEHOUSE_MFA_REQUIRED_ROLES=admin")
	adm := s.admin(t)
	r := s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": adm.Refresh})
	expectStatus(t, r, http.StatusOK)
	if r.json(t)["mfa_enrollment_required"] != true {
		t.Fatalf("an admin without a factor is not asked to enrol: %s", r.Body)
	}
	adm.Access, adm.Refresh = r.str(t, "access_token"), r.str(t, "refresh_token")

	s.enrolTOTP(t, adm)
	r = s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": adm.Refresh})
	expectStatus(t, r, http.StatusOK)
	if v, ok := r.json(t)["mfa_enrollment_required"]; ok {
		t.Fatalf("the refresh after enrolment still says mfa_enrollment_required=%v", v)
	}
	expectStatus(t, s.do(t, "GET", "/api/v1/admin/users", nil, bearer(r.str(t, "access_token"))), http.StatusOK)
}

// A cached successor, spent through the cache, presented again once the retry window has passed
// is reuse: the session is revoked, its latest token with it.
func TestRefreshCachedReuseRevokesTheSession(t *testing.T) {
	s := startServer(t, "GATEHOUSE_REFRESH_REUSE_INTERVAL=1ns")
	a := s.register(t)
	_, cached := s.refreshOnce(t, a.Refresh)
	access, latest := s.refreshOnce(t, cached) // spent through the cache

	expectProblem(t, s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": cached}), http.StatusUnauthorized, "invalid_refresh_token")
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": latest}), http.StatusUnauthorized, "invalid_refresh_token")
	expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(access)), http.StatusUnauthorized, "")
}

// Concurrent refreshes of one cached successor: one successor for all within the window, and
// exactly one success without it.
func TestRefreshCachedConcurrent(t *testing.T) {
	t.Run("window", func(t *testing.T) {
		s := startServer(t)
		a := s.register(t)
		_, cached := s.refreshOnce(t, a.Refresh)
		tokens := map[string]bool{}
		for _, r := range concurrentRefreshes(t, s, cached, 20) {
			expectStatus(t, r, http.StatusOK)
			tokens[r.str(t, "refresh_token")] = true
		}
		if len(tokens) != 1 {
			t.Fatalf("20 concurrent refreshes of a cached token forked the session into %d tokens", len(tokens))
		}
	})
	t.Run("no window", func(t *testing.T) {
		s := startServer(t, "GATEHOUSE_REFRESH_REUSE_INTERVAL=0")
		a := s.register(t)
		_, cached := s.refreshOnce(t, a.Refresh)
		ok := 0
		for _, r := range concurrentRefreshes(t, s, cached, 20) {
			switch r.Status {
			case http.StatusOK:
				ok++
			case http.StatusUnauthorized:
			default:
				t.Fatalf("unexpected status %d: %s", r.Status, r.Body)
			}
		}
		if ok != 1 {
			t.Fatalf("%d of 20 concurrent refreshes of a cached token succeeded, want 1", ok)
		}
	})
}

// TestClusterRefreshCached: two instances on one PostgreSQL database. A caches the successor of
// its refresh; the change is made through B, which A hears nothing of in the rotation cache, and
// A's refresh of the successor must still see it. Then concurrent refreshes of a cached successor
// split over both instances agree on one successor.
func TestClusterRefreshCached(t *testing.T) {
	mail := smtptest.Start(t, smtptest.Options{})
	env := with(clusterEnv(t), mailEnv(mail)...)
	servers := startCluster(t, env, env)
	a, b := servers[0], servers[1]
	g := &orgRig{s: b, mail: mail}
	admin := b.admin(t)
	owner := b.register(t)
	orgID := g.createOrg(t, owner, "cluster-cached")

	t.Run("org role changed on B", func(t *testing.T) {
		member := g.join(t, orgID, owner, "member")
		g.switchOrg(t, member, orgID)
		_, cached := a.refreshOnce(t, member.Refresh)
		expectStatus(t, b.do(t, "PATCH", "/api/v1/orgs/"+orgID+"/members/"+member.ID, map[string]string{"role": "admin"}, bearer(owner.Access)), http.StatusOK)
		access, _ := a.refreshOnce(t, cached)
		if id, role, _ := orgClaims(t, access); id != orgID || role != "admin" {
			t.Fatalf("A's refresh after B's role change carries %q %q", id, role)
		}
	})
	t.Run("user promoted on B", func(t *testing.T) {
		u := b.register(t)
		_, cached := a.refreshOnce(t, u.Refresh)
		expectStatus(t, b.do(t, "PATCH", "/api/v1/admin/users/"+u.ID, map[string]any{"role": "admin"}, bearer(admin.Access)), http.StatusOK)
		access, _ := a.refreshOnce(t, cached)
		if role := claimsOf(t, access)["role"]; role != "admin" {
			t.Fatalf("A's refresh after B's promotion carries role %v", role)
		}
	})
	t.Run("user disabled on B", func(t *testing.T) {
		u := b.register(t)
		_, cached := a.refreshOnce(t, u.Refresh)
		expectStatus(t, b.do(t, "PATCH", "/api/v1/admin/users/"+u.ID, map[string]any{"is_active": false}, bearer(admin.Access)), http.StatusOK)
		expectProblem(t, a.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": cached}), http.StatusUnauthorized, "invalid_refresh_token")
	})
	t.Run("logout on B", func(t *testing.T) {
		u := b.register(t)
		access, cached := a.refreshOnce(t, u.Refresh)
		expectStatus(t, b.do(t, "POST", "/api/v1/auth/logout", map[string]any{}, bearer(access)), http.StatusOK)
		expectProblem(t, a.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": cached}), http.StatusUnauthorized, "invalid_refresh_token")
	})
	t.Run("concurrent across instances", func(t *testing.T) {
		u := b.register(t)
		_, cached := a.refreshOnce(t, u.Refresh)
		successors := map[string]bool{}
		for _, r := range refreshAcross(servers, cached, 20) {
			expectStatus(t, r, http.StatusOK)
			successors[r.str(t, "refresh_token")] = true
		}
		if len(successors) != 1 {
			t.Fatalf("concurrent refreshes of a cached successor on two instances forked the session into %d tokens", len(successors))
		}
	})
}

// Revocations between the first refresh and the refresh of its cached successor.
func TestRefreshCachedAfterRevocations(t *testing.T) {
	s := startServer(t)
	for _, c := range []struct {
		name   string
		revoke func(t *testing.T, a *account, access, other string)
	}{
		{"logout", func(t *testing.T, a *account, access, other string) {
			expectStatus(t, s.do(t, "POST", "/api/v1/auth/logout", map[string]any{}, bearer(access)), http.StatusOK)
		}},
		{"logout everywhere from another session", func(t *testing.T, a *account, access, other string) {
			expectStatus(t, s.do(t, "POST", "/api/v1/auth/logout", map[string]any{"all": true}, bearer(other)), http.StatusOK)
		}},
		{"session revoked from another session", func(t *testing.T, a *account, access, other string) {
			expectStatus(t, s.do(t, "DELETE", "/api/v1/users/me/sessions/"+sessionIDOf(t, access), nil, bearer(other)), http.StatusNoContent)
		}},
		{"password changed in another session", func(t *testing.T, a *account, access, other string) {
			expectStatus(t, s.do(t, "POST", "/api/v1/users/me/password", map[string]string{"current_password": a.Password, "new_password": "another long passphrase 42"}, bearer(other)), http.StatusOK)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := s.register(t)
			other, _ := s.login(t, a.Email, a.Password)
			access, cached := s.refreshOnce(t, a.Refresh)
			c.revoke(t, a, access, other)
			expectProblem(t, s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": cached}), http.StatusUnauthorized, "invalid_refresh_token")
		})
	}
}

// Revocations of an app's access between its first refresh and the refresh of the cached
// successor: the user's revocation of the grant, an admin's revocation of the client, the
// deletion of the grant's organization.
func TestRefreshCachedOAuthAfterRevocations(t *testing.T) {
	for _, c := range []struct {
		name   string
		revoke func(t *testing.T, x *orgApp)
	}{
		{"grant revoked by the user", func(t *testing.T, x *orgApp) {
			grants := jsonArray(t, x.g.s.do(t, "GET", "/api/v1/users/me/grants", nil, bearer(x.member.Access)))
			if len(grants) != 1 {
				t.Fatalf("grants: %v", grants)
			}
			r := x.g.s.do(t, "DELETE", "/api/v1/users/me/grants/"+grants[0]["id"].(string), nil, bearer(x.member.Access))
			if r.Status/100 != 2 {
				t.Fatalf("revoking the grant: %d %s", r.Status, r.Body)
			}
		}},
		{"client revoked by an admin", func(t *testing.T, x *orgApp) {
			admin := x.g.s.admin(t)
			expectStatus(t, x.g.s.do(t, "DELETE", "/api/v1/admin/oauth/clients/"+x.id, nil, bearer(admin.Access)), http.StatusNoContent)
		}},
		{"organization deleted", func(t *testing.T, x *orgApp) {
			expectStatus(t, x.g.s.do(t, "DELETE", "/api/v1/orgs/"+x.orgID, nil, bearer(x.owner.Access)), http.StatusNoContent)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			x := newOrgApp(t)
			o, r := x.consent(t, &x.orgID)
			tok := x.tokens(t, o, r)
			rr := x.refresh(t, tok["refresh_token"].(string))
			expectStatus(t, rr, http.StatusOK)
			c.revoke(t, x)
			res := x.refresh(t, rr.str(t, "refresh_token"))
			if res.Status != http.StatusBadRequest && res.Status != http.StatusUnauthorized {
				t.Fatalf("refresh of the cached successor after the revocation: %d %s", res.Status, res.Body)
			}
			if _, ok := res.json(t)["access_token"]; ok {
				t.Fatalf("tokens after the revocation: %s", res.Body)
			}
		})
	}
}

// TestClusterRefreshCachedReuse: a successor spent through A's cache and replayed on B after the
// retry window is reuse; the session dies, and A's cached snapshot of the latest token with it.
func TestClusterRefreshCachedReuse(t *testing.T) {
	env := with(clusterEnv(t), "GATEHOUSE_REFRESH_REUSE_INTERVAL=1ns")
	servers := startCluster(t, env, env)
	a, b := servers[0], servers[1]
	u := a.register(t)
	_, cached := a.refreshOnce(t, u.Refresh)
	access, latest := a.refreshOnce(t, cached) // through A's cache; latest is cached on A
	expectProblem(t, b.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": cached}), http.StatusUnauthorized, "invalid_refresh_token")
	expectProblem(t, a.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": latest}), http.StatusUnauthorized, "invalid_refresh_token")
	expectProblem(t, a.do(t, "GET", "/api/v1/users/me", nil, bearer(access)), http.StatusUnauthorized, "")
}

// The user's own changes between a refresh and its cached successor's: the address verified, the
// name changed. Both reach the next refresh's access token and answer.
func TestRefreshCachedUserOwnChanges(t *testing.T) {
	g := startOrgRig(t)
	a := g.s.register(t)
	_, cached := g.s.refreshOnce(t, a.Refresh)
	g.verify(t, a.Email)
	r := g.s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": cached})
	expectStatus(t, r, http.StatusOK)
	if v := claimsOf(t, r.str(t, "access_token"))["email_verified"]; v != true {
		t.Fatalf("a refresh after the verification carries email_verified=%v", v)
	}
	access, cached := r.str(t, "access_token"), r.str(t, "refresh_token")

	expectStatus(t, g.s.do(t, "PATCH", "/api/v1/users/me", map[string]string{"name": "Renamed Person"}, bearer(access)), http.StatusOK)
	r = g.s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": cached})
	expectStatus(t, r, http.StatusOK)
	if user, _ := r.json(t)["user"].(map[string]any); user["name"] != "Renamed Person" {
		t.Fatalf("the refresh answer after the rename: %v", user)
	}
}
