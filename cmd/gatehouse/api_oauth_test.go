package main

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/oauthtest"
)

// TestOAuthGitHub walks GitHub's flow: what Gatehouse puts in the authorization URL, what it sends
// to the token endpoint, the account it creates, and that later sign-ins find the same account.
func TestOAuthGitHub(t *testing.T) {
	r := startOAuthServer(t)
	octo := persona{subject: "octo", email: "Octo@Example.com", verified: true, name: "The Octocat"}

	authURL, state := r.authorize(t, "github", appCallback)
	u, _ := url.Parse(authURL)
	q := u.Query()
	if !strings.HasPrefix(authURL, r.gh.URL+"/login/oauth/authorize?") || q.Get("client_id") != r.gh.ClientID ||
		q.Get("redirect_uri") != appCallback || q.Get("state") != state || q.Get("code_challenge_method") != "S256" ||
		len(q.Get("code_challenge")) != 43 || q.Get("scope") != "read:user user:email" {
		t.Fatalf("authorization URL: %s", authURL)
	}
	if strings.Contains(authURL, "client_secret") || strings.Contains(authURL, r.gh.ClientSecret) {
		t.Fatal("the authorization URL carries the client secret")
	}
	code, _ := r.gh.Approve(t, authURL, r.githubUser(octo))
	res := r.callback(t, "github", code, appCallback, state)
	expectStatus(t, res, http.StatusOK)
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("token response Cache-Control %q", res.Header.Get("Cache-Control"))
	}

	// The code exchange: client credentials, the same redirect URI, and the verifier of the challenge.
	reqs := r.gh.TokenRequests()
	if len(reqs) != 1 {
		t.Fatalf("%d token requests, want 1", len(reqs))
	}
	tr := reqs[0]
	if tr.Get("client_id") != r.gh.ClientID || tr.Get("client_secret") != r.gh.ClientSecret || tr.Get("code") != code ||
		tr.Get("redirect_uri") != appCallback || tr.Get("grant_type") != "authorization_code" ||
		oauthtest.S256(tr.Get("code_verifier")) != q.Get("code_challenge") {
		t.Fatalf("token request: %v", tr)
	}

	m := res.json(t)
	if m["token_type"] != "bearer" || m["refresh_token"] == "" || m["access_token"] == "" {
		t.Fatalf("token response: %s", res.Body)
	}
	user := tokenUser(t, res)
	if user["email"] != "octo@example.com" || user["email_verified"] != true || user["name"] != "The Octocat" ||
		user["avatar_url"] != "https://avatars.example/octo" || user["role"] != "user" || user["is_active"] != true {
		t.Fatalf("user: %v", user)
	}
	access := m["access_token"].(string)
	me := r.do(t, "GET", "/api/v1/users/me", nil, bearer(access))
	expectStatus(t, me, http.StatusOK)
	if me.str(t, "id") != user["id"] {
		t.Fatalf("me: %s", me.Body)
	}
	expectStatus(t, r.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": m["refresh_token"].(string)}), http.StatusOK)

	// No password: password sign-in fails exactly as for an unknown account; the email is taken.
	login := r.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": "octo@example.com", "password": "anything at all"})
	expectProblem(t, login, http.StatusUnauthorized, "invalid_credentials")
	if r.emailIsFree(t, "octo@example.com") {
		t.Fatal("the OAuth account's email is free for registration")
	}

	ids := r.identities(t, access)
	if len(ids) != 1 || ids[0]["provider"] != "github" || ids[0]["email"] != "octo@example.com" ||
		ids[0]["provider_user_id"] != strconv.FormatInt(r.githubUser(octo).ID, 10) {
		t.Fatalf("identities: %v", ids)
	}

	// Signing in again finds the same account, under every auth prefix.
	again := r.signIn(t, "github", octo)
	expectStatus(t, again, http.StatusOK)
	if tokenUser(t, again)["id"] != user["id"] {
		t.Fatalf("second sign-in made another account: %s", again.Body)
	}
	for _, prefix := range []string{"/v1/auth", "/api/v1/public/auth", "/v1/public/auth"} {
		a := r.do(t, "GET", prefix+"/github/authorize?redirect_uri="+url.QueryEscape(appCallback), nil)
		expectStatus(t, a, http.StatusOK)
		code, _ := r.gh.Approve(t, a.str(t, "authorization_url"), r.githubUser(octo))
		c := r.do(t, "POST", prefix+"/github/callback", map[string]string{"code": code, "redirect_uri": appCallback, "state": a.str(t, "state")})
		expectStatus(t, c, http.StatusOK)
		if tokenUser(t, c)["id"] != user["id"] {
			t.Fatalf("%s: another account", prefix)
		}
	}
}

// TestOAuthProviderEmailChange: identities are keyed by the provider's user id, so a new address at
// the provider signs in the same account (no fork), and another provider account that now shows
// an address of a linked account does not take it over by id.
func TestOAuthProviderEmailChange(t *testing.T) {
	r := startOAuthServer(t)
	p := persona{subject: "mover", email: "mover@example.com", verified: true, name: "Mover"}
	first := r.signIn(t, "github", p)
	expectStatus(t, first, http.StatusOK)
	id := tokenUser(t, first)["id"]

	p.email = "moved@example.net"
	second := r.signIn(t, "github", p)
	expectStatus(t, second, http.StatusOK)
	if tokenUser(t, second)["id"] != id || tokenUser(t, second)["email"] != "mover@example.com" {
		t.Fatalf("after an email change at GitHub: %s", second.Body)
	}
	ids := r.identities(t, second.str(t, "access_token"))
	if len(ids) != 1 || ids[0]["email"] != "moved@example.net" {
		t.Fatalf("the identity should show the provider's current address: %v", ids)
	}
	// The new address is not an account: registering it works.
	if !r.emailIsFree(t, "moved@example.net") {
		t.Fatal("the provider's new address became an account")
	}
}

func TestOAuthLinkedIn(t *testing.T) {
	r := startOAuthServer(t)
	authURL, state := r.authorize(t, "linkedin", otherCallback)
	u, _ := url.Parse(authURL)
	q := u.Query()
	if !strings.HasPrefix(authURL, r.li.URL+"/oauth/v2/authorization?") || q.Get("scope") != "openid profile email" ||
		q.Get("redirect_uri") != otherCallback || q.Get("code_challenge") == "" {
		t.Fatalf("authorization URL: %s", authURL)
	}
	code, _ := r.li.Approve(t, authURL, &oauthtest.LinkedInUser{Sub: "li-ada", Name: "Ada Lovelace", Email: "ada@example.com",
		EmailVerified: true, Picture: "https://media.licdn.example/ada.jpg"})
	res := r.callback(t, "linkedin", code, otherCallback, state)
	expectStatus(t, res, http.StatusOK)
	user := tokenUser(t, res)
	if user["email"] != "ada@example.com" || user["name"] != "Ada Lovelace" || user["email_verified"] != true ||
		user["avatar_url"] != "https://media.licdn.example/ada.jpg" {
		t.Fatalf("user: %v", user)
	}
	tr := r.li.TokenRequests()[0]
	if tr.Get("client_secret") != r.li.ClientSecret || tr.Get("redirect_uri") != otherCallback ||
		oauthtest.S256(tr.Get("code_verifier")) != q.Get("code_challenge") {
		t.Fatalf("token request: %v", tr)
	}

	// LinkedIn refuses a bad code with invalid_request: the client's fault, 400, nothing created.
	_, state = r.authorize(t, "linkedin", appCallback)
	expectProblem(t, r.callback(t, "linkedin", "not-a-code", appCallback, state), http.StatusBadRequest, "invalid_oauth_code")
}

// TestOAuthOpenIDConnect signs in through a real OpenID provider: discovery, PKCE, an RS256 ID token
// checked against the provider's JWKS, with issuer, audience, expiry and nonce.
func TestOAuthOpenIDConnect(t *testing.T) {
	r := startOAuthServer(t)
	grace := persona{subject: "grace", email: "Grace@Corp.example", verified: true, name: "Grace"}
	authURL, state := r.authorize(t, "corp", appCallback)
	u, _ := url.Parse(authURL)
	q := u.Query()
	if !strings.HasPrefix(authURL, r.corp.Issuer+"/") || q.Get("nonce") == "" || q.Get("code_challenge") == "" ||
		q.Get("client_id") != r.corp.ClientID || !strings.Contains(q.Get("scope"), "openid") {
		t.Fatalf("authorization URL: %s", authURL)
	}
	code, gotState := r.approve(t, "corp", authURL, grace)
	if gotState != state {
		t.Fatalf("state %q came back as %q", state, gotState)
	}
	res := r.callback(t, "corp", code, appCallback, state)
	expectStatus(t, res, http.StatusOK)
	user := tokenUser(t, res)
	if user["email"] != "grace@corp.example" || user["name"] != "Grace Corp" || user["email_verified"] != true {
		t.Fatalf("user: %v", user)
	}
	again := r.signIn(t, "corp", grace)
	expectStatus(t, again, http.StatusOK)
	if tokenUser(t, again)["id"] != user["id"] {
		t.Fatal("second sign-in made another account")
	}

	// An ID token minted for another authorization request (its nonce differs) is refused.
	authURL, state = r.authorize(t, "corp", appCallback)
	code, _ = r.approve(t, "corp", replaceParam(t, authURL, "nonce", "attacker-chosen-nonce"), grace)
	expectProblem(t, r.callback(t, "corp", code, appCallback, state), http.StatusBadRequest, "invalid_oauth_code")

	// A code issued against another PKCE challenge: the provider refuses the server's verifier.
	authURL, state = r.authorize(t, "corp", appCallback)
	code, _ = r.approve(t, "corp", replaceParam(t, authURL, "code_challenge", oauthtest.S256("attacker verifier")), grace)
	expectProblem(t, r.callback(t, "corp", code, appCallback, state), http.StatusBadRequest, "invalid_oauth_code")

	// A provider account whose address the provider has not verified creates nothing.
	res = r.signIn(t, "corp", persona{subject: "mallory", email: "victim@corp.example", verified: false, name: "M"})
	expectProblem(t, res, http.StatusForbidden, "provider_email_unverified")
	if !r.emailIsFree(t, "victim@corp.example") {
		t.Fatal("an unverified provider address became an account")
	}
}

func replaceParam(t *testing.T, rawURL, name, value string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set(name, value)
	u.RawQuery = q.Encode()
	return u.String()
}
