package main

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestBrowserEmailSignIn: the sign-in page → "Email me a sign-in code" → the address → the code
// read from the SMTP listener → typed with the keyboard alone → signed in on the account page.
// Then the email's link: opening it signs nobody in; its button does.
func TestBrowserEmailSignIn(t *testing.T) {
	s, mail := startBrowserMailServer(t)
	a := s.register(t)
	b := startBrowser(t, s.URL)

	b.visit("/login")
	b.press(`a[href="/email-sign-in"]`)
	b.expectPath("/email-sign-in")
	b.shot("email-signin-01-request")
	b.fill("#f-email", a.Email)
	b.press(`form[action="/email-sign-in"] button[type="submit"]`)
	b.expectText("main h1", "Enter your sign-in code")
	b.expectText(".notice", "sign-in code is on its way")
	b.shot("email-signin-02-code")

	m, link, _ := awaitMail(t, mail, a.Email, signInLinkPath)
	code := signInCodePattern.FindString(m.Text)
	if code == "" || !strings.HasPrefix(link, s.URL+signInLinkPath) {
		t.Fatalf("sign-in email: code %q, link %q", code, link)
	}
	// A wrong code first: the error is announced and focus can go straight back to the field.
	b.fill("#f-code", otherCode(code))
	b.press(`form[action="/email-sign-in/code"] button[type="submit"]`)
	b.expectText("#f-code-error", "invalid")
	b.expectText(".alert", "invalid")
	if got := browserRun(b, chromedp.Evaluate[string](`document.querySelector("#f-code").getAttribute("aria-invalid")`)); got != "true" {
		t.Fatalf("aria-invalid %q", got)
	}
	b.shot("email-signin-03-wrong-code")

	// The right one, typed and submitted with the keyboard.
	b.do(chromedp.Clear(chromedp.CSS("#f-code")), chromedp.Focus(chromedp.CSS("#f-code")))
	ctx, cancel := context.WithTimeout(b.ctx, browserStep)
	defer cancel()
	if _, err := chromedp.RunResponse(ctx, chromedp.SendKeys(chromedp.CSS("#f-code"), code+kb.Enter)); err != nil {
		t.Fatalf("submit with Enter: %v", err)
	}
	b.do(chromedp.WaitVisible(chromedp.CSS("main h1")))
	b.expectPath("/account")
	b.expectText(".email-line", a.Email)

	// Sign out, then the link of a new email: the page has only a button.
	b.visit("/logout")
	b.press(`form[action="/logout"] button[type="submit"]`)
	b.visit("/email-sign-in")
	b.fill("#f-email", a.Email)
	b.press(`form[action="/email-sign-in"] button[type="submit"]`)
	_, link, _ = awaitMail(t, mail, a.Email, signInLinkPath)
	path := strings.TrimPrefix(link, s.URL)
	b.visit(path)
	b.visit(path) // a second visit, as after a mail scanner's: still good
	b.expectText("main h1", "Sign in to")
	b.shot("email-signin-04-link")
	b.press(`form[action="/email-sign-in/link"] button[type="submit"]`)
	b.expectPath("/account")
}
