package main

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
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

// timezone emulates the visitor's time zone.
func (b *tab) timezone(id string) {
	b.t.Helper()
	if _, err := chromedp.Call(b.ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: id}); err != nil {
		b.t.Fatal(err)
	}
}

type pageTime struct {
	Datetime, Text, Title string
	Local                 bool
}

var localDateFormat = regexp.MustCompile(`^(\d{1,2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4}, \d{2}:\d{2}) (\S+)$`)

// TestBrowserDatesInOneFormat: every date on the account pages reads "14 May 2026" or, with the
// time of day, "14 May 2026, 15:00 GMT+5:30" in the visitor's time zone, with the UTC text as the
// tooltip.
func TestBrowserDatesInOneFormat(t *testing.T) {
	s := startServer(t)
	a := s.register(t)
	key := s.createKey(t, a.Access)["api_key"].(string)
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, "X-API-Key: "+key), http.StatusOK)
	b := startBrowser(t, s.URL)
	b.timezone("Asia/Kolkata") // +05:30 all year round
	b.signIn(a)
	kolkata := time.FixedZone("IST", 5*3600+1800)
	seen := 0
	for _, path := range []string{"/account", "/account/sessions", "/account/keys", "/account/credits"} {
		b.visit(path)
		times := browserRun(b, chromedp.Evaluate[[]pageTime](`Array.from(document.querySelectorAll("time")).map(t => ({
			Datetime: t.getAttribute("datetime"), Text: t.textContent, Title: t.title, Local: t.hasAttribute("data-local")}))`))
		for _, pt := range times {
			seen++
			at, err := time.Parse(time.RFC3339, pt.Datetime)
			if err != nil {
				t.Fatalf("%s: datetime %q", path, pt.Datetime)
			}
			if !pt.Local {
				if want := at.UTC().Format("2 Jan 2006"); pt.Text != want {
					t.Errorf("%s: date %q, want %q", path, pt.Text, want)
				}
				continue
			}
			m := localDateFormat.FindStringSubmatch(pt.Text)
			if m == nil || m[1] != at.In(kolkata).Format("2 Jan 2006, 15:04") || m[2] != "GMT+5:30" {
				t.Errorf("%s: local time %q for %s, want %s GMT+5:30", path, pt.Text, pt.Datetime, at.In(kolkata).Format("2 Jan 2006, 15:04"))
			}
			if want := at.UTC().Format("2 Jan 2006, 15:04 UTC"); pt.Title != want {
				t.Errorf("%s: tooltip %q, want %q", path, pt.Title, want)
			}
		}
	}
	if seen < 6 {
		t.Fatalf("only %d dates on the account pages", seen)
	}
}

// TestBrowserAPIReference: the footer's link opens the API reference, which loads under the
// dashboard's CSP without a console error (a blocked inline script would be one) and reads on a
// phone.
func TestBrowserAPIReference(t *testing.T) {
	s := startServer(t)
	b := startBrowser(t, s.URL)
	b.visit("/login")
	if status := b.press(`.footer a[href="/api-reference"]`); status != http.StatusOK {
		t.Fatalf("the API reference answers %d", status)
	}
	b.expectPath("/api-reference")
	b.expectText("main h1", "API reference")
	b.expectText("#op-login", "/api/v1/auth/login")
	b.expectText("#op-login", "Sign in with email and password")
	b.expectText("#op-login table", "password")
	if inline := browserRun(b, chromedp.Evaluate[int](`Array.from(document.scripts).filter(s => !s.src || s.textContent.trim()).length`)); inline != 0 {
		t.Fatalf("%d inline scripts", inline)
	}
	if links := browserRun(b, chromedp.Evaluate[int](`document.querySelectorAll(".api-toc a[href^='#op-']").length`)); links < 70 {
		t.Fatalf("the contents link %d operations", links)
	}
	// An alias links to the operation it repeats.
	b.expectText("#op-loginV1 .same-as", "POST /api/v1/auth/login")
	// The page is long: pictures of its first screen.
	b.shotScreen("50-api-reference")
	b.do(chromedp.Navigate(s.URL+"/api-reference#op-createAPIKey"), chromedp.WaitVisible(chromedp.CSS("#op-createAPIKey")))
	b.shotScreen("51-api-reference-operation")
	b.phone(true)
	b.visit("/api-reference")
	b.shotScreen("52-api-reference-phone")
	b.phone(false)
}

// shotScreen saves a picture of what the window shows, for pages too long to picture whole.
func (b *tab) shotScreen(name string) {
	b.t.Helper()
	png := browserRun(b, chromedp.CaptureScreenshot())
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	path := filepath.Join(screenshotDir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		b.t.Fatal(err)
	}
}
