package main

import (
	"net/http"
	"testing"
)

// TestOrgReviewLesserRoleCannotActOnGreater: a member whose custom role holds members:write but
// not everything an admin holds can neither demote nor remove that admin (nor another holder of
// permissions the caller lacks): acting on a member is bounded like granting a role is.
func TestOrgReviewLesserRoleCannotActOnGreater(t *testing.T) {
	g := startOrgRig(t)
	owner := g.s.register(t)
	orgID := g.createOrg(t, owner, "lesser")
	base := "/api/v1/orgs/" + orgID
	admin := g.join(t, orgID, owner, "admin")
	plain := g.join(t, orgID, owner, "member")
	hr := g.join(t, orgID, owner, "member")
	expectStatus(t, g.s.do(t, "POST", base+"/roles", map[string]any{"name": "hr", "permissions": []string{"org:read", "members:read", "members:write", "credits:read"}}, bearer(owner.Access)), http.StatusCreated)
	expectStatus(t, g.s.do(t, "PATCH", base+"/members/"+hr.ID, map[string]string{"role": "hr"}, bearer(owner.Access)), http.StatusOK)

	expectProblem(t, g.s.do(t, "PATCH", base+"/members/"+admin.ID, map[string]string{"role": "member"}, bearer(hr.Access)), http.StatusForbidden, "org_permission_denied")
	expectProblem(t, g.s.do(t, "DELETE", base+"/members/"+admin.ID, nil, bearer(hr.Access)), http.StatusForbidden, "org_permission_denied")
	if got := g.roleOf(t, orgID, owner, admin.ID); got != "admin" {
		t.Fatalf("admin's role became %q", got)
	}
	// Within its reach the role still works: a plain member is moved and removed.
	expectStatus(t, g.s.do(t, "PATCH", base+"/members/"+plain.ID, map[string]string{"role": "member"}, bearer(hr.Access)), http.StatusOK)
	expectStatus(t, g.s.do(t, "DELETE", base+"/members/"+plain.ID, nil, bearer(hr.Access)), http.StatusNoContent)
	// Admins still manage admins (they hold what admins hold).
	other := g.join(t, orgID, owner, "admin")
	expectStatus(t, g.s.do(t, "PATCH", base+"/members/"+other.ID, map[string]string{"role": "member"}, bearer(admin.Access)), http.StatusOK)
}

// TestOrgReviewIntrospectionAfterRemoval: introspection answers as the API does. A token whose
// organization or role disagrees with its session (removed from the organization, or demoted) is
// refused by the API at once; introspection must not call it active either, or a resource server
// that trusts the token's org_* claims once introspection confirms it keeps a removed member in.
func TestOrgReviewIntrospectionAfterRemoval(t *testing.T) {
	g := startOrgRig(t)
	owner := g.s.register(t)
	orgID := g.createOrg(t, owner, "introspected")
	base := "/api/v1/orgs/" + orgID
	rs := g.s.register(t)
	introspector := g.s.createKey(t, rs.Access, "tokens:introspect")["api_key"].(string)
	active := func(token string) bool {
		r := g.s.do(t, "POST", "/api/v1/auth/introspect", map[string]string{"token": token}, "X-API-Key: "+introspector)
		expectStatus(t, r, http.StatusOK)
		return r.json(t)["active"] == true
	}

	demoted := g.join(t, orgID, owner, "admin")
	demotedToken := g.switchOrg(t, demoted, orgID)
	removed := g.join(t, orgID, owner, "member")
	removedToken := g.switchOrg(t, removed, orgID)
	if !active(demotedToken) || !active(removedToken) {
		t.Fatal("fresh organization tokens are not active")
	}
	expectStatus(t, g.s.do(t, "PATCH", base+"/members/"+demoted.ID, map[string]string{"role": "member"}, bearer(owner.Access)), http.StatusOK)
	expectStatus(t, g.s.do(t, "DELETE", base+"/members/"+removed.ID, nil, bearer(owner.Access)), http.StatusNoContent)
	for name, token := range map[string]string{"demoted admin's": demotedToken, "removed member's": removedToken} {
		expectProblem(t, g.s.do(t, "GET", "/api/v1/users/me", nil, bearer(token)), http.StatusUnauthorized, "")
		if active(token) {
			t.Errorf("the %s token the API refuses is active to introspection", name)
		}
	}
}

// TestOrgReviewRevokeInvitationBound: revoking an invitation is bounded like issuing one: a role
// with invitations:write but not every permission of the invited role cannot revoke it (a
// recruiter role cannot cancel the owner's invitation of an admin).
func TestOrgReviewRevokeInvitationBound(t *testing.T) {
	g := startOrgRig(t)
	owner := g.s.register(t)
	orgID := g.createOrg(t, owner, "recruiting")
	base := "/api/v1/orgs/" + orgID
	recruiter := g.join(t, orgID, owner, "member")
	expectStatus(t, g.s.do(t, "POST", base+"/roles", map[string]any{"name": "recruiter", "permissions": []string{"org:read", "members:read", "credits:read", "invitations:write"}}, bearer(owner.Access)), http.StatusCreated)
	expectStatus(t, g.s.do(t, "PATCH", base+"/members/"+recruiter.ID, map[string]string{"role": "recruiter"}, bearer(owner.Access)), http.StatusOK)
	adminInv := g.s.do(t, "POST", base+"/invitations", map[string]string{"email": "cto@example.com", "role": "admin"}, bearer(owner.Access))
	expectStatus(t, adminInv, http.StatusCreated)
	memberInv := g.s.do(t, "POST", base+"/invitations", map[string]string{"email": "dev@example.com", "role": "member"}, bearer(recruiter.Access))
	expectStatus(t, memberInv, http.StatusCreated)

	expectProblem(t, g.s.do(t, "DELETE", base+"/invitations/"+adminInv.str(t, "id"), nil, bearer(recruiter.Access)), http.StatusForbidden, "org_permission_denied")
	expectStatus(t, g.s.do(t, "DELETE", base+"/invitations/"+memberInv.str(t, "id"), nil, bearer(recruiter.Access)), http.StatusNoContent)
	expectStatus(t, g.s.do(t, "DELETE", base+"/invitations/"+adminInv.str(t, "id"), nil, bearer(owner.Access)), http.StatusNoContent)
}
