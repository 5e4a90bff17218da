package main

import (
	"net/http"
	"slices"
	"testing"
	"time"
)

// TestMFAProviderSignInAsksToo: a user with an authenticator app who signs in through a provider
// gets the same mfa_required answer as a password login, and the code finishes the sign-in.
func TestMFAProviderSignInAsksToo(t *testing.T) {
	r := startOAuthServer(t)
	p := persona{subject: "mfa-sub", email: "mfa-provider@example.com", verified: true, name: "Provider"}
	first := r.signIn(t, "corp", p)
	expectStatus(t, first, http.StatusOK)
	a := &account{Access: first.str(t, "access_token")}
	if c := claimsOf(t, a.Access); c["aal"] != "aal1" || c["amr"] != nil {
		t.Fatalf("provider tokens: amr %v aal %v", c["amr"], c["aal"])
	}
	secret, _ := r.enrolTOTP(t, a)

	res := r.signIn(t, "corp", p)
	expectProblem(t, res, http.StatusUnauthorized, "mfa_required")
	m := res.json(t)
	if _, ok := m["access_token"]; ok {
		t.Fatal("the provider sign-in issued tokens without the second factor")
	}
	tok, _ := m["mfa_token"].(string)
	v := r.do(t, "POST", "/api/v1/auth/mfa/verify", map[string]string{"mfa_token": tok, "code": totpCode(t, secret, time.Now())})
	expectStatus(t, v, http.StatusOK)
	access := v.str(t, "access_token")
	if c := claimsOf(t, access); c["aal"] != "aal2" || !slices.Equal(amrOf(t, access), []string{"otp", "mfa"}) {
		t.Fatalf("tokens after the code: amr %v aal %v", c["amr"], c["aal"])
	}
	if v.json(t)["user"].(map[string]any)["email"] != p.email {
		t.Fatalf("signed in as %s", v.Body)
	}
}
