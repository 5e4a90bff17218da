package main

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestEmailVerificationFlow is the guide's flow: register → email → verify, with login of
// unverified accounts refused.
func TestEmailVerificationFlow(t *testing.T) {
	s, mail := startMailServer(t, "GATEHOUSE_REQUIRE_EMAIL_VERIFICATION=true")
	a := s.register(t)
	m, _, token := awaitMail(t, mail, a.Email, "/verify-email?token=")
	if m.From != "no-reply@gatehouse.test" || !strings.Contains(m.Header.Get("From"), "Gatehouse Test") {
		t.Fatalf("sender: envelope %q, header %q", m.From, m.Header.Get("From"))
	}
	if m.Subject == "" || m.HTML == "" || !strings.Contains(m.Header.Get("Content-Type"), "multipart/alternative") {
		t.Fatalf("want a subject and text and HTML alternatives: %q %q", m.Subject, m.Header.Get("Content-Type"))
	}
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": a.Email, "password": a.Password}), http.StatusForbidden, "email_not_verified")

	// The link form (GET) works, and so does repeating it: mail scanners open links too.
	r := s.do(t, "GET", "/api/v1/auth/verify-email?token="+token, nil)
	expectStatus(t, r, http.StatusOK)
	if r.str(t, "message") == "" {
		t.Fatalf("no message: %s", r.Body)
	}
	r = s.do(t, "POST", "/v1/public/auth/verify-email", map[string]string{"token": token})
	expectStatus(t, r, http.StatusOK)
	if !strings.Contains(r.str(t, "message"), "already") {
		t.Fatalf("second use: %s", r.Body)
	}

	access, _ := s.login(t, a.Email, a.Password)
	me := s.do(t, "GET", "/api/v1/users/me", nil, bearer(access))
	if me.json(t)["email_verified"] != true {
		t.Fatalf("me after verification: %s", me.Body)
	}
	var claims map[string]any
	decodeSegment(t, strings.Split(access, ".")[1], &claims)
	if claims["email_verified"] != true {
		t.Fatalf("access token claims: %v", claims)
	}
	// The session from before verification sees the change at once.
	if me := s.do(t, "GET", "/api/v1/users/me", nil, bearer(a.Access)); me.json(t)["email_verified"] != true {
		t.Fatalf("me of the older session: %s", me.Body)
	}

	expectProblem(t, s.do(t, "POST", "/api/v1/auth/verify-email", map[string]string{"token": "not-a-token"}), http.StatusBadRequest, "invalid_token")
	expectProblem(t, s.do(t, "GET", "/api/v1/auth/verify-email?token=", nil), http.StatusUnprocessableEntity, "validation_failed")
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/verify-email", map[string]string{}), http.StatusUnprocessableEntity, "validation_failed")
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/verify-email", `{"token":`), http.StatusBadRequest, "malformed_json")
	if strings.Contains(s.logs.String(), token) {
		t.Fatal("the token from the query string reached the log")
	}
}

// Expiry is checked against the clock: aged in the database, real tokens are refused.
func TestEmailTokensExpire(t *testing.T) {
	s, mail := startMailServer(t)
	a := s.register(t)
	verify := verifyLink(t, mail, a.Email)
	s.forgot(t, a.Email)
	reset := resetLink(t, mail, a.Email)
	s.sqlExec(t, "UPDATE email_tokens SET expires_at = created_at")
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/verify-email", map[string]string{"token": verify}), http.StatusBadRequest, "invalid_token")
	expectProblem(t, s.reset(t, reset, "a completely new passphrase"), http.StatusBadRequest, "invalid_token")
	s.login(t, a.Email, a.Password)
}

func TestResendVerification(t *testing.T) {
	s, mail := startMailServer(t)
	a := s.register(t)
	first := verifyLink(t, mail, a.Email)
	// The registration email does not count: the first resend goes through at once.
	r := s.do(t, "POST", "/api/v1/auth/verify-email/resend", nil, bearer(a.Access))
	expectStatus(t, r, http.StatusAccepted)
	if r.str(t, "message") == "" {
		t.Fatalf("no message: %s", r.Body)
	}
	second := verifyLink(t, mail, a.Email)
	if second == first {
		t.Fatal("the resend carried the same token")
	}
	r = s.do(t, "POST", "/v1/auth/verify-email/resend", nil, bearer(a.Access))
	expectProblem(t, r, http.StatusTooManyRequests, "")
	if n, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || n < 1 || n > 60 {
		t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/verify-email/resend", nil), http.StatusUnauthorized, "")
	// Either link verifies; after that, resending has nothing to do.
	expectStatus(t, s.do(t, "POST", "/api/v1/auth/verify-email", map[string]string{"token": first}), http.StatusOK)
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/verify-email", map[string]string{"token": second}), http.StatusBadRequest, "invalid_token")
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/verify-email/resend", nil, bearer(a.Access)), http.StatusConflict, "email_already_verified")
}

// TestPasswordResetFlow is the guide's flow: forgot → email → reset → the old password and every
// old token fail, the new password works.
func TestPasswordResetFlow(t *testing.T) {
	s, mail := startMailServer(t)
	a := s.register(t)
	verifyLink(t, mail, a.Email)
	otherAccess, otherRefresh := s.login(t, a.Email, a.Password)

	s.forgot(t, strings.ToUpper(a.Email))
	token := resetLink(t, mail, a.Email)
	// A password the policy refuses leaves the link usable.
	expectProblem(t, s.reset(t, token, "short"), http.StatusUnprocessableEntity, "validation_failed")
	expectProblem(t, s.reset(t, token, "password123"), http.StatusUnprocessableEntity, "password_breached")
	r := s.reset(t, token, "a completely new passphrase")
	expectStatus(t, r, http.StatusOK)
	if m := r.json(t); m["message"] == "" || m["access_token"] != nil || m["refresh_token"] != nil {
		t.Fatalf("reset must not sign in: %s", r.Body)
	}
	expectProblem(t, s.reset(t, token, "yet another passphrase"), http.StatusBadRequest, "invalid_token")

	expectProblem(t, s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": a.Email, "password": a.Password}), http.StatusUnauthorized, "invalid_credentials")
	for _, refresh := range []string{a.Refresh, otherRefresh} {
		expectProblem(t, s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": refresh}), http.StatusUnauthorized, "")
	}
	for _, access := range []string{a.Access, otherAccess} {
		expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(access)), http.StatusUnauthorized, "")
	}
	access, _ := s.login(t, a.Email, "a completely new passphrase")
	// Redeeming a reset link proves control of the mailbox.
	if me := s.do(t, "GET", "/api/v1/users/me", nil, bearer(access)); me.json(t)["email_verified"] != true {
		t.Fatalf("me after reset: %s", me.Body)
	}
	notice := awaitNotice(t, mail, a.Email)
	if strings.Contains(notice.Text, "token=") {
		t.Fatalf("the notice carries a link token:\n%s", notice.Text)
	}
}

func TestResetInvalidatesOtherResetTokens(t *testing.T) {
	s, mail := startMailServer(t)
	a := s.register(t)
	s.forgot(t, a.Email)
	first := resetLink(t, mail, a.Email)
	s.forgot(t, a.Email)
	second := resetLink(t, mail, a.Email)
	expectStatus(t, s.reset(t, second, "a completely new passphrase"), http.StatusOK)
	expectProblem(t, s.reset(t, first, "another new passphrase!"), http.StatusBadRequest, "invalid_token")
	s.login(t, a.Email, "a completely new passphrase")
}

// A token acts on the account it was sent for, whoever presents it, and only for its purpose.
func TestEmailTokenOfAnotherUser(t *testing.T) {
	s, mail := startMailServer(t)
	alice, bob := s.register(t), s.register(t)
	aliceVerify := verifyLink(t, mail, alice.Email)
	verifyLink(t, mail, bob.Email)
	s.forgot(t, bob.Email)
	bobReset := resetLink(t, mail, bob.Email)

	expectProblem(t, s.reset(t, aliceVerify, "a completely new passphrase"), http.StatusBadRequest, "invalid_token")
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/verify-email", map[string]string{"token": bobReset}), http.StatusBadRequest, "invalid_token")
	// Alice, signed in, presents Bob's reset token: Bob's password changes, not hers.
	expectStatus(t, s.do(t, "POST", "/api/v1/auth/reset-password", map[string]string{"token": bobReset, "new_password": "bob's brand new passphrase"}, bearer(alice.Access)), http.StatusOK)
	s.login(t, alice.Email, alice.Password)
	s.login(t, bob.Email, "bob's brand new passphrase")
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(alice.Access)), http.StatusOK)
	// Alice's verification token verifies Alice, even when Bob presents it.
	expectStatus(t, s.do(t, "POST", "/api/v1/auth/verify-email", map[string]string{"token": aliceVerify}, bearer(bob.Access)), http.StatusOK)
	access, _ := s.login(t, alice.Email, alice.Password)
	if me := s.do(t, "GET", "/api/v1/users/me", nil, bearer(access)); me.json(t)["email_verified"] != true {
		t.Fatalf("alice: %s", me.Body)
	}
}

// A link that expired before it could be sent is given up, not delivered dead. (1ns lifetimes
// make every link expire before the worker gets to it.)
func TestExpiredLinksAreNotSent(t *testing.T) {
	s, mail := startMailServer(t, "GATEHOUSE_RESET_TOKEN_TTL=1ns", "GATEHOUSE_VERIFY_TOKEN_TTL=1ns")
	a := s.register(t)
	s.forgot(t, a.Email)
	waitForLog(t, s, "email given up")
	mail.ExpectNone(t, 300*time.Millisecond)
	if n := strings.Count(s.logs.String(), "email given up"); n != 2 {
		t.Fatalf("%d emails given up, want 2", n)
	}
}

func TestConcurrentResetsWithOneToken(t *testing.T) {
	// Five hashes at once on a busy machine may wait longer than the default half second.
	s, mail := startMailServer(t, "GATEHOUSE_HASH_MAX_WAIT=1m")
	a := s.register(t)
	s.forgot(t, a.Email)
	token := resetLink(t, mail, a.Email)
	statuses := make([]int, 5)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Go(func() {
			r := s.do(t, "POST", "/api/v1/auth/reset-password", map[string]string{"token": token, "new_password": fmt.Sprintf("concurrent passphrase %d", i)})
			statuses[i] = r.Status
		})
	}
	wg.Wait()
	ok := 0
	for _, st := range statuses {
		switch st {
		case http.StatusOK:
			ok++
		case http.StatusBadRequest:
		default:
			t.Fatalf("unexpected status %d", st)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of 5 concurrent resets succeeded, want exactly 1: %v", ok, statuses)
	}
}

// Forgot-password answers an unknown address exactly as a known one, and emails only the known.
func TestForgotPasswordSameAnswerForUnknownEmail(t *testing.T) {
	s, mail := startMailServer(t)
	a := s.register(t)
	verifyLink(t, mail, a.Email)
	timed := func(email string) (*response, time.Duration) {
		start := time.Now()
		r := s.forgot(t, email)
		return r, time.Since(start)
	}
	unknown, tu := timed("nobody-" + a.Email)
	known, tk := timed(a.Email)
	if unknown.Status != known.Status || string(unknown.Body) != string(known.Body) {
		t.Fatalf("answers differ:\n%d %s\n%d %s", unknown.Status, unknown.Body, known.Status, known.Body)
	}
	for _, h := range []string{"Content-Type", "Cache-Control", "Content-Length"} {
		if unknown.Header.Get(h) != known.Header.Get(h) {
			t.Fatalf("%s differs: %q vs %q", h, unknown.Header.Get(h), known.Header.Get(h))
		}
	}
	// Both take at least the floor, so the work done for a real account does not show.
	for _, d := range []time.Duration{tu, tk} {
		if d < 250*time.Millisecond {
			t.Fatalf("answered in %s, under the 250ms floor", d)
		}
	}
	resetLink(t, mail, a.Email)
	mail.ExpectNone(t, 300*time.Millisecond)
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/forgot-password", map[string]string{"email": "not an address"}), http.StatusUnprocessableEntity, "validation_failed")
}

// Links come from GATEHOUSE_APP_URL only, never from the request's Host or X-Forwarded-Host.
func TestEmailLinksIgnoreHostHeaders(t *testing.T) {
	s, mail := startMailServer(t)
	send := func(path, body string) {
		req, err := http.NewRequest("POST", s.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Host = "evil.example"
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-Host", "evil.example")
		req.Header.Set("X-Forwarded-Proto", "http")
		req.Header.Set("Forwarded", "host=evil.example;proto=http")
		resp, err := httpClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
	}
	send("/api/v1/auth/register", `{"email":"victim@example.com","password":"correct horse battery"}`)
	verifyLink(t, mail, "victim@example.com")
	send("/api/v1/auth/forgot-password", `{"email":"victim@example.com"}`)
	m, _, _ := awaitMail(t, mail, "victim@example.com", "/reset-password?token=")
	if strings.Contains(string(m.Raw), "evil.example") {
		t.Fatalf("the email mentions the forged host:\n%s", m.Raw)
	}
	for _, l := range m.Links() {
		if l != testAppURL && !strings.HasPrefix(l, testAppURL+"/") {
			t.Fatalf("link %q is not on GATEHOUSE_APP_URL", l)
		}
	}
}

func TestChangePasswordSendsNotice(t *testing.T) {
	s, mail := startMailServer(t)
	a := s.register(t)
	expectStatus(t, s.do(t, "POST", "/api/v1/users/me/password", map[string]string{"current_password": a.Password, "new_password": "brand new passphrase"}, bearer(a.Access)), http.StatusOK)
	notice := awaitNotice(t, mail, a.Email)
	if notice.HTML == "" || !strings.Contains(notice.Text, testAppURL) {
		t.Fatalf("notice:\n%s", notice.Text)
	}
}

// An account registered with someone else's address must not let its owner mail that person
// without end: resends are capped per address per day, whatever the per-minute spacing.
func TestResendVerificationDailyCap(t *testing.T) {
	s, mail := startMailServer(t, "GATEHOUSE_RATE_LIMITS=on", "GATEHOUSE_EMAIL_RESEND_INTERVAL=0")
	a := s.register(t)
	verifyLink(t, mail, a.Email)
	for i := 0; i < 5; i++ {
		expectStatus(t, s.do(t, "POST", "/api/v1/auth/verify-email/resend", nil, bearer(a.Access)), http.StatusAccepted)
		verifyLink(t, mail, a.Email)
	}
	r := s.do(t, "POST", "/api/v1/auth/verify-email/resend", nil, bearer(a.Access))
	expectProblem(t, r, http.StatusTooManyRequests, "rate_limited")
	if n, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || n < 3600 {
		t.Fatalf("Retry-After %q: the cap is per day", r.Header.Get("Retry-After"))
	}
}
