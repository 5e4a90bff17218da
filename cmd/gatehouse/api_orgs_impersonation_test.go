package main

import (
	"fmt"
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

	// Things the owner made, which the impersonation must not change either.
	expectStatus(t, g.s.do(t, "POST", "/api/v1/orgs/"+orgID+"/roles", map[string]any{"name": "auditor", "permissions": []string{"org:read"}}, bearer(owner.Access)), http.StatusCreated)
	g.invite(t, orgID, owner, "pending@example.com", "member")
	invitations := jsonArray(t, g.s.do(t, "GET", "/api/v1/orgs/"+orgID+"/invitations", nil, bearer(owner.Access)))
	if len(invitations) != 1 {
		t.Fatalf("pending invitations: %v", invitations)
	}
	invitationID, _ := invitations[0]["id"].(string)
	key := g.s.do(t, "POST", "/api/v1/orgs/"+orgID+"/api-keys", map[string]any{"name": "ci", "scopes": []string{"credits:read"}}, bearer(owner.Access))
	expectStatus(t, key, http.StatusCreated)
	keyID := key.str(t, "id")

	for _, f := range []struct {
		method, path string
		body         any
	}{
		{"PATCH", "/api/v1/orgs/" + orgID + "/roles/auditor", map[string]any{"permissions": []string{"org:read", "members:read"}}},
		{"DELETE", "/api/v1/orgs/" + orgID + "/roles/auditor", nil},
		{"DELETE", "/api/v1/orgs/" + orgID + "/invitations/" + invitationID, nil},
		{"DELETE", "/api/v1/orgs/" + orgID + "/api-keys/" + keyID, nil},
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
	roles := jsonArray(t, g.s.do(t, "GET", "/api/v1/orgs/"+orgID+"/roles", nil, bearer(owner.Access)))
	if auditor := roles[len(roles)-1]; auditor["name"] != "auditor" || fmt.Sprint(auditor["permissions"]) != "[org:read]" {
		t.Fatalf("roles after the refused changes: %v", roles)
	}
	if list := jsonArray(t, g.s.do(t, "GET", "/api/v1/orgs/"+orgID+"/invitations", nil, bearer(owner.Access))); len(list) != 1 {
		t.Fatalf("invitations after the refused changes: %v", list)
	}
	if list := jsonArray(t, g.s.do(t, "GET", "/api/v1/orgs/"+orgID+"/api-keys", nil, bearer(owner.Access))); len(list) != 1 {
		t.Fatalf("organization keys after the refused changes: %v", list)
	}

	// Accepting an invitation is a change too: the admin cannot make the invited user join, and
	// the invitation still works for the user.
	guest := g.verified(t)
	token := g.invite(t, orgID, owner, guest.Email, "member")
	expectProblem(t, g.accept(t, &account{Access: g.s.impersonate(t, admin, guest.ID)}, token), http.StatusForbidden, "impersonation_forbidden")
	expectStatus(t, g.accept(t, guest, token), http.StatusOK)
}
