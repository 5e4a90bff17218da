package main

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var orgPagePath = regexp.MustCompile(`^/orgs/([0-9a-f-]{36})\?notice=org_created$`)

// webOrg signs b in as a and creates an organization through the /orgs form; it returns its id.
func webOrg(t *testing.T, b *webClient, slug string) string {
	t.Helper()
	r := b.submit("/orgs", url.Values{"name": {"Web " + slug}, "slug": {slug}})
	m := orgPagePath.FindStringSubmatch(r.Header.Get("Location"))
	if r.Status != http.StatusSeeOther || m == nil {
		t.Fatalf("create organization: %d %q %.400s", r.Status, r.Header.Get("Location"), r.Body)
	}
	return m[1]
}

// TestWebOrgsOwnerPages: an owner creates an organization, invites by email (the email arrives),
// revokes the invitation (its link stops working), creates, edits and deletes a custom role, and
// creates an organization key shown once, then revokes it; refusals show the service's messages.
func TestWebOrgsOwnerPages(t *testing.T) {
	g := startOrgRig(t)
	owner := g.verified(t)
	b := g.s.webClient(t)
	b.signIn(owner.Email, owner.Password)
	expectPage(t, b.get("/orgs"), http.StatusOK, "You do not belong to any organization yet")
	// The service's validation, shown on the form; nothing is created.
	expectPage(t, b.submit("/orgs", url.Values{"name": {"Bad"}, "slug": {"Not A Slug"}}), http.StatusUnprocessableEntity, `id="f-slug-error"`)
	id := webOrg(t, b, "web-owner")
	page := "/orgs/" + id
	expectPage(t, b.get(page), http.StatusOK, "Web web-owner", "Send invitation", "Create role", "Create key", "Audit log", "org.created")
	expectPage(t, b.get("/orgs"), http.StatusOK, `href="/orgs/`+id+`"`, "owner")
	// A slug taken is refused with the service's message.
	expectPage(t, b.submit("/orgs", url.Values{"name": {"Again"}, "slug": {"web-owner"}}), http.StatusConflict)

	// Invite, see it pending, revoke it: its emailed link no longer works.
	invitee := newWebEmail("web-invitee")
	expectRedirect(t, b.submit(page, url.Values{"action": {"invite"}, "email": {invitee}, "role": {"member"}}), page+"?notice=invitation_sent")
	token := g.invitationToken(t, invitee)
	r := b.get(page)
	expectPage(t, r, http.StatusOK, invitee)
	invID := regexp.MustCompile(`name="action" value="revoke_invitation"><input type="hidden" name="id" value="([^"]+)"`).FindSubmatch(r.Body)
	if invID == nil {
		t.Fatalf("no revoke button for the invitation: %s", r.Body)
	}
	expectRedirect(t, b.submit(page, url.Values{"action": {"revoke_invitation"}, "id": {string(invID[1])}}), page+"?notice=invitation_revoked")
	expectPage(t, b.get("/accept-invitation?token="+url.QueryEscape(token)), http.StatusBadRequest, "This invitation does not work")
	// An unknown role is the service's refusal, shown on the page.
	expectPage(t, b.submit(page, url.Values{"action": {"invite"}, "email": {invitee}, "role": {"nobody"}}), http.StatusUnprocessableEntity)

	// Custom roles: create, edit, delete.
	expectRedirect(t, b.submit(page, url.Values{"action": {"create_role"}, "name": {"auditor"}, "permissions": {"org:read", "audit:read"}}), page+"?notice=role_saved")
	expectPage(t, b.get(page), http.StatusOK, `id="perm-auditor-audit:read" name="permissions" value="audit:read" checked`)
	expectRedirect(t, b.submit(page, url.Values{"action": {"update_role"}, "name": {"auditor"}, "permissions": {"org:read"}}), page+"?notice=role_saved")
	if body := string(b.get(page).Body); strings.Contains(body, `id="perm-auditor-audit:read" name="permissions" value="audit:read" checked`) ||
		!strings.Contains(body, `id="perm-auditor-org:read" name="permissions" value="org:read" checked`) {
		t.Fatalf("the role was not updated: %s", body)
	}
	expectRedirect(t, b.submit(page, url.Values{"action": {"delete_role"}, "name": {"auditor"}}), page+"?notice=role_deleted")
	if strings.Contains(string(b.get(page).Body), "perm-auditor-") {
		t.Fatal("the deleted role is still listed")
	}

	// An organization key: shown once, then only its prefix; it works against the org's balance.
	expectRedirect(t, b.submit(page, url.Values{"action": {"create_key"}, "key_name": {"billing"}, "scopes": {"credits:read"}, "expires_in_days": {"30"}}), page+"#keys")
	r = b.get(page)
	expectPage(t, r, http.StatusOK, "Your new key “billing”")
	secret := regexp.MustCompile(`id="new-key" class="mono" type="text" value="([^"]+)"`).FindSubmatch(r.Body)
	if secret == nil {
		t.Fatalf("no key on the page: %s", r.Body)
	}
	expectStatus(t, g.s.do(t, "GET", "/api/v1/public/credits/balance", nil, "X-API-Key: "+string(secret[1])), http.StatusOK)
	r = b.get(page)
	if strings.Contains(string(r.Body), string(secret[1])) {
		t.Fatal("the key was shown twice")
	}
	keyID := regexp.MustCompile(`name="action" value="revoke_key"><input type="hidden" name="id" value="([^"]+)"`).FindSubmatch(r.Body)
	if keyID == nil {
		t.Fatalf("no revoke button for the key: %s", r.Body)
	}
	// A scope the organization's keys cannot carry is the service's refusal.
	expectPage(t, b.submit(page, url.Values{"action": {"create_key"}, "key_name": {"x"}, "scopes": {"keys:write"}, "expires_in_days": {"30"}}), http.StatusUnprocessableEntity, "Organization keys may carry only")
	expectRedirect(t, b.submit(page, url.Values{"action": {"revoke_key"}, "id": {string(keyID[1])}}), page+"?notice=key_revoked")
	expectStatus(t, g.s.do(t, "GET", "/api/v1/public/credits/balance", nil, "X-API-Key: "+string(secret[1])), http.StatusUnauthorized)
	// An unknown action is a 400, not a 500.
	expectPage(t, b.submit(page, url.Values{"action": {"explode"}}), http.StatusBadRequest, "Unknown action.")
}

// TestWebOrgsMemberSeesWhatItMay: a plain member sees no controls its role lacks, and a form
// posted anyway is refused by the service (its message shown); an outsider gets a 404; a post
// without the CSRF token changes nothing.
func TestWebOrgsMemberSeesWhatItMay(t *testing.T) {
	g := startOrgRig(t)
	owner := g.verified(t)
	id := g.createOrg(t, owner, "web-perms")
	member := g.join(t, id, owner, "member")
	page := "/orgs/" + id
	b := g.s.webClient(t)
	b.signIn(member.Email, member.Password)
	r := b.get(page)
	expectPage(t, r, http.StatusOK, "Org web-perms", owner.Email, "Leave the organization")
	for _, hidden := range []string{"Send invitation", "Create role", "Create key", "Audit log", `value="remove_member"`, `value="set_role"`} {
		if strings.Contains(string(r.Body), hidden) {
			t.Fatalf("a member sees %q: %s", hidden, r.Body)
		}
	}
	expectPage(t, b.submit(page, url.Values{"action": {"invite"}, "email": {"x@example.com"}, "role": {"member"}}), http.StatusForbidden, "lacks the permission invitations:write")
	expectPage(t, b.submit(page, url.Values{"action": {"set_role"}, "user_id": {member.ID}, "role": {"owner"}}), http.StatusForbidden, "lacks the permission members:write")
	if role := g.roleOf(t, id, owner, member.ID); role != "member" {
		t.Fatalf("role after a refused change: %q", role)
	}

	// No CSRF token: refused before the service is reached.
	r = b.do("POST", page, url.Values{"action": {"leave"}}, "Origin: "+g.s.URL, "Sec-Fetch-Site: same-origin")
	if r.Status != http.StatusForbidden {
		t.Fatalf("a post without CSRF token: %d", r.Status)
	}
	if role := g.roleOf(t, id, owner, member.ID); role != "member" {
		t.Fatal("a post without CSRF token removed the member")
	}

	// An outsider: not found, as the API answers.
	outsider := g.verified(t)
	o := g.s.webClient(t)
	o.signIn(outsider.Email, outsider.Password)
	if r := o.get(page); r.Status != http.StatusNotFound {
		t.Fatalf("an outsider's view of the organization: %d", r.Status)
	}
	for _, bad := range []string{"/orgs/not-an-id", "/orgs/" + strings.Repeat("f", 300)} {
		if r := o.get(bad); r.Status != http.StatusNotFound {
			t.Fatalf("GET %.40s: %d", bad, r.Status)
		}
		if r := o.submit(bad, url.Values{"action": {"leave"}}); r.Status != http.StatusNotFound {
			t.Fatalf("POST %.40s: %d", bad, r.Status)
		}
	}

	// The owner changes the member's role through the form; the member leaves.
	ob := g.s.webClient(t)
	ob.signIn(owner.Email, owner.Password)
	expectRedirect(t, ob.submit(page, url.Values{"action": {"set_role"}, "user_id": {member.ID}, "role": {"admin"}}), page+"?notice=member_updated")
	if role := g.roleOf(t, id, owner, member.ID); role != "admin" {
		t.Fatalf("role after the change: %q", role)
	}
	// The last owner cannot leave: the service's message.
	expectPage(t, ob.submit(page, url.Values{"action": {"leave"}}), http.StatusConflict)
	expectRedirect(t, b.submit(page, url.Values{"action": {"leave"}}), "/orgs?notice=org_left")
	if role := g.roleOf(t, id, owner, member.ID); role != "" {
		t.Fatalf("still a member after leaving: %q", role)
	}
}

// TestWebOrgsSwitcher: the layout's switcher sets the session's active organization, and the
// session cookie then carries an access token that names it; an organization the user is not a
// member of is refused.
func TestWebOrgsSwitcher(t *testing.T) {
	g := startOrgRig(t)
	owner := g.verified(t)
	b := g.s.webClient(t)
	b.signIn(owner.Email, owner.Password)
	if strings.Contains(string(b.get("/account").Body), `action="/orgs/switch"`) {
		t.Fatal("a user without organizations sees the switcher")
	}
	id := webOrg(t, b, "web-switch")
	expectPage(t, b.get("/account"), http.StatusOK, `action="/orgs/switch"`, `<option value="`+id+`">Web web-switch</option>`)
	_, refreshBefore := b.sessionTokens()
	expectRedirect(t, b.submit("/orgs/switch", url.Values{"org_id": {id}, "next": {"/account"}}), "/account?notice=org_switched")
	access, refresh := b.sessionTokens()
	if org, role, _ := orgClaims(t, access); org != id || role != "owner" {
		t.Fatalf("the session's token after the switch: org %q role %q", org, role)
	}
	if refresh != refreshBefore {
		t.Fatal("the switch replaced the session's refresh token")
	}
	expectPage(t, b.get("/account"), http.StatusOK, `<option value="`+id+`" selected>Web web-switch</option>`)
	expectPage(t, b.get("/orgs/"+id), http.StatusOK, "This is your session's active organization")
	// An open redirect is not offered: next must be a local path.
	expectRedirect(t, b.submit("/orgs/switch", url.Values{"org_id": {""}, "next": {"//evil.example/x"}}), "/orgs?notice=org_switched")
	if org, _, _ := orgClaims(t, func() string { a, _ := b.sessionTokens(); return a }()); org != "" {
		t.Fatalf("still active after switching to none: %q", org)
	}
	other := g.verified(t)
	otherID := g.createOrg(t, other, "web-not-mine")
	if r := b.submit("/orgs/switch", url.Values{"org_id": {otherID}}); r.Status != http.StatusForbidden && r.Status != http.StatusNotFound {
		t.Fatalf("switching to someone else's organization: %d", r.Status)
	}
}

// TestWebOrgsAdminAndImpersonation: an admin grants an organization credits and sets its auto-join
// domain from /admin/orgs (the owner then sees the balance); an impersonation session reads the
// organization pages but its changes are refused with the service's message.
func TestWebOrgsAdminAndImpersonation(t *testing.T) {
	g := startOrgRig(t)
	owner := g.verified(t)
	id := g.createOrg(t, owner, "web-admin")
	admin := g.s.admin(t)
	a := g.s.webClient(t)
	a.signIn(admin.Email, admin.Password)
	// The admins' list names every organization with its id and member count.
	expectPage(t, a.get("/admin/orgs"), http.StatusOK, "Grant credits", "Auto-join domain", "Org web-admin", id)
	expectPage(t, a.submit("/admin/orgs", url.Values{"action": {"grant_credits"}, "org_id": {id}, "amount": {"nope"}}), http.StatusUnprocessableEntity, "Enter a whole number of credits.")
	expectPage(t, a.submit("/admin/orgs", url.Values{"action": {"grant_credits"}, "org_id": {id}, "amount": {"1500"}, "description": {"welcome"}}), http.StatusOK, "Granted 1,500 credits")
	expectPage(t, a.submit("/admin/orgs", url.Values{"action": {"auto_join"}, "org_id": {id}, "domain": {"web-admin.example"}}), http.StatusOK, "auto-join domain of Org web-admin was saved")
	// The API's list agrees: the organization, its one member, its domain.
	lr := g.s.do(t, "GET", "/api/v1/admin/orgs", nil, bearer(admin.Access))
	expectStatus(t, lr, http.StatusOK)
	if list := jsonArray(t, lr); len(list) != 1 || list[0]["id"] != id || list[0]["members"] != float64(1) || list[0]["auto_join_domain"] != "web-admin.example" {
		t.Fatalf("GET /api/v1/admin/orgs: %s", lr.Body)
	}
	expectProblem(t, g.s.do(t, "GET", "/api/v1/admin/orgs", nil, bearer(owner.Access)), http.StatusForbidden, "")
	if r := a.submit("/admin/orgs", url.Values{"action": {"grant_credits"}, "org_id": {"0190aaaa-0000-7000-8000-000000000000"}, "amount": {"5"}}); r.Status != http.StatusNotFound {
		t.Fatalf("credits for an unknown organization: %d", r.Status)
	}
	// A non-admin is refused.
	ob := g.s.webClient(t)
	ob.signIn(owner.Email, owner.Password)
	if r := ob.get("/admin/orgs"); r.Status != http.StatusForbidden {
		t.Fatalf("a user's /admin/orgs: %d", r.Status)
	}
	expectPage(t, ob.get("/orgs/"+id), http.StatusOK, "1,500 granted", "web-admin.example")

	// Impersonating the owner: reading works, changing is refused by the service.
	r := a.submit("/admin/users/"+owner.ID+"/impersonate", url.Values{"reason": {"ticket 42"}})
	expectRedirect(t, r, "/account?notice=impersonation_started")
	expectPage(t, a.get("/orgs/"+id), http.StatusOK, "Org web-admin")
	expectPage(t, a.submit("/orgs/"+id, url.Values{"action": {"create_role"}, "name": {"sneaky"}, "permissions": {"org:read"}}), http.StatusForbidden, "impersonation session")
	expectPage(t, a.submit("/orgs", url.Values{"name": {"Side"}, "slug": {"side-door"}}), http.StatusForbidden, "impersonation session")
}
