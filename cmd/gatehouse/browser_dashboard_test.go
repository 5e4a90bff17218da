package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// signInBrowser signs an account in on the dashboard's sign-in page.
func (b *tab) signIn(a *account) {
	b.t.Helper()
	b.visit("/login")
	b.fill("#f-email", a.Email)
	b.fill("#f-password", a.Password)
	b.press(`form[action="/login"] button[type="submit"]`)
	b.expectPath("/account")
}

// TestBrowserKeyReloadCreatesNothing: after "Create key", reloading the page shows no secret and
// makes no second key.
func TestBrowserKeyReloadCreatesNothing(t *testing.T) {
	s := startServer(t)
	a := s.register(t)
	b := startBrowser(t, s.URL)
	b.signIn(a)

	b.visit("/account/keys")
	b.fill("#f-name", "reload test")
	b.press(`form[action="/account/keys"] button[type="submit"]`)
	key := browserRun(b, chromedp.Value(chromedp.CSS("#new-key")))
	if !strings.HasPrefix(key, "ak_") {
		t.Fatalf("the page shows %q as the new key", key)
	}
	b.expectPath("/account/keys")

	b.do(chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("main h1")))
	if n := s.apiKeyCount(t, a.Access); n != 1 {
		t.Fatalf("after a reload the account has %d keys, want 1", n)
	}
	html := browserRun(b, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	if strings.Contains(html, key) || strings.Contains(html, `id="new-key"`) {
		t.Fatal("the reloaded page shows the key again")
	}
	if rows := browserRun(b, chromedp.Evaluate[int](`document.querySelectorAll("table.list tbody tr").length`)); rows != 1 {
		t.Fatalf("the page lists %d keys, want 1", rows)
	}
	b.expectText("table.list", "reload test")
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, "X-API-Key: "+key), http.StatusOK)
}
