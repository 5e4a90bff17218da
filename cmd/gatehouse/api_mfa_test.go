package main

import (
	"bytes"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/totp"
)

// totpCode is what an authenticator app would show for secret at t.
func totpCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	code, err := totp.Code(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// enrolTOTP enrols an authenticator app for a through the API and returns its secret and the
// recovery codes. The confirming code is the previous step's, so that the current step's code is
// still unused for the test.
func (s *testServer) enrolTOTP(t *testing.T, a *account) (secret string, recovery []string) {
	t.Helper()
	r := s.do(t, "POST", "/api/v1/users/me/mfa/totp", nil, bearer(a.Access))
	expectStatus(t, r, http.StatusCreated)
	secret = r.str(t, "secret")
	uri := r.str(t, "otpauth_url")
	if secret == "" || !strings.HasPrefix(uri, "otpauth://totp/") || !strings.Contains(uri, "secret="+secret) {
		t.Fatalf("enrolment: %s", r.Body)
	}
	// A code of the previous step is accepted while the server's clock is in the next step at
	// most; under load a step boundary can pass between drawing the code and the server checking
	// it, and only then is the code drawn again (once).
	for try := 0; ; try++ {
		drawn := time.Now()
		r = s.do(t, "POST", "/api/v1/users/me/mfa/totp/confirm", map[string]string{"code": totpCode(t, secret, drawn.Add(-30*time.Second))}, bearer(a.Access))
		if r.Status == http.StatusOK || try > 0 || time.Now().Unix()/30 == drawn.Unix()/30 {
			break
		}
	}
	expectStatus(t, r, http.StatusOK)
	var out struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}
	if err := json.Unmarshal(r.Body, &out); err != nil {
		t.Fatal(err)
	}
	return secret, out.RecoveryCodes
}

// mfaLogin signs in with the password and expects the mfa_required answer; it returns the mfa_token.
func (s *testServer) mfaLogin(t *testing.T, a *account) string {
	t.Helper()
	r := s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": a.Email, "password": a.Password})
	expectProblem(t, r, http.StatusUnauthorized, "mfa_required")
	m := r.json(t)
	if f, _ := m["factors"].([]any); len(f) != 2 || f[0] != "totp" || f[1] != "recovery_code" {
		t.Fatalf("factors: %v", m["factors"])
	}
	if _, ok := m["access_token"]; ok {
		t.Fatal("mfa_required answer carries tokens")
	}
	tok, _ := m["mfa_token"].(string)
	if len(tok) < 40 {
		t.Fatalf("mfa_token %q", tok)
	}
	return tok
}

// claimsOf decodes an access token's payload.
func claimsOf(t *testing.T, access string) map[string]any {
	t.Helper()
	parts := strings.Split(access, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %s", access)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func amrOf(t *testing.T, access string) []string {
	t.Helper()
	var out []string
	list, _ := claimsOf(t, access)["amr"].([]any)
	for _, v := range list {
		out = append(out, v.(string))
	}
	return out
}

func TestMFAEnrolConfirmAndSignIn(t *testing.T) {
	s := startServer(t)
	a := s.register(t)
	if c := claimsOf(t, a.Access); c["aal"] != "aal1" || !slices.Equal(amrOf(t, a.Access), []string{"pwd"}) {
		t.Fatalf("password tokens: amr %v aal %v", c["amr"], c["aal"])
	}
	r := s.do(t, "GET", "/api/v1/users/me/mfa", nil, bearer(a.Access))
	expectStatus(t, r, http.StatusOK)
	if r.json(t)["totp"] != false {
		t.Fatalf("status before enrolment: %s", r.Body)
	}
	// Confirming before starting, and a malformed code, are clear 4xx.
	expectProblem(t, s.do(t, "POST", "/api/v1/users/me/mfa/totp/confirm", map[string]string{"code": "123456"}, bearer(a.Access)), http.StatusConflict, "mfa_not_pending")
	expectProblem(t, s.do(t, "POST", "/api/v1/users/me/mfa/totp/confirm", map[string]string{"code": "12ab"}, bearer(a.Access)), http.StatusUnprocessableEntity, "validation_failed")

	secret, codes := s.enrolTOTP(t, a)
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes", len(codes))
	}
	shape := regexp.MustCompile(`^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$`) // 80 bits each
	seen := map[string]bool{}
	for _, c := range codes {
		if !shape.MatchString(c) || seen[c] {
			t.Fatalf("recovery code %q", c)
		}
		seen[c] = true
	}
	r = s.do(t, "GET", "/api/v1/users/me/mfa", nil, bearer(a.Access))
	if m := r.json(t); m["totp"] != true || m["recovery_codes_left"] != float64(10) {
		t.Fatalf("status after enrolment: %s", r.Body)
	}
	// Enrolling again needs the app removed first.
	expectProblem(t, s.do(t, "POST", "/api/v1/users/me/mfa/totp", nil, bearer(a.Access)), http.StatusConflict, "mfa_already_enrolled")

	// The password alone no longer signs in; a wrong password still answers invalid_credentials.
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": a.Email, "password": "wrong password here"}), http.StatusUnauthorized, "invalid_credentials")
	tok := s.mfaLogin(t, a)
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/mfa/verify", map[string]string{"mfa_token": tok, "code": "000000"}), http.StatusUnauthorized, "invalid_mfa_code")
	// A wrong code leaves the mfa_token usable; the right one signs in.
	code := totpCode(t, secret, time.Now())
	r = s.do(t, "POST", "/api/v1/auth/mfa/verify", map[string]string{"mfa_token": tok, "code": code})
	expectStatus(t, r, http.StatusOK)
	access, refresh := r.str(t, "access_token"), r.str(t, "refresh_token")
	if c := claimsOf(t, access); c["aal"] != "aal2" || !slices.Equal(amrOf(t, access), []string{"pwd", "otp", "mfa"}) {
		t.Fatalf("second-factor tokens: amr %v aal %v", c["amr"], c["aal"])
	}
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(access)), http.StatusOK)
	// The mfa_token is single use.
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/mfa/verify", map[string]string{"mfa_token": tok, "code": code}), http.StatusUnauthorized, "invalid_mfa_token")
	// A refresh keeps amr and aal.
	r = s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": refresh})
	expectStatus(t, r, http.StatusOK)
	if c := claimsOf(t, r.str(t, "access_token")); c["aal"] != "aal2" || !slices.Equal(amrOf(t, r.str(t, "access_token")), []string{"pwd", "otp", "mfa"}) {
		t.Fatalf("refreshed tokens: amr %v aal %v", c["amr"], c["aal"])
	}
}

func TestMFACodeReplayRefused(t *testing.T) {
	s := startServer(t)
	a := s.register(t)
	secret, _ := s.enrolTOTP(t, a)
	now := time.Now()
	code := totpCode(t, secret, now)
	r := s.do(t, "POST", "/api/v1/auth/mfa/verify", map[string]string{"mfa_token": s.mfaLogin(t, a), "code": code})
	expectStatus(t, r, http.StatusOK)
	// The same code, with a fresh mfa_token, is refused: a code is accepted once.
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/mfa/verify", map[string]string{"mfa_token": s.mfaLogin(t, a), "code": code}), http.StatusUnauthorized, "invalid_mfa_code")
	// So is the code of the step before (already past), and the confirming code of the enrolment.
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/mfa/verify", map[string]string{"mfa_token": s.mfaLogin(t, a), "code": totpCode(t, secret, now.Add(-30*time.Second))}), http.StatusUnauthorized, "invalid_mfa_code")
	// A code two steps away is outside the ±1 window.
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/mfa/verify", map[string]string{"mfa_token": s.mfaLogin(t, a), "code": totpCode(t, secret, now.Add(90*time.Second))}), http.StatusUnauthorized, "invalid_mfa_code")
	// The next step's code (clock skew of one step) is accepted once.
	expectStatus(t, s.do(t, "POST", "/api/v1/auth/mfa/verify", map[string]string{"mfa_token": s.mfaLogin(t, a), "code": totpCode(t, secret, now.Add(30*time.Second))}), http.StatusOK)
}

// TestMFAParallelCodeOneSuccess: 20 sign-ins hold 20 mfa_tokens and submit one valid code at the
// same instant: exactly one is signed in.
func TestMFAParallelCodeOneSuccess(t *testing.T) {
	s := startServer(t)
	a := s.register(t)
	secret, _ := s.enrolTOTP(t, a)
	const n = 20
	tokens := make([]string, n)
	for i := range tokens {
		tokens[i] = s.mfaLogin(t, a)
	}
	code := totpCode(t, secret, time.Now())
	rs := concurrently(n, func(i int) *response {
		return s.do(t, "POST", "/api/v1/auth/mfa/verify", map[string]string{"mfa_token": tokens[i], "code": code})
	})
	counts := statusCounts(rs)
	if counts[http.StatusOK] != 1 || counts[http.StatusUnauthorized] != n-1 {
		t.Fatalf("statuses %v, want one 200 and %d 401", counts, n-1)
	}
	for _, r := range rs {
		if r.Status == http.StatusUnauthorized {
			expectProblem(t, r, http.StatusUnauthorized, "invalid_mfa_code")
		}
	}
}

// TestMFAParallelMFATokenOneSuccess: one mfa_token submitted 20 times at once with 20 different
// recovery codes... there are ten; with the same valid recovery code: exactly one session.
func TestMFAParallelMFATokenOneSuccess(t *testing.T) {
	s := startServer(t)
	a := s.register(t)
	_, codes := s.enrolTOTP(t, a)
	tok := s.mfaLogin(t, a)
	rs := concurrently(20, func(i int) *response {
		return s.do(t, "POST", "/api/v1/auth/mfa/verify", map[string]string{"mfa_token": tok, "code": codes[i%len(codes)]})
	})
	if c := statusCounts(rs); c[http.StatusOK] != 1 || c[http.StatusUnauthorized] != 19 {
		t.Fatalf("statuses %v, want one 200", c)
	}
}

func TestMFARecoveryCodesSingleUse(t *testing.T) {
	s := startServer(t)
	a := s.register(t)
	_, codes := s.enrolTOTP(t, a)
	// Typed in capitals without dashes, as people do.
	typed := strings.ToUpper(strings.ReplaceAll(codes[3], "-", ""))
	r := s.do(t, "POST", "/api/v1/auth/mfa/verify", map[string]string{"mfa_token": s.mfaLogin(t, a), "code": typed})
	expectStatus(t, r, http.StatusOK)
	if c := claimsOf(t, r.str(t, "access_token")); c["aal"] != "aal2" {
		t.Fatalf("recovery-code tokens: aal %v", c["aal"])
	}
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/mfa/verify", map[string]string{"mfa_token": s.mfaLogin(t, a), "code": codes[3]}), http.StatusUnauthorized, "invalid_mfa_code")
	r = s.do(t, "GET", "/api/v1/users/me/mfa", nil, bearer(a.Access))
	if r.json(t)["recovery_codes_left"] != float64(9) {
		t.Fatalf("status: %s", r.Body)
	}
	// Another user's code is nobody else's.
	b := s.register(t)
	_, _ = s.enrolTOTP(t, b)
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/mfa/verify", map[string]string{"mfa_token": s.mfaLogin(t, b), "code": codes[4]}), http.StatusUnauthorized, "invalid_mfa_code")
	// Hostile input is a clear 4xx.
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/mfa/verify", map[string]string{"mfa_token": s.mfaLogin(t, a), "code": strings.Repeat("9", 100)}), http.StatusUnprocessableEntity, "validation_failed")
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/mfa/verify", map[string]string{"mfa_token": strings.Repeat("x", 300), "code": "123456"}), http.StatusUnauthorized, "invalid_mfa_token")
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/mfa/verify", map[string]string{"mfa_token": "", "code": "123456"}), http.StatusUnauthorized, "invalid_mfa_token")
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/mfa/verify", `{"mfa_token": 5}`), http.StatusBadRequest, "")
}

func TestMFAFailureLimit(t *testing.T) {
	s := startServer(t, "GATEHOUSE_RATE_LIMITS=on")
	a := s.register(t)
	secret, _ := s.enrolTOTP(t, a)
	tok := s.mfaLogin(t, a)
	for range 5 {
		expectProblem(t, s.do(t, "POST", "/api/v1/auth/mfa/verify", map[string]string{"mfa_token": tok, "code": "000000"}), http.StatusUnauthorized, "invalid_mfa_code")
	}
	// Past the limit the right code is refused too, and the mfa_token is not spent by it.
	r := s.do(t, "POST", "/api/v1/auth/mfa/verify", map[string]string{"mfa_token": tok, "code": totpCode(t, secret, time.Now())})
	expectProblem(t, r, http.StatusTooManyRequests, "rate_limited")
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
}

func TestMFAFailureLimitIsAtomic(t *testing.T) {
	s := startServer(t, "GATEHOUSE_RATE_LIMITS=on")
	a := s.register(t)
	_, _ = s.enrolTOTP(t, a)
	tok := s.mfaLogin(t, a)
	rs := concurrently(20, func(int) *response {
		return s.do(t, "POST", "/api/v1/auth/mfa/verify", map[string]string{"mfa_token": tok, "code": "000000"})
	})
	if c := statusCounts(rs); c[http.StatusUnauthorized] != 5 || c[http.StatusTooManyRequests] != 15 {
		t.Fatalf("statuses %v, want 5 judged and 15 refused", c)
	}
}

func TestMFADisable(t *testing.T) {
	s := startServer(t)
	a := s.register(t)
	secret, _ := s.enrolTOTP(t, a)
	used := totpCode(t, secret, time.Now())
	other := s.do(t, "POST", "/api/v1/auth/mfa/verify", map[string]string{"mfa_token": s.mfaLogin(t, a), "code": used})
	expectStatus(t, other, http.StatusOK)

	expectProblem(t, s.do(t, "DELETE", "/api/v1/users/me/mfa/totp", map[string]string{}, bearer(a.Access)), http.StatusUnprocessableEntity, "validation_failed")
	expectProblem(t, s.do(t, "DELETE", "/api/v1/users/me/mfa/totp", map[string]string{"password": "not the password"}, bearer(a.Access)), http.StatusUnprocessableEntity, "validation_failed")
	// The code used for the sign-in above cannot remove the factor again.
	expectProblem(t, s.do(t, "DELETE", "/api/v1/users/me/mfa/totp", map[string]string{"code": used}, bearer(a.Access)), http.StatusUnauthorized, "invalid_mfa_code")
	expectStatus(t, s.do(t, "DELETE", "/api/v1/users/me/mfa/totp", map[string]string{"password": a.Password}, bearer(a.Access)), http.StatusOK)
	// Removing a factor signs out the user's other sessions, and the password alone signs in again.
	expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(other.str(t, "access_token"))), http.StatusUnauthorized, "")
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(a.Access)), http.StatusOK)
	access, _ := s.login(t, a.Email, a.Password)
	expectProblem(t, s.do(t, "DELETE", "/api/v1/users/me/mfa/totp", map[string]string{"password": a.Password}, bearer(access)), http.StatusNotFound, "mfa_not_enrolled")

	// With a current code (of a step not used yet).
	secret, _ = s.enrolTOTP(t, a)
	expectStatus(t, s.do(t, "DELETE", "/api/v1/users/me/mfa/totp", map[string]string{"code": totpCode(t, secret, time.Now())}, bearer(access)), http.StatusOK)
	s.login(t, a.Email, a.Password)
}

func TestMFATokenExpiry(t *testing.T) {
	s := startServer(t)
	a := s.register(t)
	secret, _ := s.enrolTOTP(t, a)
	tok := s.mfaLogin(t, a)
	// Age the challenge past its five minutes in the database: no sleeping.
	s.execSQL(t, `UPDATE mfa_challenges SET expires_at = expires_at - 301000000`)
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/mfa/verify", map[string]string{"mfa_token": tok, "code": totpCode(t, secret, time.Now())}), http.StatusUnauthorized, "invalid_mfa_token")
}

func TestMFASecretSealedAtRest(t *testing.T) {
	s := startServer(t)
	a := s.register(t)
	secret, codes := s.enrolTOTP(t, a)
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil || len(raw) != 20 {
		t.Fatalf("secret %q: %d bytes, %v", secret, len(raw), err)
	}
	db := s.openDB(t)
	defer db.Close()
	var stored [][]byte
	for _, q := range []string{`SELECT secret FROM mfa_totp`, `SELECT hash FROM mfa_recovery_codes`} {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var b []byte
			if err := rows.Scan(&b); err != nil {
				t.Fatal(err)
			}
			stored = append(stored, b)
		}
		rows.Close()
	}
	if len(stored) != 11 {
		t.Fatalf("%d rows, want the secret and 10 code hashes", len(stored))
	}
	for _, b := range stored {
		for _, needle := range append([]string{secret, string(raw)}, codes...) {
			if bytes.Contains(b, []byte(needle)) || bytes.Contains(bytes.ToLower(b), []byte(strings.ReplaceAll(needle, "-", ""))) {
				t.Fatalf("%q is stored in plain text", needle)
			}
		}
	}
	logs := s.logs.String()
	for _, needle := range append([]string{secret}, codes...) {
		if strings.Contains(logs, needle) {
			t.Fatalf("%q is in the log", needle)
		}
	}
}

func TestMFAAdminReset(t *testing.T) {
	s := startServer(t)
	admin := s.admin(t)
	a := s.register(t)
	_, _ = s.enrolTOTP(t, a)
	expectProblem(t, s.do(t, "DELETE", "/api/v1/admin/users/"+a.ID+"/mfa", nil, bearer(a.Access)), http.StatusForbidden, "")
	expectStatus(t, s.do(t, "DELETE", "/api/v1/admin/users/"+a.ID+"/mfa", nil, bearer(admin.Access)), http.StatusOK)
	// The user's sessions end; the password alone signs in again.
	expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(a.Access)), http.StatusUnauthorized, "")
	s.login(t, a.Email, a.Password)
	expectProblem(t, s.do(t, "DELETE", "/api/v1/admin/users/"+a.ID+"/mfa", nil, bearer(admin.Access)), http.StatusNotFound, "mfa_not_enrolled")
	r := s.do(t, "GET", "/api/v1/admin/audit?type=mfa.reset", nil, bearer(admin.Access))
	expectStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.Body), a.ID) || !strings.Contains(string(r.Body), "by "+admin.ID) {
		t.Fatalf("audit: %s", r.Body)
	}
}

// enrolAndSignIn enrols an authenticator app for a and signs in with a code; it returns the aal2
// access token.
func (s *testServer) enrolAndSignIn(t *testing.T, a *account) string {
	t.Helper()
	secret, _ := s.enrolTOTP(t, a)
	r := s.do(t, "POST", "/api/v1/auth/mfa/verify", map[string]string{"mfa_token": s.mfaLogin(t, a), "code": totpCode(t, secret, time.Now())})
	expectStatus(t, r, http.StatusOK)
	return r.str(t, "access_token")
}

func TestMFAAdminRequireMFA(t *testing.T) {
	s := startServer(t, "GATEHOUSE_ADMIN_REQUIRE_MFA=true")
	admin := s.admin(t)
	// A password-only (aal1) admin session is refused admin routes and admin-scoped keys.
	expectProblem(t, s.do(t, "GET", "/api/v1/admin/users", nil, bearer(admin.Access)), http.StatusForbidden, "mfa_required_for_admin")
	expectProblem(t, s.do(t, "POST", "/api/v1/api-keys", map[string]any{"name": "ops", "scopes": []string{"admin"}}, bearer(admin.Access)), http.StatusForbidden, "mfa_required_for_admin")
	// The admin still acts as a user.
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(admin.Access)), http.StatusOK)
	expectStatus(t, s.do(t, "POST", "/api/v1/api-keys", map[string]any{"name": "mine", "scopes": []string{"profile:read"}}, bearer(admin.Access)), http.StatusCreated)

	aal2 := s.enrolAndSignIn(t, admin)
	expectStatus(t, s.do(t, "GET", "/api/v1/admin/users", nil, bearer(aal2)), http.StatusOK)
	r := s.do(t, "POST", "/api/v1/api-keys", map[string]any{"name": "ops", "scopes": []string{"admin"}}, bearer(aal2))
	expectStatus(t, r, http.StatusCreated)
	key, _ := r.json(t)["api_key"].(string)
	expectStatus(t, s.do(t, "GET", "/api/v1/admin/users", nil, "X-API-Key: "+key), http.StatusOK)

	// Users are not concerned.
	u := s.register(t)
	expectProblem(t, s.do(t, "GET", "/api/v1/admin/users", nil, bearer(u.Access)), http.StatusForbidden, "forbidden")
}

func TestMFAAdminWithoutRequirement(t *testing.T) {
	s := startServer(t)
	admin := s.admin(t)
	expectStatus(t, s.do(t, "GET", "/api/v1/admin/users", nil, bearer(admin.Access)), http.StatusOK)
}

func TestMFARenewRecoveryCodes(t *testing.T) {
	s := startServer(t)
	a := s.register(t)
	expectProblem(t, s.do(t, "POST", "/api/v1/users/me/mfa/recovery-codes", map[string]string{"code": "123456"}, bearer(a.Access)), http.StatusNotFound, "mfa_not_enrolled")
	secret, old := s.enrolTOTP(t, a)
	// A recovery code cannot renew the codes.
	expectProblem(t, s.do(t, "POST", "/api/v1/users/me/mfa/recovery-codes", map[string]string{"code": old[0]}, bearer(a.Access)), http.StatusUnprocessableEntity, "validation_failed")
	r := s.do(t, "POST", "/api/v1/users/me/mfa/recovery-codes", map[string]string{"code": totpCode(t, secret, time.Now())}, bearer(a.Access))
	expectStatus(t, r, http.StatusOK)
	var out struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}
	if err := json.Unmarshal(r.Body, &out); err != nil || len(out.RecoveryCodes) != 10 || slices.Contains(out.RecoveryCodes, old[1]) {
		t.Fatalf("renewed codes: %s", r.Body)
	}
	// The old codes no longer sign in; the new ones do.
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/mfa/verify", map[string]string{"mfa_token": s.mfaLogin(t, a), "code": old[1]}), http.StatusUnauthorized, "invalid_mfa_code")
	expectStatus(t, s.do(t, "POST", "/api/v1/auth/mfa/verify", map[string]string{"mfa_token": s.mfaLogin(t, a), "code": out.RecoveryCodes[1]}), http.StatusOK)
}
