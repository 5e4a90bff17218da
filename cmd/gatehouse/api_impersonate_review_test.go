package main

import (
	"net/http"
	"strings"
	"testing"
)

// Review of impersonation: findings written as tests through the public surface.

// An impersonation session cannot spend the user's credits: usage writes no audit event (it is
// metered, not audited), so an admin could drain a balance with nothing naming them; support has
// no need to spend what the user paid for.
func TestImpersonationCannotSpendCredits(t *testing.T) {
	s := startServer(t)
	admin := s.admin(t)
	u := s.register(t)
	expectStatus(t, s.do(t, "POST", "/api/v1/admin/users/"+u.ID+"/credits", map[string]any{"amount": 10}, bearer(admin.Access)), http.StatusOK)
	tok := s.impersonate(t, admin, u.ID)
	expectProblem(t, s.do(t, "POST", "/api/v1/public/credits/usage", map[string]any{"amount": 10, "description": "support"}, bearer(tok)),
		http.StatusForbidden, "impersonation_forbidden")
	// Reading the balance stays allowed, and nothing was spent.
	r := s.do(t, "GET", "/api/v1/public/credits/balance", nil, bearer(tok))
	expectStatus(t, r, http.StatusOK)
	if b := s.do(t, "GET", "/api/v1/public/credits/balance", nil, bearer(u.Access)); !strings.Contains(string(b.Body), `"remaining_credits":10`) {
		t.Fatalf("the balance after a refused usage: %s", b.Body)
	}
	// The user's own session still spends.
	expectStatus(t, s.do(t, "POST", "/api/v1/public/credits/usage", map[string]any{"amount": 1}, bearer(u.Access)), http.StatusOK)
}
