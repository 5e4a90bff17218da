package main

import (
	"net/http"
	"testing"
)

// Hostile review of the email sign-in (docs/security.md section 14, review findings).

// Pre-account takeover: anyone can register someone else's address with a password (it stays
// unverified). When the owner of the mailbox later signs in by email, the sign-in proves the
// mailbox and marks the address verified: the password, sessions and API keys that the
// registrant set up without ever proving it must not survive into the owner's account.
func TestEmailSignInUnverifiedAccountDropsForeignCredentials(t *testing.T) {
	s, mail := startMailServer(t)
	attacker := s.register(t) // registered with the victim's address, never verified
	key := s.createKey(t, attacker.Access)["api_key"].(string)

	// The owner of the mailbox signs in by email.
	expectStatus(t, s.emailStart(t, attacker.Email), http.StatusAccepted)
	code, _, _ := signInMail(t, mail, attacker.Email)
	r := s.emailCode(t, attacker.Email, code)
	expectStatus(t, r, http.StatusOK)
	owner := r.str(t, "access_token")
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(owner)), http.StatusOK)

	// The registrant's password, session, refresh token and API key are gone.
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": attacker.Email, "password": attacker.Password}),
		http.StatusUnauthorized, "")
	expectStatus(t, s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": attacker.Refresh}), http.StatusUnauthorized)
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(attacker.Access)), http.StatusUnauthorized)
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, "X-API-Key: "+key), http.StatusUnauthorized)

	// An address already verified keeps its credentials: its owner set them up.
	expectStatus(t, s.emailStart(t, attacker.Email), http.StatusAccepted)
	code, _, _ = signInMail(t, mail, attacker.Email)
	expectStatus(t, s.emailCode(t, attacker.Email, code), http.StatusOK)
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(owner)), http.StatusOK)
}

// With GATEHOUSE_REQUIRE_EMAIL_VERIFICATION, the registrant's password does not work until the
// address is verified: the owner's email sign-in must not be what makes it work.
func TestEmailSignInDoesNotActivateForeignPassword(t *testing.T) {
	s, mail := startMailServer(t, "GATEHOUSE_REQUIRE_EMAIL_VERIFICATION=true")
	attacker := s.register(t)
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": attacker.Email, "password": attacker.Password}),
		http.StatusForbidden, "email_not_verified")
	expectStatus(t, s.emailStart(t, attacker.Email), http.StatusAccepted)
	code, _, _ := signInMail(t, mail, attacker.Email)
	expectStatus(t, s.emailCode(t, attacker.Email, code), http.StatusOK)
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": attacker.Email, "password": attacker.Password}),
		http.StatusUnauthorized, "")
}

// An unverified account with an authenticator app: whoever reads the mailbox (a mistyped address
// belongs to someone else) gets only as far as mfa_required, and that first step must neither
// drop the owner's password and sessions nor verify the address.
func TestEmailSignInUnverifiedWithSecondFactorKeepsCredentialsAtFirstStep(t *testing.T) {
	s, mail := startMailServer(t)
	owner := s.register(t)
	s.enrolTOTP(t, owner)
	expectStatus(t, s.emailStart(t, owner.Email), http.StatusAccepted)
	code, _, _ := signInMail(t, mail, owner.Email)
	expectProblem(t, s.emailCode(t, owner.Email, code), http.StatusUnauthorized, "mfa_required")

	expectProblem(t, s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": owner.Email, "password": owner.Password}),
		http.StatusUnauthorized, "mfa_required")
	r := s.do(t, "GET", "/api/v1/users/me", nil, bearer(owner.Access))
	expectStatus(t, r, http.StatusOK)
	if r.json(t)["email_verified"] != false {
		t.Fatalf("the first step verified the address: %s", r.Body)
	}
}
