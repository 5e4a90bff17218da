package main

import (
	"bytes"
	"encoding/base64"
	"html"
	"image/png"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/totp"
)

var (
	setupKey     = regexp.MustCompile(`aria-label="Setup key">([A-Z2-7]+)<`)
	recoveryItem = regexp.MustCompile(`<li><code>([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})</code></li>`)
	mfaTokenIn   = regexp.MustCompile(`name="mfa_token" value="([^"]+)"`)
	qrImage      = regexp.MustCompile(`<img class="qr" src="data:image/png;base64,([^"]+)" width="240" height="240" alt="([^"]+)">`)
	setupURI     = regexp.MustCompile(`href="(otpauth://totp/[^"]+)"`)
)

// expectQRCode checks the setup page's QR code: a PNG image of the page's otpauth:// URI (the
// same bytes as rendering that URI again), with alt text, beside the key shown as text, under a
// Content-Security-Policy that allows it.
func expectQRCode(t *testing.T, r *response) {
	t.Helper()
	m, u := qrImage.FindSubmatch(r.Body), setupURI.FindSubmatch(r.Body)
	if m == nil || u == nil {
		t.Fatalf("no QR code image or no otpauth link on the setup page: %s", r.Body)
	}
	if !strings.Contains(string(m[2]), "QR code") {
		t.Fatalf("alt text %q", m[2])
	}
	img, err := base64.StdEncoding.DecodeString(html.UnescapeString(string(m[1])))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(img))
	if err != nil || cfg.Width != totp.QRSize || cfg.Height != totp.QRSize {
		t.Fatalf("the QR code is not a %d-pixel PNG: %+v %v", totp.QRSize, cfg, err)
	}
	want, err := totp.Engine{}.QRCode(html.UnescapeString(string(u[1])))
	if err != nil || !bytes.Equal(img, want) {
		t.Fatalf("the QR code is not the image of the page's otpauth URI (%v)", err)
	}
	if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self' data:") {
		t.Fatalf("CSP %q blocks the data: image", csp)
	}
}

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
	expectQRCode(t, r)

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
