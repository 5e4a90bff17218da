package main

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/smtptest"
)

// Passwordless sign-in by email: POST /api/v1/auth/email/start and /api/v1/auth/email/verify.

const signInLinkPath = "/email-sign-in/link?token="

var signInCodePattern = regexp.MustCompile(`\b\d{8}\b`)

func (s *testServer) emailStart(t *testing.T, email string) *response {
	t.Helper()
	return s.do(t, "POST", "/api/v1/auth/email/start", map[string]string{"email": email})
}

func (s *testServer) emailCode(t *testing.T, email, code string) *response {
	t.Helper()
	return s.do(t, "POST", "/api/v1/auth/email/verify", map[string]string{"email": email, "code": code})
}

func (s *testServer) emailLink(t *testing.T, token string) *response {
	t.Helper()
	return s.do(t, "POST", "/api/v1/auth/email/verify", map[string]string{"token": token})
}

// signInMail waits for the sign-in email to `to` and returns its code, its link and the link's
// token. The code must be in both bodies and not in the subject.
func signInMail(t *testing.T, mail *smtptest.Server, to string) (code, link, token string) {
	t.Helper()
	m, link, token := awaitMail(t, mail, to, signInLinkPath)
	if !strings.HasPrefix(link, testAppURL+signInLinkPath) || len(token) < 40 {
		t.Fatalf("sign-in link %q", link)
	}
	code = signInCodePattern.FindString(m.Text)
	if code == "" || !strings.Contains(m.HTML, code) || strings.Contains(m.Subject, code) {
		t.Fatalf("sign-in code %q in text %q, subject %q", code, m.Text, m.Subject)
	}
	return code, link, token
}

// otherCode is a well-formed code that is not code.
func otherCode(code string) string {
	n, _ := strconv.Atoi(code)
	return fmt.Sprintf("%08d", (n+1)%100000000)
}

// auditTypes lists the types (and details) of a's audit events, newest first.
func (s *testServer) auditTypes(t *testing.T, access string) []string {
	t.Helper()
	r := s.do(t, "GET", "/api/v1/users/me/audit?limit=100", nil, bearer(access))
	expectStatus(t, r, http.StatusOK)
	var out []string
	for _, it := range r.json(t)["items"].([]any) {
		e := it.(map[string]any)
		out = append(out, fmt.Sprint(e["type"], ": ", e["detail"]))
	}
	return out
}

func countPrefix(list []string, prefix string) int {
	n := 0
	for _, v := range list {
		if strings.HasPrefix(v, prefix) {
			n++
		}
	}
	return n
}

// A code signs in once, verifies the address (so it works where verification is required), and
// neither the code nor the link's token is ever stored or logged in plain text.
func TestEmailSignInCode(t *testing.T) {
	s, mail := startMailServer(t, "GATEHOUSE_REQUIRE_EMAIL_VERIFICATION=true")
	a := s.register(t)
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": a.Email, "password": a.Password}),
		http.StatusForbidden, "email_not_verified")

	r := s.emailStart(t, strings.ToUpper(a.Email))
	expectStatus(t, r, http.StatusAccepted)
	if !strings.Contains(r.str(t, "message"), "If an account exists") {
		t.Fatalf("start answer: %s", r.Body)
	}
	code, _, token := signInMail(t, mail, a.Email)

	r = s.emailCode(t, a.Email, code[:4]+" "+code[4:]) // spaces as people type them
	expectStatus(t, r, http.StatusOK)
	if r.Header.Get("Cache-Control") != "no-store" || r.str(t, "refresh_token") == "" || r.str(t, "token_type") != "bearer" {
		t.Fatalf("token response: %v %s", r.Header, r.Body)
	}
	user := r.json(t)["user"].(map[string]any)
	if user["id"] != a.ID || user["email_verified"] != true {
		t.Fatalf("user: %v", user)
	}
	access := r.str(t, "access_token")
	if c := claimsOf(t, access); c["aal"] != "aal1" || !slices.Equal(amrOf(t, access), []string{"otp"}) || c["email_verified"] != true {
		t.Fatalf("claims: %v", c)
	}
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(access)), http.StatusOK)
	// The address is verified now, and the password set before anyone proved it is gone (a
	// stranger may have registered the address: TestEmailSignInUnverifiedAccountDropsForeignCredentials).
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": a.Email, "password": a.Password}),
		http.StatusUnauthorized, "invalid_credentials")

	// Single use: the code again, and the link of the same email, are refused alike.
	first := s.emailCode(t, a.Email, code)
	expectProblem(t, first, http.StatusUnauthorized, "invalid_code")
	expectProblem(t, s.emailLink(t, token), http.StatusUnauthorized, "invalid_code")

	events := s.auditTypes(t, access)
	for _, want := range []string{"email_signin.requested", "login.succeeded: email code", "email.verified: by email code sign-in"} {
		if countPrefix(events, want) != 1 {
			t.Fatalf("audit %q missing: %v", want, events)
		}
	}
	for _, e := range events {
		if strings.Contains(e, code) {
			t.Fatalf("the code is in the audit log: %q", e)
		}
	}
	if logs := s.logs.String(); strings.Contains(logs, code) || strings.Contains(logs, token) {
		t.Fatal("the code or the link's token is in the log")
	}
	for _, body := range s.sqlStrings(t, "SELECT text_body || html_body FROM email_outbox WHERE kind = 'email_sign_in'") {
		if strings.Contains(body, code) || strings.Contains(body, token) {
			t.Fatal("the outbox holds the code or the token in plain text")
		}
	}
	if n := s.sqlStrings(t, "SELECT COUNT(*) FROM email_outbox WHERE kind = 'email_sign_in' AND secret IS NOT NULL"); n[0] != "0" {
		t.Fatalf("sealed secrets left after sending: %v", n)
	}
}

// The link signs in once, carries redirect_to as next, and kills the code of its email.
func TestEmailSignInLink(t *testing.T) {
	s, mail := startMailServer(t)
	a := s.register(t)
	verifyLink(t, mail, a.Email)
	for _, bad := range []string{"https://evil.example/", "//evil.example", "dashboard", "/\\evil.example"} {
		r := s.do(t, "POST", "/api/v1/auth/email/start", map[string]string{"email": a.Email, "redirect_to": bad})
		expectProblem(t, r, http.StatusUnprocessableEntity, "validation_failed")
	}
	mail.ExpectNone(t, 100*time.Millisecond)

	r := s.do(t, "POST", "/api/v1/auth/email/start", map[string]string{"email": a.Email, "redirect_to": "/projects?tab=1"})
	expectStatus(t, r, http.StatusAccepted)
	code, link, token := signInMail(t, mail, a.Email)
	u, _ := url.Parse(link)
	if u.Query().Get("next") != "/projects?tab=1" {
		t.Fatalf("link %q does not carry redirect_to", link)
	}
	r = s.emailLink(t, token)
	expectStatus(t, r, http.StatusOK)
	if amr := amrOf(t, r.str(t, "access_token")); !slices.Equal(amr, []string{"otp"}) {
		t.Fatalf("amr %v", amr)
	}
	expectProblem(t, s.emailLink(t, token), http.StatusUnauthorized, "invalid_code")
	expectProblem(t, s.emailCode(t, a.Email, code), http.StatusUnauthorized, "invalid_code")
	expectProblem(t, s.emailLink(t, token+"x"), http.StatusUnauthorized, "invalid_code")
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/email/verify", map[string]string{"token": token, "code": code}),
		http.StatusUnprocessableEntity, "validation_failed")
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/email/verify", map[string]string{}), http.StatusUnprocessableEntity, "validation_failed")
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/email/verify", `{"token": 5}`), http.StatusBadRequest, "")
	// Also under the AINative prefixes.
	expectStatus(t, s.do(t, "POST", "/v1/public/auth/email/start", map[string]string{"email": a.Email}), http.StatusAccepted)
	_, _, token = signInMail(t, mail, a.Email)
	expectStatus(t, s.do(t, "POST", "/v1/auth/email/verify", map[string]string{"token": token}), http.StatusOK)
}

// Ten minutes: an expired code and link are refused like wrong ones.
func TestEmailSignInExpiry(t *testing.T) {
	s, mail := startMailServer(t)
	a := s.register(t)
	expectStatus(t, s.emailStart(t, a.Email), http.StatusAccepted)
	code, _, token := signInMail(t, mail, a.Email)
	if got := s.sqlStrings(t, "SELECT expires_at - created_at FROM email_signins"); len(got) != 1 || got[0] != strconv.Itoa(int((10*time.Minute).Microseconds())) {
		t.Fatalf("lifetime %v", got)
	}
	s.sqlExec(t, "UPDATE email_signins SET expires_at = created_at")
	expectProblem(t, s.emailCode(t, a.Email, code), http.StatusUnauthorized, "invalid_code")
	expectProblem(t, s.emailLink(t, token), http.StatusUnauthorized, "invalid_code")
}

// A new request replaces the previous code and link.
func TestEmailSignInSupersede(t *testing.T) {
	s, mail := startMailServer(t)
	a := s.register(t)
	expectStatus(t, s.emailStart(t, a.Email), http.StatusAccepted)
	oldCode, _, oldToken := signInMail(t, mail, a.Email)
	expectStatus(t, s.emailStart(t, a.Email), http.StatusAccepted)
	code, _, token := signInMail(t, mail, a.Email)
	if code == oldCode || token == oldToken {
		t.Skip("the two codes happen to be equal (one chance in 10^8)")
	}
	expectProblem(t, s.emailCode(t, a.Email, oldCode), http.StatusUnauthorized, "invalid_code")
	expectProblem(t, s.emailLink(t, oldToken), http.StatusUnauthorized, "invalid_code")
	expectStatus(t, s.emailCode(t, a.Email, code), http.StatusOK)
	expectProblem(t, s.emailLink(t, token), http.StatusUnauthorized, "invalid_code")
}

// 20 parallel wrong guesses cannot try more than 5 codes: the code is then dead, right or not,
// and so is the link; the lockout is audited once.
func TestEmailSignInAttemptLimitParallel(t *testing.T) {
	s, mail := startMailServer(t)
	a := s.register(t)
	expectStatus(t, s.emailStart(t, a.Email), http.StatusAccepted)
	code, _, token := signInMail(t, mail, a.Email)
	wrong := otherCode(code)
	rs := concurrently(20, func(int) *response { return s.emailCode(t, a.Email, wrong) })
	for _, r := range rs {
		expectProblem(t, r, http.StatusUnauthorized, "invalid_code")
		if string(r.Body) != string(rs[0].Body) {
			t.Fatalf("answers differ: %s vs %s", r.Body, rs[0].Body)
		}
	}
	if got := s.sqlStrings(t, "SELECT attempts FROM email_signins"); len(got) != 1 || got[0] != "5" {
		t.Fatalf("attempts %v, want 5", got)
	}
	expectProblem(t, s.emailCode(t, a.Email, code), http.StatusUnauthorized, "invalid_code")
	expectProblem(t, s.emailLink(t, token), http.StatusUnauthorized, "invalid_code")
	events := s.auditTypes(t, a.Access)
	if countPrefix(events, "email_signin.locked") != 1 || countPrefix(events, "login.failed: wrong email sign-in code") != 4 {
		t.Fatalf("audit: %v", events)
	}
	// A new email starts afresh.
	expectStatus(t, s.emailStart(t, a.Email), http.StatusAccepted)
	code, _, _ = signInMail(t, mail, a.Email)
	expectStatus(t, s.emailCode(t, a.Email, code), http.StatusOK)
}

// 20 parallel submissions of the right code (or link) sign in exactly once.
func TestEmailSignInParallelRightCode(t *testing.T) {
	s, mail := startMailServer(t)
	a := s.register(t)
	sessions := func() string {
		return s.sqlStrings(t, "SELECT COUNT(*) FROM sessions WHERE user_id = '"+a.ID+"'")[0]
	}
	before := sessions()
	expectStatus(t, s.emailStart(t, a.Email), http.StatusAccepted)
	code, _, _ := signInMail(t, mail, a.Email)
	rs := concurrently(20, func(int) *response { return s.emailCode(t, a.Email, code) })
	if c := statusCounts(rs); c[http.StatusOK] != 1 || c[http.StatusUnauthorized] != 19 {
		t.Fatalf("statuses %v, want one 200 and nineteen 401", c)
	}
	expectStatus(t, s.emailStart(t, a.Email), http.StatusAccepted)
	_, _, token := signInMail(t, mail, a.Email)
	rs = concurrently(20, func(int) *response { return s.emailLink(t, token) })
	if c := statusCounts(rs); c[http.StatusOK] != 1 || c[http.StatusUnauthorized] != 19 {
		t.Fatalf("link statuses %v, want one 200 and nineteen 401", c)
	}
	if n, _ := strconv.Atoi(sessions()); strconv.Itoa(n-2) != before {
		t.Fatalf("sessions %d, want %s + 2", n, before)
	}
}

// Per-address and per-IP limits on start, per-IP on verify, configurable like the others; the
// per-address limit answers alike for addresses with and without an account.
func TestEmailSignInRateLimits(t *testing.T) {
	s, mail := startMailServer(t, "GATEHOUSE_RATE_LIMITS=email_signin_email=2/1h,email_signin_ip=6/1h,email_code_ip=3/15m")
	a := s.register(t)
	unknown := "nobody-" + a.Email
	for _, email := range []string{a.Email, unknown} {
		expectStatus(t, s.emailStart(t, email), http.StatusAccepted)
		expectStatus(t, s.emailStart(t, email), http.StatusAccepted)
		r := s.emailStart(t, email)
		expectProblem(t, r, http.StatusTooManyRequests, "rate_limited")
		if n, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || n < 1 || n > 3600 {
			t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
		}
	}
	// Six requests from this address: the seventh is refused whatever the email.
	expectProblem(t, s.emailStart(t, "third-"+a.Email), http.StatusTooManyRequests, "rate_limited")
	signInMail(t, mail, a.Email)
	code, _, _ := signInMail(t, mail, a.Email)
	for range 3 {
		expectProblem(t, s.emailCode(t, a.Email, otherCode(code)), http.StatusUnauthorized, "invalid_code")
	}
	expectProblem(t, s.emailCode(t, a.Email, code), http.StatusTooManyRequests, "rate_limited")
}

// Start answers alike (status, body, headers) for known, unknown and disabled accounts, and sends
// an email only to the known, enabled one; verify answers a code for an unknown address as a
// wrong code for a known one.
func TestEmailSignInSameAnswerForUnknownEmail(t *testing.T) {
	s, mail := startMailServer(t)
	a := s.register(t)
	verifyLink(t, mail, a.Email)
	disabled := s.register(t)
	verifyLink(t, mail, disabled.Email)
	s.sqlExec(t, "UPDATE users SET is_active = FALSE WHERE id = '"+disabled.ID+"'")

	known := s.emailStart(t, a.Email)
	for _, email := range []string{"nobody-" + a.Email, disabled.Email} {
		other := s.emailStart(t, email)
		if other.Status != known.Status || string(other.Body) != string(known.Body) {
			t.Fatalf("answers differ:\n%d %s\n%d %s", other.Status, other.Body, known.Status, known.Body)
		}
		for _, h := range []string{"Content-Type", "Cache-Control", "Content-Length", "Retry-After"} {
			if other.Header.Get(h) != known.Header.Get(h) {
				t.Fatalf("%s differs: %q vs %q", h, other.Header.Get(h), known.Header.Get(h))
			}
		}
	}
	code, _, _ := signInMail(t, mail, a.Email)
	mail.ExpectNone(t, 300*time.Millisecond)
	if n := s.sqlStrings(t, "SELECT COUNT(*) FROM email_outbox WHERE kind = 'email_sign_in'"); n[0] != "1" {
		t.Fatalf("sign-in emails queued: %v, want 1", n)
	}
	wrong := s.emailCode(t, a.Email, otherCode(code))
	nobody := s.emailCode(t, "nobody-"+a.Email, code)
	expectProblem(t, nobody, http.StatusUnauthorized, "invalid_code")
	if wrong.Status != nobody.Status || string(wrong.Body) != string(nobody.Body) {
		t.Fatalf("verify answers differ:\n%s\n%s", wrong.Body, nobody.Body)
	}
	expectProblem(t, s.emailStart(t, "not an address"), http.StatusUnprocessableEntity, "validation_failed")
}

// With a second factor, the email code is the first: mfa_required, then the TOTP code.
func TestEmailSignInMFARequired(t *testing.T) {
	s, mail := startMailServer(t)
	a := s.register(t)
	secret, _ := s.enrolTOTP(t, a)
	expectStatus(t, s.emailStart(t, a.Email), http.StatusAccepted)
	code, _, _ := signInMail(t, mail, a.Email)
	r := s.emailCode(t, a.Email, code)
	expectProblem(t, r, http.StatusUnauthorized, "mfa_required")
	m := r.json(t)
	if _, ok := m["access_token"]; ok {
		t.Fatal("mfa_required answer carries tokens")
	}
	mfaToken, _ := m["mfa_token"].(string)
	r = s.do(t, "POST", "/api/v1/auth/mfa/verify", map[string]string{"mfa_token": mfaToken, "code": totpCode(t, secret, time.Now())})
	expectStatus(t, r, http.StatusOK)
	access := r.str(t, "access_token")
	if c := claimsOf(t, access); c["aal"] != "aal2" || !slices.Equal(amrOf(t, access), []string{"otp", "mfa"}) {
		t.Fatalf("claims: amr %v aal %v", c["amr"], c["aal"])
	}
	// The code was spent by the first step.
	expectProblem(t, s.emailCode(t, a.Email, code), http.StatusUnauthorized, "invalid_code")
}

// A right code for an account disabled since the email answers as a right password does: 403,
// and no session.
func TestEmailSignInDisabledAccount(t *testing.T) {
	s, mail := startMailServer(t)
	a := s.register(t)
	verifyLink(t, mail, a.Email)
	expectStatus(t, s.emailStart(t, a.Email), http.StatusAccepted)
	code, _, token := signInMail(t, mail, a.Email)
	s.sqlExec(t, "UPDATE users SET is_active = FALSE WHERE id = '"+a.ID+"'")
	before := s.sqlStrings(t, "SELECT COUNT(*) FROM sessions WHERE user_id = '"+a.ID+"'")
	expectProblem(t, s.emailCode(t, a.Email, code), http.StatusForbidden, "account_disabled")
	expectProblem(t, s.emailLink(t, token), http.StatusForbidden, "account_disabled")
	if after := s.sqlStrings(t, "SELECT COUNT(*) FROM sessions WHERE user_id = '"+a.ID+"'"); after[0] != before[0] {
		t.Fatalf("sessions %v, then %v", before, after)
	}
	// No new email for a disabled account.
	expectStatus(t, s.emailStart(t, a.Email), http.StatusAccepted)
	mail.ExpectNone(t, 300*time.Millisecond)
}
