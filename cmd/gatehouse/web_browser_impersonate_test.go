package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserImpersonation: an admin opens a user's dashboard from the users page with a reason;
// every page then shows the banner naming both, the password page refuses, and "End" brings the
// admin's own session back.
func TestBrowserImpersonation(t *testing.T) {
	s := startServer(t)
	u := s.register(t)
	adm := s.admin(t)
	b := startBrowser(t, s.URL)

	b.visit("/login")
	b.fill("#f-email", adm.Email)
	b.fill("#f-password", adm.Password)
	b.press(`form[action="/login"] button[type="submit"]`)
	b.visit("/admin/users")
	b.press(`a[href="/admin/users/` + u.ID + `/impersonate"]`)
	b.expectText("main h1", "Impersonate a user")
	// The reason is required (the API test checks the server's side of it).
	if req := browserRun(b, chromedp.Evaluate[bool](`document.querySelector("#f-reason").required`)); !req {
		t.Fatal("the reason field is not required")
	}
	b.fill("#f-reason", "ticket #7: credits page looks empty")
	b.press(`form[action="/admin/users/` + u.ID + `/impersonate"] button[type="submit"]`)
	b.expectPath("/account?notice=impersonation_started")
	b.expectText("#impersonation-banner", "You are signed in as "+u.Email+" by admin "+adm.Email)
	b.expectText(".who-email", u.Email)
	b.shot("60-impersonation-banner")

	// The banner is on every page, the session list says who opened the session, and the
	// password cannot be changed from here.
	b.visit("/account/sessions")
	b.expectText("#impersonation-banner", adm.Email)
	b.expectText("table.list", "Opened by admin "+adm.Email+" for support")
	b.visit("/account/password")
	b.expectText("#impersonation-banner", adm.Email)
	b.fill("#f-current_password", u.Password)
	b.fill("#f-new_password", "a brand new password 123")
	b.fill("#f-confirm_password", "a brand new password 123")
	if status := b.press(`form[action="/account/password"] button[type="submit"]`); status != http.StatusForbidden {
		t.Fatalf("password change in an impersonation session answered %d", status)
	}
	b.expectText("main", "impersonation session")
	s.login(t, u.Email, u.Password) // unchanged

	// The admin pages are out of reach inside it.
	if status := b.press(`a[href="/account"]`); status != http.StatusOK {
		t.Fatalf("account page: %d", status)
	}
	b.visit("/admin/users")
	b.expectText("main h1", "Admins only")

	// End: the impersonation session is over, and the admin is back.
	b.press(`#impersonation-banner button[type="submit"]`)
	b.expectPath("/admin/users?notice=impersonation_ended")
	b.expectText(".who-email", adm.Email)
	if strings.Contains(b.text("body"), "by admin") {
		t.Fatal("the banner is still shown after the end")
	}
	// The admin's audit page names both.
	b.visit("/admin/audit?user=" + u.ID)
	b.expectText("table.list", "Impersonation started")
	b.expectText("table.list", "by admin "+adm.Email)
	b.shot("61-impersonation-audit")

	items := s.auditItems(t, adm, "type=impersonation.refused&user_id="+u.ID)
	if len(items) != 1 || items[0]["actor_id"] != adm.ID {
		t.Fatalf("the refused password change is not audited under both names: %v", items)
	}
	items = s.auditItems(t, adm, "type=session.logged_out&user_id="+u.ID)
	if len(items) != 1 || items[0]["actor_id"] != adm.ID {
		t.Fatalf("the end is not audited under both names: %v", items)
	}
}
