package web

import "testing"

func TestSafeNextKeepsOnlyPathsOnThisSite(t *testing.T) {
	good := []string{"/account", "/account/keys", "/admin/users?q=bob&cursor=x", "/account#top"}
	for _, n := range good {
		if got := safeNext(n); got != n {
			t.Errorf("safeNext(%q) = %q, want it kept", n, got)
		}
	}
	bad := []string{"", "account", "//evil.example", "//evil.example/account", "/\\evil.example", "\\\\evil.example",
		"https://evil.example/", "javascript:alert(1)", "/account\r\nSet-Cookie: x=y", "/account\x00", "http:/evil",
		" /account", "/%2F%2Fevil.example", "/%5Cevil.example", string(make([]byte, 2000))}
	for _, n := range bad {
		if got := safeNext(n); got != "" {
			t.Errorf("safeNext(%q) = %q, want it refused", n, got)
		}
	}
	if got := afterSignIn("//evil.example"); got != "/account" {
		t.Errorf("afterSignIn of a foreign URL = %q, want /account", got)
	}
}
