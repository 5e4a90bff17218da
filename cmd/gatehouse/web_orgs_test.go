package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestWebAcceptInvitation: the invitation link of someone without an account leads to sign-up,
// back to the invitation, and, once the address is verified, to joining with one click.
func TestWebAcceptInvitation(t *testing.T) {
	g := startOrgRig(t)
	owner := g.s.register(t)
	orgID := g.createOrg(t, owner, "web-org")
	email := "web-newcomer@example.com"
	token := g.invite(t, orgID, owner, email, "member")
	page := "/accept-invitation?token=" + url.QueryEscape(token)

	b := g.s.webClient(t)
	expectRedirect(t, b.get(page), "/login?next="+url.QueryEscape(page))
	r := b.submit("/signup", url.Values{"email": {email}, "password": {"correct horse battery staple"}, "name": {"Newcomer"}, "next": {page}})
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/accept-invitation?token=") {
		t.Fatalf("sign-up did not lead back to the invitation: %d %q", r.Status, r.Header.Get("Location"))
	}
	expectPage(t, b.get(page), http.StatusOK, "Join Org web-org", "not verified yet")
	// Accepting before the address is verified is refused.
	expectPage(t, b.submit("/accept-invitation", url.Values{"token": {token}}), http.StatusForbidden, "another email address, or your address is not verified")
	g.verify(t, email)
	expectPage(t, b.get(page), http.StatusOK, "Accept and join")
	expectPage(t, b.submit("/accept-invitation", url.Values{"token": {token}}), http.StatusOK, "Welcome to Org web-org", "You joined Org web-org as member.")
	found := false
	for _, m := range jsonArray(t, g.s.do(t, "GET", "/api/v1/orgs/"+orgID+"/members", nil, bearer(owner.Access))) {
		found = found || m["email"] == email
	}
	if !found {
		t.Fatal("the newcomer is not a member after accepting")
	}
	// Used: the link no longer works.
	expectPage(t, b.get(page), http.StatusBadRequest, "This invitation does not work")
	expectPage(t, b.submit("/accept-invitation", url.Values{"token": {token}}), http.StatusBadRequest, "This invitation does not work")
}
