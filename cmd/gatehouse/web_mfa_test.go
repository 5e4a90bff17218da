package main

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"
)

var (
	setupKey     = regexp.MustCompile(`aria-label="Setup key">([A-Z2-7]+)<`)
	recoveryItem = regexp.MustCompile(`<li><code>([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})</code></li>`)
	mfaTokenIn   = regexp.MustCompile(`name="mfa_token" value="([^"]+)"`)
)

// TestWebMFA: the security page enrols an authenticator app, shows the recovery codes once, and
// the dashboard's sign-in then asks for a code; turning it off signs in with the password again.
func TestWebMFA(t *testing.T) {
	s := startServer(t)
	b := s.webClient(t)
	email, password := newWebEmail("webmfa"), "web password 1234"
	b.signUp(email, password)
	expectPage(t, b.get("/account/security"), http.StatusOK, "Two-step sign-in", "Set up an authenticator app")

	r := b.submit("/account/security", url.Values{"action": {"begin"}})
	expectPage(t, r, http.StatusOK, "Set up your authenticator app", "otpauth://totp/")
	m := setupKey.FindSubmatch(r.Body)
	if m == nil {
		t.Fatalf("no setup key on the page: %s", r.Body)
	}
	secret := string(m[1])

	r = b.submit("/account/security", url.Values{"action": {"confirm"}, "code": {"000000"}})
	expectPage(t, r, http.StatusUnprocessableEntity, "The code is incorrect")
	// The previous step's code (the current one stays unused for the test), drawn again only
	// when a step boundary passed before the server checked it (as enrolTOTP does).
	for try := 0; ; try++ {
		drawn := time.Now()
		r = b.submit("/account/security", url.Values{"action": {"confirm"}, "code": {totpCode(t, secret, drawn.Add(-30*time.Second))}})
		if r.Status == http.StatusOK || try > 0 || time.Now().Unix()/30 == drawn.Unix()/30 {
			break
		}
	}
	expectPage(t, r, http.StatusOK, "Your recovery codes", "shown only now")
	if codes := recoveryItem.FindAllSubmatch(r.Body, -1); len(codes) != 10 {
		t.Fatalf("%d recovery codes on the page", len(codes))
	}
	// Shown once: the page itself no longer has them.
	page := b.get("/account/security")
	expectPage(t, page, http.StatusOK, "On. Every sign-in asks for a code", "10 recovery codes left")
	if recoveryItem.Match(page.Body) {
		t.Fatal("the recovery codes are shown again")
	}

	// New recovery codes, with the current code of the app (the confirming one was the step before).
	r = b.submit("/account/security", url.Values{"action": {"renew"}, "renew_code": {"000000"}})
	expectPage(t, r, http.StatusUnprocessableEntity, "The code is incorrect")
	r = b.submit("/account/security", url.Values{"action": {"renew"}, "renew_code": {totpCode(t, secret, time.Now())}})
	expectPage(t, r, http.StatusOK, "New recovery codes made")
	if codes := recoveryItem.FindAllSubmatch(r.Body, -1); len(codes) != 10 {
		t.Fatalf("%d renewed recovery codes on the page", len(codes))
	}

	// A new browser: the password is right, so the code is asked for.
	b2 := s.webClient(t)
	r = b2.submit("/login", url.Values{"email": {email}, "password": {password}})
	expectPage(t, r, http.StatusOK, "Enter your code")
	if b2.cookie("gatehouse_session") != nil {
		t.Fatal("a session cookie before the second factor")
	}
	tok := mfaTokenIn.FindSubmatch(r.Body)
	if tok == nil {
		t.Fatalf("no mfa_token in the form: %s", r.Body)
	}
	r = b2.submit("/login/mfa", url.Values{"mfa_token": {string(tok[1])}, "code": {"000000"}})
	expectPage(t, r, http.StatusUnprocessableEntity, "Enter your code", "The code is incorrect")
	// The current code was spent on the renewal: the next step's (one step of clock skew) signs in.
	next := totpCode(t, secret, time.Now().Add(30*time.Second))
	r = b2.submit("/login/mfa", url.Values{"mfa_token": {string(tok[1])}, "code": {next}})
	expectRedirect(t, r, "/account")
	access, _ := b2.sessionTokens()
	if claimsOf(t, access)["aal"] != "aal2" {
		t.Fatalf("dashboard session claims: %v", claimsOf(t, access))
	}
	// The used mfa_token starts the sign-in over.
	r = b2.submit("/login/mfa", url.Values{"mfa_token": {string(tok[1])}, "code": {next}})
	expectRedirect(t, r, "/login?notice=mfa_expired")

	// Turning it off with a wrong password fails; with the right one it works and signs b2 out.
	r = b.submit("/account/security", url.Values{"action": {"disable"}, "password": {"not it at all"}})
	expectPage(t, r, http.StatusUnprocessableEntity, "The password is incorrect")
	r = b.submit("/account/security", url.Values{"action": {"disable"}, "password": {password}})
	expectRedirect(t, r, "/account/security?notice=mfa_disabled")
	expectRedirect(t, b2.get("/account"), "/login?next=%2Faccount")
	s.webClient(t).signIn(email, password)
}
