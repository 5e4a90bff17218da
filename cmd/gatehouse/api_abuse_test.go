package main

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// withLimitsOn starts a server with the default rate limits, as a new deployment has them.
func withLimitsOn(t *testing.T, overrides ...string) *testServer {
	t.Helper()
	env := testEnv(t)
	delete(env, "GATEHOUSE_RATE_LIMITS")
	for _, kv := range overrides {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	return startServerEnv(t, env)
}

// TestASVS_6_3_1_AccountLockout: at most 10 failed logins per account per 15 minutes; then 429
// with Retry-After for every attempt, the right password included.
func TestASVS_6_3_1_AccountLockout(t *testing.T) {
	s := withLimitsOn(t)
	a := s.register(t)
	for i := range 10 {
		r := s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": a.Email, "password": fmt.Sprintf("wrong %d password", i)})
		expectProblem(t, r, http.StatusUnauthorized, "invalid_credentials")
	}
	r := s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": a.Email, "password": a.Password})
	expectProblem(t, r, http.StatusTooManyRequests, "rate_limited")
	if secs, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || secs < 1 || secs > 15*60 {
		t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	// The same address, with another case, is the same account.
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": strings.ToUpper(a.Email), "password": a.Password}), http.StatusTooManyRequests, "")
	// Other accounts are not affected; the existing session still works.
	b := s.register(t)
	s.login(t, b.Email, b.Password)
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(a.Access)), http.StatusOK)
}

func TestSuccessfulLoginsDoNotCountAsFailures(t *testing.T) {
	s := withLimitsOn(t)
	a := s.register(t)
	for range 12 {
		s.login(t, a.Email, a.Password)
	}
}

func TestUnknownAccountIsLimitedToo(t *testing.T) {
	s := withLimitsOn(t)
	for range 10 {
		expectProblem(t, s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": "ghost@example.com", "password": "anything at all"}), http.StatusUnauthorized, "")
	}
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": "ghost@example.com", "password": "anything at all"}), http.StatusTooManyRequests, "rate_limited")
}

// TestConcurrentWrongPasswordsNeverExceedTheLimit: 50 at once, at most 10 evaluated.
func TestConcurrentWrongPasswordsNeverExceedTheLimit(t *testing.T) {
	s := withLimitsOn(t, "GATEHOUSE_HASH_MAX_WAIT=60s", "GATEHOUSE_HASH_QUEUE=1000")
	a := s.register(t)
	const n = 50
	count := statusCounts(concurrently(n, func(int) *response {
		return s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": a.Email, "password": "not the password"})
	}))
	if count[http.StatusUnauthorized] != 10 || count[http.StatusTooManyRequests] != 40 {
		t.Fatalf("statuses %v: want exactly 10 evaluated (401) and 40 refused (429)", count)
	}
}

// TestSpoofedForwardedForGainsNothing: X-Forwarded-For from an untrusted peer is ignored, so
// rotating it does not reset the per-IP limit.
func TestSpoofedForwardedForGainsNothing(t *testing.T) {
	s := withLimitsOn(t, "GATEHOUSE_RATE_LIMITS=login_ip=5/15m")
	for i := range 5 {
		r := s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": fmt.Sprintf("x%d@example.com", i), "password": "whatever pw"},
			fmt.Sprintf("X-Forwarded-For: 203.0.113.%d", i))
		expectStatus(t, r, http.StatusUnauthorized)
	}
	r := s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": "y@example.com", "password": "whatever pw"}, "X-Forwarded-For: 198.51.100.7")
	expectProblem(t, r, http.StatusTooManyRequests, "rate_limited")
}

// TestTrustedProxyForwardedFor: behind a trusted proxy, the client address from
// X-Forwarded-For is what is limited, so one client cannot starve the others.
func TestTrustedProxyForwardedFor(t *testing.T) {
	s := withLimitsOn(t, "GATEHOUSE_RATE_LIMITS=login_ip=3/15m", "GATEHOUSE_TRUSTED_PROXIES=127.0.0.0/8")
	for range 3 {
		expectStatus(t, s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": "a@example.com", "password": "whatever pw"}, "X-Forwarded-For: 203.0.113.1"), http.StatusUnauthorized)
	}
	expectStatus(t, s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": "a@example.com", "password": "whatever pw"}, "X-Forwarded-For: 203.0.113.1"), http.StatusTooManyRequests)
	expectStatus(t, s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": "b@example.com", "password": "whatever pw"}, "X-Forwarded-For: 203.0.113.2"), http.StatusUnauthorized)
}

func TestRegisterAndKeyFailuresAreLimited(t *testing.T) {
	s := withLimitsOn(t, "GATEHOUSE_RATE_LIMITS=register_ip=2/1h,key_failure_ip=3/15m")
	for i := range 2 {
		expectStatus(t, s.do(t, "POST", "/api/v1/auth/register", map[string]string{"email": fmt.Sprintf("r%d@example.com", i), "password": "long enough pw"}), http.StatusCreated)
	}
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/register", map[string]string{"email": "r9@example.com", "password": "long enough pw"}), http.StatusTooManyRequests, "rate_limited")
	bad := "ak_" + strings.Repeat("A", 38)
	for range 3 {
		expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, "X-API-Key: "+bad), http.StatusUnauthorized)
	}
	expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, "X-API-Key: "+bad), http.StatusTooManyRequests, "rate_limited")
}

// TestIntrospectedKeyFailuresAreLimited: guessing API keys through introspection counts against
// the same per-IP failure limit as presenting them; past it the guesser gets 429, while a live
// key still introspects (as a right key still authenticates).
func TestIntrospectedKeyFailuresAreLimited(t *testing.T) {
	s := withLimitsOn(t, "GATEHOUSE_RATE_LIMITS=key_failure_ip=3/15m")
	a := s.register(t)
	introspector := s.createKey(t, a.Access, "tokens:introspect")["api_key"].(string)
	introspect := func(token string) *response {
		return s.do(t, "POST", "/api/v1/auth/introspect", map[string]string{"token": token}, "X-API-Key: "+introspector)
	}
	for i := range 3 {
		r := introspect(fmt.Sprintf("ak_%032d%s", i, "AAAAAA"))
		expectStatus(t, r, http.StatusOK)
		if r.json(t)["active"] != false {
			t.Fatalf("a bogus key is active: %s", r.Body)
		}
	}
	expectProblem(t, introspect("ak_"+strings.Repeat("B", 38)), http.StatusTooManyRequests, "rate_limited")
	// The same counter as keys presented as credentials.
	expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, "X-API-Key: ak_"+strings.Repeat("C", 38)), http.StatusTooManyRequests, "rate_limited")
	live := introspect(introspector)
	expectStatus(t, live, http.StatusOK)
	if live.json(t)["active"] != true {
		t.Fatalf("a live key is inactive: %s", live.Body)
	}
}

func TestRateLimitsOff(t *testing.T) {
	s := startServer(t) // the harness turns limits off
	a := s.register(t)
	for range 12 {
		expectStatus(t, s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": a.Email, "password": "wrong password!"}), http.StatusUnauthorized)
	}
}

// TestAuditTrail follows register → login → refresh reuse → password change in the audit log,
// and checks that /metrics counted the same events. No secret may appear in either.
func TestAuditTrail(t *testing.T) {
	s := startServer(t, "GATEHOUSE_REFRESH_REUSE_INTERVAL=0")
	admin := s.admin(t)
	a := s.register(t)
	expectStatus(t, s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": a.Email, "password": "wrong password!"}), http.StatusUnauthorized)
	access, refresh := s.login(t, a.Email, a.Password)
	expectStatus(t, s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": refresh}), http.StatusOK)
	expectStatus(t, s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": refresh}), http.StatusUnauthorized)
	expectStatus(t, s.do(t, "POST", "/api/v1/users/me/password", map[string]string{"current_password": a.Password, "new_password": "a brand new password"}, bearer(a.Access), "User-Agent: audit-test/1"), http.StatusOK)

	r := s.do(t, "GET", "/api/v1/admin/audit?user_id="+a.ID+"&limit=200", nil, bearer(admin.Access))
	expectStatus(t, r, http.StatusOK)
	var types []string
	for _, it := range r.json(t)["items"].([]any) {
		e := it.(map[string]any)
		types = append([]string{e["type"].(string) + "/" + e["outcome"].(string)}, types...)
		if e["ip"] != "127.0.0.1" {
			t.Fatalf("event without the client address: %v", e)
		}
	}
	want := []string{"user.registered/success", "login.failed/failure", "login.succeeded/success", "token.refreshed/success",
		"token.reuse_detected/failure", "password.changed/success"}
	if strings.Join(types, " ") != strings.Join(want, " ") {
		t.Fatalf("audit trail:\n got %v\nwant %v", types, want)
	}
	for _, secret := range []string{a.Password, refresh, access, "a brand new password"} {
		if strings.Contains(string(r.Body), secret) {
			t.Fatal("a secret reached the audit log")
		}
	}
	// Filters and the user's own view.
	f := s.do(t, "GET", "/api/v1/admin/audit?type=token.reuse_detected", nil, bearer(admin.Access))
	if items := f.json(t)["items"].([]any); len(items) != 1 {
		t.Fatalf("type filter: %s", f.Body)
	}
	mine := s.do(t, "GET", "/api/v1/users/me/audit", nil, bearer(a.Access))
	expectStatus(t, mine, http.StatusOK)
	for _, it := range mine.json(t)["items"].([]any) {
		if it.(map[string]any)["user_id"] != a.ID {
			t.Fatalf("another user's event in /users/me/audit: %v", it)
		}
	}
	expectProblem(t, s.do(t, "GET", "/api/v1/admin/audit", nil, bearer(a.Access)), http.StatusForbidden, "")

	m := s.do(t, "GET", "/metrics", nil)
	expectStatus(t, m, http.StatusOK)
	for _, series := range []string{
		`gatehouse_security_events_total{outcome="failure",type="token.reuse_detected"} 1`,
		`gatehouse_security_events_total{outcome="failure",type="login.failed"} 1`,
		`gatehouse_security_events_total{outcome="success",type="login.succeeded"} 2`,
		`gatehouse_http_requests_total{method="POST",route="POST /api/v1/auth/refresh",status="401"} 1`,
		`gatehouse_password_hash_waiting`,
		`gatehouse_password_hash_seconds`,
		`gatehouse_password_hash_queue_limit`,
	} {
		if !strings.Contains(string(m.Body), series) {
			t.Errorf("metrics lack %s", series)
		}
	}
	if regexp.MustCompile(`route="/api/v1/nope`).Match(m.Body) {
		t.Fatal("raw paths in metric labels")
	}
}
