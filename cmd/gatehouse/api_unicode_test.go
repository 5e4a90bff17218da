package main

import (
	"net/http"
	"strings"
	"testing"
)

// expectFieldError expects a 422 whose errors name field.
func expectFieldError(t *testing.T, r *response, field string) {
	t.Helper()
	expectProblem(t, r, http.StatusUnprocessableEntity, "validation_failed")
	if !strings.Contains(string(r.Body), `"field":"`+field+`"`) {
		t.Fatalf("422 without an error on %s: %s", field, r.Body)
	}
}

// TestInvisibleAndLookalikeCharactersRefused: format and control characters (zero-width, bidi
// overrides, BOM, soft hyphen) and compatibility look-alikes (KELVIN SIGN, full-width letters)
// would let one identity pose as another in the admin list and the audit log.
func TestInvisibleAndLookalikeCharactersRefused(t *testing.T) {
	s := startServer(t)
	for _, email := range []string{
		"ad\u200bmin@example.com",    // ZERO WIDTH SPACE
		"admin\u202e@example.com",    // RIGHT-TO-LEFT OVERRIDE
		"\ufeffadmin@example.com",    // BYTE ORDER MARK
		"ad\u00admin@example.com",    // SOFT HYPHEN
		"admin@exa\u2066mple.com",    // LEFT-TO-RIGHT ISOLATE
		"\u212aay@example.com",       // KELVIN SIGN
		"\uff41dmin@example.com",     // FULLWIDTH LATIN SMALL LETTER A
		"ad\u0085min@example.com",    // NEXT LINE (C1 control)
		"admin@exam\u2028ple.com",    // LINE SEPARATOR
		"adm\U000E0069n@example.com", // TAG LATIN SMALL LETTER I
	} {
		t.Logf("email %+q", email)
		expectFieldError(t, s.do(t, "POST", "/api/v1/auth/register", map[string]string{"email": email, "password": "long enough pw", "name": "N"}), "email")
	}
	for _, name := range []string{"Ad\u202emin", "Ad\u200bmin", "\u2066Admin\u2069", "Admin\u00ad", "Ad\u0085min", "Ad\u2028min", "A\ufeff"} {
		expectFieldError(t, s.do(t, "POST", "/api/v1/auth/register", map[string]string{"email": "n@example.com", "password": "long enough pw", "name": name}), "name")
	}
	a := s.register(t)
	expectFieldError(t, s.do(t, "PATCH", "/api/v1/users/me", map[string]string{"name": "Support\u200b Team"}, bearer(a.Access)), "name")
	expectFieldError(t, s.do(t, "POST", "/api/v1/api-keys", map[string]any{"name": "ci\u202ekey"}, bearer(a.Access)), "name")

	// Ordinary international text stays welcome.
	r := s.do(t, "POST", "/api/v1/auth/register", map[string]string{"email": "josé@exämple.com", "password": "long enough pw", "name": "José Ñúñez 山田"})
	expectStatus(t, r, http.StatusCreated)
	expectStatus(t, s.do(t, "PATCH", "/api/v1/users/me", map[string]string{"name": "Zoë"}, bearer(a.Access)), http.StatusOK)
}

// TestEmailCaseFolding: addresses are compared case-insensitively, but no letter outside ASCII is
// ever folded into an ASCII one: such letters are refused instead.
func TestEmailCaseFolding(t *testing.T) {
	s := startServer(t)
	r := s.do(t, "POST", "/api/v1/auth/register", map[string]string{"email": "  Tim@Example.COM ", "password": "long enough pw"})
	expectStatus(t, r, http.StatusCreated)
	if tokenUser(t, r)["email"] != "tim@example.com" {
		t.Fatalf("stored as %v", tokenUser(t, r)["email"])
	}
	s.login(t, "TIM@example.com", "long enough pw")
	// LATIN CAPITAL LETTER I WITH DOT ABOVE lower-cases to "i" (and DOTLESS I upper-cases to "I"):
	// "tİm" would be "tim". Such letters are refused, never folded.
	for _, email := range []string{"t\u0130m@example.com", "t\u0131m@example.com", "\u017fam@example.com"} {
		expectFieldError(t, s.do(t, "POST", "/api/v1/auth/register", map[string]string{"email": email, "password": "long enough pw"}), "email")
		expectProblem(t, s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": email, "password": "long enough pw"}), http.StatusUnauthorized, "invalid_credentials")
	}
}

// TestOAuthUnicodeLookalikeNeverLinks: a provider account whose verified address differs from a
// local one beyond ASCII case never signs into it.
func TestOAuthUnicodeLookalikeNeverLinks(t *testing.T) {
	r := startOAuthServer(t)
	for _, local := range []string{"kay@example.com", "tim@example.com"} {
		r.cli(t, "users", "create", "--email", local, "--password", "local password 123")
	}
	kay, _ := r.login(t, "kay@example.com", "local password 123")
	tim, _ := r.login(t, "tim@example.com", "local password 123")
	kayID := r.do(t, "GET", "/api/v1/users/me", nil, bearer(kay)).str(t, "id")
	timID := r.do(t, "GET", "/api/v1/users/me", nil, bearer(tim)).str(t, "id")

	// KELVIN SIGN: not a usable address at all.
	expectProblem(t, r.signIn(t, "github", persona{subject: "kelvin", email: "\u212aAY@example.com", verified: true}), http.StatusForbidden, "provider_email_unverified")
	// Dotted capital I lower-cases to "i": not a usable address either.
	expectProblem(t, r.signIn(t, "corp", persona{subject: "dotted", email: "T\u0130M@example.com", verified: true}), http.StatusForbidden, "provider_email_unverified")
	// Capitals outside ASCII fold as they should: the provider's ZOË is the local zoë.
	r.cli(t, "users", "create", "--email", "zoë@example.com", "--password", "local password 123")
	res := r.signIn(t, "github", persona{subject: "zoe", email: "ZOË@EXAMPLE.COM", verified: true})
	expectStatus(t, res, http.StatusOK)
	if id := tokenUser(t, res)["id"]; id == timID || id == kayID || tokenUser(t, res)["email"] != "zoë@example.com" {
		t.Fatalf("ZOË signed into %v", tokenUser(t, res))
	}
	// Both local accounts are untouched: their passwords still work.
	r.login(t, "kay@example.com", "local password 123")
	r.login(t, "tim@example.com", "local password 123")
}
