package main

import (
	"encoding/json"
	"hash/fnv"
	"net/http"
	"net/url"
	"testing"

	"github.com/gatehouse/gatehouse/internal/oauthtest"
)

// The redirect URIs the test servers allow. Nothing listens there: the fake providers hand the
// code to the test, which plays the browser and the single-page app.
const (
	appCallback   = "https://app.example.com/auth/callback"
	otherCallback = "https://app.example.com/other/callback"
)

// oauthRig is a gatehouse server wired to a fake GitHub, a fake LinkedIn and a real OpenID Connect
// provider named "corp".
type oauthRig struct {
	*testServer
	gh   *oauthtest.GitHub
	li   *oauthtest.LinkedIn
	corp *oauthtest.OIDCProvider
}

func startOAuthServer(t *testing.T, overrides ...string) *oauthRig {
	t.Helper()
	r := &oauthRig{gh: oauthtest.NewGitHub(t), li: oauthtest.NewLinkedIn(t), corp: oauthtest.NewOIDCProvider(t, appCallback, otherCallback)}
	env := []string{
		"GATEHOUSE_GITHUB_CLIENT_ID=" + r.gh.ClientID,
		"GATEHOUSE_GITHUB_CLIENT_SECRET=" + r.gh.ClientSecret,
		"GATEHOUSE_GITHUB_URL=" + r.gh.URL,
		"GATEHOUSE_GITHUB_API_URL=" + r.gh.URL,
		"GATEHOUSE_LINKEDIN_CLIENT_ID=" + r.li.ClientID,
		"GATEHOUSE_LINKEDIN_CLIENT_SECRET=" + r.li.ClientSecret,
		"GATEHOUSE_LINKEDIN_URL=" + r.li.URL,
		"GATEHOUSE_LINKEDIN_API_URL=" + r.li.URL,
		"GATEHOUSE_OIDC_PROVIDERS=corp",
		"GATEHOUSE_OIDC_CORP_ISSUER=" + r.corp.Issuer,
		"GATEHOUSE_OIDC_CORP_CLIENT_ID=" + r.corp.ClientID,
		"GATEHOUSE_OIDC_CORP_CLIENT_SECRET=" + r.corp.ClientSecret,
		"GATEHOUSE_OAUTH_REDIRECT_URIS=" + appCallback + ", " + otherCallback,
	}
	r.testServer = startServer(t, append(env, overrides...)...)
	return r
}

// authorize calls GET {prefix}/{provider}/authorize and returns the authorization URL and state.
func (r *oauthRig) authorize(t *testing.T, provider, redirectURI string) (authURL, state string) {
	t.Helper()
	res := r.do(t, "GET", "/api/v1/auth/"+provider+"/authorize?redirect_uri="+url.QueryEscape(redirectURI), nil)
	expectStatus(t, res, http.StatusOK)
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("authorize Cache-Control %q, want no-store", cc)
	}
	authURL, state = res.str(t, "authorization_url"), res.str(t, "state")
	if len(state) < 22 {
		t.Fatalf("state %q carries less than 128 bits", state)
	}
	return authURL, state
}

// callback posts {code, redirect_uri, state} to the provider's callback; an empty state is omitted.
func (r *oauthRig) callback(t *testing.T, provider, code, redirectURI, state string) *response {
	t.Helper()
	body := map[string]string{"code": code, "redirect_uri": redirectURI}
	if state != "" {
		body["state"] = state
	}
	return r.do(t, "POST", "/api/v1/auth/"+provider+"/callback", body)
}

// persona is one person's account at whichever provider a test uses.
type persona struct {
	subject  string // stable id at the provider
	email    string
	verified bool
	name     string
}

// signIn runs the whole flow at provider for p, as a browser and a single-page app would:
// authorize, approve at the provider, post the code to the callback.
func (r *oauthRig) signIn(t *testing.T, provider string, p persona) *response {
	t.Helper()
	authURL, state := r.authorize(t, provider, appCallback)
	code, gotState := r.approve(t, provider, authURL, p)
	if gotState != state {
		t.Fatalf("the provider returned state %q, want %q", gotState, state)
	}
	return r.callback(t, provider, code, appCallback, state)
}

// approve signs p in at provider's side and returns what the provider sends to the redirect URI.
func (r *oauthRig) approve(t *testing.T, provider, authURL string, p persona) (code, state string) {
	t.Helper()
	switch provider {
	case "github":
		return r.gh.Approve(t, authURL, r.githubUser(p))
	case "linkedin":
		return r.li.Approve(t, authURL, &oauthtest.LinkedInUser{Sub: p.subject, Name: p.name, Email: p.email, EmailVerified: p.verified,
			Picture: "https://media.licdn.example/" + p.subject + ".jpg"})
	case "corp":
		r.corp.AddUser(&oauthtest.OIDCUser{ID: p.subject, Username: p.subject, Password: "op password", FirstName: p.name,
			LastName: "Corp", Email: p.email, EmailVerified: p.verified})
		return r.corp.SignIn(t, authURL, p.subject, "op password")
	}
	t.Fatalf("no provider %q in the rig", provider)
	return "", ""
}

// githubUser is p's GitHub account: the primary address is p's, and a verified secondary address
// exists to show that only the primary one counts.
func (r *oauthRig) githubUser(p persona) *oauthtest.GitHubUser {
	h := fnv.New32a()
	h.Write([]byte(p.subject))
	return &oauthtest.GitHubUser{
		ID: int64(h.Sum32()), Login: "gh-" + p.subject, Name: p.name, AvatarURL: "https://avatars.example/" + p.subject,
		Emails: []oauthtest.GitHubEmail{
			{Email: "noreply-" + p.subject + "@users.noreply.example", Verified: true},
			{Email: p.email, Primary: true, Verified: p.verified},
		},
	}
}

// tokenUser returns the user object of a token response.
func tokenUser(t *testing.T, r *response) map[string]any {
	t.Helper()
	u, ok := r.json(t)["user"].(map[string]any)
	if !ok {
		t.Fatalf("no user in %s", r.Body)
	}
	return u
}

// identities lists the identities of the account that access belongs to.
func (r *oauthRig) identities(t *testing.T, access string) []map[string]any {
	t.Helper()
	res := r.do(t, "GET", "/api/v1/users/me/identities", nil, bearer(access))
	expectStatus(t, res, http.StatusOK)
	var list []map[string]any
	if err := json.Unmarshal(res.Body, &list); err != nil {
		t.Fatalf("identities: %v: %s", err, res.Body)
	}
	return list
}

// emailIsFree reports whether nobody has the address, by registering it (which takes it).
func (r *oauthRig) emailIsFree(t *testing.T, email string) bool {
	t.Helper()
	res := r.do(t, "POST", "/api/v1/auth/register", map[string]string{"email": email, "password": "correct horse battery staple"})
	switch res.Status {
	case http.StatusCreated:
		return true
	case http.StatusConflict:
		return false
	}
	t.Fatalf("register %s: status %d: %s", email, res.Status, res.Body)
	return false
}
