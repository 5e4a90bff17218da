package main

import (
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

// startLocalhostServer runs a gatehouse whose public URL is http://localhost:PORT: browsers allow
// passkeys on localhost over plain http, never on an IP address, so the RP ID is localhost.
func startLocalhostServer(t *testing.T) (*testServer, string) {
	t.Helper()
	// A free port, for the public URL to name before the server listens.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	base := "http://localhost:" + port
	s := startServer(t, "GATEHOUSE_ADDR=127.0.0.1:"+port, "GATEHOUSE_PUBLIC_URL="+base)
	return s, base
}

// virtualAuthenticator gives the tab a platform authenticator (CTAP2, internal) that keeps
// discoverable credentials and verifies its user, as a laptop's fingerprint reader would.
func (b *tab) virtualAuthenticator() {
	b.t.Helper()
	if _, err := chromedp.Call(b.ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		b.t.Fatal(err)
	}
	_, err := chromedp.Call(b.ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21,
			Transport: webauthn.AuthenticatorTransportInternal, HasResidentKey: true, HasUserVerification: true,
			IsUserVerified: true, AutomaticPresenceSimulation: true,
		}})
	if err != nil {
		b.t.Fatal(err)
	}
}

// TestBrowserPasskeys: in Chromium with a virtual authenticator, a signed-in user adds a passkey
// on /account/security, signs out, signs in with the passkey alone from the sign-in page, then
// signs in with the password and uses the passkey as the second step; renames and removes it.
func TestBrowserPasskeys(t *testing.T) {
	s, base := startLocalhostServer(t)
	a := s.register(t)
	b := startBrowser(t, base)
	b.virtualAuthenticator()

	b.visit("/login")
	if got := browserRun(b, chromedp.Evaluate[string](`document.getElementById("f-email").getAttribute("autocomplete")`)); got != "username webauthn" {
		t.Fatalf("the email field's autocomplete is %q: no passkey autofill", got)
	}
	b.fill("#f-email", a.Email)
	b.fill("#f-password", a.Password)
	b.press(`form[action="/login"] button[type="submit"]`)
	b.expectPath("/account")

	b.visit("/account/security")
	b.expectText("#passkeys-title", "Passkeys")
	b.fill("#f-passkey_name", "Test laptop")
	b.press(`form[data-passkey-register] button[type="submit"]`)
	b.expectPath("/account/security?notice=passkey_added")
	b.expectText(".passkeys", "Test laptop")
	b.shot("passkeys-01-security")

	// Signed out, the passkey alone signs in: offered in the email field's autofill list
	// (conditional UI), which the virtual authenticator answers by itself...
	b.press(`form[action="/logout"] button`)
	b.do(chromedp.Navigate(base+"/login"), chromedp.WaitVisible(chromedp.CSS(".sidenav")))
	b.expectPath("/account")
	// ...and with the "Sign in with a passkey" button, here in a browser without autofill of
	// passkeys (the conditional UI is reported unavailable from now on).
	_, err := chromedp.Call(b.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `PublicKeyCredential.isConditionalMediationAvailable = function () { return Promise.resolve(false); };`})
	if err != nil {
		t.Fatal(err)
	}
	b.press(`form[action="/logout"] button`)
	b.visit("/login")
	b.shot("passkeys-02-login")
	b.press(`form[data-passkey-login] button[data-passkey-button]`)
	b.expectPath("/account")

	// With the password, the passkey is the second step; no code field is offered.
	b.press(`form[action="/logout"] button`)
	b.visit("/login")
	b.fill("#f-email", a.Email)
	b.fill("#f-password", a.Password)
	b.press(`form[action="/login"] button[type="submit"]`)
	b.expectText("main h1", "Use your passkey")
	if n := browserRun(b, chromedp.Evaluate[int](`document.querySelectorAll("#f-code").length`)); n != 0 {
		t.Fatal("a code field is offered to a user without an authenticator app")
	}
	b.shot("passkeys-03-second-step")
	b.press(`form[data-passkey-mfa] button[data-passkey-button]`)
	b.expectPath("/account")

	b.visit("/account/security")
	id := browserRun(b, chromedp.Evaluate[string](`document.querySelector(".passkey input[name=id]").value`))
	b.fill("#rename-"+id, "Work laptop")
	b.press(`.passkey form:first-of-type button[type="submit"]`)
	b.expectPath("/account/security?notice=passkey_renamed")
	b.expectText(".passkeys", "Work laptop")
	b.press(`.passkey form[data-confirm] button`)
	b.expectPath("/account/security?notice=passkey_removed")
	if got := b.text("#passkeys-title + p + p"); !strings.Contains(got, "No passkey") {
		t.Fatalf("after removal the page says %q", got)
	}
}
