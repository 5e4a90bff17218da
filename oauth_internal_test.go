package gatehouse

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// RFC 7636 Appendix B.
func TestPKCEChallenge(t *testing.T) {
	if got := pkceChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"); got != "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" {
		t.Fatalf("challenge %q", got)
	}
}

func TestOAuthSecrets(t *testing.T) {
	verifierChars := regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`) // RFC 7636 §4.1
	salt := RandomBytes(32)
	v1, n1 := oauthSecrets("state-a", salt)
	v2, n2 := oauthSecrets("state-a", salt)
	if v1 != v2 || n1 != n2 {
		t.Fatal("the secrets are not reproducible from state and salt")
	}
	if !verifierChars.MatchString(v1) || v1 == n1 {
		t.Fatalf("verifier %q, nonce %q", v1, n1)
	}
	if v, _ := oauthSecrets("state-b", salt); v == v1 {
		t.Fatal("another state gives the same verifier")
	}
	if v, _ := oauthSecrets("state-a", RandomBytes(32)); v == v1 {
		t.Fatal("another salt gives the same verifier")
	}
}

func TestCleanName(t *testing.T) {
	long := strings.Repeat("é", MaxNameLength+10)
	for in, want := range map[string]string{
		"  Ada Lovelace ":   "Ada Lovelace",
		"Bad\x00\nName\x7f": "BadName",
		"bad \xff utf8":     "bad  utf8",
		long:                strings.Repeat("é", MaxNameLength),
	} {
		got := cleanName(in)
		if got != want || ValidateName(got) != nil || !utf8.ValidString(got) {
			t.Errorf("cleanName(%q) = %q, want %q", in, got, want)
		}
	}
}
