package web

import (
	"strings"
	"testing"
)

func TestSafeNextKeepsOnlyPathsOnThisSite(t *testing.T) {
	good := []string{"/account", "/account/keys", "/admin/users?q=bob&cursor=x", "/account#top",
		// An OAuth authorization request comes back through the sign-in page whole.
		"/oauth2/authorize?client_id=https%3A%2F%2Fapp.example%2Fclient.json&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" +
			"&code_challenge_method=S256&redirect_uri=http%3A%2F%2F127.0.0.1%3A33418%2Fcallback&resource=https%3A%2F%2Fmcp.example%2Fmcp" +
			"&response_type=code&scope=openid+mcp%3Atools&state=" + strings.Repeat("s", 1200)}
	for _, n := range good {
		if got := safeNext(n); got != n {
			t.Errorf("safeNext(%q) = %q, want it kept", n, got)
		}
	}
	bad := []string{"", "account", "//evil.example", "//evil.example/account", "/\\evil.example", "\\\\evil.example",
		"https://evil.example/", "javascript:alert(1)", "/account\r\nSet-Cookie: x=y", "/account\x00", "http:/evil",
		" /account", "/%2F%2Fevil.example", "/%5Cevil.example", "/" + strings.Repeat("a", 2048)}
	for _, n := range bad {
		if got := safeNext(n); got != "" {
			t.Errorf("safeNext(%q) = %q, want it refused", n, got)
		}
	}
	if got := afterSignIn("//evil.example"); got != "/account" {
		t.Errorf("afterSignIn of a foreign URL = %q, want /account", got)
	}
}
