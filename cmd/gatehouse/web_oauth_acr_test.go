package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// TestWebOAuthACRValues: acr_values=urn:gatehouse:aal2 makes a session signed in without a second
// factor complete one before the code is issued (or set one up first), never silently; the ID
// token's acr and amr say how the user signed in, and auth_time is that sign-in; max_age and
// prompt=none keep their meaning.
func TestWebOAuthACRValues(t *testing.T) {
	s := startServer(t)
	admin := s.admin(t)
	redirect := "https://app.example/cb"
	clientID := s.createOAuthClient(t, admin, "Strict", redirect)
	disc := s.do(t, "GET", "/.well-known/openid-configuration", nil)
	expectStatus(t, disc, http.StatusOK)
	if got := fmt.Sprint(disc.json(t)["acr_values_supported"]); got != "[urn:gatehouse:aal1 urn:gatehouse:aal2]" {
		t.Fatalf("acr_values_supported %s", got)
	}

	email, password := newWebEmail("acr"), "acr password 1234"
	b := s.webClient(t)
	b.signUp(email, password)

	// No second factor yet: set one up first; prompt=none cannot.
	strict := newOAuthRequest(clientID, redirect, "scope=openid", "acr_values="+gatehouse.ACRAAL2)
	expectRedirect(t, b.get(strict.path()), "/account/security?notice=mfa_acr")
	expectPage(t, b.get("/account/security?notice=mfa_acr"), http.StatusOK, "asks for two-step sign-in")
	none := newOAuthRequest(clientID, redirect, "scope=openid", "prompt=none", "acr_values="+gatehouse.ACRAAL2)
	s.expectOAuthError(t, b.get(none.path()), none, "login_required")

	// aal1 acceptable (and unknown values ignored): the password session will do, and says so.
	lax := newOAuthRequest(clientID, redirect, "scope=openid", "acr_values=urn:example:gold "+gatehouse.ACRAAL2+" "+gatehouse.ACRAAL1)
	form := expectConsent(t, b.get(lax.path()), "Strict")
	tok := s.exchangeCode(t, lax, s.expectCode(t, b.decide(form, "allow"), lax))
	id := claimsOf(t, tok["id_token"].(string))
	if id["acr"] != gatehouse.ACRAAL1 || fmt.Sprint(id["amr"]) != "[pwd]" {
		t.Fatalf("ID token of a password sign-in: acr %v amr %v", id["acr"], id["amr"])
	}
	// The password session looks signed in 11 minutes ago from now on: what follows is a new one.
	s.ageSessions(t, id["sub"].(string))
	// A consent form edited to ask for aal2 issues no code either.
	form.Set("acr_values", gatehouse.ACRAAL2)
	r := b.decide(form, "allow")
	if loc := r.Header.Get("Location"); r.Status != http.StatusFound || !strings.HasPrefix(loc, "/login?") || strings.Contains(loc, "code=") {
		t.Fatalf("an edited consent form: %d to %q; want a new sign-in", r.Status, loc)
	}

	// An authenticator app: the aal1 session must sign in again, this time with the code.
	r = b.submit("/account/security", url.Values{"action": {"begin"}})
	m := setupKey.FindSubmatch(r.Body)
	if m == nil {
		t.Fatalf("no setup key: %s", r.Body)
	}
	secret := string(m[1])
	expectPage(t, b.submit("/account/security", url.Values{"action": {"confirm"}, "code": {totpCode(t, secret, time.Now().Add(-30*time.Second))}}), http.StatusOK, "Your recovery codes")
	r = b.get(strict.path())
	loc := r.Header.Get("Location")
	if r.Status != http.StatusFound || !strings.HasPrefix(loc, "/login?") || !strings.Contains(loc, "prompt=login") {
		t.Fatalf("an aal1 session asked for aal2: %d to %q; want a new sign-in", r.Status, loc)
	}
	u, _ := url.Parse(loc)
	next := u.Query().Get("next")
	page := b.submit("/login", url.Values{"email": {email}, "password": {password}, "next": {next}, "prompt": {"login"}})
	expectPage(t, page, http.StatusOK, "Enter your code")
	mt := mfaTokenIn.FindSubmatch(page.Body)
	if mt == nil {
		t.Fatalf("no mfa_token: %s", page.Body)
	}
	signedIn := time.Now()
	done := b.submit("/login/mfa", url.Values{"mfa_token": {string(mt[1])}, "code": {totpCode(t, secret, time.Now())}, "next": {next}})
	expectRedirect(t, done, next)
	// Consent was given above for these scopes: the code comes at once.
	tok = s.exchangeCode(t, strict, s.expectCode(t, b.get(next), strict))
	id = claimsOf(t, tok["id_token"].(string))
	if id["acr"] != gatehouse.ACRAAL2 || fmt.Sprint(id["amr"]) != "[pwd otp mfa]" {
		t.Fatalf("ID token after the second factor: acr %v amr %v", id["acr"], id["amr"])
	}
	authTime, _ := id["auth_time"].(float64)
	if d := time.Unix(int64(authTime), 0).Sub(signedIn); d < -time.Minute || d > time.Minute {
		t.Fatalf("auth_time %v is not the sign-in with the code (%v)", id["auth_time"], signedIn)
	}
	if at := claimsOf(t, tok["access_token"].(string)); at["aal"] != "aal2" {
		t.Fatalf("the app's access token: aal %v", at["aal"])
	}
	// The refreshed ID token says the same.
	rr := s.postForm(t, "/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}, "client_id": {clientID}})
	expectStatus(t, rr, http.StatusOK)
	if id := claimsOf(t, rr.str(t, "id_token")); id["acr"] != gatehouse.ACRAAL2 || id["auth_time"] != authTime {
		t.Fatalf("refreshed ID token: acr %v auth_time %v", id["acr"], id["auth_time"])
	}

	// With the aal2 session: no new sign-in, and max_age counts from the sign-in with the code.
	again := newOAuthRequest(clientID, redirect, "scope=openid", "acr_values="+gatehouse.ACRAAL2, "max_age=300")
	tok = s.exchangeCode(t, again, s.expectCode(t, b.get(again.path()), again))
	if id := claimsOf(t, tok["id_token"].(string)); id["acr"] != gatehouse.ACRAAL2 || id["auth_time"] != authTime {
		t.Fatalf("ID token of the same session: acr %v auth_time %v, want %v", id["acr"], id["auth_time"], authTime)
	}
	stale := newOAuthRequest(clientID, redirect, "scope=openid", "acr_values="+gatehouse.ACRAAL2, "max_age=0", "prompt=none")
	s.expectOAuthError(t, b.get(stale.path()), stale, "login_required")
}
