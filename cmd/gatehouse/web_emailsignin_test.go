package main

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The dashboard's email sign-in without JavaScript: the sign-in page offers it, the code page
// signs in and goes where the sign-in was asked for, and the link's page spends nothing on GET.
func TestWebEmailSignIn(t *testing.T) {
	s, mail := startMailServer(t)
	a := s.register(t)
	b := s.webClient(t)
	expectPage(t, b.get("/login?next=/account/keys"), http.StatusOK, `href="/email-sign-in?next=%2faccount%2fkeys"`, "Email me a sign-in code")
	expectPage(t, b.get("/email-sign-in?next=/account/keys"), http.StatusOK, `action="/email-sign-in"`, `value="/account/keys"`)

	r := b.submit("/email-sign-in", url.Values{"email": {a.Email}, "next": {"/account/keys"}})
	expectPage(t, r, http.StatusOK, "Enter your sign-in code", `action="/email-sign-in/code"`, `autocomplete="one-time-code"`)
	code, _, _ := signInMail(t, mail, a.Email)

	r = b.submit("/email-sign-in/code", url.Values{"email": {a.Email}, "code": {otherCode(code)}, "next": {"/account/keys"}})
	expectPage(t, r, http.StatusUnprocessableEntity, `aria-invalid="true"`, "invalid, expired or already used")
	if b.cookie("gatehouse_session") != nil {
		t.Fatal("a wrong code set a session")
	}
	r = b.submit("/email-sign-in/code", url.Values{"email": {a.Email}, "code": {code}, "next": {"/account/keys"}})
	expectRedirect(t, r, "/account/keys")
	access, _ := b.sessionTokens()
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(access)), http.StatusOK)

	// The link: GET shows a button (twice, as a mail scanner and then the person would), POST signs in.
	other := s.webClient(t)
	expectStatus(t, s.do(t, "POST", "/api/v1/auth/email/start", map[string]string{"email": a.Email, "redirect_to": "/account/sessions"}), http.StatusAccepted)
	_, link, token := signInMail(t, mail, a.Email)
	path := strings.TrimPrefix(link, testAppURL)
	for range 2 {
		expectPage(t, other.get(path), http.StatusOK, `action="/email-sign-in/link"`, `value="`+token+`"`, `value="/account/sessions"`)
	}
	r = other.submit("/email-sign-in/link", url.Values{"token": {token}, "next": {"/account/sessions"}})
	expectRedirect(t, r, "/account/sessions")
	// Used: the page says so and offers a new code, without a form.
	r = s.webClient(t).submit("/email-sign-in/link", url.Values{"token": {token}})
	expectPage(t, r, http.StatusUnauthorized, "This link does not work", `href="/email-sign-in"`)
	if strings.Contains(string(r.Body), `action="/email-sign-in/link"`) {
		t.Fatal("a dead link's page still has the sign-in form")
	}
	expectPage(t, other.get("/email-sign-in/link"), http.StatusBadRequest, "This link does not work")
}

// An account with an authenticator app: the email code leads to the code page of the second
// step, with no session before it, and the app's code then signs in.
func TestWebEmailSignInMFA(t *testing.T) {
	s, mail := startMailServer(t)
	a := s.register(t)
	secret, _ := s.enrolTOTP(t, a)
	b := s.webClient(t)
	expectStatus(t, b.submit("/email-sign-in", url.Values{"email": {a.Email}}), http.StatusOK)
	code, _, _ := signInMail(t, mail, a.Email)
	r := b.submit("/email-sign-in/code", url.Values{"email": {a.Email}, "code": {code}, "next": {"/account/sessions"}})
	expectPage(t, r, http.StatusOK, `action="/login/mfa"`, `name="mfa_token"`, `value="/account/sessions"`)
	if b.cookie("gatehouse_session") != nil {
		t.Fatal("a session before the second factor")
	}
	token := regexpValue(t, r, "mfa_token")
	r = b.submit("/login/mfa", url.Values{"mfa_token": {token}, "code": {totpCode(t, secret, time.Now())}, "next": {"/account/sessions"}})
	expectRedirect(t, r, "/account/sessions")
	access, _ := b.sessionTokens()
	if amr := amrOf(t, access); !slices.Equal(amr, []string{"otp", "mfa"}) {
		t.Fatalf("amr %v", amr)
	}
}

// regexpValue reads the value of the hidden input name from a page.
func regexpValue(t *testing.T, r *response, name string) string {
	t.Helper()
	m := regexp.MustCompile(`name="` + regexp.QuoteMeta(name) + `" value="([^"]*)"`).FindSubmatch(r.Body)
	if m == nil {
		t.Fatalf("no %s on the page: %s", name, r.Body)
	}
	return string(m[1])
}

// A browser already signed in that signs in again by email (here as another account) keeps only
// the new session: the old one's access and refresh tokens stop working at once.
func TestWebEmailSignInReplacesSession(t *testing.T) {
	s, mail := startMailServer(t)
	a, other := s.register(t), s.register(t)
	b := s.webClient(t)
	signIn := func(email string) {
		t.Helper()
		expectStatus(t, b.submit("/email-sign-in", url.Values{"email": {email}}), http.StatusOK)
		code, _, _ := signInMail(t, mail, email)
		expectRedirect(t, b.submit("/email-sign-in/code", url.Values{"email": {email}, "code": {code}}), "/account")
	}
	signIn(a.Email)
	oldAccess, oldRefresh := b.sessionTokens()
	signIn(other.Email)
	access, _ := b.sessionTokens()
	me := s.do(t, "GET", "/api/v1/users/me", nil, bearer(access))
	expectStatus(t, me, http.StatusOK)
	if got := me.json(t)["email"]; got != other.Email {
		t.Fatalf("the new session is %v's, want %s's", got, other.Email)
	}
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(oldAccess)), http.StatusUnauthorized)
	expectStatus(t, s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": oldRefresh}), http.StatusUnauthorized)
}
