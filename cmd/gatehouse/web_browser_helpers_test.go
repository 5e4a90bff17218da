package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's Chromium (apt-get install -y chromium). The tests never download a
// browser: without this one they skip, except under CI=true, where they fail.
const chromiumPath = "/usr/bin/chromium"

// screenshotDir is where the browser tests leave pictures of the pages, git-ignored.
var screenshotDir = filepath.Join("..", "..", "artifacts", "screenshots")

// browserStep bounds one action: a page load, a click and what it triggers.
const browserStep = 30 * time.Second

// tab is one headless Chromium with a fresh profile, on a test server's dashboard.
type tab struct {
	t    *testing.T
	ctx  context.Context
	base string

	mu       sync.Mutex
	problems []string // console errors: CSP violations, script errors, failed loads
	dialogs  []string // the confirm() questions the pages asked (all accepted)
}

func startBrowser(t *testing.T, base string) *tab {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the browser tests need Chromium at %s (scripts/test.sh installs it with apt-get): %v", chromiumPath, err)
		}
		t.Skipf("skipping the browser test: no Chromium at %s (install it with: apt-get install -y chromium)", chromiumPath)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	b := &tab{t: t, ctx: ctx, base: base}
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			// A page answered with an error status (a 409 form, the 403 page) is logged as a failed
			// load of the document itself; that is the test's intent. A failed asset is not.
			if strings.HasPrefix(m.Text, "Failed to load resource") && !strings.Contains(m.URL, "/static/") {
				continue
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException {
				b.mu.Lock()
				b.problems = append(b.problems, m.Text+" ("+m.URL+")")
				b.mu.Unlock()
			}
		}
	}()
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.dialogs = append(b.dialogs, ev.Message)
			b.mu.Unlock()
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	for _, name := range []string{"clipboard-read", "clipboard-write"} {
		_, err := chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: name, AllowWithoutSanitization: true}, Setting: browser.PermissionSettingGranted, Origin: base})
		if err != nil {
			t.Logf("clipboard permission %s: %v (the copy button falls back to selecting)", name, err)
		}
	}
	t.Cleanup(b.checkConsole)
	return b
}

// checkConsole fails the test on any console error: a script the CSP blocked, a script error, a
// missing asset.
func (b *tab) checkConsole() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.problems {
		b.t.Errorf("browser console: %s", p)
	}
}

// do runs steps, each page load and wait bounded by browserStep.
func (b *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStep)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v (at %s)", err, b.location())
	}
}

func browserRun[T any](b *tab, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStep)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("browser: %v", err)
	}
	return v
}

func (b *tab) location() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	return loc
}

func (b *tab) visit(path string) {
	b.t.Helper()
	b.do(chromedp.Navigate(b.base+path), chromedp.WaitVisible(chromedp.CSS("main h1")))
}

// fill types into a field as a person would.
func (b *tab) fill(selector, text string) {
	b.t.Helper()
	b.do(chromedp.Clear(chromedp.CSS(selector)), chromedp.SendKeys(chromedp.CSS(selector), text))
}

// press clicks a button or link that loads a new page of the dashboard, and waits for it; it
// returns the status of the page that finally loads.
func (b *tab) press(selector string) int64 {
	b.t.Helper()
	status := b.follow(selector)
	b.do(chromedp.WaitVisible(chromedp.CSS("main h1")))
	return status
}

// follow clicks what loads a new page, anywhere, and returns its status once it has loaded.
func (b *tab) follow(selector string) int64 {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStep)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(selector)))
	if err != nil {
		b.t.Fatalf("browser: click %s: %v (at %s)", selector, err, b.location())
	}
	return resp.Status
}

func (b *tab) text(selector string) string {
	b.t.Helper()
	return browserRun(b, chromedp.Text(chromedp.CSS(selector)))
}

// expectText fails unless the element's text contains want.
func (b *tab) expectText(selector, want string) {
	b.t.Helper()
	if got := b.text(selector); !strings.Contains(got, want) {
		b.t.Fatalf("%s says %q, want %q (at %s)", selector, got, want, b.location())
	}
}

func (b *tab) expectPath(want string) {
	b.t.Helper()
	loc := b.location()
	if got := strings.TrimPrefix(loc, b.base); got != want {
		b.t.Fatalf("at %s, want %s", got, want)
	}
}

// shot saves a picture of the whole page as artifacts/screenshots/NAME.png.
func (b *tab) shot(name string) {
	b.t.Helper()
	png := browserRun(b, chromedp.FullScreenshot(100))
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	path := filepath.Join(screenshotDir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	// The server under test set an owner-only umask for its data files; pictures are for anyone.
	if err := os.Chmod(path, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// phone makes the viewport a phone's, or back to a laptop's.
func (b *tab) phone(on bool) {
	b.t.Helper()
	if on {
		b.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
		return
	}
	b.do(chromedp.EmulateReset())
}

// dark switches the emulated system theme.
func (b *tab) dark(on bool) {
	b.t.Helper()
	value := "light"
	if on {
		value = "dark"
	}
	_, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: value}}})
	if err != nil {
		b.t.Fatal(err)
	}
}
