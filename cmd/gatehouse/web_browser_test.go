package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/gatehouse/gatehouse/internal/smtptest"
)

// startBrowserMailServer runs a gatehouse whose emails go to a test SMTP server and whose email
// links point at itself (GATEHOUSE_APP_URL left at its default, the public URL), as a deployment
// without a separate app has it.
func startBrowserMailServer(t *testing.T) (*testServer, *smtptest.Server) {
	t.Helper()
	mail := smtptest.Start(t, smtptest.Options{})
	s := startServer(t, "GATEHOUSE_SMTP_URL="+mail.URL(), "GATEHOUSE_MAIL_FROM=Gatehouse Test <no-reply@gatehouse.test>",
		"GATEHOUSE_OUTBOX_RETRY_MIN=10ms", "GATEHOUSE_OUTBOX_RETRY_MAX=100ms")
	return s, mail
}

// TestBrowserSignUpVerifyAndKeys: sign up → the verification email from the SMTP listener → its
// link → create an API key → the key reads the credit balance → revoke it → the key fails. On the
// way it pictures every account page, on a laptop and a phone, light and dark.
func TestBrowserSignUpVerifyAndKeys(t *testing.T) {
	s, mail := startBrowserMailServer(t)
	taken := s.register(t)
	b := startBrowser(t, s.URL)

	b.visit("/login")
	b.shot("01-login")
	// The first Tab reaches the skip link, which is visible when focused.
	b.do(chromedp.KeyEvent(kb.Tab))
	if got := browserRun(b, chromedp.Evaluate[string](`document.activeElement.className`)); got != "skip-link" {
		t.Fatalf("the first Tab focuses %q, want the skip link", got)
	}
	b.press(`a[href="/signup"]`)
	b.expectPath("/signup")
	b.shot("02-signup")

	// An address that is taken: the server's error stands next to the field.
	b.fill("#f-name", "Ada Lovelace")
	b.fill("#f-email", taken.Email)
	b.fill("#f-password", "correct horse battery staple")
	if status := b.press(`form[action="/signup"] button[type="submit"]`); status != http.StatusConflict {
		t.Fatalf("sign-up with a taken address: %d", status)
	}
	b.expectText("#f-email-error", "already exists")
	b.expectText(".alert", "already exists")
	b.shot("03-signup-error")

	email := newWebEmail("browser")
	b.fill("#f-email", email)
	b.fill("#f-password", "correct horse battery staple")
	b.press(`form[action="/signup"] button[type="submit"]`)
	b.expectPath("/account?notice=welcome")
	b.expectText(".email-line", "Not verified")
	b.expectText(".notice", "Welcome!")
	b.shot("04-account-unverified")

	_, link, _ := awaitMail(t, mail, email, "/verify-email?token=")
	if !strings.HasPrefix(link, s.URL+"/verify-email?token=") {
		t.Fatalf("the verification link %q does not lead to this server's page", link)
	}
	b.do(chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("main h1")))
	b.expectText("main h1", "Email address verified")
	b.shot("05-verify-email")
	b.press(`a[href="/account"]`)
	b.expectText(".email-line", "Verified")

	b.press(`.sidenav a[href="/account/keys"]`)
	b.fill("#f-name", "billing worker")
	b.do(chromedp.SetValue(chromedp.CSS("#f-expires_in_days"), "30"))
	b.press(`form[action="/account/keys"] button[type="submit"]`)
	key := browserRun(b, chromedp.Value(chromedp.CSS("#new-key")))
	if !strings.HasPrefix(key, "ak_") || len(key) != 41 {
		t.Fatalf("the page shows %q as the new key", key)
	}
	b.expectText(".new-key .warning", "only time it is shown")
	b.do(chromedp.Click(chromedp.CSS(`button[data-copy="new-key"]`)), chromedp.WaitVisible(chromedp.CSS(".copy-status:not(:empty)")))
	status := b.text(".copy-status")
	if status != "Copied to the clipboard." && !strings.Contains(status, "Select the key") {
		t.Fatalf("copy status %q", status)
	}
	if status == "Copied to the clipboard." {
		copied := browserRun(b, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
		if copied != key {
			t.Fatalf("the clipboard holds %q, want the key", copied)
		}
	}
	b.shot("06-api-key-created")

	bal := s.do(t, "GET", "/api/v1/public/credits/balance", nil, "X-API-Key: "+key)
	expectStatus(t, bal, http.StatusOK)
	if _, ok := bal.json(t)["remaining_credits"]; !ok {
		t.Fatalf("balance: %s", bal.Body)
	}

	b.visit("/account/keys")
	b.expectText("table.list", "billing worker")
	b.expectText("table.list", key[:11])
	b.shot("07-api-keys")
	b.press(`table.list form[data-confirm] button[type="submit"]`)
	b.expectText(".notice", "no longer works")
	b.mu.Lock()
	asked := strings.Join(b.dialogs, "|")
	b.mu.Unlock()
	if !strings.Contains(asked, "Revoke the key “billing worker”") {
		t.Fatalf("the revoke button asked %q", asked)
	}
	expectProblem(t, s.do(t, "GET", "/api/v1/public/credits/balance", nil, "X-API-Key: "+key), http.StatusUnauthorized, "")

	// Some credits, granted by an operator and partly used by a program, for the credits page.
	s.cli(t, "credits", "grant", "--email", email, "--amount", "12500")
	access, _ := s.login(t, email, "correct horse battery staple")
	expectStatus(t, s.do(t, "POST", "/api/v1/public/credits/usage", map[string]any{"amount": 3100}, bearer(access)), http.StatusOK)
	for _, p := range []struct{ path, name, h1 string }{
		{"/account/sessions", "08-sessions", "Your sessions"},
		{"/account/credits", "09-credits", "Credits"},
		{"/account/identities", "10-sign-in-methods", "Sign-in methods"},
		{"/account/password", "11-password", "Change your password"},
		{"/account", "12-account", "Your account"},
	} {
		b.visit(p.path)
		b.expectText("main h1", p.h1)
		b.shot(p.name)
	}
	b.visit("/account/credits")
	b.expectText(".stat.main", "9,400")
	b.visit("/admin/users")
	b.expectText("main h1", "Admins only")
	b.shot("13-forbidden")

	b.dark(true)
	b.visit("/account")
	b.shot("14-account-dark")
	b.phone(true)
	b.visit("/account/keys")
	b.shot("15-api-keys-phone-dark")
	b.dark(false)
	b.visit("/account/sessions")
	b.shot("16-sessions-phone")
	b.phone(false)

	b.press(`.who button[type="submit"]`)
	b.expectPath("/login?notice=signed_out")
	b.expectText(".notice", "You are signed out.")
}

// TestBrowserForgotAndResetPassword: forgot password → the reset email → its link → the reset page
// → sign in with the new password.
func TestBrowserForgotAndResetPassword(t *testing.T) {
	s, mail := startBrowserMailServer(t)
	a := s.register(t)
	awaitMail(t, mail, a.Email, "/verify-email?token=")
	b := startBrowser(t, s.URL)

	b.visit("/login")
	b.press(`a[href="/forgot-password"]`)
	b.fill("#f-email", a.Email)
	b.press(`form[action="/forgot-password"] button[type="submit"]`)
	b.expectText(".notice", "If an account exists for this address")
	b.shot("20-forgot-password")

	_, link, _ := awaitMail(t, mail, a.Email, "/reset-password?token=")
	if !strings.HasPrefix(link, s.URL+"/reset-password?token=") {
		t.Fatalf("the reset link %q does not lead to this server's page", link)
	}
	b.do(chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("main h1")))
	b.expectText("main h1", "Choose a new password")
	b.shot("21-reset-password")
	b.fill("#f-new_password", "a fresh passphrase")
	b.fill("#f-confirm_password", "a fresh passphrase, typo")
	if status := b.press(`form[action="/reset-password"] button[type="submit"]`); status != http.StatusUnprocessableEntity {
		t.Fatalf("mismatched passwords: %d", status)
	}
	b.expectText("#f-confirm_password-error", "not the same")
	b.shot("22-reset-password-error")
	b.fill("#f-new_password", "a fresh passphrase")
	b.fill("#f-confirm_password", "a fresh passphrase")
	b.press(`form[action="/reset-password"] button[type="submit"]`)
	b.expectPath("/login?notice=password_reset")
	b.expectText(".notice", "Your password was reset")
	b.shot("23-login-after-reset")

	b.fill("#f-email", a.Email)
	b.fill("#f-password", "a fresh passphrase")
	b.press(`form[action="/login"] button[type="submit"]`)
	b.expectPath("/account")
	b.expectText(".email-line", a.Email)
	expectStatus(t, s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": a.Email, "password": a.Password}), http.StatusUnauthorized)
	// The reset revoked the sessions the account had before.
	expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(a.Access)), http.StatusUnauthorized, "")
}

// TestBrowserAdminDisablesUser: an admin finds a user, disables the account, and the user's
// sessions and sign-in stop working at once.
func TestBrowserAdminDisablesUser(t *testing.T) {
	s := startServer(t)
	victim := s.register(t)
	for range 3 {
		s.register(t)
	}
	adm := s.admin(t)
	b := startBrowser(t, s.URL)

	b.visit("/admin/users")
	b.expectPath("/login?next=%2Fadmin%2Fusers")
	b.fill("#f-email", adm.Email)
	b.fill("#f-password", adm.Password)
	b.press(`form[action="/login"] button[type="submit"]`)
	b.expectPath("/admin/users")
	b.expectText("main h1", "Users")
	b.shot("30-admin-users")

	b.fill("#q", victim.Email)
	b.press(`form[role="search"] button[type="submit"]`)
	b.expectText("table.list tbody", victim.Email)
	if rows := browserRun(b, chromedp.Evaluate[int](`document.querySelectorAll("table.list tbody tr").length`)); rows != 1 {
		t.Fatalf("the search shows %d rows, want 1", rows)
	}
	b.press(`table.list form[data-confirm] button[type="submit"]`)
	b.expectText(".notice", "The user was updated.")
	b.expectText("table.list tbody", "Disabled")
	b.shot("31-admin-user-disabled")

	expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(victim.Access)), http.StatusUnauthorized, "")
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": victim.Email, "password": victim.Password}), http.StatusForbidden, "account_disabled")

	b.press(`.sidenav a[href="/admin/audit"]`)
	b.expectText("table.list", "Account disabled")
	b.shot("32-admin-audit")
}

// TestBrowserSignInWithGitHub: the sign-in page's GitHub button → GitHub (a fake without a consent
// page, so the test approves for the user) → back to the dashboard's callback → signed in, linked.
func TestBrowserSignInWithGitHub(t *testing.T) {
	r := startOAuthServer(t)
	b := startBrowser(t, r.URL)
	b.visit("/login?next=%2Faccount%2Fidentities")
	b.expectText(".providers", "Continue with GitHub")
	b.expectText(".providers", "Continue with LinkedIn")
	b.shot("40-login-with-providers")

	b.follow(".provider-github")
	authURL := b.location()
	if !strings.HasPrefix(authURL, r.gh.URL+"/login/oauth/authorize?") {
		t.Fatalf("the GitHub button led to %s", authURL)
	}
	p := persona{subject: "octo", email: newWebEmail("octo"), verified: true, name: "Octo Cat"}
	code, state := r.gh.Approve(t, authURL, r.githubUser(p))
	b.do(chromedp.Navigate(r.URL+"/login/github/callback?code="+url.QueryEscape(code)+"&state="+url.QueryEscape(state)), chromedp.WaitVisible(chromedp.CSS("main h1")))
	b.expectPath("/account/identities")
	b.expectText(".methods", "GitHub")
	b.expectText(".methods", p.email)
	b.shot("41-sign-in-methods-github")
	b.visit("/account")
	b.expectText(".email-line", "Verified")
}
