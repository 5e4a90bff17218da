package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestOAuthProviderFailures: a provider that is down, answers garbage or hangs gives 502
// problem+json, creates nothing, and never a 500.
func TestOAuthProviderFailures(t *testing.T) {
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Only once the body is read does the server notice the client hanging up.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	t.Cleanup(hang.Close)
	// LinkedIn is pointed at a server that never answers; the timeout is short for the test.
	r := startOAuthServer(t, "GATEHOUSE_OAUTH_TIMEOUT=300ms", "GATEHOUSE_LINKEDIN_URL="+hang.URL)
	p := persona{subject: "unlucky", email: "unlucky@example.com", verified: true}

	t.Run("garbage", func(t *testing.T) {
		r.gh.Garbage.Store(true)
		defer r.gh.Garbage.Store(false)
		res := r.signIn(t, "github", p)
		expectProblem(t, res, http.StatusBadGateway, "oauth_provider_error")
		if strings.Contains(string(res.Body), "Unicorn") {
			t.Fatal("the provider's answer leaked into the problem")
		}
	})
	t.Run("hangs", func(t *testing.T) {
		_, state := r.authorize(t, "linkedin", appCallback)
		start := time.Now()
		expectProblem(t, r.callback(t, "linkedin", "some-code", appCallback, state), http.StatusBadGateway, "oauth_provider_error")
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("the callback waited %v for a hanging provider", d)
		}
	})
	t.Run("down", func(t *testing.T) {
		authURL, state := r.authorize(t, "github", appCallback)
		code, _ := r.gh.Approve(t, authURL, r.githubUser(p))
		r.gh.Close()
		expectProblem(t, r.callback(t, "github", code, appCallback, state), http.StatusBadGateway, "oauth_provider_error")
	})
	t.Run("oidc discovery down", func(t *testing.T) {
		r.corp.Close()
		expectProblem(t, r.do(t, "GET", "/api/v1/auth/corp/authorize?redirect_uri="+appCallback, nil), http.StatusBadGateway, "oauth_provider_error")
	})
	if !r.emailIsFree(t, p.email) {
		t.Fatal("a failed sign-in created an account")
	}
	if !strings.Contains(r.logs.String(), "oauth provider failed") {
		t.Fatal("provider failures are not logged")
	}
	if strings.Contains(r.logs.String(), r.gh.ClientSecret) || strings.Contains(r.logs.String(), r.li.ClientSecret) {
		t.Fatal("a client secret reached the log")
	}
}

// TestOAuthNotConfigured: without providers, every provider is unknown and identities are empty.
func TestOAuthNotConfigured(t *testing.T) {
	s := startServer(t)
	expectProblem(t, s.do(t, "GET", "/api/v1/auth/github/authorize?redirect_uri=https://app.example.com/cb", nil), http.StatusNotFound, "unknown_provider")
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/github/callback", map[string]string{"code": "c", "redirect_uri": "https://app.example.com/cb"}),
		http.StatusNotFound, "unknown_provider")
	a := s.register(t)
	res := s.do(t, "GET", "/api/v1/users/me/identities", nil, bearer(a.Access))
	expectStatus(t, res, http.StatusOK)
	if strings.TrimSpace(string(res.Body)) != "[]" {
		t.Fatalf("identities: %s", res.Body)
	}
}
