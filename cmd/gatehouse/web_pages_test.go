package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

const dashboardCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"

// accountPages are the dashboard pages that need a signed-in user.
var accountPages = []string{"/account", "/account/password", "/account/sessions", "/account/keys", "/account/identities", "/account/credits"}

// TestWebSignedOutVisitorsAreSentToSignIn: every account and admin page answers a signed-out
// visitor with 303 to /login?next=<the page>, and / goes to the sign-in page.
func TestWebSignedOutVisitorsAreSentToSignIn(t *testing.T) {
	s := startServer(t)
	b := s.webClient(t)
	for _, path := range append(append([]string{}, accountPages...), "/admin/users", "/admin/audit", "/admin/users?q=bob") {
		expectRedirect(t, b.get(path), "/login?next="+url.QueryEscape(path))
	}
	expectRedirect(t, b.get("/"), "/login")
	// A form post without a session changes nothing and goes to sign-in as well.
	expectRedirect(t, b.submit("/account/keys", url.Values{"action": {"create"}, "name": {"x"}, "scopes": {"profile:read"}, "expires_in_days": {"30"}}),
		"/login?next=%2Faccount%2Fkeys")
}

// TestWebPublicPagesAndHeaders: the signed-out pages render with the dashboard's own CSP, are never
// cached, carry a CSRF token; the API next to them keeps its own stricter headers.
func TestWebPublicPagesAndHeaders(t *testing.T) {
	s := startServer(t)
	b := s.webClient(t)
	pages := map[string][]string{
		"/login":                   {"Sign in", `action="/login"`, "Forgot your password?"},
		"/signup":                  {"Create your account", `action="/signup"`, `minlength="8"`},
		"/forgot-password":         {"Reset your password", `action="/forgot-password"`},
		"/reset-password?token=ab": {"Choose a new password", `name="token" value="ab"`},
	}
	for path, texts := range pages {
		r := b.get(path)
		expectPage(t, r, http.StatusOK, append(texts, `name="csrf_token"`, `<label for="f-`)...)
		if got := r.Header.Get("Content-Security-Policy"); got != dashboardCSP {
			t.Fatalf("%s: CSP %q", path, got)
		}
		if r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("X-Frame-Options") != "DENY" || r.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("%s: headers %v", path, r.Header)
		}
		if strings.Contains(string(r.Body), "<script>") || strings.Contains(string(r.Body), " style=") {
			t.Fatalf("%s: inline code the CSP would block", path)
		}
	}
	c := b.cookie("gatehouse_csrf")
	if c == nil {
		t.Fatal("no CSRF cookie after visiting the pages")
	}
	expectPage(t, b.get("/reset-password"), http.StatusBadRequest, "This link is incomplete")
	expectPage(t, b.get("/verify-email"), http.StatusBadRequest, "This link does not work")
	expectPage(t, b.get("/verify-email?token=not-a-real-token-aaaaaaaaaaaaaaaaaaaaaaaaa"), http.StatusBadRequest, "invalid, expired or already used")
	nf := b.get("/no-such-page")
	expectPage(t, nf, http.StatusNotFound, "Page not found")
	if nf.Header.Get("Content-Security-Policy") != dashboardCSP {
		t.Fatalf("404 page CSP %q", nf.Header.Get("Content-Security-Policy"))
	}

	css := b.get("/static/app.css")
	if css.Status != 200 || !strings.HasPrefix(css.Header.Get("Content-Type"), "text/css") {
		t.Fatalf("stylesheet: %d %v", css.Status, css.Header)
	}
	// The API is untouched: its CSP, its problem documents, its 404s.
	api := s.do(t, "GET", "/api/v1/users/me", nil)
	expectProblem(t, api, http.StatusUnauthorized, "")
	if got := api.Header.Get("Content-Security-Policy"); got != "default-src 'none'; frame-ancestors 'none'" {
		t.Fatalf("API CSP changed: %q", got)
	}
	expectProblem(t, s.do(t, "GET", "/api/v1/nope", nil), http.StatusNotFound, "not_found")
	expectStatus(t, s.do(t, "GET", "/healthz", nil), http.StatusOK)
	expectStatus(t, s.do(t, "GET", "/.well-known/jwks.json", nil), http.StatusOK)
	expectStatus(t, s.do(t, "GET", "/openapi.json", nil), http.StatusOK)
}

// TestWebSignUpSignInAndEveryAccountPage walks the pages of a signed-in user, then signs out and
// checks that the session is revoked for the API too.
func TestWebSignUpSignInAndEveryAccountPage(t *testing.T) {
	s := startServer(t)
	b := s.webClient(t)
	email, password := newWebEmail("web"), "correct horse battery staple"
	b.signUp(email, password)
	c := b.cookie("gatehouse_session")
	if c == nil {
		t.Fatal("no session cookie after sign-up")
	}
	expectPage(t, b.get("/account?notice=welcome"), http.StatusOK, email, "Not verified", "Welcome!", `aria-current="page"`)
	texts := map[string]string{
		"/account/password":   "Change your password",
		"/account/sessions":   "This device",
		"/account/keys":       "You have no API keys yet",
		"/account/identities": "You can sign in with your email address and password",
		"/account/credits":    "Remaining",
	}
	for path, text := range texts {
		expectPage(t, b.get(path), http.StatusOK, text, "Sign out")
	}
	// Signed-in visitors are sent on from the sign-in pages; a user is not an admin.
	expectRedirect(t, b.get("/login"), "/account")
	expectRedirect(t, b.get("/signup?next=/account/keys"), "/account/keys")
	expectRedirect(t, b.get("/"), "/account")
	expectPage(t, b.get("/admin/users"), http.StatusForbidden, "Admins only")
	expectPage(t, b.get("/admin/audit"), http.StatusForbidden, "Admins only")

	// The cookie's access token is a real one: the API accepts it.
	access, _ := b.sessionTokens()
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(access)), http.StatusOK)

	expectRedirect(t, b.submit("/logout", url.Values{}), "/login?notice=signed_out")
	if b.cookie("gatehouse_session") != nil {
		t.Fatal("the session cookie survived sign-out")
	}
	// Sign-out revoked the session: its access token stops working at once.
	expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(access)), http.StatusUnauthorized, "")
	expectPage(t, b.get("/login?notice=signed_out"), http.StatusOK, "You are signed out.")

	// Wrong password: the API's words, 401, the address kept in the form, never the password.
	bad := b.submit("/login", url.Values{"email": {email}, "password": {"not the password"}})
	expectPage(t, bad, http.StatusUnauthorized, "Incorrect email or password", `value="`+email+`"`)
	if strings.Contains(string(bad.Body), "not the password") {
		t.Fatal("the password was echoed")
	}
	// Sign-in with a return path lands there.
	r := b.submit("/login", url.Values{"email": {strings.ToUpper(email)}, "password": {password}, "next": {"/account/keys"}})
	expectRedirect(t, r, "/account/keys")
	// Signing up again with the same address: 409, next to the field.
	other := s.webClient(t)
	dup := other.submit("/signup", url.Values{"email": {email}, "password": {password}})
	expectPage(t, dup, http.StatusConflict, "already exists", `id="f-email-error"`, `aria-invalid="true"`)
	weak := other.submit("/signup", url.Values{"email": {newWebEmail("weak")}, "password": {"short"}})
	expectPage(t, weak, http.StatusUnprocessableEntity, `id="f-password-error"`, `href="#f-password"`)
}

// TestWebCookiesAndHeadersOverHTTPS: with an https public URL the cookies are Secure and
// __Host- prefixed, and HSTS is sent.
func TestWebCookiesAndHeadersOverHTTPS(t *testing.T) {
	s := startServer(t, "GATEHOUSE_PUBLIC_URL=https://auth.example.com")
	r := s.do(t, "GET", "/login", nil)
	expectStatus(t, r, http.StatusOK)
	if !strings.HasPrefix(r.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Fatal("no HSTS on the dashboard behind an https public URL")
	}
	csrf := setCookies(r)["__Host-gatehouse_csrf"]
	if csrf == nil || !csrf.Secure || !csrf.HttpOnly || csrf.Path != "/" || csrf.Domain != "" {
		t.Fatalf("CSRF cookie %+v", csrf)
	}
	token := csrfInput.FindSubmatch(r.Body)[1]
	form := url.Values{"email": {newWebEmail("https")}, "password": {"correct horse battery staple"}, "csrf_token": {string(token)}}
	res := s.do(t, "POST", "/signup", form.Encode(), "Content-Type: application/x-www-form-urlencoded",
		"Cookie: __Host-gatehouse_csrf="+csrf.Value, "Sec-Fetch-Site: same-origin")
	if res.Status != http.StatusSeeOther {
		t.Fatalf("sign-up: %d %s", res.Status, res.Body)
	}
	sess := setCookies(res)["__Host-gatehouse_session"]
	if sess == nil || !sess.Secure || !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Path != "/" || sess.MaxAge <= 0 {
		t.Fatalf("session cookie %+v", sess)
	}
	if setCookies(res)["gatehouse_session"] != nil {
		t.Fatal("an unprefixed session cookie was set over https")
	}
}

// TestWebSessionCookieOverHTTP: the plain-HTTP cookie is HttpOnly, SameSite=Lax, Path=/, not Secure.
func TestWebSessionCookieOverHTTP(t *testing.T) {
	s := startServer(t)
	b := s.webClient(t)
	form := url.Values{"email": {newWebEmail("http")}, "password": {"correct horse battery staple"}, "csrf_token": {b.csrf()}}
	r := b.do("POST", "/signup", form)
	sess := setCookies(r)["gatehouse_session"]
	if sess == nil || sess.Secure || !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Path != "/" {
		t.Fatalf("session cookie %+v", sess)
	}
	if c := setCookies(r)["gatehouse_csrf"]; c == nil {
		t.Fatal("the CSRF secret was not replaced at sign-in")
	}
}
