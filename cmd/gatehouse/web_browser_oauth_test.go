package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// startOAuthClientApp serves an OAuth client's redirect URI on loopback: a page that shows the
// parameters it received.
func startOAuthClientApp(t *testing.T) string {
	t.Helper()
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="en"><head><title>Client</title><link rel="icon" href="data:,"></head><body><main><h1>Client callback</h1><p id="query">%s</p></main></body></html>`,
			strings.NewReplacer("&", "&amp;", "<", "&lt;").Replace(r.URL.RawQuery))
	}))
	t.Cleanup(app.Close)
	return app.URL + "/callback"
}

// landedAt reads the client's callback the browser is on and returns its parameters.
func (b *tab) landedAt(redirectURI string) url.Values {
	b.t.Helper()
	b.do(chromedp.WaitVisible(chromedp.CSS("main h1")))
	loc := b.location()
	if !strings.HasPrefix(loc, redirectURI+"?") {
		b.t.Fatalf("the browser is at %s, want the client's %s", loc, redirectURI)
	}
	u, _ := url.Parse(loc)
	return u.Query()
}

// TestBrowserOAuthConsent: in Chromium, a client sends the user to the authorization endpoint; the
// consent page cannot be framed; deny and allow each land on the client's redirect URI with the
// issuer (allow with a code that the client exchanges); a fresh sign-in that prompt=login asks for
// goes straight back to the client once consent is remembered.
func TestBrowserOAuthConsent(t *testing.T) {
	s := startServer(t)
	user := s.register(t)
	redirect := startOAuthClientApp(t)
	clientID := s.registerOAuthClient(t, "Browser Agent", redirect)
	b := startBrowser(t, s.URL)

	o := newOAuthRequest(clientID, redirect, "scope=openid email")
	b.visit(o.path())
	b.expectText("main h1", "Sign in")
	b.fill("#f-email", user.Email)
	b.fill("#f-password", user.Password)
	b.press(`form[action="/login"] button[type="submit"]`)
	b.expectText("main h1", "Allow Browser Agent")
	b.expectText(".consent-details", "Unverified")
	b.expectText(".scopes", "openid")
	b.shot("oauth-01-consent")

	// The page as the browser received it: not frameable, no referrer, not cached.
	ctx, cancel := context.WithTimeout(b.ctx, browserStep)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Navigate(s.URL+o.path()))
	if err != nil {
		t.Fatal(err)
	}
	header := func(name string) string {
		for k, v := range resp.Headers {
			if strings.EqualFold(k, name) {
				return fmt.Sprint(v)
			}
		}
		return ""
	}
	if header("X-Frame-Options") != "DENY" || !strings.Contains(header("Content-Security-Policy"), "frame-ancestors 'none'") ||
		header("Referrer-Policy") != "no-referrer" || header("Cache-Control") != "no-store" {
		t.Fatalf("consent page headers: %v", resp.Headers)
	}

	// Deny.
	b.follow(`button[name="decision"][value="deny"]`)
	q := b.landedAt(redirect)
	if q.Get("error") != "access_denied" || q.Get("iss") != s.URL || q.Get("state") != o.Params.Get("state") || q.Get("code") != "" {
		t.Fatalf("deny landed with %v", q)
	}

	// Allow.
	o2 := newOAuthRequest(clientID, redirect, "scope=openid email")
	b.visit(o2.path())
	b.expectText("main h1", "Allow Browser Agent")
	b.follow(`button[name="decision"][value="allow"]`)
	q = b.landedAt(redirect)
	if q.Get("code") == "" || q.Get("iss") != s.URL || q.Get("state") != o2.Params.Get("state") {
		t.Fatalf("allow landed with %v", q)
	}
	tok := s.exchangeCode(t, o2, q.Get("code"))
	access, _ := tok["access_token"].(string)
	expectStatus(t, s.do(t, "GET", "/oauth2/userinfo", nil, bearer(access)), http.StatusOK)

	// A pre-registered client with remembered consent: prompt=login shows the sign-in form to a
	// signed-in user, and signing in goes straight back to the client.
	admin := s.admin(t)
	registered := s.createOAuthClient(t, admin, "Registered App", redirect)
	o3 := newOAuthRequest(registered, redirect, "scope=openid")
	b.visit(o3.path())
	b.follow(`button[name="decision"][value="allow"]`)
	b.landedAt(redirect)
	o4 := newOAuthRequest(registered, redirect, "scope=openid", "prompt=login")
	b.visit(o4.path())
	b.expectText("main", "sign in again")
	b.fill("#f-email", user.Email)
	b.fill("#f-password", user.Password)
	b.follow(`form[action="/login"] button[type="submit"]`)
	q = b.landedAt(redirect)
	if q.Get("code") == "" || q.Get("iss") != s.URL {
		t.Fatalf("after signing in again: %v", q)
	}
	b.visit("/account/apps")
	b.expectText("main", "Browser Agent")
	b.expectText("main", "Registered App")
	b.shot("oauth-02-connected-apps")
}
