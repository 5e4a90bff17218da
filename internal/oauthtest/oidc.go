package oauthtest

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
)

// OIDCUser is an account at the test OpenID provider.
type OIDCUser = storage.User

// OIDCProvider is a real OpenID Connect provider (zitadel/oidc's OP, with its in-memory storage and
// login page) on loopback: discovery, JWKS, RS256-signed ID tokens, PKCE, userinfo, all its own.
type OIDCProvider struct {
	*httptest.Server
	Issuer                 string
	ClientID, ClientSecret string
	users                  *oidcUsers
}

// NewOIDCProvider starts the provider with one confidential client allowed to redirect to
// redirectURIs; it stops when the test ends.
func NewOIDCProvider(t testing.TB, redirectURIs ...string) *OIDCProvider {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &OIDCProvider{
		Issuer:       "http://" + ln.Addr().String(),
		ClientID:     "oidc-client-" + randomString()[:8],
		ClientSecret: "oidc-secret-" + randomString(),
		users:        &oidcUsers{byID: map[string]*storage.User{}},
	}
	clients := map[string]*storage.Client{p.ClientID: storage.WebClient(p.ClientID, p.ClientSecret, redirectURIs...)}
	store := storage.NewStorageWithClients(p.users, clients)
	p.Server = &httptest.Server{Listener: ln, Config: &http.Server{Handler: exampleop.SetupServer(p.Issuer, store, nil, false)}}
	p.Start()
	t.Cleanup(p.Close)
	return p
}

// AddUser registers an account that SignIn can log in as.
func (p *OIDCProvider) AddUser(u *OIDCUser) {
	p.users.mu.Lock()
	defer p.users.mu.Unlock()
	p.users.byID[u.ID] = u
}

// SignIn plays the browser: it opens the authorization URL, submits the provider's login form, and
// follows the provider's redirects until it points at the client's redirect URI; it returns the
// code and state found there.
func (p *OIDCProvider) SignIn(t testing.TB, authorizationURL, username, password string) (code, state string) {
	t.Helper()
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	next := func(resp *http.Response) *url.URL {
		t.Helper()
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s %s: status %d, want a redirect", resp.Request.Method, resp.Request.URL, resp.StatusCode)
		}
		loc, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		return loc
	}
	resp, err := browser.Get(authorizationURL)
	if err != nil {
		t.Fatal(err)
	}
	login := next(resp)
	if !strings.HasPrefix(login.Path, "/login/") {
		t.Fatalf("the provider sent the browser to %s, not to its login page", login)
	}
	resp, err = browser.PostForm(login.String(), url.Values{
		"id": {login.Query().Get("authRequestID")}, "username": {username}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	loc := next(resp)
	for i := 0; i < 5 && strings.HasPrefix(loc.String(), p.Issuer); i++ {
		if resp, err = browser.Get(loc.String()); err != nil {
			t.Fatal(err)
		}
		loc = next(resp)
	}
	q := loc.Query()
	if e := q.Get("error"); e != "" {
		t.Fatalf("the provider answered the client with error %s: %s", e, q.Get("error_description"))
	}
	if q.Get("code") == "" {
		t.Fatalf("the provider redirected to %s without a code", loc)
	}
	return q.Get("code"), q.Get("state")
}

// oidcUsers is the provider's user directory.
type oidcUsers struct {
	mu   sync.Mutex
	byID map[string]*storage.User
}

func (s *oidcUsers) GetUserByID(id string) *storage.User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byID[id]
}

func (s *oidcUsers) GetUserByUsername(name string) *storage.User {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.byID {
		if u.Username == name {
			return u
		}
	}
	return nil
}

// ExampleClientID names the storage's service-account client, which these tests do not use.
func (s *oidcUsers) ExampleClientID() string { return "service" }
