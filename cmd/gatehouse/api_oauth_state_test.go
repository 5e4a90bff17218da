package main

import (
	"net/http"
	"net/url"
	"sync"
	"testing"
)

// TestOAuthState covers every way a callback's state or redirect URI can be wrong. None of them
// reaches the provider's token endpoint, and none creates an account.
func TestOAuthState(t *testing.T) {
	r := startOAuthServer(t)
	ann := persona{subject: "ann", email: "ann@example.com", verified: true, name: "Ann"}
	exchanges := 0
	checkExchanges := func(what string) {
		t.Helper()
		if n := len(r.gh.TokenRequests()); n != exchanges {
			t.Fatalf("%s: %d code exchanges at GitHub, want %d", what, n, exchanges)
		}
	}

	// redirect_uri is checked before anything else: not allow-listed, missing, or a near miss.
	for _, bad := range []string{"https://evil.example/cb", "", appCallback + "/", "https://APP.example.com/auth/callback"} {
		res := r.do(t, "GET", "/api/v1/auth/github/authorize?redirect_uri="+url.QueryEscape(bad), nil)
		expectProblem(t, res, http.StatusBadRequest, "redirect_uri_not_allowed")
	}
	expectProblem(t, r.do(t, "GET", "/api/v1/auth/gitlab/authorize?redirect_uri="+url.QueryEscape(appCallback), nil),
		http.StatusNotFound, "unknown_provider")
	expectProblem(t, r.callback(t, "gitlab", "code", appCallback, "state"), http.StatusNotFound, "unknown_provider")

	authURL, state := r.authorize(t, "github", appCallback)
	code, _ := r.gh.Approve(t, authURL, r.githubUser(ann))
	expectProblem(t, r.callback(t, "github", code, "https://evil.example/cb", state), http.StatusBadRequest, "redirect_uri_not_allowed")
	expectProblem(t, r.callback(t, "github", code, appCallback, ""), http.StatusBadRequest, "oauth_state_required")
	expectProblem(t, r.callback(t, "github", code, appCallback, "made-up-state"), http.StatusBadRequest, "invalid_oauth_state")
	expectProblem(t, r.callback(t, "github", "", appCallback, state), http.StatusBadRequest, "invalid_oauth_code")
	expectProblem(t, r.do(t, "POST", "/api/v1/auth/github/callback", `{"code": `), http.StatusBadRequest, "malformed_json")
	checkExchanges("refused callbacks")

	// The state survived the refusals above; it works once, then never again.
	res := r.callback(t, "github", code, appCallback, state)
	expectStatus(t, res, http.StatusOK)
	exchanges++
	authURL2, _ := r.authorize(t, "github", appCallback)
	code2, _ := r.gh.Approve(t, authURL2, r.githubUser(ann))
	expectProblem(t, r.callback(t, "github", code2, appCallback, state), http.StatusBadRequest, "oauth_state_used")
	checkExchanges("reused state")

	// A state is bound to its redirect URI and provider; presented with others, it is burned.
	authURL, state = r.authorize(t, "github", otherCallback)
	code, _ = r.gh.Approve(t, authURL, r.githubUser(ann))
	expectProblem(t, r.callback(t, "github", code, appCallback, state), http.StatusBadRequest, "invalid_oauth_state")
	expectProblem(t, r.callback(t, "github", code, otherCallback, state), http.StatusBadRequest, "oauth_state_used")
	_, state = r.authorize(t, "linkedin", appCallback)
	expectProblem(t, r.callback(t, "github", code, appCallback, state), http.StatusBadRequest, "invalid_oauth_state")
	checkExchanges("state of another redirect URI or provider")

	// A code the provider refuses: 400, and still nothing created.
	_, state = r.authorize(t, "github", appCallback)
	expectProblem(t, r.callback(t, "github", "not-a-github-code", appCallback, state), http.StatusBadRequest, "invalid_oauth_code")
	exchanges++
	checkExchanges("bad code")
	if !r.emailIsFree(t, "nobody@example.com") {
		t.Fatal("unexpected account")
	}
}

func TestOAuthStateExpires(t *testing.T) {
	r := startOAuthServer(t, "GATEHOUSE_OAUTH_STATE_TTL=1ns")
	authURL, state := r.authorize(t, "github", appCallback)
	code, _ := r.gh.Approve(t, authURL, r.githubUser(persona{subject: "late", email: "late@example.com", verified: true}))
	expectProblem(t, r.callback(t, "github", code, appCallback, state), http.StatusBadRequest, "oauth_state_expired")
	if n := len(r.gh.TokenRequests()); n != 0 {
		t.Fatalf("an expired state reached the token endpoint (%d requests)", n)
	}
	if !r.emailIsFree(t, "late@example.com") {
		t.Fatal("an expired state created an account")
	}
}

// TestOAuthStateConcurrentReuse: callbacks racing with one state spend it once; the code is
// exchanged once and one account exists.
func TestOAuthStateConcurrentReuse(t *testing.T) {
	r := startOAuthServer(t)
	authURL, state := r.authorize(t, "github", appCallback)
	code, _ := r.gh.Approve(t, authURL, r.githubUser(persona{subject: "racer", email: "racer@example.com", verified: true}))
	const n = 12
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = r.callback(t, "github", code, appCallback, state).Status
		}()
	}
	wg.Wait()
	ok := 0
	for _, s := range statuses {
		switch s {
		case http.StatusOK:
			ok++
		case http.StatusBadRequest:
		default:
			t.Fatalf("status %d among %v", s, statuses)
		}
	}
	if ok != 1 || len(r.gh.TokenRequests()) != 1 {
		t.Fatalf("%d successes and %d code exchanges, want 1 and 1 (statuses %v)", ok, len(r.gh.TokenRequests()), statuses)
	}
}

// TestOAuthWithoutState serves the guide's clients, which build their own authorization URL and
// post only {code, redirect_uri}: allowed only with GATEHOUSE_OAUTH_REQUIRE_STATE=false.
func TestOAuthWithoutState(t *testing.T) {
	r := startOAuthServer(t, "GATEHOUSE_OAUTH_REQUIRE_STATE=false")
	own := r.gh.URL + "/login/oauth/authorize?" + url.Values{
		"client_id": {r.gh.ClientID}, "redirect_uri": {appCallback}, "response_type": {"code"},
		"scope": {"read:user user:email"}, "state": {"the-client-keeps-its-own"},
	}.Encode()
	code, _ := r.gh.Approve(t, own, r.githubUser(persona{subject: "guide", email: "guide@example.com", verified: true, name: "Guide"}))
	res := r.callback(t, "github", code, appCallback, "")
	expectStatus(t, res, http.StatusOK)
	if tokenUser(t, res)["email"] != "guide@example.com" {
		t.Fatalf("user: %s", res.Body)
	}
	if v := r.gh.TokenRequests()[0].Get("code_verifier"); v != "" {
		t.Fatalf("a code_verifier %q was sent for a request without a challenge", v)
	}
	// A state that is sent is still checked, and the allow-list still applies.
	expectProblem(t, r.callback(t, "github", "code", appCallback, "forged"), http.StatusBadRequest, "invalid_oauth_state")
	expectProblem(t, r.callback(t, "github", "code", "https://evil.example/cb", ""), http.StatusBadRequest, "redirect_uri_not_allowed")
	// Server-issued states keep working alongside.
	expectStatus(t, r.signIn(t, "github", persona{subject: "guide", email: "guide@example.com", verified: true}), http.StatusOK)
}
