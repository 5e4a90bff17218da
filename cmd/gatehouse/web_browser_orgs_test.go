package main

import (
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserOrgInviteAcceptSwitch: an owner creates an organization and invites an address from
// the dashboard; the invitee (registered, verified) opens the emailed link, accepts, switches to
// the organization with the layout's switcher and sees it active, in its session's token too.
func TestBrowserOrgInviteAcceptSwitch(t *testing.T) {
	g := startOrgRig(t)
	owner := g.verified(t)
	invitee := g.verified(t)
	b := startBrowser(t, g.s.URL)

	b.visit("/login")
	b.fill("#f-email", owner.Email)
	b.fill("#f-password", owner.Password)
	b.press(`form[action="/login"] button[type="submit"]`)
	b.press(`nav a[href="/orgs"]`)
	b.expectText("main h1", "Organizations")
	b.fill("#f-name", "Browser Org")
	b.fill("#f-slug", "browser-org")
	b.press(`form[action="/orgs"] button[type="submit"]`)
	b.expectText("main h1", "Browser Org")
	b.expectText("main", "The organization was created")
	orgPath := strings.SplitN(strings.TrimPrefix(b.location(), g.s.URL), "?", 2)[0]
	orgID := strings.TrimPrefix(orgPath, "/orgs/")
	b.fill("#f-email", invitee.Email)
	b.press(`#invitations button[type="submit"]`)
	b.expectText("main", "The invitation was sent by email.")
	b.expectText("#invitations table", invitee.Email)
	b.shot("70-org-owner")
	token := g.invitationToken(t, invitee.Email)
	b.press(`form[action="/logout"] button[type="submit"]`)

	b.visit("/login")
	b.fill("#f-email", invitee.Email)
	b.fill("#f-password", invitee.Password)
	b.press(`form[action="/login"] button[type="submit"]`)
	b.visit("/accept-invitation?token=" + url.QueryEscape(token))
	b.expectText("main h1", "Join Browser Org")
	b.press(`form[action="/accept-invitation"] button[type="submit"]`)
	b.expectText("main h1", "Welcome to Browser Org")
	b.press(`main a[href="/account"]`)

	// The switcher: choose the organization, press Switch.
	b.do(chromedp.SetValue(chromedp.CSS("#org-switch"), orgID))
	b.press(`form.org-switcher button[type="submit"]`)
	b.expectPath("/account?notice=org_switched")
	b.expectText("main", "The active organization was changed.")
	if sel := browserRun(b, chromedp.Evaluate[string](`document.querySelector("#org-switch").value`)); sel != orgID {
		t.Fatalf("the switcher shows %q, want %q", sel, orgID)
	}
	b.press(`nav a[href="/orgs"]`)
	b.expectText("main table.list", "Browser Org")
	b.expectText("main table.list", "Active")
	b.press(`main a[href="` + orgPath + `"]`)
	b.expectText("#overview-title + dl + p", "This is your session's active organization")
	b.shot("71-org-active")
}
