package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// webClient is a browser without JavaScript against a test server's dashboard: it keeps cookies,
// follows no redirect by itself, and fills forms' CSRF tokens from the pages it reads.
type webClient struct {
	t   *testing.T
	s   *testServer
	jar *cookiejar.Jar
	hc  *http.Client
}

func (s *testServer) webClient(t *testing.T) *webClient {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &webClient{t: t, s: s, jar: jar, hc: hc}
}

// do sends a request; form, when not nil, is sent url-encoded. headers are "Name: value".
func (b *webClient) do(method, path string, form url.Values, headers ...string) *response {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.s.URL+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return &response{Status: resp.StatusCode, Header: resp.Header, Body: data}
}

func (b *webClient) get(path string) *response {
	b.t.Helper()
	return b.do("GET", path, nil)
}

var csrfInput = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// csrf reads the token this browser's forms carry, from a page that every visitor may open.
func (b *webClient) csrf() string {
	b.t.Helper()
	r := b.get("/forgot-password")
	m := csrfInput.FindSubmatch(r.Body)
	if m == nil {
		b.t.Fatalf("no CSRF token on the page: %s", r.Body)
	}
	return string(m[1])
}

// submit posts a form as the page would, with this browser's CSRF token and the headers a
// browser adds to a same-origin form post.
func (b *webClient) submit(path string, form url.Values, headers ...string) *response {
	b.t.Helper()
	form.Set("csrf_token", b.csrf())
	return b.do("POST", path, form, append([]string{"Origin: " + b.s.URL, "Sec-Fetch-Site: same-origin"}, headers...)...)
}

// cookie returns this browser's cookie of that name, or nil.
func (b *webClient) cookie(name string) *http.Cookie {
	u, _ := url.Parse(b.s.URL)
	for _, c := range b.jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// sessionTokens are the access and refresh tokens in this browser's session cookie.
func (b *webClient) sessionTokens() (access, refresh string) {
	b.t.Helper()
	c := b.cookie("gatehouse_session")
	if c == nil {
		b.t.Fatal("no session cookie")
	}
	parts := strings.SplitN(c.Value, ".", 3)
	if len(parts) != 3 || parts[0] != "v1" {
		b.t.Fatalf("session cookie %q", c.Value)
	}
	return parts[2], parts[1]
}

func (b *webClient) signUp(email, password string) {
	b.t.Helper()
	r := b.submit("/signup", url.Values{"email": {email}, "password": {password}, "name": {"Web User"}})
	expectRedirect(b.t, r, "/account?notice=welcome")
}

func (b *webClient) signIn(email, password string) {
	b.t.Helper()
	r := b.submit("/login", url.Values{"email": {email}, "password": {password}})
	expectRedirect(b.t, r, "/account")
}

// expectRedirect fails unless r is a 303 to location.
func expectRedirect(t *testing.T, r *response, location string) {
	t.Helper()
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != location {
		t.Fatalf("status %d to %q, want 303 to %q; body: %.400s", r.Status, r.Header.Get("Location"), location, r.Body)
	}
}

// expectPage fails unless r is an HTML page with the status that contains every text.
func expectPage(t *testing.T, r *response, status int, texts ...string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d; body: %.600s", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Fatalf("content type %q", ct)
	}
	for _, text := range texts {
		if !strings.Contains(string(r.Body), text) {
			t.Fatalf("the page lacks %q: %s", text, r.Body)
		}
	}
}

// setCookies are the cookies a response sets.
func setCookies(r *response) map[string]*http.Cookie {
	out := map[string]*http.Cookie{}
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		out[c.Name] = c
	}
	return out
}

// newWebEmail is an address no other test uses.
func newWebEmail(label string) string {
	accountSeq.Lock()
	accountSeq.n++
	n := accountSeq.n
	accountSeq.Unlock()
	return fmt.Sprintf("%s%d-%d@example.com", label, n, os.Getpid())
}
