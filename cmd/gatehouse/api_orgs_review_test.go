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
