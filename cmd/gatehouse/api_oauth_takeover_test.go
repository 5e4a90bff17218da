package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/smtptest"
)

// TestOAuthPreRegistrationTakeover is the review's attack: someone registers the victim's address
// with a password and an API key, a mail scanner opens the verification link, and the victim later
// signs in with GitHub. The victim must land in an account that none of the attacker's credentials
// can reach any more, and be told by email that a sign-in method was linked.
func TestOAuthPreRegistrationTakeover(t *testing.T) {
	mail := smtptest.Start(t, smtptest.Options{})
	r := startOAuthServer(t, mailEnv(mail)...)
	const victim, attackerPassword = "victim@example.com", "attacker password 1"

	res := r.do(t, "POST", "/api/v1/auth/register", map[string]string{"email": victim, "password": attackerPassword, "name": "Victim"})
	expectStatus(t, res, http.StatusCreated)
	attackerAccess, attackerRefresh, accountID := res.str(t, "access_token"), res.str(t, "refresh_token"), tokenUser(t, res)["id"]
	key := r.createKey(t, attackerAccess, "profile:read")["api_key"].(string)
	otherAccess, otherRefresh := r.login(t, victim, attackerPassword)
	// The mail scanner follows the link: a GET verifies.
	expectStatus(t, r.do(t, "GET", "/api/v1/auth/verify-email?token="+url.QueryEscape(verifyLink(t, mail, victim)), nil), http.StatusOK)

	res = r.signIn(t, "github", persona{subject: "victim-gh", email: victim, verified: true, name: "Victim"})
	expectStatus(t, res, http.StatusOK)
	if tokenUser(t, res)["id"] != accountID {
		t.Fatalf("linked to %v, want the existing account %v", tokenUser(t, res)["id"], accountID)
	}
	victimAccess := res.str(t, "access_token")
	expectStatus(t, r.do(t, "GET", "/api/v1/users/me", nil, bearer(victimAccess)), http.StatusOK)

	// Every credential the provider did not vouch for is dead.
	for _, access := range []string{attackerAccess, otherAccess} {
		expectProblem(t, r.do(t, "GET", "/api/v1/users/me", nil, bearer(access)), http.StatusUnauthorized, "")
	}
	for _, refresh := range []string{attackerRefresh, otherRefresh} {
		expectProblem(t, r.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": refresh}), http.StatusUnauthorized, "invalid_refresh_token")
	}
	expectProblem(t, r.do(t, "GET", "/api/v1/users/me", nil, "X-API-Key: "+key), http.StatusUnauthorized, "")
	expectProblem(t, r.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": victim, "password": attackerPassword}), http.StatusUnauthorized, "invalid_credentials")
	if sessions := r.do(t, "GET", "/api/v1/users/me/sessions", nil, bearer(victimAccess)); strings.Count(string(sessions.Body), `"id"`) != 1 {
		t.Fatalf("sessions after the link: %s", sessions.Body)
	}

	// The owner is told, and the notice names the provider.
	m := mail.Await(t, mailWait, func(m *smtptest.Message) bool {
		return len(m.To) == 1 && m.To[0] == victim && strings.Contains(m.Text, "GitHub")
	})
	if !strings.Contains(m.Text, "password") {
		t.Fatalf("the notice does not say the password was removed:\n%s", m.Text)
	}

	// The victim can set a password of their own through the mailbox, as any owner can; an
	// account with a password may then drop all its identities.
	expectStatus(t, r.do(t, "POST", "/api/v1/auth/forgot-password", map[string]string{"email": victim}), http.StatusOK)
	expectStatus(t, r.reset(t, resetLink(t, mail, victim), "the victim's own password"), http.StatusOK)
	pwAccess, _ := r.login(t, victim, "the victim's own password")
	expectStatus(t, r.do(t, "DELETE", "/api/v1/users/me/identities/github", nil, bearer(pwAccess)), http.StatusNoContent)
	if ids := r.identities(t, pwAccess); len(ids) != 0 {
		t.Fatalf("identities: %v", ids)
	}
}

// TestOAuthLinkWithoutPasswordKeepsSessions: linking a second provider to an account that has no
// password (every credential of it came from a provider sign-in) keeps its sessions and keys, and
// still tells the owner.
func TestOAuthLinkWithoutPasswordKeepsSessions(t *testing.T) {
	mail := smtptest.Start(t, smtptest.Options{})
	r := startOAuthServer(t, mailEnv(mail)...)
	res := r.signIn(t, "github", persona{subject: "gh-two", email: "two@example.com", verified: true})
	expectStatus(t, res, http.StatusOK)
	access := res.str(t, "access_token")
	key := r.createKey(t, access, "profile:read")["api_key"].(string)
	expectStatus(t, r.signIn(t, "linkedin", persona{subject: "li-two", email: "two@example.com", verified: true}), http.StatusOK)
	expectStatus(t, r.do(t, "GET", "/api/v1/users/me", nil, bearer(access)), http.StatusOK)
	expectStatus(t, r.do(t, "GET", "/api/v1/users/me", nil, "X-API-Key: "+key), http.StatusOK)
	mail.Await(t, mailWait, func(m *smtptest.Message) bool {
		return len(m.To) == 1 && m.To[0] == "two@example.com" && strings.Contains(m.Text, "LinkedIn")
	})
}
