package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
)

// TestOrgLifecycle: create, list, read, rename, slug rules, and deletion that leaves no rows.
func TestOrgLifecycle(t *testing.T) {
	g := startOrgRig(t)
	owner := g.s.register(t)
	outsider := g.s.register(t)

	for _, slug := range []string{"ab", "Acme", "-acme", "acme-", "ac_me", strings.Repeat("a", 64), "ac me"} {
		r := g.s.do(t, "POST", "/api/v1/orgs", map[string]string{"name": "Acme", "slug": slug}, bearer(owner.Access))
		expectProblem(t, r, http.StatusUnprocessableEntity, "validation_failed")
	}
	expectProblem(t, g.s.do(t, "POST", "/api/v1/orgs", map[string]string{"slug": "acme"}, bearer(owner.Access)), http.StatusUnprocessableEntity, "validation_failed")
	orgID := g.createOrg(t, owner, "acme")
	expectProblem(t, g.s.do(t, "POST", "/api/v1/orgs", map[string]string{"name": "Other", "slug": "acme"}, bearer(outsider.Access)), http.StatusConflict, "org_slug_taken")
	// A key, even the owner's, manages no organization.
	key := g.s.createKey(t, owner.Access, "profile:read")
	expectProblem(t, g.s.do(t, "GET", "/api/v1/orgs", nil, "X-API-Key: "+key["api_key"].(string)), http.StatusForbidden, "")

	list := jsonArray(t, g.s.do(t, "GET", "/api/v1/orgs", nil, bearer(owner.Access)))
	if len(list) != 1 || list[0]["id"] != orgID || list[0]["role"] != "owner" || list[0]["slug"] != "acme" {
		t.Fatalf("owner's organizations: %v", list)
	}
	if list := jsonArray(t, g.s.do(t, "GET", "/api/v1/orgs", nil, bearer(outsider.Access))); len(list) != 0 {
		t.Fatalf("outsider's organizations: %v", list)
	}
	got := g.s.do(t, "GET", "/api/v1/orgs/"+orgID, nil, bearer(owner.Access))
	expectStatus(t, got, http.StatusOK)
	if perms := got.json(t)["permissions"].([]any); len(perms) != 12 {
		t.Fatalf("owner's permissions: %v", perms)
	}
	// Someone else's organization and one that does not exist look alike.
	expectProblem(t, g.s.do(t, "GET", "/api/v1/orgs/"+orgID, nil, bearer(outsider.Access)), http.StatusNotFound, "org_not_found")
	expectProblem(t, g.s.do(t, "GET", "/api/v1/orgs/nope", nil, bearer(outsider.Access)), http.StatusNotFound, "org_not_found")

	r := g.s.do(t, "PATCH", "/api/v1/orgs/"+orgID, map[string]string{"name": "Acme Inc", "slug": "acme-inc"}, bearer(owner.Access))
	expectStatus(t, r, http.StatusOK)
	if r.str(t, "name") != "Acme Inc" || r.str(t, "slug") != "acme-inc" {
		t.Fatalf("renamed: %s", r.Body)
	}
	other := g.createOrg(t, outsider, "other")
	expectProblem(t, g.s.do(t, "PATCH", "/api/v1/orgs/"+other, map[string]string{"slug": "acme-inc"}, bearer(outsider.Access)), http.StatusConflict, "org_slug_taken")

	// Deleting takes members, roles, invitations, keys and credits with it.
	member := g.join(t, orgID, owner, "member")
	g.invite(t, orgID, owner, "pending@example.com", "member")
	expectStatus(t, g.s.do(t, "POST", "/api/v1/orgs/"+orgID+"/roles", map[string]any{"name": "viewer", "permissions": []string{"org:read"}}, bearer(owner.Access)), http.StatusCreated)
	k := g.s.do(t, "POST", "/api/v1/orgs/"+orgID+"/api-keys", map[string]any{"name": "k"}, bearer(owner.Access))
	expectStatus(t, k, http.StatusCreated)
	admin := g.s.admin(t)
	expectStatus(t, g.s.do(t, "POST", "/api/v1/admin/orgs/"+orgID+"/credits", map[string]any{"amount": 5}, bearer(admin.Access)), http.StatusOK)
	expectProblem(t, g.s.do(t, "DELETE", "/api/v1/orgs/"+orgID, nil, bearer(member.Access)), http.StatusForbidden, "org_permission_denied")
	expectStatus(t, g.s.do(t, "DELETE", "/api/v1/orgs/"+orgID, nil, bearer(owner.Access)), http.StatusNoContent)
	expectProblem(t, g.s.do(t, "GET", "/api/v1/orgs/"+orgID, nil, bearer(owner.Access)), http.StatusNotFound, "org_not_found")
	expectProblem(t, g.s.do(t, "GET", "/api/v1/public/credits/balance", nil, "X-API-Key: "+k.str(t, "api_key")), http.StatusUnauthorized, "")
	for _, table := range []string{"orgs", "org_members", "org_roles", "org_invitations", "org_credit_accounts", "org_credit_entries"} {
		col := "org_id"
		if table == "orgs" {
			col = "id"
		}
		if left := g.s.sqlStrings(t, fmt.Sprintf("SELECT %s FROM %s WHERE %s = '%s'", col, table, col, orgID)); len(left) != 0 {
			t.Errorf("%s keeps %d rows of the deleted organization", table, len(left))
		}
	}
	if left := g.s.sqlStrings(t, "SELECT id FROM api_keys WHERE org_id = '"+orgID+"'"); len(left) != 0 {
		t.Errorf("api_keys keeps the deleted organization's keys")
	}
	// The audit log keeps the history, filterable by organization.
	events := g.s.do(t, "GET", "/api/v1/admin/audit?org_id="+orgID, nil, bearer(admin.Access)).json(t)["items"].([]any)
	types := map[string]bool{}
	for _, e := range events {
		types[e.(map[string]any)["type"].(string)] = true
	}
	for _, want := range []string{"org.created", "org.updated", "org.invitation_created", "org.invitation_accepted", "org.member_added", "org.role_created", "org.api_key_created", "org.credits_granted", "org.deleted"} {
		if !types[want] {
			t.Errorf("audit log of the organization lacks %s (has %v)", want, types)
		}
	}
}

// TestOrgPermissionMatrix: each role (owner, admin, member, a custom role, an outsider) against
// each action, with the status the rules give.
func TestOrgPermissionMatrix(t *testing.T) {
	g := startOrgRig(t)
	owner := g.s.register(t)
	orgID := g.createOrg(t, owner, "matrix")
	base := "/api/v1/orgs/" + orgID
	expectStatus(t, g.s.do(t, "POST", base+"/roles", map[string]any{"name": "billing", "permissions": []string{"org:read", "credits:read", "keys:read", "keys:write"}}, bearer(owner.Access)), http.StatusCreated)
	admin := g.join(t, orgID, owner, "admin")
	member := g.join(t, orgID, owner, "member")
	billing := g.join(t, orgID, owner, "billing")
	outsider := g.verified(t)
	target := g.join(t, orgID, owner, "member") // whose role the matrix changes

	type action struct {
		name         string
		method, path string
		body         any
	}
	n := 0
	unique := func(prefix string) string { n++; return fmt.Sprintf("%s-%d", prefix, n) }
	actions := []action{
		{"read org", "GET", base, nil},
		{"rename org", "PATCH", base, map[string]string{"name": "Matrix"}},
		{"list members", "GET", base + "/members", nil},
		{"change a member's role", "PATCH", base + "/members/" + target.ID, map[string]string{"role": "member"}},
		{"list roles", "GET", base + "/roles", nil},
		{"create a role", "POST", base + "/roles", nil}, // body made per request: names are unique
		{"invite", "POST", base + "/invitations", nil},
		{"list invitations", "GET", base + "/invitations", nil},
		{"list keys", "GET", base + "/api-keys", nil},
		{"create a key", "POST", base + "/api-keys", map[string]any{"name": "k", "scopes": []string{"credits:read"}}},
		{"read credits", "GET", base + "/credits/balance", nil},
		{"read audit", "GET", base + "/audit", nil},
		{"delete org", "DELETE", base, nil},
	}
	const ok, no, nf = 0, http.StatusForbidden, http.StatusNotFound
	// Expected status per role, in the order of actions (ok: any 2xx).
	want := map[string][]int{
		"owner":    {ok, ok, ok, ok, ok, ok, ok, ok, ok, ok, ok, ok, -1},
		"admin":    {ok, ok, ok, ok, ok, ok, ok, ok, ok, ok, ok, ok, no},
		"member":   {ok, no, ok, no, ok, no, no, no, no, no, ok, no, no},
		"billing":  {ok, no, no, no, ok, no, no, no, ok, ok, ok, no, no},
		"outsider": {nf, nf, nf, nf, nf, nf, nf, nf, nf, nf, nf, nf, nf},
	}
	callers := map[string]*account{"owner": owner, "admin": admin, "member": member, "billing": billing, "outsider": outsider}
	for _, role := range []string{"owner", "admin", "member", "billing", "outsider"} {
		for i, act := range actions {
			expect := want[role][i]
			if expect == -1 {
				continue // the owner deletes last
			}
			body := act.body
			switch act.name {
			case "create a role":
				body = map[string]any{"name": unique("role"), "permissions": []string{"org:read"}}
			case "invite":
				body = map[string]string{"email": unique("invitee") + "@example.com", "role": "member"}
			}
			r := g.s.do(t, act.method, act.path, body, bearer(callers[role].Access))
			switch {
			case expect == ok && (r.Status < 200 || r.Status > 299):
				t.Errorf("%s may %s: got %d %s", role, act.name, r.Status, r.Body)
			case expect != ok && r.Status != expect:
				t.Errorf("%s may not %s: got %d, want %d: %s", role, act.name, r.Status, expect, r.Body)
			}
		}
	}
	expectStatus(t, g.s.do(t, "DELETE", base, nil, bearer(owner.Access)), http.StatusNoContent)
}

// TestOrgGrantLimits: admins cannot touch owners or grant more than they hold; custom roles are
// subsets of their creator's permissions; a role in use cannot be deleted.
func TestOrgGrantLimits(t *testing.T) {
	g := startOrgRig(t)
	owner := g.s.register(t)
	orgID := g.createOrg(t, owner, "limits")
	base := "/api/v1/orgs/" + orgID
	admin := g.join(t, orgID, owner, "admin")
	member := g.join(t, orgID, owner, "member")

	expectProblem(t, g.s.do(t, "PATCH", base+"/members/"+owner.ID, map[string]string{"role": "member"}, bearer(admin.Access)), http.StatusForbidden, "owner_required")
	expectProblem(t, g.s.do(t, "DELETE", base+"/members/"+owner.ID, nil, bearer(admin.Access)), http.StatusForbidden, "owner_required")
	expectProblem(t, g.s.do(t, "PATCH", base+"/members/"+member.ID, map[string]string{"role": "owner"}, bearer(admin.Access)), http.StatusForbidden, "owner_required")
	expectProblem(t, g.s.do(t, "POST", base+"/invitations", map[string]string{"email": "boss@example.com", "role": "owner"}, bearer(admin.Access)), http.StatusForbidden, "owner_required")
	// Admins lack org:delete: a role with it is beyond them, to create or to hand out.
	expectProblem(t, g.s.do(t, "POST", base+"/roles", map[string]any{"name": "destroyer", "permissions": []string{"org:delete"}}, bearer(admin.Access)), http.StatusForbidden, "org_permission_denied")
	expectStatus(t, g.s.do(t, "POST", base+"/roles", map[string]any{"name": "destroyer", "permissions": []string{"org:read", "org:delete"}}, bearer(owner.Access)), http.StatusCreated)
	expectProblem(t, g.s.do(t, "PATCH", base+"/members/"+member.ID, map[string]string{"role": "destroyer"}, bearer(admin.Access)), http.StatusForbidden, "org_permission_denied")
	expectProblem(t, g.s.do(t, "PATCH", base+"/roles/destroyer", map[string]any{"permissions": []string{"org:read"}}, bearer(admin.Access)), http.StatusForbidden, "org_permission_denied")
	if got := g.roleOf(t, orgID, owner, member.ID); got != "member" {
		t.Fatalf("member's role became %q", got)
	}
	// Validation: unknown permissions, built-in names, unknown roles.
	expectProblem(t, g.s.do(t, "POST", base+"/roles", map[string]any{"name": "x", "permissions": []string{"admin"}}, bearer(owner.Access)), http.StatusUnprocessableEntity, "validation_failed")
	expectProblem(t, g.s.do(t, "POST", base+"/roles", map[string]any{"name": "admin", "permissions": []string{}}, bearer(owner.Access)), http.StatusUnprocessableEntity, "validation_failed")
	expectProblem(t, g.s.do(t, "POST", base+"/roles", map[string]any{"name": "destroyer", "permissions": []string{}}, bearer(owner.Access)), http.StatusConflict, "org_role_exists")
	expectProblem(t, g.s.do(t, "PATCH", base+"/members/"+member.ID, map[string]string{"role": "nope"}, bearer(owner.Access)), http.StatusUnprocessableEntity, "validation_failed")
	expectProblem(t, g.s.do(t, "PATCH", base+"/roles/owner", map[string]any{"permissions": []string{}}, bearer(owner.Access)), http.StatusForbidden, "builtin_role")
	// A role in use stays.
	expectStatus(t, g.s.do(t, "PATCH", base+"/members/"+member.ID, map[string]string{"role": "destroyer"}, bearer(owner.Access)), http.StatusOK)
	expectProblem(t, g.s.do(t, "DELETE", base+"/roles/destroyer", nil, bearer(owner.Access)), http.StatusConflict, "org_role_in_use")
	// The custom role's permissions are what its holder may do: org:delete, so the member may
	// delete; a patch that takes it away takes effect at once.
	expectStatus(t, g.s.do(t, "PATCH", base+"/roles/destroyer", map[string]any{"permissions": []string{"org:read"}}, bearer(owner.Access)), http.StatusOK)
	expectProblem(t, g.s.do(t, "DELETE", base, nil, bearer(member.Access)), http.StatusForbidden, "org_permission_denied")
	expectStatus(t, g.s.do(t, "PATCH", base+"/members/"+member.ID, map[string]string{"role": "member"}, bearer(owner.Access)), http.StatusOK)
	expectStatus(t, g.s.do(t, "DELETE", base+"/roles/destroyer", nil, bearer(owner.Access)), http.StatusNoContent)
	if roles := jsonArray(t, g.s.do(t, "GET", base+"/roles", nil, bearer(member.Access))); len(roles) != 3 {
		t.Fatalf("roles after deleting the custom one: %v", roles)
	}
}

// TestOrgLastOwner: the last owner can neither leave nor be demoted; ownership moves by making
// another member owner; two owners demoting each other at once leave exactly one owner.
func TestOrgLastOwner(t *testing.T) {
	g := startOrgRig(t)
	owner := g.s.register(t)
	orgID := g.createOrg(t, owner, "owners")
	base := "/api/v1/orgs/" + orgID
	expectProblem(t, g.s.do(t, "DELETE", base+"/members/"+owner.ID, nil, bearer(owner.Access)), http.StatusConflict, "last_owner")
	expectProblem(t, g.s.do(t, "PATCH", base+"/members/"+owner.ID, map[string]string{"role": "admin"}, bearer(owner.Access)), http.StatusConflict, "last_owner")

	// Transfer: another member becomes owner, then the first one steps down and leaves.
	heir := g.join(t, orgID, owner, "member")
	expectStatus(t, g.s.do(t, "PATCH", base+"/members/"+heir.ID, map[string]string{"role": "owner"}, bearer(owner.Access)), http.StatusOK)
	expectStatus(t, g.s.do(t, "PATCH", base+"/members/"+owner.ID, map[string]string{"role": "admin"}, bearer(owner.Access)), http.StatusOK)
	expectStatus(t, g.s.do(t, "DELETE", base+"/members/"+owner.ID, nil, bearer(owner.Access)), http.StatusNoContent)
	expectProblem(t, g.s.do(t, "GET", base, nil, bearer(owner.Access)), http.StatusNotFound, "org_not_found")
	expectProblem(t, g.s.do(t, "DELETE", base+"/members/"+heir.ID, nil, bearer(heir.Access)), http.StatusConflict, "last_owner")

	// Two owners demote each other at the same instant, many times over: one owner always stays.
	for round := range 5 {
		second := g.join(t, orgID, heir, "owner")
		rs := concurrently(2, func(i int) *response {
			by, target := heir, second
			if i == 1 {
				by, target = second, heir
			}
			return g.s.post2(base+"/members/"+target.ID, "PATCH", map[string]string{"role": "member"}, by.Access)
		})
		if c := statusCounts(rs); c[http.StatusOK] != 1 || c[http.StatusConflict]+c[http.StatusForbidden] != 1 {
			t.Fatalf("round %d: statuses %v (%s / %s), want one 200", round, c, rs[0].Body, rs[1].Body)
		}
		owners := 0
		for _, m := range jsonArray(t, g.s.do(t, "GET", base+"/members", nil, bearer(heir.Access))) {
			if m["role"] == "owner" {
				owners++
			}
		}
		if owners != 1 {
			t.Fatalf("round %d: %d owners", round, owners)
		}
		// The demoted one leaves; whoever is owner now is the heir for the next round.
		if rs[1].Status == http.StatusOK {
			heir, second = second, heir
		}
		expectStatus(t, g.s.do(t, "DELETE", base+"/members/"+second.ID, nil, bearer(second.Access)), http.StatusNoContent)
	}
}

// post2 sends a request with a bearer token from any goroutine (transport errors are status 0).
func (s *testServer) post2(path, method string, body any, access string) *response {
	js, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, s.URL+path, bytes.NewReader(js))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+access)
	resp, err := httpClient.Do(req)
	if err != nil {
		return &response{Body: []byte(err.Error())}
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return &response{Status: resp.StatusCode, Header: resp.Header, Body: data}
}

// TestOrgInvitations: the edge cases of an invitation's token.
func TestOrgInvitations(t *testing.T) {
	g := startOrgRig(t)
	owner := g.s.register(t)
	orgID := g.createOrg(t, owner, "invites")
	base := "/api/v1/orgs/" + orgID

	// Wrong address: someone else's verified account cannot use it; nor can an unverified one.
	invitee := g.verified(t)
	token := g.invite(t, orgID, owner, invitee.Email, "member")
	other := g.verified(t)
	expectProblem(t, g.accept(t, other, token), http.StatusForbidden, "invitation_email_mismatch")
	// Stored hashed: the token appears nowhere in the database.
	if rows := g.s.sqlStrings(t, "SELECT id FROM org_invitations WHERE email = '"+invitee.Email+"'"); len(rows) != 1 {
		t.Fatalf("invitation rows: %v", rows)
	}
	if rows := g.s.sqlStrings(t, "SELECT id FROM email_outbox WHERE text_body LIKE '%"+token+"%' OR html_body LIKE '%"+token+"%'"); len(rows) != 0 {
		t.Fatal("the outbox keeps the invitation token in plain text")
	}
	// One pending invitation per address.
	expectProblem(t, g.s.do(t, "POST", base+"/invitations", map[string]string{"email": strings.ToUpper(invitee.Email)}, bearer(owner.Access)), http.StatusConflict, "invitation_pending")
	pending := jsonArray(t, g.s.do(t, "GET", base+"/invitations", nil, bearer(owner.Access)))
	if len(pending) != 1 || pending[0]["email"] != invitee.Email || pending[0]["role"] != "member" {
		t.Fatalf("pending invitations: %v", pending)
	}
	// Accepted once; used again, it is refused (never an idempotent success).
	r := g.accept(t, invitee, token)
	expectStatus(t, r, http.StatusOK)
	if r.json(t)["org"].(map[string]any)["id"] != orgID || r.str(t, "role") != "member" {
		t.Fatalf("accept answer: %s", r.Body)
	}
	expectProblem(t, g.accept(t, invitee, token), http.StatusBadRequest, "invalid_invitation")
	expectProblem(t, g.accept(t, invitee, "not-a-token"), http.StatusBadRequest, "invalid_invitation")
	expectProblem(t, g.s.do(t, "POST", base+"/invitations", map[string]string{"email": invitee.Email}, bearer(owner.Access)), http.StatusConflict, "already_member")

	// Revoked.
	late := g.verified(t)
	token = g.invite(t, orgID, owner, late.Email, "member")
	invID := jsonArray(t, g.s.do(t, "GET", base+"/invitations", nil, bearer(owner.Access)))[0]["id"].(string)
	expectStatus(t, g.s.do(t, "DELETE", base+"/invitations/"+invID, nil, bearer(owner.Access)), http.StatusNoContent)
	expectProblem(t, g.s.do(t, "DELETE", base+"/invitations/"+invID, nil, bearer(owner.Access)), http.StatusNotFound, "invitation_not_found")
	expectProblem(t, g.accept(t, late, token), http.StatusBadRequest, "invalid_invitation")

	// Expired (aged in the database), after which a new one can be sent.
	token = g.invite(t, orgID, owner, late.Email, "admin")
	g.s.sqlExec(t, "UPDATE org_invitations SET expires_at = created_at - 1 WHERE email = '"+late.Email+"' AND revoked_at IS NULL")
	expectProblem(t, g.accept(t, late, token), http.StatusBadRequest, "invalid_invitation")
	token = g.invite(t, orgID, owner, late.Email, "admin")
	expectStatus(t, g.accept(t, late, token), http.StatusOK)
	if role := g.roleOf(t, orgID, owner, late.ID); role != "admin" {
		t.Fatalf("role after accepting: %q", role)
	}

	// An address without an account: sign-up, verification, then the same token joins.
	newcomer := "newcomer@example.com"
	token = g.invite(t, orgID, owner, newcomer, "member")
	reg := g.s.do(t, "POST", "/api/v1/auth/register", map[string]string{"email": newcomer, "password": "correct horse battery staple", "name": "New"})
	expectStatus(t, reg, http.StatusCreated)
	na := &account{Email: newcomer, Access: reg.str(t, "access_token"), ID: reg.json(t)["user"].(map[string]any)["id"].(string)}
	expectProblem(t, g.accept(t, na, token), http.StatusForbidden, "invitation_email_mismatch") // not verified yet
	g.verify(t, newcomer)
	expectStatus(t, g.accept(t, na, token), http.StatusOK)

	// Concurrent accepts of one invitation: exactly one.
	racer := g.verified(t)
	racerLogins := make([]string, 10)
	for i := range racerLogins {
		racerLogins[i], _ = g.s.login(t, racer.Email, racer.Password)
	}
	token = g.invite(t, orgID, owner, racer.Email, "member")
	rs := concurrently(len(racerLogins), func(i int) *response {
		return g.s.post2("/api/v1/invitations/accept", "POST", map[string]string{"token": token}, racerLogins[i])
	})
	c := statusCounts(rs)
	if c[http.StatusOK] != 1 || c[http.StatusBadRequest]+c[http.StatusConflict] != len(rs)-1 {
		t.Fatalf("concurrent accepts: %v", c)
	}
	members := g.s.sqlStrings(t, "SELECT user_id FROM org_members WHERE org_id = '"+orgID+"' AND user_id = '"+racer.ID+"'")
	if len(members) != 1 {
		t.Fatalf("membership rows after the race: %d", len(members))
	}
}

// TestOrgInvitationLimits: invitations are limited per client address and per organization.
func TestOrgInvitationLimits(t *testing.T) {
	g := startOrgRig(t, "GATEHOUSE_RATE_LIMITS=org_invite_ip=4/1h,org_invitations=2/1h,login_ip=off,register_ip=off,resend_ip=off")
	owner := g.s.register(t)
	orgA := g.createOrg(t, owner, "limit-a")
	orgB := g.createOrg(t, owner, "limit-b")
	send := func(orgID, email string) *response {
		return g.s.do(t, "POST", "/api/v1/orgs/"+orgID+"/invitations", map[string]string{"email": email}, bearer(owner.Access))
	}
	expectStatus(t, send(orgA, "a1@example.com"), http.StatusCreated)
	expectStatus(t, send(orgA, "a2@example.com"), http.StatusCreated)
	r := send(orgA, "a3@example.com")
	expectProblem(t, r, http.StatusTooManyRequests, "")
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	// The organization's limit is the organization's: B still has room, until the address's.
	expectStatus(t, send(orgB, "b1@example.com"), http.StatusCreated)
	expectProblem(t, send(orgB, "b2@example.com"), http.StatusTooManyRequests, "")
}

// TestOrgActiveOrgInTokens: the active organization of a session is in its access tokens, chosen
// at login, at refresh or later; a removal takes effect on the member's tokens at once.
func TestOrgActiveOrgInTokens(t *testing.T) {
	g := startOrgRig(t)
	owner := g.s.register(t)
	orgID := g.createOrg(t, owner, "tokens")
	otherOrg := g.createOrg(t, owner, "tokens-other")
	member := g.join(t, orgID, owner, "member")

	access := g.switchOrg(t, member, orgID)
	id, role, perms := orgClaims(t, access)
	if id != orgID || role != "member" || !slices.Equal(perms, []string{"credits:read", "members:read", "org:read"}) {
		t.Fatalf("claims after switching: %s %s %v", id, role, perms)
	}
	// The session's earlier token no longer matches it.
	expectProblem(t, g.s.do(t, "GET", "/api/v1/users/me", nil, bearer(member.Access)), http.StatusUnauthorized, "")
	expectStatus(t, g.s.do(t, "GET", "/api/v1/users/me", nil, bearer(access)), http.StatusOK)
	member.Access = access
	expectProblem(t, g.s.do(t, "POST", "/api/v1/users/me/active-org", map[string]string{"org_id": otherOrg}, bearer(access)), http.StatusForbidden, "not_org_member")

	// The refresh keeps the organization.
	r := g.s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": member.Refresh})
	expectStatus(t, r, http.StatusOK)
	member.Access, member.Refresh = r.str(t, "access_token"), r.str(t, "refresh_token")
	if id, _, _ := orgClaims(t, member.Access); id != orgID {
		t.Fatalf("refresh lost the organization: %q", id)
	}

	// A role change: tokens with the old role stop working; the next refresh carries the new one.
	expectStatus(t, g.s.do(t, "PATCH", "/api/v1/orgs/"+orgID+"/members/"+member.ID, map[string]string{"role": "admin"}, bearer(owner.Access)), http.StatusOK)
	expectProblem(t, g.s.do(t, "GET", "/api/v1/users/me", nil, bearer(member.Access)), http.StatusUnauthorized, "")
	r = g.s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": member.Refresh})
	expectStatus(t, r, http.StatusOK)
	member.Access, member.Refresh = r.str(t, "access_token"), r.str(t, "refresh_token")
	if _, role, _ := orgClaims(t, member.Access); role != "admin" {
		t.Fatalf("role after refresh: %q", role)
	}

	// Login straight into the organization; into one the user is not in: refused, no session left.
	r = g.s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": member.Email, "password": member.Password, "org_id": orgID})
	expectStatus(t, r, http.StatusOK)
	second := r.str(t, "access_token")
	if id, role, _ := orgClaims(t, second); id != orgID || role != "admin" {
		t.Fatalf("login in an organization: %s %s", id, role)
	}
	sessions := len(jsonArray(t, g.s.do(t, "GET", "/api/v1/users/me/sessions", nil, bearer(second))))
	r = g.s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": member.Email, "password": member.Password, "org_id": otherOrg})
	expectProblem(t, r, http.StatusForbidden, "not_org_member")
	if n := len(jsonArray(t, g.s.do(t, "GET", "/api/v1/users/me/sessions", nil, bearer(second)))); n != sessions {
		t.Fatalf("a refused login left a session: %d sessions, had %d", n, sessions)
	}

	// Removal: both sessions' tokens fail at once; a refresh gives a token without the
	// organization, and switching back to it is refused.
	expectStatus(t, g.s.do(t, "DELETE", "/api/v1/orgs/"+orgID+"/members/"+member.ID, nil, bearer(owner.Access)), http.StatusNoContent)
	expectProblem(t, g.s.do(t, "GET", "/api/v1/users/me", nil, bearer(member.Access)), http.StatusUnauthorized, "")
	expectProblem(t, g.s.do(t, "GET", "/api/v1/users/me", nil, bearer(second)), http.StatusUnauthorized, "")
	expectProblem(t, g.s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": member.Refresh, "org_id": orgID}), http.StatusForbidden, "not_org_member")
	r = g.s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": member.Refresh})
	expectStatus(t, r, http.StatusOK)
	fresh := r.str(t, "access_token")
	if id, role, perms := orgClaims(t, fresh); id != "" || role != "" || len(perms) != 0 {
		t.Fatalf("token after removal still names the organization: %s %s %v", id, role, perms)
	}
	expectProblem(t, g.s.do(t, "POST", "/api/v1/users/me/active-org", map[string]string{"org_id": orgID}, bearer(fresh)), http.StatusForbidden, "not_org_member")

	// Refresh into an organization.
	member2 := g.join(t, otherOrg, owner, "member")
	r = g.s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": member2.Refresh, "org_id": otherOrg})
	expectStatus(t, r, http.StatusOK)
	if id, _, _ := orgClaims(t, r.str(t, "access_token")); id != otherOrg {
		t.Fatalf("refresh into an organization: %q", id)
	}
}

// TestOrgAPIKeys: organization keys are created within the creator's permissions, reach the
// organization's credits and nothing of anyone's account, and survive the creator's departure.
func TestOrgAPIKeys(t *testing.T) {
	g := startOrgRig(t)
	owner := g.s.register(t)
	orgID := g.createOrg(t, owner, "keys")
	base := "/api/v1/orgs/" + orgID
	expectStatus(t, g.s.do(t, "POST", base+"/roles", map[string]any{"name": "keyreader", "permissions": []string{"org:read", "keys:read", "keys:write", "credits:read"}}, bearer(owner.Access)), http.StatusCreated)
	admin := g.join(t, orgID, owner, "admin")
	keyreader := g.join(t, orgID, owner, "keyreader")
	member := g.join(t, orgID, owner, "member")
	sysadmin := g.s.admin(t)
	expectStatus(t, g.s.do(t, "POST", "/api/v1/admin/orgs/"+orgID+"/credits", map[string]any{"amount": 100}, bearer(sysadmin.Access)), http.StatusOK)
	expectProblem(t, g.s.do(t, "POST", "/api/v1/admin/orgs/"+orgID+"/credits", map[string]any{"amount": 100}, bearer(owner.Access)), http.StatusForbidden, "")

	create := func(a *account, scopes ...string) *response {
		return g.s.do(t, "POST", base+"/api-keys", map[string]any{"name": "worker", "scopes": scopes}, bearer(a.Access))
	}
	expectProblem(t, create(member, "credits:read"), http.StatusForbidden, "org_permission_denied")
	expectProblem(t, create(keyreader, "credits:write"), http.StatusForbidden, "scope_not_allowed") // capped by the creator's permissions
	expectProblem(t, create(admin, "profile:read"), http.StatusUnprocessableEntity, "validation_failed")
	expectProblem(t, create(admin, "admin"), http.StatusUnprocessableEntity, "validation_failed")
	expectStatus(t, create(keyreader, "credits:read"), http.StatusCreated)
	r := create(admin, "credits:read", "credits:write")
	expectStatus(t, r, http.StatusCreated)
	if r.Header.Get("Cache-Control") != "no-store" || r.str(t, "org_id") != orgID || r.str(t, "created_by") != admin.ID {
		t.Fatalf("created key: %s", r.Body)
	}
	keyID, secret := r.str(t, "id"), "X-API-Key: "+r.str(t, "api_key")

	// The organization's balance, through the public endpoint; nothing of the creator's account.
	bal := g.s.do(t, "GET", "/api/v1/public/credits/balance", nil, secret)
	expectStatus(t, bal, http.StatusOK)
	if bal.json(t)["total_credits"].(float64) != 100 {
		t.Fatalf("org key balance: %s", bal.Body)
	}
	mine := g.s.do(t, "GET", "/api/v1/public/credits/balance", nil, bearer(admin.Access))
	if mine.json(t)["total_credits"].(float64) != 0 {
		t.Fatalf("the creator's own balance shows the organization's: %s", mine.Body)
	}
	expectProblem(t, g.s.do(t, "GET", "/api/v1/users/me", nil, secret), http.StatusForbidden, "")
	expectProblem(t, g.s.do(t, "GET", "/api/v1/api-keys", nil, secret), http.StatusForbidden, "")
	expectProblem(t, g.s.do(t, "GET", "/api/v1/orgs", nil, secret), http.StatusForbidden, "")
	// Not the creator's key: absent from their listing, not revocable through it.
	for _, k := range jsonArray(t, g.s.do(t, "GET", "/api/v1/api-keys", nil, bearer(admin.Access))) {
		if k["id"] == keyID {
			t.Fatal("the organization's key is listed among the creator's own keys")
		}
	}
	expectProblem(t, g.s.do(t, "DELETE", "/api/v1/api-keys/"+keyID, nil, bearer(admin.Access)), http.StatusNotFound, "")
	if keys := jsonArray(t, g.s.do(t, "GET", base+"/api-keys", nil, bearer(keyreader.Access))); len(keys) != 2 {
		t.Fatalf("organization keys: %v", keys)
	}

	// The creator leaves, and is even disabled: the key works on.
	expectStatus(t, g.s.do(t, "DELETE", base+"/members/"+admin.ID, nil, bearer(admin.Access)), http.StatusNoContent)
	expectStatus(t, g.s.do(t, "PATCH", "/api/v1/admin/users/"+admin.ID, map[string]any{"is_active": false}, bearer(sysadmin.Access)), http.StatusOK)
	use := g.s.do(t, "POST", "/api/v1/public/credits/usage", map[string]any{"amount": 30}, secret)
	expectStatus(t, use, http.StatusOK)
	if use.json(t)["remaining_credits"].(float64) != 70 {
		t.Fatalf("after use: %s", use.Body)
	}
	orgBal := g.s.do(t, "GET", base+"/credits/balance", nil, bearer(member.Access))
	if orgBal.json(t)["used_credits"].(float64) != 30 {
		t.Fatalf("organization balance: %s", orgBal.Body)
	}

	// Revoked: it stops at once.
	expectProblem(t, g.s.do(t, "DELETE", base+"/api-keys/"+keyID, nil, bearer(member.Access)), http.StatusForbidden, "org_permission_denied")
	expectStatus(t, g.s.do(t, "DELETE", base+"/api-keys/"+keyID, nil, bearer(owner.Access)), http.StatusNoContent)
	expectProblem(t, g.s.do(t, "GET", "/api/v1/public/credits/balance", nil, secret), http.StatusUnauthorized, "")
	expectProblem(t, g.s.do(t, "DELETE", base+"/api-keys/"+keyID, nil, bearer(owner.Access)), http.StatusNotFound, "")
}

// TestOrgCreditsConcurrentUse: many uses of an organization's credits at once never take its
// balance below zero.
func TestOrgCreditsConcurrentUse(t *testing.T) {
	g := startOrgRig(t)
	owner := g.s.register(t)
	orgID := g.createOrg(t, owner, "credits")
	sysadmin := g.s.admin(t)
	expectStatus(t, g.s.do(t, "POST", "/api/v1/admin/orgs/"+orgID+"/credits", map[string]any{"amount": 10}, bearer(sysadmin.Access)), http.StatusOK)
	expectProblem(t, g.s.do(t, "POST", "/api/v1/admin/orgs/nope/credits", map[string]any{"amount": 10}, bearer(sysadmin.Access)), http.StatusNotFound, "org_not_found")
	k := g.s.do(t, "POST", "/api/v1/orgs/"+orgID+"/api-keys", map[string]any{"name": "w", "scopes": []string{"credits:read", "credits:write"}}, bearer(owner.Access))
	expectStatus(t, k, http.StatusCreated)
	secret := k.str(t, "api_key")
	const n = 30
	rs := concurrently(n, func(int) *response {
		req, _ := http.NewRequest("POST", g.s.URL+"/api/v1/public/credits/usage", strings.NewReader(`{"amount": 1}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-API-Key", secret)
		resp, err := httpClient.Do(req)
		if err != nil {
			return &response{}
		}
		resp.Body.Close()
		return &response{Status: resp.StatusCode}
	})
	if c := statusCounts(rs); c[http.StatusOK] != 10 || c[http.StatusPaymentRequired] != n-10 {
		t.Fatalf("statuses %v, want 10 successes and %d refusals", c, n-10)
	}
	bal := g.s.do(t, "GET", "/api/v1/orgs/"+orgID+"/credits/balance", nil, bearer(owner.Access)).json(t)
	if bal["remaining_credits"].(float64) != 0 || bal["used_credits"].(float64) != 10 {
		t.Fatalf("balance: %v", bal)
	}
	if entries := g.s.sqlStrings(t, "SELECT id FROM org_credit_entries WHERE org_id = '"+orgID+"' AND kind = 'usage'"); len(entries) != 10 {
		t.Fatalf("%d usage entries, want 10", len(entries))
	}
}

// TestOrgAudit: the organization's admins read its audit log; members do not.
func TestOrgAudit(t *testing.T) {
	g := startOrgRig(t)
	owner := g.s.register(t)
	orgID := g.createOrg(t, owner, "audited")
	admin := g.join(t, orgID, owner, "admin")
	member := g.join(t, orgID, owner, "member")
	expectStatus(t, g.s.do(t, "PATCH", "/api/v1/orgs/"+orgID+"/members/"+member.ID, map[string]string{"role": "admin"}, bearer(owner.Access)), http.StatusOK)
	expectStatus(t, g.s.do(t, "PATCH", "/api/v1/orgs/"+orgID+"/members/"+member.ID, map[string]string{"role": "member"}, bearer(admin.Access)), http.StatusOK)
	other := g.createOrg(t, owner, "not-audited")

	r := g.s.do(t, "GET", "/api/v1/orgs/"+orgID+"/audit?limit=100", nil, bearer(admin.Access))
	expectStatus(t, r, http.StatusOK)
	items := r.json(t)["items"].([]any)
	count := map[string]int{}
	for _, it := range items {
		e := it.(map[string]any)
		if e["org_id"] != orgID {
			t.Fatalf("event of another organization in the log: %v", e)
		}
		count[e["type"].(string)]++
	}
	if count["org.member_role_changed"] != 2 || count["org.invitation_created"] != 2 || count["org.invitation_accepted"] != 2 || count["org.created"] != 1 {
		t.Fatalf("organization audit: %v", count)
	}
	expectProblem(t, g.s.do(t, "GET", "/api/v1/orgs/"+orgID+"/audit", nil, bearer(member.Access)), http.StatusForbidden, "org_permission_denied")
	expectProblem(t, g.s.do(t, "GET", "/api/v1/orgs/"+other+"/audit", nil, bearer(admin.Access)), http.StatusNotFound, "org_not_found")
	expectProblem(t, g.s.do(t, "GET", "/api/v1/orgs/"+orgID+"/audit?limit=0", nil, bearer(admin.Access)), http.StatusUnprocessableEntity, "validation_failed")
}

// TestOrgAutoJoin: with GATEHOUSE_ORG_AUTO_JOIN on, verifying an address at an organization's
// verified domain joins it as member; the domain is set by a Gatehouse admin only.
func TestOrgAutoJoin(t *testing.T) {
	for _, on := range []bool{true, false} {
		t.Run(fmt.Sprint("on=", on), func(t *testing.T) {
			g := startOrgRig(t, fmt.Sprint("GATEHOUSE_ORG_AUTO_JOIN=", on))
			owner := g.s.register(t)
			orgID := g.createOrg(t, owner, "autojoin")
			sysadmin := g.s.admin(t)
			expectProblem(t, g.s.do(t, "PATCH", "/api/v1/admin/orgs/"+orgID, map[string]string{"auto_join_domain": "corp.example"}, bearer(owner.Access)), http.StatusForbidden, "")
			expectProblem(t, g.s.do(t, "PATCH", "/api/v1/admin/orgs/"+orgID, map[string]string{"auto_join_domain": "not a domain"}, bearer(sysadmin.Access)), http.StatusUnprocessableEntity, "validation_failed")
			expectStatus(t, g.s.do(t, "PATCH", "/api/v1/admin/orgs/"+orgID, map[string]string{"auto_join_domain": "corp.example"}, bearer(sysadmin.Access)), http.StatusOK)
			reg := g.s.do(t, "POST", "/api/v1/auth/register", map[string]string{"email": "dev@corp.example", "password": "correct horse battery staple", "name": "Dev"})
			expectStatus(t, reg, http.StatusCreated)
			devID := reg.json(t)["user"].(map[string]any)["id"].(string)
			if role := g.roleOf(t, orgID, owner, devID); role != "" {
				t.Fatalf("joined before verifying: %q", role)
			}
			g.verify(t, "dev@corp.example")
			want := ""
			if on {
				want = "member"
			}
			if role := g.roleOf(t, orgID, owner, devID); role != want {
				t.Fatalf("after verification: role %q, want %q", role, want)
			}
		})
	}
}

// TestOrgKeyNeverSpeaksForItsCreator: an organization's key is never exchanged for a token of the
// member who created it, and introspection names the organization as its subject.
func TestOrgKeyNeverSpeaksForItsCreator(t *testing.T) {
	x := newExRig(t)
	r := x.s.do(t, "POST", "/api/v1/orgs", map[string]string{"name": "Exchange", "slug": "exchange"}, bearer(x.user.Access))
	expectStatus(t, r, http.StatusCreated)
	orgID := r.str(t, "id")
	k := x.s.do(t, "POST", "/api/v1/orgs/"+orgID+"/api-keys", map[string]any{"name": "k"}, bearer(x.user.Access))
	expectStatus(t, k, http.StatusCreated)
	orgKey := k.str(t, "api_key")
	r = x.exchange(t, x.svcID, x.svcSecret, "subject_token="+orgKey, keyType, "resource="+x.ownAPI, "scope=credits:read")
	expectO2Error(t, r, http.StatusBadRequest, gatehouse.OAuthInvalidGrant)
	// The creator's own key still is exchanged (the refusal is about the organization's key).
	own := x.s.createKey(t, x.user.Access, gatehouse.ScopeCreditsRead)["api_key"].(string)
	exchangeOK(t, x.exchange(t, x.svcID, x.svcSecret, "subject_token="+own, keyType, "resource="+x.ownAPI, "scope=credits:read"))

	introspector := "X-API-Key: " + x.s.createKey(t, x.admin.Access, gatehouse.ScopeTokensIntrospect)["api_key"].(string)
	in := x.s.do(t, "POST", "/api/v1/auth/introspect", map[string]string{"token": orgKey}, introspector).json(t)
	if in["active"] != true || in["sub"] != orgID || in["org_id"] != orgID || in["email"] != nil {
		t.Fatalf("introspection of an organization key: %v", in)
	}
	v := x.s.do(t, "POST", "/api/v1/public/api-keys/verify", nil, "X-API-Key: "+orgKey).json(t)
	if v["org_id"] != orgID || v["user_id"] != x.user.ID {
		t.Fatalf("verify of an organization key: %v", v)
	}
}

// TestOrgHostileInput: ids and names no organization can have get a 4xx, never a 500, and a
// refused login into an organization leaves no session behind.
func TestOrgHostileInput(t *testing.T) {
	g := startOrgRig(t)
	owner := g.s.register(t)
	orgID := g.createOrg(t, owner, "hostile")
	long := strings.Repeat("x", 5000)
	for _, id := range []string{"%FF%FE", "%00", long, "..%2F..%2Fadmin", "'%20OR%201=1--"} {
		for _, req := range [][2]string{{"GET", "/api/v1/orgs/" + id}, {"GET", "/api/v1/orgs/" + id + "/members"},
			{"DELETE", "/api/v1/orgs/" + orgID + "/members/" + id}, {"PATCH", "/api/v1/orgs/" + orgID + "/roles/" + id},
			{"DELETE", "/api/v1/orgs/" + orgID + "/invitations/" + id}, {"DELETE", "/api/v1/orgs/" + orgID + "/api-keys/" + id}} {
			r := g.s.do(t, req[0], req[1], map[string]any{"permissions": []string{}}, bearer(owner.Access))
			if r.Status < 400 || r.Status > 499 {
				t.Errorf("%s %.80s: status %d: %.200s", req[0], req[1], r.Status, r.Body)
			}
		}
	}
	for _, body := range []map[string]any{
		{"email": "\u202e@example.com"}, {"email": long + "@example.com"}, {"email": "a@example.com", "role": long},
		{"email": "a@example.com", "role": "\x00"}, {"email": 5}, {"email": "b@example.com", "role": "custom-that-does-not-exist"},
	} {
		r := g.s.do(t, "POST", "/api/v1/orgs/"+orgID+"/invitations", body, bearer(owner.Access))
		if r.Status < 400 || r.Status > 499 {
			t.Errorf("invitation %v: status %d: %.200s", body, r.Status, r.Body)
		}
	}
	for _, id := range []string{long, "\x00", "\u200b"} {
		for _, r := range []*response{
			g.s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": owner.Email, "password": owner.Password, "org_id": id}),
			g.s.do(t, "POST", "/api/v1/users/me/active-org", map[string]string{"org_id": id}, bearer(owner.Access)),
			g.s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": owner.Refresh, "org_id": id}),
		} {
			if r.Status != http.StatusBadRequest && r.Status != http.StatusUnprocessableEntity {
				t.Errorf("org_id %.20q: status %d: %.200s", id, r.Status, r.Body)
			}
		}
	}
	if n := len(jsonArray(t, g.s.do(t, "GET", "/api/v1/users/me/sessions", nil, bearer(owner.Access)))); n != 1 {
		t.Fatalf("refused logins left sessions: %d", n)
	}
	expectProblem(t, g.s.do(t, "POST", "/api/v1/orgs", `{"name": "x", "slug": ["a"]}`, bearer(owner.Access), "Content-Type: application/json"), http.StatusBadRequest, "")
	expectProblem(t, g.s.do(t, "POST", "/api/v1/orgs", map[string]string{"name": "bad\u202e", "slug": "fine-slug"}, bearer(owner.Access)), http.StatusUnprocessableEntity, "validation_failed")
}
