package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/smtptest"
	"github.com/gatehouse/gatehouse/internal/webauthntest"
)

// Review findings on passkeys (docs/security.md section 15).

// TestPasskeyMFAOptionsConcurrent: asking for the passkey options of one mfa_token several times
// at once (a double click, two tabs) answers every request with options, never a 500: the
// ceremony of the mfa_token is replaced, whichever request writes last.
func TestPasskeyMFAOptionsConcurrent(t *testing.T) {
	s := startPasskeyServer(t)
	a := s.register(t)
	key := webauthntest.New(passkeyOrigin)
	s.addPasskey(t, a, key, "Key")
	r := s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": a.Email, "password": a.Password})
	expectProblem(t, r, http.StatusUnauthorized, "mfa_required")
	token := r.str(t, "mfa_token")
	for round := range 5 {
		rs := concurrently(8, func(int) *response {
			return s.do(t, "POST", "/api/v1/auth/mfa/webauthn/options", map[string]string{"mfa_token": token})
		})
		if counts := statusCounts(rs); counts[http.StatusOK] != 8 {
			t.Fatalf("round %d: concurrent options of one mfa_token: %v", round, counts)
		}
	}
	// The last options written serve the sign-in.
	o := s.do(t, "POST", "/api/v1/auth/mfa/webauthn/options", map[string]string{"mfa_token": token})
	expectStatus(t, o, http.StatusOK)
	cred, err := key.Get(publicKeyOf(t, o), webauthntest.Tamper{})
	if err != nil {
		t.Fatal(err)
	}
	expectStatus(t, s.do(t, "POST", "/api/v1/auth/mfa/verify", map[string]any{"mfa_token": token, "credential": json.RawMessage(cred)}), http.StatusOK)
}

// TestPasskeyAddedNotice: adding a passkey binds a new way to sign in (alone, at aal2), so the
// mailbox owner is told, as after a password change or a linked provider: whoever planted a
// passkey with a borrowed session must not go unnoticed. The notice does not carry the passkey's
// name (text chosen by whoever added it).
func TestPasskeyAddedNotice(t *testing.T) {
	mail := smtptest.Start(t, smtptest.Options{})
	s := startPasskeyServer(t, mailEnv(mail)...)
	a := s.register(t)
	s.addPasskey(t, a, webauthntest.New(passkeyOrigin), "Call +1 555 0100 to keep your account")
	m := mail.Await(t, mailWait, func(m *smtptest.Message) bool {
		return len(m.To) == 1 && m.To[0] == a.Email && strings.Contains(strings.ToLower(m.Subject), "passkey")
	})
	if !strings.Contains(m.Text, testAppURL) || strings.Contains(m.Text+m.HTML+m.Subject, "555 0100") {
		t.Fatalf("notice: %q\n%s", m.Subject, m.Text)
	}
}
