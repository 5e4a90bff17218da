package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestWebVerifyAndResend: the verification link lands on the dashboard's page and verifies; the
// account page resends the email, once a minute like the API.
func TestWebVerifyAndResend(t *testing.T) {
	s, mail := startMailServer(t)
	b := s.webClient(t)
	email := newWebEmail("verify")
	b.signUp(email, "correct horse battery staple")
	first := verifyLink(t, mail, email)

	expectPage(t, b.get("/account"), http.StatusOK, "Not verified", `action="/account/verification"`)
	expectRedirect(t, b.submit("/account/verification", url.Values{}), "/account?notice=verification_sent")
	second := verifyLink(t, mail, email)
	if second == first {
		t.Fatal("the resent email carries the old token")
	}
	again := b.submit("/account/verification", url.Values{})
	expectPage(t, again, http.StatusTooManyRequests, "sent recently")

	expectPage(t, b.get("/verify-email?token="+url.QueryEscape(second)), http.StatusOK, "Email address verified", "Go to your account")
	expectPage(t, b.get("/verify-email?token="+url.QueryEscape(second)), http.StatusOK, "Already verified")
	expectPage(t, b.get("/account"), http.StatusOK, "Verified")
	if strings.Contains(string(b.get("/account").Body), "Not verified") {
		t.Fatal("the account page still says not verified")
	}
	// The first link died when the address was verified with the second.
	expectPage(t, s.webClient(t).get("/verify-email?token="+url.QueryEscape(first)), http.StatusBadRequest, "This link does not work", "Sign in")
	expectRedirect(t, b.submit("/account/verification", url.Values{}), "/account?notice=already_verified")
}

// TestWebForgotAndResetPassword: the forgot page says the same for every address; the reset link
// lands on the dashboard's form, which sets the password, signs every session out, and is single-use.
func TestWebForgotAndResetPassword(t *testing.T) {
	s, mail := startMailServer(t)
	b := s.webClient(t)
	email, old := newWebEmail("reset"), "correct horse battery staple"
	b.signUp(email, old)
	verifyLink(t, mail, email)

	known := s.webClient(t).submit("/forgot-password", url.Values{"email": {email}})
	unknown := s.webClient(t).submit("/forgot-password", url.Values{"email": {"nobody-" + email}})
	expectPage(t, known, http.StatusOK, "If an account exists for this address")
	expectPage(t, unknown, http.StatusOK, "If an account exists for this address")
	if strings.ReplaceAll(string(known.Body), email, "X") != strings.ReplaceAll(string(unknown.Body), "nobody-"+email, "X") &&
		len(csrfInput.ReplaceAll(known.Body, nil)) != len(csrfInput.ReplaceAll(unknown.Body, nil)) {
		t.Fatal("the forgot-password page tells known from unknown addresses")
	}
	expectPage(t, s.webClient(t).submit("/forgot-password", url.Values{"email": {"not an address"}}), http.StatusUnprocessableEntity, `id="f-email-error"`)

	token := resetLink(t, mail, email)
	r := s.webClient(t)
	expectPage(t, r.get("/reset-password?token="+url.QueryEscape(token)), http.StatusOK, "Choose a new password", token)
	expectPage(t, r.submit("/reset-password", url.Values{"token": {token}, "new_password": {"short"}, "confirm_password": {"short"}}),
		http.StatusUnprocessableEntity, `id="f-new_password-error"`)
	expectPage(t, r.submit("/reset-password", url.Values{"token": {token}, "new_password": {"a fresh passphrase"}, "confirm_password": {"another one"}}),
		http.StatusUnprocessableEntity, `id="f-confirm_password-error"`)
	expectRedirect(t, r.submit("/reset-password", url.Values{"token": {token}, "new_password": {"a fresh passphrase"}, "confirm_password": {"a fresh passphrase"}}),
		"/login?notice=password_reset")
	expectPage(t, r.submit("/reset-password", url.Values{"token": {token}, "new_password": {"yet another phrase"}, "confirm_password": {"yet another phrase"}}),
		http.StatusBadRequest, "invalid, expired or already used")

	// The browser signed in before the reset was signed out by it.
	expectRedirect(t, b.get("/account"), "/login?next=%2Faccount")
	expectPage(t, b.submit("/login", url.Values{"email": {email}, "password": {old}}), http.StatusUnauthorized)
	b.signIn(email, "a fresh passphrase")
}

// TestWebSignInWithProviders: the sign-in page offers every configured provider; the browser goes
// to the provider and back to the dashboard's callback, which signs in only the browser that
// started the flow. The API's own allow-list is untouched.
func TestWebSignInWithProviders(t *testing.T) {
	r := startOAuthServer(t)
	b := r.webClient(t)
	expectPage(t, b.get("/login"), http.StatusOK, "Continue with GitHub", "Continue with LinkedIn", "Continue with Corp", `href="/login/github"`)

	start := b.get("/login/github?next=" + url.QueryEscape("/account/identities"))
	if start.Status != http.StatusSeeOther || !strings.HasPrefix(start.Header.Get("Location"), r.gh.URL+"/login/oauth/authorize?") {
		t.Fatalf("start: %d to %q", start.Status, start.Header.Get("Location"))
	}
	callback := r.URL + "/login/github/callback"
	if got, _ := url.Parse(start.Header.Get("Location")); got.Query().Get("redirect_uri") != callback {
		t.Fatalf("redirect_uri %q, want %q", got.Query().Get("redirect_uri"), callback)
	}
	oc := setCookies(start)["gatehouse_oauth"]
	if oc == nil || !oc.HttpOnly || oc.SameSite != http.SameSiteLaxMode {
		t.Fatalf("state cookie %+v", oc)
	}
	p := persona{subject: "octo", email: newWebEmail("octo"), verified: true, name: "Octo Cat"}
	code, state := r.gh.Approve(t, start.Header.Get("Location"), r.githubUser(p))
	back := "/login/github/callback?code=" + url.QueryEscape(code) + "&state=" + url.QueryEscape(state)

	// Another browser cannot finish this sign-in (login CSRF), and trying burns nothing of it.
	intruder := r.webClient(t)
	expectPage(t, intruder.get(back), http.StatusBadRequest, "not started in this browser")
	if intruder.cookie("gatehouse_session") != nil {
		t.Fatal("a browser that did not start the sign-in got a session")
	}
	expectRedirect(t, b.get(back), "/account/identities")
	expectPage(t, b.get("/account/identities"), http.StatusOK, "GitHub", p.email, "Not set")
	expectPage(t, b.get("/account"), http.StatusOK, p.email, "Verified", "Octo Cat")
	// The state was spent, and so was the cookie.
	expectPage(t, b.get(back), http.StatusBadRequest)

	// Removing the only way to sign in is refused, as through the API.
	expectPage(t, b.submit("/account/identities", url.Values{"action": {"unlink"}, "provider": {"github"}}), http.StatusConflict, "only way to sign in")
	// A refusal at the provider comes back as a message, not an error page.
	expectPage(t, r.webClient(t).get("/login/github/callback?error=access_denied&state=x"), http.StatusBadRequest, "was cancelled or refused")
	expectPage(t, b.get("/login/nosuch"), http.StatusNotFound)

	// The dashboard's callback is allowed for the dashboard only.
	api := r.do(t, "GET", "/api/v1/auth/github/authorize?redirect_uri="+url.QueryEscape(callback), nil)
	expectProblem(t, api, http.StatusBadRequest, "redirect_uri_not_allowed")
}

// TestWebSignUpPageWithoutProviders shows no provider buttons when none is configured.
func TestWebSignUpPageWithoutProviders(t *testing.T) {
	s := startServer(t)
	page := s.webClient(t).get("/signup")
	expectPage(t, page, http.StatusOK, "Create your account")
	if strings.Contains(string(page.Body), "Continue with") {
		t.Fatal("provider buttons without providers")
	}
	expectPage(t, s.webClient(t).get("/login/github"), http.StatusNotFound)
}
