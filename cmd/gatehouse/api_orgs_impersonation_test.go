package main

import (
	"net/http"
	"testing"
)

// TestOrgImpersonation: an admin impersonating an organization's owner can look and switch
// organizations, but changes nothing in it (keys, members, roles, invitations, the organization
// itself), and the switched token still names the admin in act and ends with the session.
func TestOrgImpersonation(t *testing.T) {
	g := startOrgRig(t)
	owner := g.s.register(t)
	orgID := g.createOrg(t, owner, "support-case")
	member := g.join(t, orgID, owner, "member")
	admin := g.s.admin(t)
	tok := g.s.impersonate(t, admin, owner.ID)

	// Reading works.
	expectStatus(t, g.s.do(t, "GET", "/api/v1/orgs/"+orgID, nil, bearer(tok)), http.StatusOK)
	expectStatus(t, g.s.do(t, "GET", "/api/v1/orgs/"+orgID+"/members", nil, bearer(tok)), http.StatusOK)

	// Switching keeps the impersonation: the new token has act, no refresh token, and the
	// session's end.
	r := g.s.do(t, "POST", "/api/v1/users/me/active-org", map[string]string{"org_id": orgID}, bearer(tok))
	expectStatus(t, r, http.StatusOK)
	if rt, _ := r.json(t)["refresh_token"].(string); rt != "" {
		t.Fatalf("a switch inside an impersonation returned a refresh token: %s", r.Body)
	}
	switched := r.str(t, "access_token")
	before, after := claimsOf(t, tok), claimsOf(t, switched)
	act, _ := after["act"].(map[string]any)
	if act == nil || act["sub"] != admin.ID || after["sub"] != owner.ID || after["org_id"] != orgID {
		t.Fatalf("switched token claims: %v", after)
	}
	if after["exp"].(float64) > before["exp"].(float64) {
		t.Fatalf("the switched token outlives the impersonation: exp %v > %v", after["exp"], before["exp"])
	}

	for _, f := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/api/v1/orgs", map[string]string{"name": "Side", "slug": "side-door"}},
		{"PATCH", "/api/v1/orgs/" + orgID, map[string]string{"name": "Renamed"}},
		{"DELETE", "/api/v1/orgs/" + orgID, nil},
		{"PATCH", "/api/v1/orgs/" + orgID + "/members/" + member.ID, map[string]string{"role": "owner"}},
		{"DELETE", "/api/v1/orgs/" + orgID + "/members/" + member.ID, nil},
		{"POST", "/api/v1/orgs/" + orgID + "/roles", map[string]any{"name": "viewer", "permissions": []string{"org:read"}}},
		{"POST", "/api/v1/orgs/" + orgID + "/api-keys", map[string]any{"name": "backdoor", "scopes": []string{"credits:read"}}},
		{"POST", "/api/v1/orgs/" + orgID + "/invitations", map[string]string{"email": "friend@example.com", "role": "admin"}},
	} {
		expectProblem(t, g.s.do(t, f.method, f.path, f.body, bearer(switched)), http.StatusForbidden, "impersonation_forbidden")
	}
	// Nothing changed: still one organization, the member still a member.
	if list := jsonArray(t, g.s.do(t, "GET", "/api/v1/orgs", nil, bearer(owner.Access))); len(list) != 1 {
		t.Fatalf("organizations after the refused changes: %v", list)
	}
	if list := jsonArray(t, g.s.do(t, "GET", "/api/v1/orgs/"+orgID+"/members", nil, bearer(owner.Access))); len(list) != 2 {
		t.Fatalf("members after the refused changes: %v", list)
	}
}
