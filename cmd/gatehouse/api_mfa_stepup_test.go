package main

import (
	"net/http"
	"testing"
	"time"
)

// ageSessions makes every session of the user look signed in 11 minutes earlier.
func (s *testServer) ageSessions(t *testing.T, userID string) {
	t.Helper()
	s.sqlExec(t, `UPDATE sessions SET created_at = created_at - 660000000 WHERE user_id = '`+userID+`'`)
}

// TestStepUpForSensitiveChanges: changing the password and removing a second factor need a
// sign-in within the last 10 minutes.
func TestStepUpForSensitiveChanges(t *testing.T) {
	// No principal cache, so the aged session is read as the database holds it.
	s := startServer(t, "GATEHOUSE_CACHE_TTL=0")
	a := s.register(t)
	c := claimsOf(t, a.Access)
	authTime, _ := c["auth_time"].(float64)
	if d := time.Since(time.Unix(int64(authTime), 0)); d < -time.Minute || d > time.Minute {
		t.Fatalf("auth_time %v is not the sign-in's", c["auth_time"])
	}
	secret, _ := s.enrolTOTP(t, a)
	s.ageSessions(t, a.ID)

	expectProblem(t, s.do(t, "POST", "/api/v1/users/me/password", map[string]string{"current_password": a.Password, "new_password": "another long passphrase 9"}, bearer(a.Access)), http.StatusForbidden, "reauthentication_required")
	expectProblem(t, s.do(t, "DELETE", "/api/v1/users/me/mfa/totp", map[string]string{"password": a.Password}, bearer(a.Access)), http.StatusForbidden, "reauthentication_required")
	// A refresh keeps the session's auth_time: it is no sign-in.
	r := s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": a.Refresh})
	expectStatus(t, r, http.StatusOK)
	refreshed := r.str(t, "access_token")
	if got, _ := claimsOf(t, refreshed)["auth_time"].(float64); got > authTime-600 {
		t.Fatalf("refresh moved auth_time from %v to %v", authTime, got)
	}
	expectProblem(t, s.do(t, "DELETE", "/api/v1/users/me/mfa/totp", map[string]string{"password": a.Password}, bearer(refreshed)), http.StatusForbidden, "reauthentication_required")
	// Nothing was changed: the factor is still there, the password still the same.
	r = s.do(t, "GET", "/api/v1/users/me/mfa", nil, bearer(refreshed))
	if r.json(t)["totp"] != true {
		t.Fatalf("status: %s", r.Body)
	}

	// Signing in again (password and code) allows both.
	v := s.do(t, "POST", "/api/v1/auth/mfa/verify", map[string]string{"mfa_token": s.mfaLogin(t, a), "code": totpCode(t, secret, time.Now())})
	expectStatus(t, v, http.StatusOK)
	fresh := v.str(t, "access_token")
	expectStatus(t, s.do(t, "DELETE", "/api/v1/users/me/mfa/totp", map[string]string{"password": a.Password}, bearer(fresh)), http.StatusOK)
	expectStatus(t, s.do(t, "POST", "/api/v1/users/me/password", map[string]string{"current_password": a.Password, "new_password": "another long passphrase 9"}, bearer(fresh)), http.StatusOK)
}
