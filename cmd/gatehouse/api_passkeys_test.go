package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/webauthntest"
)

// The passkey tests run the relying party localhost with an https origin of it: the software
// authenticator says which origin it answers for, as a browser would.
const (
	passkeyRPID   = "localhost"
	passkeyOrigin = "https://localhost:8443"
)

func startPasskeyServer(t *testing.T, overrides ...string) *testServer {
	t.Helper()
	return startServer(t, append([]string{"GATEHOUSE_WEBAUTHN_RP_ID=" + passkeyRPID,
		"GATEHOUSE_WEBAUTHN_ORIGINS=" + passkeyOrigin, "GATEHOUSE_CACHE_TTL=0"}, overrides...)...)
}

// publicKeyOf is the publicKey member of an options answer.
func publicKeyOf(t *testing.T, r *response) []byte {
	t.Helper()
	var out struct {
		PublicKey json.RawMessage `json:"publicKey"`
	}
	if err := json.Unmarshal(r.Body, &out); err != nil || len(out.PublicKey) == 0 {
		t.Fatalf("no publicKey in %s", r.Body)
	}
	return out.PublicKey
}

// addPasskey registers a passkey of auth for a through the API and returns its id.
func (s *testServer) addPasskey(t *testing.T, a *account, auth *webauthntest.Authenticator, name string) string {
	t.Helper()
	r := s.do(t, "POST", "/api/v1/users/me/passkeys/register/options", nil, bearer(a.Access))
	expectStatus(t, r, http.StatusOK)
	cred, _, err := auth.Create(publicKeyOf(t, r), webauthntest.Tamper{})
	if err != nil {
		t.Fatal(err)
	}
	reg := s.do(t, "POST", "/api/v1/users/me/passkeys/register", map[string]any{
		"ceremony_id": r.str(t, "ceremony_id"), "name": name, "credential": json.RawMessage(cred)}, bearer(a.Access))
	expectStatus(t, reg, http.StatusCreated)
	if reg.str(t, "name") != name {
		t.Fatalf("registered: %s", reg.Body)
	}
	return reg.str(t, "id")
}

// passkeyLogin runs a passwordless sign-in with auth, tampered with as t says.
func (s *testServer) passkeyLogin(t *testing.T, auth *webauthntest.Authenticator, tamper webauthntest.Tamper) *response {
	t.Helper()
	r := s.do(t, "POST", "/api/v1/auth/passkey/options", nil)
	expectStatus(t, r, http.StatusOK)
	cred, err := auth.Get(publicKeyOf(t, r), tamper)
	if err != nil {
		t.Fatal(err)
	}
	return s.do(t, "POST", "/api/v1/auth/passkey/login", map[string]any{"ceremony_id": r.str(t, "ceremony_id"), "credential": json.RawMessage(cred)})
}

// expectSameRefusal checks that a refused passkey sign-in is the one identical answer.
func expectSameRefusal(t *testing.T, what string, r *response) {
	t.Helper()
	expectProblem(t, r, http.StatusUnauthorized, "invalid_passkey")
	if _, ok := r.json(t)["access_token"]; ok {
		t.Fatalf("%s: tokens in a refusal", what)
	}
}

func auditTypes(t *testing.T, s *testServer, access string) string {
	t.Helper()
	r := s.do(t, "GET", "/api/v1/users/me/audit?limit=100", nil, bearer(access))
	expectStatus(t, r, http.StatusOK)
	return string(r.Body)
}

// TestPasskeyRegistration: the options ask for a discoverable credential with user
// verification and exclude the user's passkeys; several passkeys per account, listed, renamed;
// a ceremony is single use and bound to its user; a credential without user verification, from
// another origin or for another RP ID is refused.
func TestPasskeyRegistration(t *testing.T) {
	s := startPasskeyServer(t)
	a := s.register(t)
	laptop := webauthntest.New(passkeyOrigin)

	r := s.do(t, "POST", "/api/v1/users/me/passkeys/register/options", nil, bearer(a.Access))
	expectStatus(t, r, http.StatusOK)
	var opts struct {
		RP                     struct{ ID string }
		User                   struct{ ID string }
		Challenge              string
		AuthenticatorSelection struct {
			ResidentKey      string `json:"residentKey"`
			UserVerification string `json:"userVerification"`
		} `json:"authenticatorSelection"`
		ExcludeCredentials []struct{ ID string } `json:"excludeCredentials"`
	}
	if err := json.Unmarshal(publicKeyOf(t, r), &opts); err != nil {
		t.Fatal(err)
	}
	if opts.RP.ID != passkeyRPID || opts.AuthenticatorSelection.ResidentKey != "required" ||
		opts.AuthenticatorSelection.UserVerification != "required" || len(opts.Challenge) < 22 || opts.User.ID == "" {
		t.Fatalf("creation options: %s", r.Body)
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Fatal("options may be cached")
	}
	ceremony := r.str(t, "ceremony_id")
	cred, _, err := laptop.Create(publicKeyOf(t, r), webauthntest.Tamper{})
	if err != nil {
		t.Fatal(err)
	}
	body := map[string]any{"ceremony_id": ceremony, "name": "Laptop", "credential": json.RawMessage(cred)}
	// Another user cannot finish this user's ceremony.
	b := s.register(t)
	expectProblem(t, s.do(t, "POST", "/api/v1/users/me/passkeys/register", body, bearer(b.Access)), http.StatusBadRequest, "invalid_ceremony")
	// That attempt spent the ceremony: it is single use whoever tries.
	expectProblem(t, s.do(t, "POST", "/api/v1/users/me/passkeys/register", body, bearer(a.Access)), http.StatusBadRequest, "invalid_ceremony")
	laptop.Credentials = nil

	s.addPasskey(t, a, laptop, "Laptop")
	// The next options exclude it, and the authenticator refuses to register twice.
	r = s.do(t, "POST", "/api/v1/users/me/passkeys/register/options", nil, bearer(a.Access))
	if err := json.Unmarshal(publicKeyOf(t, r), &opts); err != nil || len(opts.ExcludeCredentials) != 1 ||
		opts.ExcludeCredentials[0].ID != base64.RawURLEncoding.EncodeToString(laptop.Credentials[0].ID) {
		t.Fatalf("excludeCredentials: %s", r.Body)
	}
	if _, _, err := laptop.Create(publicKeyOf(t, r), webauthntest.Tamper{}); err == nil {
		t.Fatal("an excluded credential was created again")
	}
	phone := webauthntest.New(passkeyOrigin)
	phone.BackupEligible = true
	phoneID := s.addPasskey(t, a, phone, "Phone")

	// Hostile registrations: refused, nothing stored.
	for name, tamper := range map[string]webauthntest.Tamper{
		"no user verification": {NoUV: true},
		"wrong origin":         {Origin: "https://evil.example"},
		"wrong RP ID":          {RPID: "evil.example"},
	} {
		r := s.do(t, "POST", "/api/v1/users/me/passkeys/register/options", nil, bearer(a.Access))
		cred, _, err := webauthntest.New(passkeyOrigin).Create(publicKeyOf(t, r), tamper)
		if err != nil {
			t.Fatal(err)
		}
		reg := s.do(t, "POST", "/api/v1/users/me/passkeys/register", map[string]any{
			"ceremony_id": r.str(t, "ceremony_id"), "name": name, "credential": json.RawMessage(cred)}, bearer(a.Access))
		expectProblem(t, reg, http.StatusUnprocessableEntity, "passkey_rejected")
	}
	// Garbage is a clear 4xx.
	r = s.do(t, "POST", "/api/v1/users/me/passkeys/register/options", nil, bearer(a.Access))
	expectProblem(t, s.do(t, "POST", "/api/v1/users/me/passkeys/register", map[string]any{
		"ceremony_id": r.str(t, "ceremony_id"), "name": "x", "credential": map[string]any{"id": 5}}, bearer(a.Access)), http.StatusUnprocessableEntity, "passkey_rejected")
	expectProblem(t, s.do(t, "POST", "/api/v1/users/me/passkeys/register", map[string]any{
		"ceremony_id": "nope", "name": strings.Repeat("n", 65), "credential": map[string]any{}}, bearer(a.Access)), http.StatusUnprocessableEntity, "validation_failed")

	list := s.do(t, "GET", "/api/v1/users/me/passkeys", nil, bearer(a.Access))
	expectStatus(t, list, http.StatusOK)
	var passkeys []map[string]any
	if err := json.Unmarshal(list.Body, &passkeys); err != nil || len(passkeys) != 2 ||
		passkeys[0]["name"] != "Laptop" || passkeys[1]["name"] != "Phone" || passkeys[0]["synced"] != false || passkeys[1]["synced"] != true {
		t.Fatalf("list: %s", list.Body)
	}
	if st := s.do(t, "GET", "/api/v1/users/me/mfa", nil, bearer(a.Access)).json(t); st["passkeys"] != float64(2) {
		t.Fatalf("mfa status: %v", st)
	}

	// Rename: the owner only.
	expectProblem(t, s.do(t, "PATCH", "/api/v1/users/me/passkeys/"+phoneID, map[string]string{"name": "Mine now"}, bearer(b.Access)), http.StatusNotFound, "passkey_not_found")
	rn := s.do(t, "PATCH", "/api/v1/users/me/passkeys/"+phoneID, map[string]string{"name": "Pixel"}, bearer(a.Access))
	expectStatus(t, rn, http.StatusOK)
	if rn.str(t, "name") != "Pixel" {
		t.Fatalf("rename: %s", rn.Body)
	}
	expectProblem(t, s.do(t, "PATCH", "/api/v1/users/me/passkeys/"+phoneID, map[string]string{"name": "bad\u0007name"}, bearer(a.Access)), http.StatusUnprocessableEntity, "validation_failed")
	if got := s.do(t, "GET", "/api/v1/users/me/passkeys", nil, bearer(b.Access)); strings.TrimSpace(string(got.Body)) != "[]" {
		t.Fatalf("another user's list: %s", got.Body)
	}
	events := auditTypes(t, s, a.Access)
	for _, e := range []string{"passkey.added", "passkey.renamed", "passkey.failed"} {
		if !strings.Contains(events, e) {
			t.Fatalf("audit lacks %s: %s", e, events)
		}
	}
}

// TestPasskeySignIn: a passkey alone signs in (aal2; amr hwk or swk, user, mfa); an unknown
// credential, a replayed ceremony, another origin, another RP ID hash, no user verification and
// a bad signature all get one identical 401; a counter that goes back is refused and audited;
// of concurrent uses of one ceremony exactly one succeeds.
func TestPasskeySignIn(t *testing.T) {
	s := startPasskeyServer(t)
	a := s.register(t)
	laptop := webauthntest.New(passkeyOrigin)
	s.addPasskey(t, a, laptop, "Laptop")
	phone := webauthntest.New(passkeyOrigin)
	phone.BackupEligible = true
	s.addPasskey(t, a, phone, "Phone")

	r := s.passkeyLogin(t, laptop, webauthntest.Tamper{})
	expectStatus(t, r, http.StatusOK)
	if r.json(t)["user"].(map[string]any)["id"] != a.ID {
		t.Fatalf("signed in as someone else: %s", r.Body)
	}
	access := r.str(t, "access_token")
	if amr := amrOf(t, access); !slices.Equal(amr, []string{"hwk", "user", "mfa"}) || claimsOf(t, access)["aal"] != "aal2" {
		t.Fatalf("claims: %v", claimsOf(t, access))
	}
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(access)), http.StatusOK)
	r = s.passkeyLogin(t, phone, webauthntest.Tamper{})
	expectStatus(t, r, http.StatusOK)
	if amr := amrOf(t, r.str(t, "access_token")); !slices.Equal(amr, []string{"swk", "user", "mfa"}) {
		t.Fatalf("synced passkey amr: %v", amr)
	}

	// A replayed ceremony.
	o := s.do(t, "POST", "/api/v1/auth/passkey/options", nil)
	cred, err := laptop.Get(publicKeyOf(t, o), webauthntest.Tamper{})
	if err != nil {
		t.Fatal(err)
	}
	body := map[string]any{"ceremony_id": o.str(t, "ceremony_id"), "credential": json.RawMessage(cred)}
	expectStatus(t, s.do(t, "POST", "/api/v1/auth/passkey/login", body), http.StatusOK)
	replay := s.do(t, "POST", "/api/v1/auth/passkey/login", body)
	expectSameRefusal(t, "replay", replay)
	detail := replay.json(t)["detail"]

	// A key the server never registered (same RP ID, same user handle).
	// The laptop's credential id and user handle with another key: a forged signature.
	stranger := webauthntest.New(passkeyOrigin)
	stray := *laptop.Credentials[0]
	if stray.Key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	stranger.Credentials = []*webauthntest.Credential{&stray}
	unknown := webauthntest.New(passkeyOrigin)
	if _, _, err := unknown.Create(publicKeyOf(t, s.do(t, "POST", "/api/v1/users/me/passkeys/register/options", nil, bearer(a.Access))), webauthntest.Tamper{}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		auth   *webauthntest.Authenticator
		tamper webauthntest.Tamper
	}{
		{"unknown credential", unknown, webauthntest.Tamper{}},
		{"forged key", stranger, webauthntest.Tamper{}},
		{"wrong origin", laptop, webauthntest.Tamper{Origin: "https://evil.example"}},
		{"wrong RP ID hash", laptop, webauthntest.Tamper{RPID: "evil.example"}},
		{"no user verification", laptop, webauthntest.Tamper{NoUV: true}},
		{"bad signature", laptop, webauthntest.Tamper{WrongSig: true}},
	}
	for _, c := range cases {
		r := s.passkeyLogin(t, c.auth, c.tamper)
		expectSameRefusal(t, c.name, r)
		if r.json(t)["detail"] != detail {
			t.Fatalf("%s: detail %v differs from %v", c.name, r.json(t)["detail"], detail)
		}
	}
	// An answer to another ceremony's challenge.
	first := s.do(t, "POST", "/api/v1/auth/passkey/options", nil)
	second := s.do(t, "POST", "/api/v1/auth/passkey/options", nil)
	cred, err = laptop.Get(publicKeyOf(t, first), webauthntest.Tamper{})
	if err != nil {
		t.Fatal(err)
	}
	wrong := s.do(t, "POST", "/api/v1/auth/passkey/login", map[string]any{"ceremony_id": second.str(t, "ceremony_id"), "credential": json.RawMessage(cred)})
	expectSameRefusal(t, "wrong challenge", wrong)
	if wrong.json(t)["detail"] != detail {
		t.Fatalf("wrong challenge: detail %v", wrong.json(t)["detail"])
	}
	expectSameRefusal(t, "no ceremony", s.do(t, "POST", "/api/v1/auth/passkey/login", map[string]any{"ceremony_id": "x", "credential": json.RawMessage(cred)}))
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/passkey/login", `{"ceremony_id":`, "Content-Type: application/json"), http.StatusBadRequest, "")

	// The counter went back: a clone. Refused, and on the user's record.
	back := uint32(1)
	expectSameRefusal(t, "counter regression", s.passkeyLogin(t, laptop, webauthntest.Tamper{Counter: &back}))
	if events := auditTypes(t, s, a.Access); !strings.Contains(events, "passkey.sign_count_regressed") || !strings.Contains(events, "signature counter did not increase") {
		t.Fatalf("no audit of the regression: %s", events)
	}
	// The real key, whose counter moves on, still works.
	laptop.Credentials[0].Counter = 100
	expectStatus(t, s.passkeyLogin(t, laptop, webauthntest.Tamper{}), http.StatusOK)

	// One ceremony, one answer sent eight times at once: one session.
	o = s.do(t, "POST", "/api/v1/auth/passkey/options", nil)
	cred, err = laptop.Get(publicKeyOf(t, o), webauthntest.Tamper{})
	if err != nil {
		t.Fatal(err)
	}
	body = map[string]any{"ceremony_id": o.str(t, "ceremony_id"), "credential": json.RawMessage(cred)}
	counts := statusCounts(concurrently(8, func(int) *response { return s.do(t, "POST", "/api/v1/auth/passkey/login", body) }))
	if counts[http.StatusOK] != 1 || counts[http.StatusUnauthorized] != 7 {
		t.Fatalf("concurrent uses of one ceremony: %v", counts)
	}
	// Eight assertions with one counter value on eight ceremonies: one session.
	n := laptop.Credentials[0].Counter + 1
	bodies := make([]map[string]any, 8)
	for i := range bodies {
		o := s.do(t, "POST", "/api/v1/auth/passkey/options", nil)
		cred, err := laptop.Get(publicKeyOf(t, o), webauthntest.Tamper{Counter: &n})
		if err != nil {
			t.Fatal(err)
		}
		bodies[i] = map[string]any{"ceremony_id": o.str(t, "ceremony_id"), "credential": json.RawMessage(cred)}
	}
	counts = statusCounts(concurrently(8, func(i int) *response { return s.do(t, "POST", "/api/v1/auth/passkey/login", bodies[i]) }))
	if counts[http.StatusOK] != 1 || counts[http.StatusUnauthorized] != 7 {
		t.Fatalf("concurrent assertions with one counter: %v", counts)
	}

	// A disabled account is told so once the passkey proved it.
	admin := s.admin(t)
	expectStatus(t, s.do(t, "PATCH", "/api/v1/admin/users/"+a.ID, map[string]any{"is_active": false}, bearer(admin.Access)), http.StatusOK)
	laptop.Credentials[0].Counter += 10
	expectProblem(t, s.passkeyLogin(t, laptop, webauthntest.Tamper{}), http.StatusForbidden, "account_disabled")
}

// TestPasskeySecondFactor: a password sign-in of a user with a passkey answers mfa_required
// with "webauthn"; the options list the user's passkeys; an assertion finishes the sign-in once
// (amr pwd hwk user mfa); another user's passkey, a spent mfa_token or options of another
// mfa_token are refused; the passkey counts for GATEHOUSE_ADMIN_REQUIRE_MFA.
func TestPasskeySecondFactor(t *testing.T) {
	s := startPasskeyServer(t, "GATEHOUSE_ADMIN_REQUIRE_MFA=true")
	a := s.register(t)
	key := webauthntest.New(passkeyOrigin)
	s.addPasskey(t, a, key, "Key")
	b := s.register(t)
	other := webauthntest.New(passkeyOrigin)
	s.addPasskey(t, b, other, "B's key")

	login := func(who *account) string {
		r := s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": who.Email, "password": who.Password})
		expectProblem(t, r, http.StatusUnauthorized, "mfa_required")
		if f, _ := r.json(t)["factors"].([]any); len(f) != 1 || f[0] != "webauthn" {
			t.Fatalf("factors: %s", r.Body)
		}
		return r.str(t, "mfa_token")
	}
	options := func(token string) []byte {
		r := s.do(t, "POST", "/api/v1/auth/mfa/webauthn/options", map[string]string{"mfa_token": token})
		expectStatus(t, r, http.StatusOK)
		return publicKeyOf(t, r)
	}
	verify := func(token string, cred []byte) *response {
		return s.do(t, "POST", "/api/v1/auth/mfa/verify", map[string]any{"mfa_token": token, "credential": json.RawMessage(cred)})
	}

	token := login(a)
	pk := options(token)
	var opts struct {
		AllowCredentials []struct{ ID string } `json:"allowCredentials"`
		UserVerification string                `json:"userVerification"`
	}
	if err := json.Unmarshal(pk, &opts); err != nil || len(opts.AllowCredentials) != 1 || opts.UserVerification != "required" ||
		opts.AllowCredentials[0].ID != base64.RawURLEncoding.EncodeToString(key.Credentials[0].ID) {
		t.Fatalf("request options: %s", pk)
	}
	// Another user's passkey, on this user's options: refused (and it spent the options).
	cred, err := other.Get(pk, webauthntest.Tamper{Use: other.Credentials[0]})
	if err != nil {
		t.Fatal(err)
	}
	expectProblem(t, verify(token, cred), http.StatusUnauthorized, "invalid_passkey")
	cred, _ = key.Get(pk, webauthntest.Tamper{})
	expectProblem(t, verify(token, cred), http.StatusUnauthorized, "invalid_passkey")
	// Options of another sign-in do not serve this one.
	tokenB := login(b)
	credB, _ := other.Get(options(tokenB), webauthntest.Tamper{})
	expectProblem(t, verify(token, credB), http.StatusUnauthorized, "invalid_passkey")
	// No user verification: refused.
	cred, _ = key.Get(options(token), webauthntest.Tamper{NoUV: true})
	expectProblem(t, verify(token, cred), http.StatusUnauthorized, "invalid_passkey")
	// A code and a credential at once: a clear 422.
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/mfa/verify", map[string]any{"mfa_token": token, "code": "123456", "credential": map[string]any{}}), http.StatusUnprocessableEntity, "validation_failed")

	cred, _ = key.Get(options(token), webauthntest.Tamper{})
	r := verify(token, cred)
	expectStatus(t, r, http.StatusOK)
	access := r.str(t, "access_token")
	if amr := amrOf(t, access); !slices.Equal(amr, []string{"pwd", "hwk", "user", "mfa"}) || claimsOf(t, access)["aal"] != "aal2" {
		t.Fatalf("claims: %v", claimsOf(t, access))
	}
	// The mfa_token is spent.
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/mfa/webauthn/options", map[string]string{"mfa_token": token}), http.StatusUnauthorized, "invalid_mfa_token")
	expectProblem(t, verify(token, cred), http.StatusUnauthorized, "invalid_mfa_token")
	if events := auditTypes(t, s, a.Access); !strings.Contains(events, "mfa.failed") {
		t.Fatalf("failed assertions not audited: %s", events)
	}

	// An admin whose second factor is a passkey acts as an admin; a password session alone would not.
	admin := s.admin(t)
	expectProblem(t, s.do(t, "GET", "/api/v1/admin/users", nil, bearer(admin.Access)), http.StatusForbidden, "mfa_required_for_admin")
	adminKey := webauthntest.New(passkeyOrigin)
	s.addPasskey(t, admin, adminKey, "Admin key")
	r = s.passkeyLogin(t, adminKey, webauthntest.Tamper{})
	expectStatus(t, r, http.StatusOK)
	expectStatus(t, s.do(t, "GET", "/api/v1/admin/users", nil, bearer(r.str(t, "access_token"))), http.StatusOK)
}

// TestPasskeyRemoval: removing a passkey needs a recent sign-in and signs out the user's other
// sessions; an admin's MFA reset removes passkeys.
func TestPasskeyRemoval(t *testing.T) {
	s := startPasskeyServer(t)
	a := s.register(t)
	key := webauthntest.New(passkeyOrigin)
	first := s.addPasskey(t, a, key, "First")
	s.addPasskey(t, a, webauthntest.New(passkeyOrigin), "Second")
	s.ageSessions(t, a.ID)
	expectProblem(t, s.do(t, "DELETE", "/api/v1/users/me/passkeys/"+first, nil, bearer(a.Access)), http.StatusForbidden, "reauthentication_required")
	expectProblem(t, s.do(t, "POST", "/api/v1/users/me/passkeys/register/options", nil, bearer(a.Access)), http.StatusForbidden, "reauthentication_required")

	r := s.passkeyLogin(t, key, webauthntest.Tamper{})
	expectStatus(t, r, http.StatusOK)
	fresh := r.str(t, "access_token")
	b := s.register(t)
	expectProblem(t, s.do(t, "DELETE", "/api/v1/users/me/passkeys/"+first, nil, bearer(b.Access)), http.StatusNotFound, "passkey_not_found")
	expectStatus(t, s.do(t, "DELETE", "/api/v1/users/me/passkeys/"+first, nil, bearer(fresh)), http.StatusOK)
	expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(a.Access)), http.StatusUnauthorized, "")
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(fresh)), http.StatusOK)
	expectProblem(t, s.do(t, "DELETE", "/api/v1/users/me/passkeys/"+first, nil, bearer(fresh)), http.StatusNotFound, "passkey_not_found")
	if events := auditTypes(t, s, fresh); !strings.Contains(events, "passkey.removed") {
		t.Fatalf("removal not audited: %s", events)
	}

	admin := s.admin(t)
	expectStatus(t, s.do(t, "DELETE", "/api/v1/admin/users/"+a.ID+"/mfa", nil, bearer(admin.Access)), http.StatusOK)
	expectSameRefusal(t, "after the reset", s.passkeyLogin(t, key, webauthntest.Tamper{}))
	access, _ := s.login(t, a.Email, a.Password)
	if got := s.do(t, "GET", "/api/v1/users/me/passkeys", nil, bearer(access)); strings.TrimSpace(string(got.Body)) != "[]" {
		t.Fatalf("passkeys after the reset: %s", got.Body)
	}
	expectProblem(t, s.do(t, "DELETE", "/api/v1/admin/users/"+a.ID+"/mfa", nil, bearer(admin.Access)), http.StatusNotFound, "mfa_not_enrolled")
}

// TestPasskeyImpersonationRefused: an admin impersonating a user can neither add, rename nor
// remove the user's passkeys (a passkey is a lasting way in).
func TestPasskeyImpersonationRefused(t *testing.T) {
	s := startPasskeyServer(t)
	a := s.register(t)
	id := s.addPasskey(t, a, webauthntest.New(passkeyOrigin), "Laptop")
	admin := s.admin(t)
	tok := s.impersonate(t, admin, a.ID)
	for _, f := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/api/v1/users/me/passkeys/register/options", nil},
		{"POST", "/api/v1/users/me/passkeys/register", map[string]any{"ceremony_id": "x", "name": "Backdoor", "credential": map[string]any{"id": "x"}}},
		{"PATCH", "/api/v1/users/me/passkeys/" + id, map[string]string{"name": "Mine now"}},
		{"DELETE", "/api/v1/users/me/passkeys/" + id, nil},
	} {
		expectProblem(t, s.do(t, f.method, f.path, f.body, bearer(tok)), http.StatusForbidden, "impersonation_forbidden")
	}
	r := s.do(t, "GET", "/api/v1/users/me/passkeys", nil, bearer(a.Access))
	expectStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.Body), `"Laptop"`) {
		t.Fatalf("the passkey changed under impersonation: %s", r.Body)
	}
}

// TestPasskeySignInRateLimited: passkey options and sign-ins count against the login limit per
// address, as password logins do.
func TestPasskeySignInRateLimited(t *testing.T) {
	s := startPasskeyServer(t, "GATEHOUSE_RATE_LIMITS=login_ip=3/15m")
	for range 3 {
		expectStatus(t, s.do(t, "POST", "/api/v1/auth/passkey/options", nil), http.StatusOK)
	}
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/passkey/options", nil), http.StatusTooManyRequests, "")
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/passkey/login", map[string]any{"ceremony_id": "x", "credential": map[string]any{}}), http.StatusTooManyRequests, "")
}

// TestPasskeyConfiguration: an explicit RP ID that no origin is under stops the start with the
// variable named; a public URL on an IP address leaves passkeys off (503 passkeys_unavailable)
// and everything else on.
func TestPasskeyConfiguration(t *testing.T) {
	env := testEnv(t)
	env["GATEHOUSE_WEBAUTHN_RP_ID"] = "example.com"
	env["GATEHOUSE_WEBAUTHN_ORIGINS"] = "https://evil.example"
	err := run(t.Context(), []string{"serve"}, func(k string) string { return env[k] }, &strings.Builder{}, &strings.Builder{})
	if err == nil || !strings.Contains(err.Error(), "GATEHOUSE_WEBAUTHN_RP_ID") {
		t.Fatalf("bad RP ID accepted: %v", err)
	}
	s := startServer(t)
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/passkey/options", nil), http.StatusServiceUnavailable, "passkeys_unavailable")
	a := s.register(t)
	expectProblem(t, s.do(t, "GET", "/api/v1/users/me/passkeys", nil, bearer(a.Access)), http.StatusServiceUnavailable, "passkeys_unavailable")
	if !strings.Contains(s.logs.String(), "passkeys are off") {
		t.Fatalf("no log line says why passkeys are off")
	}
}

// TestPasskeySecondFactorAfterEmailCode: an email code as the first factor and a passkey as the
// second sign in at aal2 with each amr value once: otp, then the key, user verification, mfa.
func TestPasskeySecondFactorAfterEmailCode(t *testing.T) {
	s, mail := startMailServer(t, "GATEHOUSE_WEBAUTHN_RP_ID="+passkeyRPID, "GATEHOUSE_WEBAUTHN_ORIGINS="+passkeyOrigin)
	a := s.register(t)
	key := webauthntest.New(passkeyOrigin)
	s.addPasskey(t, a, key, "Key")
	expectStatus(t, s.do(t, "POST", "/api/v1/auth/email/start", map[string]string{"email": a.Email}), http.StatusAccepted)
	code, _, _ := signInMail(t, mail, a.Email)
	r := s.do(t, "POST", "/api/v1/auth/email/verify", map[string]string{"email": a.Email, "code": code})
	expectProblem(t, r, http.StatusUnauthorized, "mfa_required")
	token := r.str(t, "mfa_token")
	r = s.do(t, "POST", "/api/v1/auth/mfa/webauthn/options", map[string]string{"mfa_token": token})
	expectStatus(t, r, http.StatusOK)
	cred, err := key.Get(publicKeyOf(t, r), webauthntest.Tamper{})
	if err != nil {
		t.Fatal(err)
	}
	r = s.do(t, "POST", "/api/v1/auth/mfa/verify", map[string]any{"mfa_token": token, "credential": json.RawMessage(cred)})
	expectStatus(t, r, http.StatusOK)
	access := r.str(t, "access_token")
	if amr := amrOf(t, access); !slices.Equal(amr, []string{"otp", "hwk", "user", "mfa"}) || claimsOf(t, access)["aal"] != "aal2" {
		t.Fatalf("claims: %v", claimsOf(t, access))
	}
}
