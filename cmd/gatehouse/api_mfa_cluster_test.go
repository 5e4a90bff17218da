package main

import (
	"net/http"
	"testing"
	"time"
)

// TestClusterMFACodeOnce: two instances on one PostgreSQL database receive 20 submissions of one
// valid code at the same instant (ten each, each with its own mfa_token): exactly one signs in.
func TestClusterMFACodeOnce(t *testing.T) {
	env := clusterEnv(t)
	servers := startCluster(t, env, env)
	a := servers[0].register(t)
	secret, _ := servers[0].enrolTOTP(t, a)
	const n = 20
	tokens := make([]string, n)
	for i := range tokens {
		tokens[i] = servers[i%2].mfaLogin(t, a)
	}
	code := totpCode(t, secret, time.Now())
	rs := concurrently(n, func(i int) *response {
		return servers[i%2].post("/api/v1/auth/mfa/verify", map[string]string{"mfa_token": tokens[i], "code": code})
	})
	if c := statusCounts(rs); c[http.StatusOK] != 1 || c[http.StatusUnauthorized] != n-1 {
		t.Fatalf("statuses %v, want one 200 and %d 401", c, n-1)
	}
}
