// Package oauthtest runs, inside tests, servers that behave like the documented endpoints of GitHub
// and LinkedIn, and a real OpenID Connect provider, so that Gatehouse's social sign-in is tested
// against what it must send and what it will receive, on loopback only.
package oauthtest

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// grant is one authorization the fake user gave: what the authorization request carried, and who.
type grant struct {
	clientID    string
	redirectURI string
	challenge   string // PKCE S256 challenge; empty when the request carried none
	user        any
	redeemed    bool
}

// codes is the authorization-code bookkeeping that the fakes share, checked as strictly as the
// real services check it: single-use codes, bound to client, redirect URI and PKCE challenge.
type codes struct {
	clientID, clientSecret string

	mu            sync.Mutex
	grants        map[string]*grant // code -> grant
	tokens        map[string]any    // access token -> user
	tokenRequests []url.Values
}

func newCodes(clientID, clientSecret string) *codes {
	return &codes{clientID: clientID, clientSecret: clientSecret, grants: map[string]*grant{}, tokens: map[string]any{}}
}

// approve checks an authorization request as the provider's consent page would, and returns the
// code the provider appends to the redirect URI, with the request's state.
func (c *codes) approve(t testing.TB, authURL, wantPath string, wantScopes []string, user any) (code, state string) {
	t.Helper()
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatalf("authorization URL %q: %v", authURL, err)
	}
	if u.Path != wantPath {
		t.Fatalf("authorization URL path %q, want %q", u.Path, wantPath)
	}
	q := u.Query()
	if q.Get("client_id") != c.clientID {
		t.Fatalf("authorization URL client_id %q, want %q", q.Get("client_id"), c.clientID)
	}
	if q.Get("response_type") != "code" {
		t.Fatalf("authorization URL response_type %q, want code", q.Get("response_type"))
	}
	if q.Get("redirect_uri") == "" {
		t.Fatal("authorization URL has no redirect_uri")
	}
	scopes := strings.Fields(q.Get("scope"))
	for _, s := range wantScopes {
		if !contains(scopes, s) {
			t.Fatalf("authorization URL scope %q lacks %q", q.Get("scope"), s)
		}
	}
	g := &grant{clientID: q.Get("client_id"), redirectURI: q.Get("redirect_uri"), user: user}
	if ch := q.Get("code_challenge"); ch != "" {
		if m := q.Get("code_challenge_method"); m != "S256" {
			t.Fatalf("code_challenge_method %q, want S256", m)
		}
		g.challenge = ch
	}
	code = randomString()
	c.mu.Lock()
	c.grants[code] = g
	c.mu.Unlock()
	return code, q.Get("state")
}

// redeem checks a token request and returns the new access token, or an OAuth error code.
func (c *codes) redeem(r *http.Request) (token, errCode, errDescription string) {
	if err := r.ParseForm(); err != nil {
		return "", "invalid_request", "the body is not a form"
	}
	form := r.PostForm
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tokenRequests = append(c.tokenRequests, form)
	id, secret := form.Get("client_id"), form.Get("client_secret")
	if bid, bsecret, ok := r.BasicAuth(); ok {
		id, secret = bid, bsecret
	}
	if id != c.clientID || subtle.ConstantTimeCompare([]byte(secret), []byte(c.clientSecret)) != 1 {
		return "", "incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect."
	}
	g, ok := c.grants[form.Get("code")]
	if !ok || g.redeemed || g.clientID != id {
		return "", "bad_verification_code", "The code passed is incorrect or expired."
	}
	if form.Get("redirect_uri") != g.redirectURI {
		return "", "redirect_uri_mismatch", "The redirect_uri MUST match the registered callback URL for this application."
	}
	verifier := form.Get("code_verifier")
	switch {
	case g.challenge == "" && verifier != "":
		return "", "bad_verification_code", "code_verifier sent for a request without code_challenge"
	case g.challenge != "" && s256(verifier) != g.challenge:
		return "", "bad_verification_code", "The code_verifier does not match the code_challenge."
	}
	g.redeemed = true
	token = randomString()
	c.tokens[token] = g.user
	return token, "", ""
}

// userOf returns the user an "Authorization: Bearer" (or GitHub's "token") header stands for.
func (c *codes) userOf(r *http.Request) (any, bool) {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "bearer") && !strings.EqualFold(scheme, "token") {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	u, ok := c.tokens[tok]
	return u, ok
}

// TokenRequests returns the form of every token request received, in order.
func (c *codes) TokenRequests() []url.Values {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]url.Values(nil), c.tokenRequests...)
}

// S256 is the PKCE S256 challenge of a verifier.
func S256(verifier string) string { return s256(verifier) }

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func randomString() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
