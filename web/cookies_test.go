package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
)

func TestSessionCookieRoundTrip(t *testing.T) {
	ts := &gatehouse.TokenSet{AccessToken: "eyJh.eyJz.c2ln", RefreshToken: gatehouse.RandomToken(32)}
	access, refresh, ok := decodeSession(encodeSession(ts))
	if !ok || access != ts.AccessToken || refresh != ts.RefreshToken {
		t.Fatalf("round trip gave %q %q %v", access, refresh, ok)
	}
	// An impersonation session has no refresh token.
	access, refresh, ok = decodeSession(encodeSession(&gatehouse.TokenSet{AccessToken: "eyJh.eyJz.c2ln"}))
	if !ok || access != "eyJh.eyJz.c2ln" || refresh != "" {
		t.Fatalf("round trip without a refresh token gave %q %q %v", access, refresh, ok)
	}
	for _, bad := range []string{"", "v1", "v1.", "v1.abc", "v1..", "v1.abc.", "v2.abc.a.b.c", "abc.a.b.c"} {
		if _, _, ok := decodeSession(bad); ok {
			t.Errorf("decodeSession(%q) accepted", bad)
		}
	}
}

func TestCookieNamesFollowTheScheme(t *testing.T) {
	if n := newCookieNames(true); n.session != "__Host-gatehouse_session" || n.csrf != "__Host-gatehouse_csrf" {
		t.Fatalf("https names %+v", n)
	}
	if n := newCookieNames(false); n.session != "gatehouse_session" || n.oauth != "gatehouse_oauth" {
		t.Fatalf("http names %+v", n)
	}
	s := &server{secure: true, cookies: newCookieNames(true)}
	c := s.cookie(s.cookies.session, "x", 0)
	if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" {
		t.Fatalf("cookie %+v", c)
	}
}

// csrfServer is a server with nothing but what the CSRF check needs.
func csrfServer() *server {
	return &server{cookies: newCookieNames(false), origin: http.NewCrossOriginProtection()}
}

func postForm(token string, cookie *http.Cookie, headers ...string) *http.Request {
	form := url.Values{}
	if token != "" {
		form.Set(csrfField, token)
	}
	r := httptest.NewRequest("POST", "http://gatehouse.test/account", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if cookie != nil {
		r.AddCookie(cookie)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		r.Header.Set(k, v)
	}
	return r
}

func TestCSRFNeedsTheCookiesTokenAndASameOriginRequest(t *testing.T) {
	s := csrfServer()
	rec := httptest.NewRecorder()
	secret := s.newCSRFSecret(rec)
	cookie := rec.Result().Cookies()[0]
	if !cookie.HttpOnly || cookie.Name != "gatehouse_csrf" {
		t.Fatalf("CSRF cookie %+v", cookie)
	}
	token := csrfToken(secret)
	if strings.Contains(token, cookie.Value) {
		t.Fatal("the form token reveals the cookie")
	}
	if err := s.checkCSRF(postForm(token, cookie, "Sec-Fetch-Site: same-origin")); err != nil {
		t.Fatalf("a same-origin post with the right token was refused: %v", err)
	}
	if err := s.checkCSRF(postForm(token, cookie)); err != nil {
		t.Fatalf("a post without browser headers but with the token was refused: %v", err)
	}
	other := csrfToken(gatehouse.RandomBytes(csrfSecretBytes))
	refused := map[string]*http.Request{
		"no token":              postForm("", cookie),
		"another secret's":      postForm(other, cookie),
		"no cookie":             postForm(token, nil),
		"cross-site fetch":      postForm(token, cookie, "Sec-Fetch-Site: cross-site"),
		"same-site, not origin": postForm(token, cookie, "Sec-Fetch-Site: same-site"),
		"foreign Origin":        postForm(token, cookie, "Origin: https://evil.example"),
		"malformed cookie":      postForm(token, &http.Cookie{Name: "gatehouse_csrf", Value: "short"}),
	}
	for name, r := range refused {
		if err := s.checkCSRF(r); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
