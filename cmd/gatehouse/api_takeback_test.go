package main

import (
	"net/http"
	"strings"
	"testing"
)

// TestResetTakesTheAccountBack: someone registers an address that is not theirs (verification is
// off by default), locks its login and plants a long-lived API key. When the owner resets the
// password through their mailbox, the intruder's sessions and keys die, the lockout ends, and
// the audit log says what happened.
func TestResetTakesTheAccountBack(t *testing.T) {
	s, mail := startMailServer(t, "GATEHOUSE_RATE_LIMITS=on")
	intruder := s.register(t)
	key := s.createKey(t, intruder.Access, "profile:read", "keys:write")["api_key"].(string)
	for range 10 {
		s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": intruder.Email, "password": "owner guessing"})
	}
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": intruder.Email, "password": intruder.Password}), http.StatusTooManyRequests, "")

	s.forgot(t, intruder.Email)
	token := resetLink(t, mail, intruder.Email)
	expectStatus(t, s.reset(t, token, "the owner's own passphrase"), http.StatusOK)

	expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, "X-API-Key: "+key), http.StatusUnauthorized, "")
	expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(intruder.Access)), http.StatusUnauthorized, "")
	access, _ := s.login(t, intruder.Email, "the owner's own passphrase")

	r := s.do(t, "GET", "/api/v1/users/me/audit", nil, bearer(access))
	expectStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.Body), `"type":"password.reset"`) || !strings.Contains(string(r.Body), "1 session and 1 API key revoked") {
		t.Fatalf("audit after reset: %s", r.Body)
	}
}

func TestEmailVerificationIsAudited(t *testing.T) {
	s, mail := startMailServer(t)
	a := s.register(t)
	expectStatus(t, s.do(t, "POST", "/api/v1/auth/verify-email", map[string]string{"token": verifyLink(t, mail, a.Email)}), http.StatusOK)
	r := s.do(t, "GET", "/api/v1/users/me/audit?type=email.verified", nil, bearer(a.Access))
	if items, _ := r.json(t)["items"].([]any); len(items) != 1 {
		t.Fatalf("email.verified events: %s", r.Body)
	}
}
