package oauthtest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
)

// GitHubUser is an account at the fake GitHub.
type GitHubUser struct {
	ID        int64
	Login     string
	Name      string
	AvatarURL string
	Emails    []GitHubEmail
}

// GitHubEmail is one entry of GET /user/emails.
type GitHubEmail struct {
	Email      string  `json:"email"`
	Primary    bool    `json:"primary"`
	Verified   bool    `json:"verified"`
	Visibility *string `json:"visibility"`
}

// GitHub behaves like github.com's OAuth app endpoints and api.github.com's /user and /user/emails:
// one server serves both bases, so point GATEHOUSE_GITHUB_URL and GATEHOUSE_GITHUB_API_URL at URL.
type GitHub struct {
	*httptest.Server
	*codes
	ClientID, ClientSecret string

	// Garbage makes the API answer 200 with an HTML page, as a misbehaving proxy would.
	Garbage atomic.Bool

	mu sync.Mutex // guards the users' fields, which tests change between sign-ins
}

// NewGitHub starts a fake GitHub on loopback; it stops when the test ends.
func NewGitHub(t testing.TB) *GitHub {
	g := &GitHub{ClientID: "gh-client-" + randomString()[:8], ClientSecret: "gh-secret-" + randomString()}
	g.codes = newCodes(g.ClientID, g.ClientSecret)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login/oauth/access_token", g.token)
	mux.HandleFunc("GET /user", g.user)
	mux.HandleFunc("GET /user/emails", g.emails)
	g.Server = httptest.NewServer(mux)
	t.Cleanup(g.Close)
	return g
}

// Approve plays the browser and the user at GitHub's consent page: it checks the authorization URL
// as GitHub would and returns the code and state GitHub appends to the redirect URI.
func (g *GitHub) Approve(t testing.TB, authorizationURL string, u *GitHubUser) (code, state string) {
	t.Helper()
	if base, _ := url.Parse(authorizationURL); base == nil || "http://"+base.Host != g.URL {
		t.Fatalf("authorization URL %q is not at the fake GitHub %s", authorizationURL, g.URL)
	}
	return g.approve(t, authorizationURL, "/login/oauth/authorize", []string{"read:user", "user:email"}, u)
}

// Update changes a user's fields safely while the server may be serving them.
func (g *GitHub) Update(fn func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	fn()
}

// token answers like GitHub: 200 in every case, form-encoded unless JSON is asked for, with the
// error in the body.
func (g *GitHub) token(w http.ResponseWriter, r *http.Request) {
	tok, errCode, desc := g.redeem(r)
	v := url.Values{}
	if errCode != "" {
		v.Set("error", errCode)
		v.Set("error_description", desc)
	} else {
		v.Set("access_token", tok)
		v.Set("scope", "read:user,user:email")
		v.Set("token_type", "bearer")
	}
	if r.Header.Get("Accept") == "application/json" {
		m := map[string]string{}
		for k := range v {
			m[k] = v.Get(k)
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_ = json.NewEncoder(w).Encode(m)
		return
	}
	w.Header().Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	_, _ = w.Write([]byte(v.Encode()))
}

func (g *GitHub) authorized(w http.ResponseWriter, r *http.Request) (*GitHubUser, bool) {
	u, ok := g.userOf(r)
	if !ok {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}`))
		return nil, false
	}
	if g.Garbage.Load() {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html><body>Unicorn! This page is taking too long to load.</body></html>"))
		return nil, false
	}
	return u.(*GitHubUser), true
}

func (g *GitHub) user(w http.ResponseWriter, r *http.Request) {
	u, ok := g.authorized(w, r)
	if !ok {
		return
	}
	g.mu.Lock()
	body := map[string]any{"id": u.ID, "login": u.Login, "name": u.Name, "avatar_url": u.AvatarURL,
		"type": "User", "email": nil}
	g.mu.Unlock()
	writeJSON(w, body)
}

func (g *GitHub) emails(w http.ResponseWriter, r *http.Request) {
	u, ok := g.authorized(w, r)
	if !ok {
		return
	}
	g.mu.Lock()
	list := append([]GitHubEmail{}, u.Emails...)
	g.mu.Unlock()
	writeJSON(w, list)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}
