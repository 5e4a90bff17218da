package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestWebCSRFRefusesForeignForms: every state-changing form needs this browser's token and a
// same-origin request; a refused post changes nothing.
func TestWebCSRFRefusesForeignForms(t *testing.T) {
	s := startServer(t)
	victim := s.webClient(t)
	email, password := newWebEmail("csrf"), "correct horse battery staple"
	victim.signUp(email, password)
	attacker := s.webClient(t)
	attackerToken := attacker.csrf()
	create := func() url.Values {
		return url.Values{"action": {"create"}, "name": {"stolen"}, "scopes": {"profile:read"}, "expires_in_days": {"30"}}
	}
	withToken := func(v url.Values, token string) url.Values { v.Set("csrf_token", token); return v }
	refused := map[string]*response{
		"no token":                  victim.do("POST", "/account/keys", create()),
		"another browser's token":   victim.do("POST", "/account/keys", withToken(create(), attackerToken)),
		"cross-site fetch metadata": victim.do("POST", "/account/keys", withToken(create(), victim.csrf()), "Sec-Fetch-Site: cross-site"),
		"foreign Origin":            victim.do("POST", "/account/keys", withToken(create(), victim.csrf()), "Origin: https://evil.example"),
		"sign-out from elsewhere":   victim.do("POST", "/logout", url.Values{}, "Origin: https://evil.example"),
		"sign-in from elsewhere":    attacker.do("POST", "/login", url.Values{"email": {email}, "password": {password}}),
	}
	for name, r := range refused {
		if r.Status != http.StatusForbidden || !strings.Contains(string(r.Body), "This form has expired or did not come from this site") {
			t.Fatalf("%s: status %d: %.300s", name, r.Status, r.Body)
		}
	}
	if setCookies(refused["sign-in from elsewhere"])["gatehouse_session"] != nil {
		t.Fatal("a refused sign-in set a session")
	}
	// Nothing was created, and the victim is still signed in.
	access, _ := victim.sessionTokens()
	keys := s.do(t, "GET", "/api/v1/api-keys", nil, bearer(access))
	expectStatus(t, keys, http.StatusOK)
	if strings.TrimSpace(string(keys.Body)) != "[]" {
		t.Fatalf("a key was created by a forged form: %s", keys.Body)
	}
	expectPage(t, victim.get("/account"), http.StatusOK, email)
	// The same form with the victim's own token goes through.
	expectRedirect(t, victim.submit("/account/keys", create()), "/account/keys")
	expectPage(t, victim.get("/account/keys"), http.StatusOK, "ak_")
}

// TestWebReturnPathStaysOnThisSite: ?next= is followed only to a relative path of this site.
func TestWebReturnPathStaysOnThisSite(t *testing.T) {
	s := startServer(t)
	email, password := newWebEmail("next"), "correct horse battery staple"
	s.webClient(t).signUp(email, password)
	for next, want := range map[string]string{
		"/account/sessions":                 "/account/sessions",
		"/admin/users?q=a":                  "/admin/users?q=a",
		"//evil.example/account":            "/account",
		"https://evil.example/":             "/account",
		"/\\evil.example":                   "/account",
		"javascript:alert(document.domain)": "/account",
	} {
		b := s.webClient(t)
		page := b.get("/login?next=" + url.QueryEscape(next))
		expectStatus(t, page, http.StatusOK)
		if want == "/account" && strings.Contains(string(page.Body), "evil") {
			t.Fatalf("the sign-in page carries a foreign return path %q", next)
		}
		r := b.submit("/login", url.Values{"email": {email}, "password": {password}, "next": {next}})
		expectRedirect(t, r, want)
	}
}

// TestWebRefreshesAnExpiredAccessToken: when the cookie's access token no longer passes, the
// dashboard refreshes the session server-side with the cookie's refresh token. (The token verifier
// allows 5 s of clock skew, so the test swaps in a token that fails verification rather than
// waiting for one to expire: both take the same path.)
func TestWebRefreshesAnExpiredAccessToken(t *testing.T) {
	s := startServer(t)
	b := s.webClient(t)
	b.signUp(newWebEmail("refresh"), "correct horse battery staple")
	access, refresh := b.sessionTokens()
	u, _ := url.Parse(s.URL)
	b.jar.SetCookies(u, []*http.Cookie{{Name: "gatehouse_session", Value: "v1." + refresh + ".eyJhbGciOiJFUzI1NiJ9.e30.expired", Path: "/"}})
	r := b.get("/account/sessions")
	expectPage(t, r, http.StatusOK, "This device")
	if setCookies(r)["gatehouse_session"] == nil {
		t.Fatal("the refreshed tokens were not stored")
	}
	access2, refresh2 := b.sessionTokens()
	if access2 == access || refresh2 == refresh || access2 == "eyJhbGciOiJFUzI1NiJ9.e30.expired" {
		t.Fatal("the cookie still holds the old tokens")
	}
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(access2)), http.StatusOK)
	// A session revoked elsewhere cannot be refreshed: the visitor is signed out.
	expectStatus(t, s.do(t, "POST", "/api/v1/auth/logout", nil, bearer(access2)), http.StatusOK)
	r = b.get("/account")
	expectRedirect(t, r, "/login?next=%2Faccount")
	if b.cookie("gatehouse_session") != nil {
		t.Fatal("a dead session cookie was kept")
	}
}

// TestWebRateLimitsAreTheAPIs: the sign-in and sign-up forms count against the API's per-IP rules
// (one counter for both doors), and answer 429 with Retry-After beyond them.
func TestWebRateLimitsAreTheAPIs(t *testing.T) {
	s := startServer(t, "GATEHOUSE_RATE_LIMITS=login_ip=3/1m,register_ip=1/1h,forgot_ip=1/1h")
	b := s.webClient(t)
	expectStatus(t, s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": "nobody@example.com", "password": "x"}), http.StatusUnauthorized)
	for range 2 {
		expectPage(t, b.submit("/login", url.Values{"email": {"nobody@example.com"}, "password": {"x"}}), http.StatusUnauthorized)
	}
	limited := b.submit("/login", url.Values{"email": {"nobody@example.com"}, "password": {"x"}})
	expectPage(t, limited, http.StatusTooManyRequests, "Too many attempts")
	if limited.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": "nobody@example.com", "password": "x"}), http.StatusTooManyRequests, "rate_limited")

	b.signUp(newWebEmail("limit"), "correct horse battery staple")
	again := s.webClient(t).submit("/signup", url.Values{"email": {newWebEmail("limit")}, "password": {"correct horse battery staple"}})
	expectPage(t, again, http.StatusTooManyRequests, "Too many attempts")

	first := s.webClient(t).submit("/forgot-password", url.Values{"email": {"someone@example.com"}})
	expectPage(t, first, http.StatusOK, "If an account exists for this address")
	expectPage(t, s.webClient(t).submit("/forgot-password", url.Values{"email": {"someone@example.com"}}), http.StatusTooManyRequests)
}

// TestWebRateLimitsCountIPv6By64: the dashboard keys its per-IP rules on the subject the API uses,
// so a client rotating addresses inside its IPv6 /64 (here through a trusted proxy) stays one
// client, on the forms and on the API alike; another /64 is another client.
func TestWebRateLimitsCountIPv6By64(t *testing.T) {
	s := startServer(t, "GATEHOUSE_RATE_LIMITS=login_ip=3/15m,register_ip=1/1h", "GATEHOUSE_TRUSTED_PROXIES=127.0.0.0/8")
	b := s.webClient(t)
	from := func(ip string) string { return "X-Forwarded-For: " + ip }
	wrong := func() url.Values { return url.Values{"email": {"nobody@example.com"}, "password": {"not it at all"}} }
	for _, ip := range []string{"2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff:ffff:ffff:ffff"} {
		expectPage(t, b.submit("/login", wrong(), from(ip)), http.StatusUnauthorized)
	}
	expectPage(t, b.submit("/login", wrong(), from("2001:db8:1:2:abcd::9")), http.StatusTooManyRequests, "Too many attempts")
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": "nobody@example.com", "password": "not it at all"},
		from("2001:db8:1:2::77")), http.StatusTooManyRequests, "rate_limited")
	expectPage(t, b.submit("/login", wrong(), from("2001:db8:1:3::1")), http.StatusUnauthorized)

	s.webClient(t).signUp(newWebEmail("v6"), "correct horse battery staple") // from 127.0.0.1: its own bucket
	first := s.webClient(t).submit("/signup", url.Values{"email": {newWebEmail("v6")}, "password": {"correct horse battery staple"}}, from("2001:db8:9:9::1"))
	expectRedirect(t, first, "/account?notice=welcome")
	again := s.webClient(t).submit("/signup", url.Values{"email": {newWebEmail("v6")}, "password": {"correct horse battery staple"}}, from("2001:db8:9:9::2"))
	expectPage(t, again, http.StatusTooManyRequests, "Too many attempts")
}

// TestWebPasswordAndSessionsPages: changing the password signs out the other sessions; the
// sessions page signs out one session or all others.
func TestWebPasswordAndSessionsPages(t *testing.T) {
	s := startServer(t)
	b := s.webClient(t)
	email, password := newWebEmail("pw"), "correct horse battery staple"
	b.signUp(email, password)
	otherAccess, _ := s.login(t, email, password)

	mismatch := b.submit("/account/password", url.Values{"current_password": {password}, "new_password": {"a brand new passphrase"}, "confirm_password": {"something else entirely"}})
	expectPage(t, mismatch, http.StatusUnprocessableEntity, `id="f-confirm_password-error"`)
	wrong := b.submit("/account/password", url.Values{"current_password": {"wrong one"}, "new_password": {"a brand new passphrase"}, "confirm_password": {"a brand new passphrase"}})
	expectPage(t, wrong, http.StatusUnprocessableEntity, "The current password is incorrect.", `id="f-current_password-error"`)
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(otherAccess)), http.StatusOK)

	done := b.submit("/account/password", url.Values{"current_password": {password}, "new_password": {"a brand new passphrase"}, "confirm_password": {"a brand new passphrase"}})
	expectRedirect(t, done, "/account/password?notice=password_changed")
	expectPage(t, b.get("/account/password?notice=password_changed"), http.StatusOK, "Your other sessions were signed out.")
	expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(otherAccess)), http.StatusUnauthorized, "")
	password = "a brand new passphrase"

	// Two more sessions elsewhere; revoke one by id, then all others.
	a1, _ := s.login(t, email, password)
	a2, _ := s.login(t, email, password)
	list := s.do(t, "GET", "/api/v1/users/me/sessions", nil, bearer(a1))
	var sessions []map[string]any
	if err := json.Unmarshal(list.Body, &sessions); err != nil {
		t.Fatal(err)
	}
	var id1 string
	for _, sess := range sessions {
		if sess["current"] == true {
			id1 = sess["id"].(string)
		}
	}
	page := b.get("/account/sessions")
	expectPage(t, page, http.StatusOK, "Sign out all 2 other sessions", id1)
	expectRedirect(t, b.submit("/account/sessions", url.Values{"action": {"revoke"}, "id": {id1}}), "/account/sessions?notice=session_revoked")
	expectPage(t, b.get("/account/sessions"), http.StatusOK, "Sign out the other session<", "Sign out the other session?")
	expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(a1)), http.StatusUnauthorized, "")
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(a2)), http.StatusOK)
	expectPage(t, b.submit("/account/sessions", url.Values{"action": {"revoke"}, "id": {id1}}), http.StatusNotFound, "already ended")
	expectRedirect(t, b.submit("/account/sessions", url.Values{"action": {"revoke_others"}}), "/account/sessions?notice=others_revoked")
	expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(a2)), http.StatusUnauthorized, "")
	expectPage(t, b.get("/account/sessions"), http.StatusOK, "This device")

	// Profile: a name and an avatar; a bad avatar URL is refused next to its field.
	expectRedirect(t, b.submit("/account", url.Values{"name": {"Ada Lovelace"}, "avatar_url": {"https://avatars.example/ada.png"}}), "/account?notice=profile_saved")
	expectPage(t, b.get("/account"), http.StatusOK, "Ada Lovelace", "https://avatars.example/ada.png", "AL")
	expectPage(t, b.submit("/account", url.Values{"name": {"Ada"}, "avatar_url": {"ftp://x"}}), http.StatusUnprocessableEntity, `id="f-avatar_url-error"`)
}
