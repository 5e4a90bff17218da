package web

import (
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestReadAuthorizeRequest(t *testing.T) {
	q, _ := url.ParseQuery("client_id=a&redirect_uri=x&state=1&state=2&resource=r1&resource=r2&prompt=login")
	req := readAuthorizeRequest(q)
	if !slices.Equal(req.Duplicated, []string{"state"}) || !slices.Equal(req.Resources, []string{"r1", "r2"}) || !req.ScopeOmitted || req.Prompt != "login" {
		t.Fatalf("%+v", req)
	}
	q, _ = url.ParseQuery("client_id=a&scope=")
	if req := readAuthorizeRequest(q); req.ScopeOmitted || len(req.Duplicated) != 0 {
		t.Fatalf("an empty scope is a scope: %+v", req)
	}
}

func TestConsentPolicyNamesOnlyTheRedirectOrigin(t *testing.T) {
	for uri, want := range map[string]string{
		"https://app.example/cb?x=1":      "form-action 'self' https://app.example;",
		"http://127.0.0.1:4000/cb":        "form-action 'self' http://127.0.0.1:4000;",
		"http://[::1]:4000/cb":            "form-action 'self' http://[::1]:4000;",
		"cursor://anysphere.cursor/cb":    "form-action 'self' cursor:;",
		"com.example.app:/oauth":          "form-action 'self' com.example.app:;",
		"https://a.example;script-src *":  "form-action 'self';",
		"https://a.example%20b/cb":        "form-action 'self';",
		"not a uri at all; default-src *": "form-action 'self';",
	} {
		got := consentPolicy(uri)
		if !strings.Contains(got, want) || strings.Count(got, ";") != strings.Count(contentSecurityPolicy, ";") {
			t.Errorf("consentPolicy(%q) = %q, want %q", uri, got, want)
		}
	}
}

func TestRedirectHost(t *testing.T) {
	for uri, want := range map[string]string{"https://app.example:8443/cb": "app.example:8443", "cursor://x/cb": "cursor://x", "com.example.app:/cb": "com.example.app:"} {
		if got := redirectHost(uri); got != want {
			t.Errorf("redirectHost(%q) = %q, want %q", uri, got, want)
		}
	}
}
