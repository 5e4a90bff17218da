package main

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/smtptest"
)

// orgRig is a server whose email goes to a test SMTP server, for the organization tests: members
// join through real invitations, accepted by accounts whose address was verified through the
// real verification email.
type orgRig struct {
	s    *testServer
	mail *smtptest.Server
}

func startOrgRig(t *testing.T, overrides ...string) *orgRig {
	t.Helper()
	s, mail := startMailServer(t, overrides...)
	return &orgRig{s: s, mail: mail}
}

// verified registers an account and verifies its address through the emailed link.
func (g *orgRig) verified(t *testing.T) *account {
	t.Helper()
	a := g.s.register(t)
	g.verify(t, a.Email)
	return a
}

func (g *orgRig) verify(t *testing.T, email string) {
	t.Helper()
	token := verifyLink(t, g.mail, email)
	expectStatus(t, g.s.do(t, "POST", "/api/v1/auth/verify-email", map[string]string{"token": token}), http.StatusOK)
}

// createOrg creates an organization owned by owner and returns its id.
func (g *orgRig) createOrg(t *testing.T, owner *account, slug string) string {
	t.Helper()
	r := g.s.do(t, "POST", "/api/v1/orgs", map[string]string{"name": "Org " + slug, "slug": slug}, bearer(owner.Access))
	expectStatus(t, r, http.StatusCreated)
	if r.str(t, "role") != "owner" {
		t.Fatalf("creator's role: %s", r.Body)
	}
	return r.str(t, "id")
}

// invite has inviter invite email with role and returns the token the email carries.
func (g *orgRig) invite(t *testing.T, orgID string, inviter *account, email, role string) string {
	t.Helper()
	r := g.s.do(t, "POST", "/api/v1/orgs/"+orgID+"/invitations", map[string]string{"email": email, "role": role}, bearer(inviter.Access))
	expectStatus(t, r, http.StatusCreated)
	return g.invitationToken(t, email)
}

// invitationToken waits for the invitation email to email and returns its token.
func (g *orgRig) invitationToken(t *testing.T, email string) string {
	t.Helper()
	_, link, token := awaitMail(t, g.mail, email, "/accept-invitation?token=")
	if !strings.HasPrefix(link, testAppURL+"/accept-invitation?token=") || len(token) < 32 {
		t.Fatalf("invitation link %q", link)
	}
	return token
}

func (g *orgRig) accept(t *testing.T, a *account, token string) *response {
	t.Helper()
	return g.s.do(t, "POST", "/api/v1/invitations/accept", map[string]string{"token": token}, bearer(a.Access))
}

// join makes a fresh verified account a member of orgID with role, invited by inviter.
func (g *orgRig) join(t *testing.T, orgID string, inviter *account, role string) *account {
	t.Helper()
	a := g.verified(t)
	expectStatus(t, g.accept(t, a, g.invite(t, orgID, inviter, a.Email, role)), http.StatusOK)
	return a
}

// roleOf returns a member's role as the members list shows it ("" for a non-member).
func (g *orgRig) roleOf(t *testing.T, orgID string, viewer *account, userID string) string {
	t.Helper()
	r := g.s.do(t, "GET", "/api/v1/orgs/"+orgID+"/members", nil, bearer(viewer.Access))
	expectStatus(t, r, http.StatusOK)
	for _, m := range jsonArray(t, r) {
		if m["user_id"] == userID {
			return m["role"].(string)
		}
	}
	return ""
}

// switchOrg makes orgID the active organization of a's session and returns the new access token.
func (g *orgRig) switchOrg(t *testing.T, a *account, orgID string) string {
	t.Helper()
	r := g.s.do(t, "POST", "/api/v1/users/me/active-org", map[string]string{"org_id": orgID}, bearer(a.Access))
	expectStatus(t, r, http.StatusOK)
	return r.str(t, "access_token")
}

func jsonArray(t *testing.T, r *response) []map[string]any {
	t.Helper()
	var out []map[string]any
	if err := json.Unmarshal(r.Body, &out); err != nil {
		t.Fatalf("not a JSON array (status %d): %s", r.Status, r.Body)
	}
	return out
}

// orgClaims returns an access token's org_id, org_role and org_permissions.
func orgClaims(t *testing.T, access string) (string, string, []string) {
	t.Helper()
	c := claimsOf(t, access)
	id, _ := c["org_id"].(string)
	role, _ := c["org_role"].(string)
	var perms []string
	if list, ok := c["org_permissions"].([]any); ok {
		for _, p := range list {
			perms = append(perms, p.(string))
		}
	}
	slices.Sort(perms)
	return id, role, perms
}
