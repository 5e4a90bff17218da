package main

import (
	"crypto/sha256"
	"encoding/base64"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
)

// An OAuth client's side of the authorization code flow, against the dashboard's authorization
// endpoint and the API's token endpoint.

// pkcePair is a code verifier and its S256 challenge.
func pkcePair() (verifier, challenge string) {
	verifier = gatehouse.RandomToken(32)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// oauthRequest is one authorization request of a client.
type oauthRequest struct {
	ClientID, RedirectURI string
	Verifier              string
	Params                url.Values // sent as they are
}

// newOAuthRequest builds a request with PKCE S256 and a state; extra are "name=value" pairs.
func newOAuthRequest(clientID, redirectURI string, extra ...string) *oauthRequest {
	verifier, challenge := pkcePair()
	q := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirectURI},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "state": {"st-" + gatehouse.RandomToken(8)}}
	for _, kv := range extra {
		k, v, _ := strings.Cut(kv, "=")
		q.Add(k, v)
	}
	return &oauthRequest{ClientID: clientID, RedirectURI: redirectURI, Verifier: verifier, Params: q}
}

func (o *oauthRequest) path() string { return "/oauth2/authorize?" + o.Params.Encode() }

// registerOAuthClient registers a public client through dynamic registration (RFC 7591).
func (s *testServer) registerOAuthClient(t *testing.T, name, redirectURI string) string {
	t.Helper()
	r := s.do(t, "POST", "/oauth2/register", map[string]any{"client_name": name, "redirect_uris": []string{redirectURI},
		"token_endpoint_auth_method": "none", "grant_types": []string{"authorization_code", "refresh_token"}})
	expectStatus(t, r, http.StatusCreated)
	return r.str(t, "client_id")
}

// createOAuthClient pre-registers a public client through the admin API.
func (s *testServer) createOAuthClient(t *testing.T, admin *account, name, redirectURI string) string {
	t.Helper()
	r := s.do(t, "POST", "/api/v1/admin/oauth/clients", map[string]any{"name": name, "redirect_uris": []string{redirectURI}}, bearer(admin.Access))
	expectStatus(t, r, http.StatusCreated)
	return r.str(t, "client_id")
}

// addOAuthResource registers a resource through the admin API; scopes are "name=description".
func (s *testServer) addOAuthResource(t *testing.T, admin *account, uri, name string, scopes ...string) {
	t.Helper()
	r := s.do(t, "POST", "/api/v1/admin/oauth/resources", map[string]any{"uri": uri, "name": name, "scopes": scopes}, bearer(admin.Access))
	expectStatus(t, r, http.StatusCreated)
}

// expectClientRedirect checks that r sends the browser to the client's redirect URI, uncached,
// with the issuer (RFC 9207) and the request's state, and returns the parameters.
func (s *testServer) expectClientRedirect(t *testing.T, r *response, o *oauthRequest) url.Values {
	t.Helper()
	if r.Status != http.StatusFound {
		t.Fatalf("status %d, want 302 to the client; body: %.600s", r.Status, r.Body)
	}
	loc := r.Header.Get("Location")
	sep := "?"
	if strings.Contains(o.RedirectURI, "?") {
		sep = "&"
	}
	if !strings.HasPrefix(loc, o.RedirectURI+sep) {
		t.Fatalf("redirect to %q, want the client's %s", loc, o.RedirectURI)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("a redirect with a code or an error is cached: Cache-Control %q", cc)
	}
	if rp := r.Header.Get("Referrer-Policy"); rp != "no-referrer" {
		t.Fatalf("Referrer-Policy %q, want no-referrer", rp)
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if q.Get("iss") != s.URL {
		t.Fatalf("iss %q, want the issuer %q (RFC 9207): %s", q.Get("iss"), s.URL, loc)
	}
	if q.Get("state") != o.Params.Get("state") {
		t.Fatalf("state %q, want %q echoed", q.Get("state"), o.Params.Get("state"))
	}
	return q
}

// expectCode checks a successful authorization response and returns the code.
func (s *testServer) expectCode(t *testing.T, r *response, o *oauthRequest) string {
	t.Helper()
	q := s.expectClientRedirect(t, r, o)
	if q.Get("code") == "" || q.Get("error") != "" {
		t.Fatalf("no code: %v", q)
	}
	return q.Get("code")
}

// expectOAuthError checks an error sent to the client.
func (s *testServer) expectOAuthError(t *testing.T, r *response, o *oauthRequest, code string) {
	t.Helper()
	q := s.expectClientRedirect(t, r, o)
	if q.Get("error") != code || q.Get("code") != "" {
		t.Fatalf("error %q (code %q), want %s: %v", q.Get("error"), q.Get("code"), code, q)
	}
	if q.Get("error_description") == "" {
		t.Fatalf("error without a description: %v", q)
	}
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// expectConsent checks that r is the consent page, not frameable, with the texts, and returns
// the fields its form posts (the request's parameters and the CSRF token).
func expectConsent(t *testing.T, r *response, texts ...string) url.Values {
	t.Helper()
	expectPage(t, r, http.StatusOK, append([]string{`action="/oauth2/authorize"`, `name="decision" value="allow"`, `name="decision" value="deny"`}, texts...)...)
	if r.Header.Get("X-Frame-Options") != "DENY" || !strings.Contains(r.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Fatalf("the consent page can be framed: %v", r.Header)
	}
	if r.Header.Get("Referrer-Policy") != "no-referrer" || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("consent page headers: %v", r.Header)
	}
	body := string(r.Body)
	start := strings.Index(body, `action="/oauth2/authorize"`)
	form := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(body[start:], -1) {
		form.Add(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	return form
}

// decide posts the consent form as the browser would.
func (b *webClient) decide(form url.Values, decision string) *response {
	b.t.Helper()
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	f.Set("decision", decision)
	return b.do("POST", "/oauth2/authorize", f, "Origin: "+b.s.URL, "Sec-Fetch-Site: same-origin")
}

// signInFor follows a redirect to the sign-in page, signs in there and comes back to the
// authorization request; it returns the answer of the authorization endpoint.
func (b *webClient) signInFor(r *response, email, password string) *response {
	b.t.Helper()
	loc := r.Header.Get("Location")
	if r.Status != http.StatusFound || !strings.HasPrefix(loc, "/login?") {
		b.t.Fatalf("status %d to %q, want 302 to /login; body: %.400s", r.Status, loc, r.Body)
	}
	page := b.get(loc)
	expectPage(b.t, page, http.StatusOK, `name="password"`)
	u, _ := url.Parse(loc)
	next := u.Query().Get("next")
	if !strings.HasPrefix(next, "/oauth2/authorize?") {
		b.t.Fatalf("next %q does not lead back to the authorization request", next)
	}
	form := url.Values{"email": {email}, "password": {password}, "next": {next}}
	if u.Query().Get("prompt") == "login" {
		form.Set("prompt", "login")
	}
	done := b.submit("/login", form)
	expectRedirect(b.t, done, next)
	return b.get(next)
}

// tokenResponse is the token endpoint's answer.
func (s *testServer) exchangeCode(t *testing.T, o *oauthRequest, code string) map[string]any {
	t.Helper()
	r := s.postForm(t, "/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {o.RedirectURI}, "client_id": {o.ClientID}, "code_verifier": {o.Verifier}})
	expectStatus(t, r, http.StatusOK)
	return r.json(t)
}

// postForm posts a url-encoded form to the API.
func (s *testServer) postForm(t *testing.T, path string, form url.Values, headers ...string) *response {
	t.Helper()
	return s.do(t, "POST", path, form.Encode(), append([]string{"Content-Type: application/x-www-form-urlencoded"}, headers...)...)
}

// expectNoForm checks an error page of the authorization endpoint: no form, no redirect.
func expectNoForm(t *testing.T, r *response, texts ...string) {
	t.Helper()
	expectPage(t, r, http.StatusBadRequest, texts...)
	if r.Header.Get("Location") != "" {
		t.Fatalf("an error page that redirects: %s", r.Header.Get("Location"))
	}
	if strings.Contains(string(r.Body), "<form") {
		t.Fatalf("an error page of the authorization endpoint holds a form: %s", r.Body)
	}
}

// basicAuth is the value of an HTTP Basic Authorization header (RFC 6749 §2.3.1 encodes both parts).
func basicAuth(id, secret string) string {
	return base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id) + ":" + url.QueryEscape(secret)))
}
