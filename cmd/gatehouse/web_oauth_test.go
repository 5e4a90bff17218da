package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestWebOAuthCodeFlowDynamicClient: a client registered through /oauth2/register sends the user
// to the authorization endpoint; the user signs in on /login, sees the consent page (the client
// is self-registered, so unverified), allows, and the client exchanges the code with PKCE and
// reads /oauth2/userinfo. A second request of the same client shows the consent page again.
func TestWebOAuthCodeFlowDynamicClient(t *testing.T) {
	s := startServer(t)
	user := s.register(t)
	redirect := "http://127.0.0.1:9/callback"
	clientID := s.registerOAuthClient(t, "Agent <Smith>", redirect)

	b := s.webClient(t)
	o := newOAuthRequest(clientID, redirect, "scope=openid email", "nonce=n-0S6")
	r := b.get(o.path())
	r = b.signInFor(r, user.Email, user.Password)
	form := expectConsent(t, r, "Agent &lt;Smith&gt;", "Unverified", "self-registered", clientID, "127.0.0.1:9",
		`<code class="scope">openid</code>`, `<code class="scope">email</code>`, "See your email address", "Gatehouse API",
		"This app runs on your own device")
	if strings.Contains(string(r.Body), "Agent <Smith>") {
		t.Fatal("the client's name is not escaped")
	}
	if form.Get("client_id") != clientID || form.Get("state") != o.Params.Get("state") || form.Get("csrf_token") == "" {
		t.Fatalf("the consent form does not carry the request: %v", form)
	}
	// The form may lead back to the client: the CSP lets it, and only it.
	if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' http://127.0.0.1:9;") {
		t.Fatalf("CSP %q", csp)
	}
	code := s.expectCode(t, b.decide(form, "allow"), o)

	tok := s.exchangeCode(t, o, code)
	access, _ := tok["access_token"].(string)
	if access == "" || tok["id_token"] == nil || tok["refresh_token"] == nil {
		t.Fatalf("token response %v", tok)
	}
	info := s.do(t, "GET", "/oauth2/userinfo", nil, bearer(access))
	expectStatus(t, info, http.StatusOK)
	if info.str(t, "sub") != user.ID || info.str(t, "email") != user.Email {
		t.Fatalf("userinfo %s", info.Body)
	}
	// The code is spent.
	again := s.postForm(t, "/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {redirect}, "client_id": {clientID}, "code_verifier": {o.Verifier}})
	if again.Status != http.StatusBadRequest || again.str(t, "error") != "invalid_grant" {
		t.Fatalf("a code used twice: %d %s", again.Status, again.Body)
	}

	// A self-registered client never skips the page (MCP's confused-deputy rule), nor does
	// prompt=none get a code for it.
	o2 := newOAuthRequest(clientID, redirect, "scope=openid email")
	expectConsent(t, b.get(o2.path()), "Unverified")
	o3 := newOAuthRequest(clientID, redirect, "scope=openid email", "prompt=none")
	s.expectOAuthError(t, b.get(o3.path()), o3, "consent_required")
}

// TestWebOAuthRememberedConsent: a pre-registered client asks once; the same scopes again skip
// the page; more scopes show it again.
func TestWebOAuthRememberedConsent(t *testing.T) {
	s := startServer(t)
	admin := s.admin(t)
	s.addOAuthResource(t, admin, "https://mcp.example/mcp", "Notes MCP", "mcp:tools=Use your notes tools", "mcp:read=Read your notes")
	redirect := "https://app.example/callback?tenant=7"
	clientID := s.createOAuthClient(t, admin, "Notes App", redirect)
	user := s.register(t)
	b := s.webClient(t)
	b.signIn(user.Email, user.Password)

	o := newOAuthRequest(clientID, redirect, "scope=mcp:tools", "resource=https://mcp.example/mcp")
	r := b.get(o.path())
	form := expectConsent(t, r, "Notes App", "Notes MCP", "https://mcp.example/mcp", `<code class="scope">mcp:tools</code>`, "Use your notes tools", "app.example")
	if strings.Contains(string(r.Body), "Unverified") || strings.Contains(string(r.Body), "mcp:read") {
		t.Fatalf("the page of a registered client asking for mcp:tools: %s", r.Body)
	}
	done := b.decide(form, "allow")
	s.expectCode(t, done, o)
	// The redirect URI's own query is kept.
	if loc, _ := url.Parse(done.Header.Get("Location")); loc.Query().Get("tenant") != "7" {
		t.Fatalf("the redirect URI's query was lost: %s", done.Header.Get("Location"))
	}

	// Remembered: no page, a code at once; prompt=none too.
	o2 := newOAuthRequest(clientID, redirect, "scope=mcp:tools", "resource=https://mcp.example/mcp")
	code := s.expectCode(t, b.get(o2.path()), o2)
	tok := s.exchangeCode(t, o2, code)
	if tok["scope"] != "mcp:tools" {
		t.Fatalf("granted scope %v", tok["scope"])
	}
	o3 := newOAuthRequest(clientID, redirect, "scope=mcp:tools", "resource=https://mcp.example/mcp", "prompt=none")
	s.expectCode(t, b.get(o3.path()), o3)

	// More scopes: the page again, naming them; prompt=none cannot get them.
	o4 := newOAuthRequest(clientID, redirect, "scope=mcp:tools mcp:read", "resource=https://mcp.example/mcp", "prompt=none")
	s.expectOAuthError(t, b.get(o4.path()), o4, "consent_required")
	o5 := newOAuthRequest(clientID, redirect, "scope=mcp:tools mcp:read", "resource=https://mcp.example/mcp")
	expectConsent(t, b.get(o5.path()), `<code class="scope">mcp:read</code>`, "Read your notes")
	// prompt=consent asks even for what was granted.
	o6 := newOAuthRequest(clientID, redirect, "scope=mcp:tools", "resource=https://mcp.example/mcp", "prompt=consent")
	expectConsent(t, b.get(o6.path()))
}

// TestWebOAuthDeny: deny sends access_denied with the state and the issuer, and grants nothing.
func TestWebOAuthDeny(t *testing.T) {
	s := startServer(t)
	user := s.register(t)
	redirect := "http://127.0.0.1:9/cb"
	clientID := s.registerOAuthClient(t, "Denied", redirect)
	b := s.webClient(t)
	b.signIn(user.Email, user.Password)
	o := newOAuthRequest(clientID, redirect, "scope=openid")
	form := expectConsent(t, b.get(o.path()))
	s.expectOAuthError(t, b.decide(form, "deny"), o, "access_denied")
	expectPage(t, b.get("/account/apps"), http.StatusOK, "No app has access to your account")
	grants := s.do(t, "GET", "/api/v1/users/me/grants", nil, bearer(user.Access))
	expectStatus(t, grants, http.StatusOK)
	if strings.TrimSpace(string(grants.Body)) != "[]" {
		t.Fatalf("a denied client got a grant: %s", grants.Body)
	}
}

// TestWebOAuthRequestErrors: an unknown client or an unregistered redirect URI gets a page of its
// own (no form, no redirect); later errors go to the client with the state and the issuer.
func TestWebOAuthRequestErrors(t *testing.T) {
	s := startServer(t)
	user := s.register(t)
	redirect := "http://127.0.0.1:9/cb"
	clientID := s.registerOAuthClient(t, "Errors", redirect)
	b := s.webClient(t)
	b.signIn(user.Email, user.Password)

	expectNoForm(t, b.get(newOAuthRequest("no-such-client", redirect).path()), "This sign-in request cannot continue")
	expectNoForm(t, b.get(newOAuthRequest(clientID, "https://evil.example/cb").path()), "not registered for this client")
	expectNoForm(t, b.get(newOAuthRequest(clientID, "http://127.0.0.1:9/other").path()), "not registered")
	dup := newOAuthRequest(clientID, redirect)
	dup.Params.Add("redirect_uri", "https://evil.example/cb")
	expectNoForm(t, b.get(dup.path()), "more than once")
	// Signed out, the same: no sign-in page for a request that cannot succeed.
	expectNoForm(t, s.webClient(t).get(newOAuthRequest("no-such-client", redirect).path()))

	// The root fallback answers at the real endpoint with the same query.
	o := newOAuthRequest(clientID, redirect)
	alias := b.get("/authorize?" + o.Params.Encode())
	if alias.Status != http.StatusFound || alias.Header.Get("Location") != o.path() {
		t.Fatalf("/authorize: %d to %q", alias.Status, alias.Header.Get("Location"))
	}

	// PKCE: missing, plain, or no method (which means plain) are refused at the client.
	missing := newOAuthRequest(clientID, redirect)
	missing.Params.Del("code_challenge")
	missing.Params.Del("code_challenge_method")
	s.expectOAuthError(t, b.get(missing.path()), missing, "invalid_request")
	plain := newOAuthRequest(clientID, redirect)
	plain.Params.Set("code_challenge_method", "plain")
	s.expectOAuthError(t, b.get(plain.path()), plain, "invalid_request")
	noMethod := newOAuthRequest(clientID, redirect)
	noMethod.Params.Del("code_challenge_method")
	s.expectOAuthError(t, b.get(noMethod.path()), noMethod, "invalid_request")
	// Other errors, with and without a session.
	token := newOAuthRequest(clientID, redirect)
	token.Params.Set("response_type", "token")
	s.expectOAuthError(t, b.get(token.path()), token, "unsupported_response_type")
	target := newOAuthRequest(clientID, redirect, "resource=https://unknown.example/api")
	s.expectOAuthError(t, s.webClient(t).get(target.path()), target, "invalid_target")
	twice := newOAuthRequest(clientID, redirect)
	twice.Params.Add("state", "again")
	r := b.get(twice.path())
	if r.Status != http.StatusFound || !strings.Contains(r.Header.Get("Location"), "error=invalid_request") {
		t.Fatalf("a repeated state: %d %s", r.Status, r.Header.Get("Location"))
	}
	// No state sent, none echoed.
	bare := newOAuthRequest(clientID, redirect)
	bare.Params.Del("state")
	bare.Params.Del("code_challenge")
	loc := b.get(bare.path()).Header.Get("Location")
	if strings.Contains(loc, "state=") || !strings.Contains(loc, "iss=") {
		t.Fatalf("redirect without a state: %s", loc)
	}
}

// TestWebOAuthPromptAndMaxAge: prompt=none without a session is login_required; prompt=login and
// max_age=0 make a signed-in user sign in again (the form is shown, login_hint fills it) and the
// request then goes on with the new session; the old one is ended.
func TestWebOAuthPromptAndMaxAge(t *testing.T) {
	s := startServer(t)
	admin := s.admin(t)
	redirect := "https://app.example/cb"
	clientID := s.createOAuthClient(t, admin, "Prompted", redirect)
	user := s.register(t)

	b := s.webClient(t)
	none := newOAuthRequest(clientID, redirect, "prompt=none")
	s.expectOAuthError(t, b.get(none.path()), none, "login_required")

	// Signed out, login_hint fills the email field.
	hinted := newOAuthRequest(clientID, redirect, "login_hint="+user.Email, "scope=openid")
	r := b.get(hinted.path())
	if !strings.HasPrefix(r.Header.Get("Location"), "/login?") {
		t.Fatalf("signed out: %d %s", r.Status, r.Header.Get("Location"))
	}
	loginPage := b.get(r.Header.Get("Location"))
	expectPage(t, loginPage, http.StatusOK, `value="`+user.Email+`"`)
	// Browsers check form-action on the redirects after a post: the sign-in form may lead back to
	// this client, and only because the request names it.
	if csp := loginPage.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://app.example;") {
		t.Fatalf("sign-in page CSP %q", csp)
	}
	if csp := b.get("/login?next=/account").Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self';") {
		t.Fatalf("sign-in page CSP %q", csp)
	}
	evil := url.Values{"next": {"/oauth2/authorize?client_id=" + clientID + "&redirect_uri=https://evil.example/cb"}}
	if csp := b.get("/login?" + evil.Encode()).Header.Get("Content-Security-Policy"); strings.Contains(csp, "evil") {
		t.Fatalf("an unregistered redirect URI widened the CSP: %q", csp)
	}
	form := expectConsent(t, b.signInFor(r, user.Email, user.Password), "Prompted")
	s.expectCode(t, b.decide(form, "allow"), hinted)

	for _, extra := range []string{"prompt=login", "max_age=0"} {
		t.Run(extra, func(t *testing.T) {
			_, oldRefresh := b.sessionTokens()
			o := newOAuthRequest(clientID, redirect, "scope=openid", extra)
			r := b.get(o.path())
			loc := r.Header.Get("Location")
			if r.Status != http.StatusFound || !strings.HasPrefix(loc, "/login?") || !strings.Contains(loc, "prompt=login") {
				t.Fatalf("a signed-in user with %s: %d to %q", extra, r.Status, loc)
			}
			// The sign-in page shows its form although a session exists.
			expectPage(t, b.get(loc), http.StatusOK, `name="password"`, "sign in again")
			code := s.expectCode(t, b.signInFor(r, user.Email, user.Password), o)
			_, newRefresh := b.sessionTokens()
			if newRefresh == oldRefresh {
				t.Fatal("no new session after signing in again")
			}
			// The replaced session is over.
			old := s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": oldRefresh})
			if old.Status != http.StatusUnauthorized {
				t.Fatalf("the replaced session still refreshes: %d", old.Status)
			}
			tok := s.exchangeCode(t, o, code)
			if tok["id_token"] == nil {
				t.Fatalf("no ID token: %v", tok)
			}
			// The fresh sign-in counted once: the same request again asks for another.
			again := b.get(o.path())
			if again.Status != http.StatusFound || !strings.HasPrefix(again.Header.Get("Location"), "/login?") {
				t.Fatalf("the same request again: %d to %q", again.Status, again.Header.Get("Location"))
			}
			// prompt=none cannot sign anyone in again.
			if extra == "max_age=0" {
				n := newOAuthRequest(clientID, redirect, "scope=openid", "max_age=0", "prompt=none")
				s.expectOAuthError(t, b.get(n.path()), n, "login_required")
			}
		})
	}
	// A max_age the session is younger than needs no sign-in.
	fresh := newOAuthRequest(clientID, redirect, "scope=openid", "max_age=3600")
	s.expectCode(t, b.get(fresh.path()), fresh)
}

// TestWebOAuthConsentCSRF: the consent form is refused without its CSRF token, with another
// browser's, and from another site; nothing is granted.
func TestWebOAuthConsentCSRF(t *testing.T) {
	s := startServer(t)
	user := s.register(t)
	redirect := "http://127.0.0.1:9/cb"
	clientID := s.registerOAuthClient(t, "CSRF", redirect)
	b := s.webClient(t)
	b.signIn(user.Email, user.Password)
	o := newOAuthRequest(clientID, redirect, "scope=openid")
	form := expectConsent(t, b.get(o.path()))

	noToken := url.Values{}
	for k, v := range form {
		noToken[k] = v
	}
	noToken.Del("csrf_token")
	for name, r := range map[string]*response{
		"no token":      b.decide(noToken, "allow"),
		"foreign token": b.decide(withField(form, "csrf_token", s.webClient(t).csrf()), "allow"),
		"cross-site": b.do("POST", "/oauth2/authorize", withField(form, "decision", "allow"),
			"Origin: https://evil.example", "Sec-Fetch-Site: cross-site"),
	} {
		if r.Status != http.StatusForbidden || r.Header.Get("Location") != "" {
			t.Fatalf("%s: %d to %q", name, r.Status, r.Header.Get("Location"))
		}
	}
	grants := s.do(t, "GET", "/api/v1/users/me/grants", nil, bearer(user.Access))
	if strings.TrimSpace(string(grants.Body)) != "[]" {
		t.Fatalf("a refused consent granted: %s", grants.Body)
	}
	// Hidden fields are checked again: a form changed to another redirect URI is refused on a page.
	expectNoForm(t, b.decide(withField(form, "redirect_uri", "https://evil.example/cb"), "allow"), "not registered")
	// The real form still works.
	s.expectCode(t, b.decide(form, "allow"), o)
}

func withField(form url.Values, name, value string) url.Values {
	out := url.Values{}
	for k, v := range form {
		out[k] = v
	}
	out.Set(name, value)
	return out
}

// TestWebOAuthConnectedApps: /account/apps lists the app's grant; revoking it ends its refresh
// token (invalid_grant) and its access token (refused by /oauth2/userinfo) at once.
func TestWebOAuthConnectedApps(t *testing.T) {
	s := startServer(t)
	user := s.register(t)
	redirect := "http://127.0.0.1:9/cb"
	clientID := s.registerOAuthClient(t, "Connected Thing", redirect)
	b := s.webClient(t)
	b.signIn(user.Email, user.Password)
	expectPage(t, b.get("/account"), http.StatusOK, `href="/account/apps"`)
	o := newOAuthRequest(clientID, redirect, "scope=openid profile")
	code := s.expectCode(t, b.decide(expectConsent(t, b.get(o.path())), "allow"), o)
	tok := s.exchangeCode(t, o, code)
	access, _ := tok["access_token"].(string)
	refresh, _ := tok["refresh_token"].(string)
	expectStatus(t, s.do(t, "GET", "/oauth2/userinfo", nil, bearer(access)), http.StatusOK)

	page := b.get("/account/apps")
	expectPage(t, page, http.StatusOK, "Connected Thing", clientID, "Gatehouse API", s.URL+"/api/v1", "<li>openid</li>", "<li>profile</li>")
	grants := s.do(t, "GET", "/api/v1/users/me/grants", nil, bearer(user.Access))
	expectStatus(t, grants, http.StatusOK)
	grantID := strings.Split(strings.Split(string(grants.Body), `"id":"`)[1], `"`)[0]
	if !strings.Contains(string(page.Body), `name="id" value="`+grantID+`"`) {
		t.Fatalf("no revoke button for grant %s", grantID)
	}
	// Another user cannot revoke it.
	other := s.webClient(t)
	stranger := s.register(t)
	other.signIn(stranger.Email, stranger.Password)
	expectPage(t, other.submit("/account/apps", url.Values{"action": {"revoke"}, "id": {grantID}}), http.StatusNotFound)
	// Without CSRF, nothing.
	if r := b.do("POST", "/account/apps", url.Values{"action": {"revoke"}, "id": {grantID}}); r.Status != http.StatusForbidden {
		t.Fatalf("revoke without CSRF: %d", r.Status)
	}
	expectStatus(t, s.do(t, "GET", "/oauth2/userinfo", nil, bearer(access)), http.StatusOK)

	expectRedirect(t, b.submit("/account/apps", url.Values{"action": {"revoke"}, "id": {grantID}}), "/account/apps?notice=app_revoked")
	expectPage(t, b.get("/account/apps?notice=app_revoked"), http.StatusOK, "access was revoked", "No app has access")
	r := s.postForm(t, "/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {clientID}})
	if r.Status != http.StatusBadRequest || r.str(t, "error") != "invalid_grant" {
		t.Fatalf("refresh after revoke: %d %s", r.Status, r.Body)
	}
	if r := s.do(t, "GET", "/oauth2/userinfo", nil, bearer(access)); r.Status != http.StatusUnauthorized {
		t.Fatalf("userinfo after revoke: %d %s", r.Status, r.Body)
	}
	// Revoked again: not found, shown on the page.
	expectPage(t, b.submit("/account/apps", url.Values{"action": {"revoke"}, "id": {grantID}}), http.StatusNotFound, "already revoked")
}
