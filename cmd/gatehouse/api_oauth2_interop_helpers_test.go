package main

// Helpers of the interop tests (api_oauth2_mcp_go_test.go): a user who signs in and consents
// through the dashboard's pages with nothing but HTTP and a cookie jar, a recorder of what a
// client library sends, and the example MCP servers (examples/mcp-server-*) as processes.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// oauthUser is a person at a browser without JavaScript: it opens an authorization URL, signs in
// on /login when asked, approves (or denies) on the consent page, and reports where Gatehouse
// finally sends the browser outside its own origin: the client's redirect URI, never followed.
type oauthUser struct {
	base            *url.URL // Gatehouse's origin
	email, password string
	decision        string // "allow" or "deny"
	hc              *http.Client

	mu    sync.Mutex
	pages []string // the HTML of every page shown, in order (for assertions on the consent page)
}

func newOAuthUser(t *testing.T, gatehouseURL, email, password string) *oauthUser {
	t.Helper()
	base, err := url.Parse(gatehouseURL)
	if err != nil {
		t.Fatal(err)
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &oauthUser{base: base, email: email, password: password, decision: "allow",
		hc: &http.Client{Jar: jar, Timeout: 30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Pages returns the HTML of the pages the user has seen.
func (u *oauthUser) Pages() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.pages...)
}

// authorize walks from the authorization URL to the redirect out of Gatehouse's origin and
// returns that redirect's URL.
func (u *oauthUser) authorize(ctx context.Context, authURL string) (*url.URL, error) {
	method, target, form := "GET", authURL, url.Values(nil)
	for step := 0; step < 12; step++ {
		cur, err := url.Parse(target)
		if err != nil {
			return nil, err
		}
		if cur.Scheme != u.base.Scheme || cur.Host != u.base.Host {
			return cur, nil // the client's redirect URI: the browser would leave Gatehouse here
		}
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequestWithContext(ctx, method, target, body)
		if err != nil {
			return nil, err
		}
		if form != nil {
			// What a browser adds to a same-origin form post.
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", u.base.Scheme+"://"+u.base.Host)
			req.Header.Set("Sec-Fetch-Site", "same-origin")
		}
		req.Header.Set("Accept", "text/html")
		resp, err := u.hc.Do(req)
		if err != nil {
			return nil, err
		}
		page, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		switch {
		case resp.StatusCode >= 300 && resp.StatusCode < 400:
			loc, err := cur.Parse(resp.Header.Get("Location"))
			if err != nil || resp.Header.Get("Location") == "" {
				return nil, fmt.Errorf("%s %s: %d without a usable Location", method, target, resp.StatusCode)
			}
			method, target, form = "GET", loc.String(), nil
			continue
		case resp.StatusCode != http.StatusOK:
			return nil, fmt.Errorf("%s %s: status %d: %.600s", method, target, resp.StatusCode, page)
		}
		u.mu.Lock()
		u.pages = append(u.pages, string(page))
		u.mu.Unlock()
		f, err := u.chooseForm(string(page))
		if err != nil {
			return nil, fmt.Errorf("%s %s: %v; page: %.1200s", method, target, err, page)
		}
		action, err := cur.Parse(f.action)
		if err != nil {
			return nil, err
		}
		method, target, form = strings.ToUpper(f.method), action.String(), f.values
		if method == "" {
			method = "GET"
		}
		if method == "GET" {
			action.RawQuery = form.Encode()
			target, form = action.String(), nil
		}
	}
	return nil, fmt.Errorf("no redirect to the client after 12 steps from %s", authURL)
}

type htmlForm struct {
	action, method string
	values         url.Values
}

var (
	formRe   = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	inputRe  = regexp.MustCompile(`(?is)<(input|button)\b([^>]*)>`)
	attrRe   = regexp.MustCompile(`(?is)([a-z_:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))`)
	boolAttr = regexp.MustCompile(`(?i)\s(disabled)\b`)
)

func attrs(s string) map[string]string {
	m := map[string]string{}
	for _, a := range attrRe.FindAllStringSubmatch(s, -1) {
		m[strings.ToLower(a[1])] = html.UnescapeString(a[2] + a[3] + a[4])
	}
	return m
}

// chooseForm picks the sign-in form (it has a password field) or the consent form (it has
// a decision button) and fills it in as the user would.
func (u *oauthUser) chooseForm(page string) (*htmlForm, error) {
	for _, fm := range formRe.FindAllStringSubmatch(page, -1) {
		fa := attrs(fm[1])
		f := &htmlForm{action: fa["action"], method: fa["method"], values: url.Values{}}
		login, consent := false, false
		for _, in := range inputRe.FindAllStringSubmatch(fm[2], -1) {
			a := attrs(in[2])
			name := a["name"]
			if name == "" || boolAttr.MatchString(in[2]) {
				continue
			}
			kind := strings.ToLower(a["type"])
			switch {
			case strings.EqualFold(in[1], "button") || kind == "submit":
				if name == "decision" {
					consent = true
					if a["value"] == u.decision {
						f.values.Set(name, a["value"])
					}
				}
			case kind == "password":
				login = true
				f.values.Set(name, u.password)
			case name == "email":
				f.values.Set(name, u.email)
			case kind == "checkbox" || kind == "radio":
				if _, checked := a["checked"]; checked || strings.Contains(strings.ToLower(in[2]), " checked") {
					f.values.Add(name, a["value"])
				}
			default:
				f.values.Add(name, a["value"])
			}
		}
		if login {
			return f, nil
		}
		if consent {
			if f.values.Get("decision") == "" {
				return nil, fmt.Errorf("the consent form has no decision button with value %q", u.decision)
			}
			return f, nil
		}
	}
	return nil, fmt.Errorf("a page with neither a sign-in nor a consent form")
}

// exchangeLog records what a client library sends and receives through its http.Client.
type exchangeLog struct {
	mu        sync.Mutex
	exchanges []*exchange
}

type exchange struct {
	Method, URL string
	Header      http.Header // the request's
	Form        url.Values  // the request's form body, when it has one
	Status      int
	RespHeader  http.Header
	RespBody    []byte
}

func (l *exchangeLog) client() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: l}
}

func (l *exchangeLog) RoundTrip(req *http.Request) (*http.Response, error) {
	x := &exchange{Method: req.Method, URL: req.URL.String(), Header: req.Header.Clone()}
	if req.Body != nil && strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		x.Form, _ = url.ParseQuery(string(b))
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	x.Status, x.RespHeader = resp.StatusCode, resp.Header.Clone()
	// Keep small bodies (JSON answers), never the event streams the MCP transport keeps open.
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		x.RespBody = b
		resp.Body = io.NopCloser(bytes.NewReader(b))
	}
	l.mu.Lock()
	l.exchanges = append(l.exchanges, x)
	l.mu.Unlock()
	return resp, nil
}

// logTo writes the exchanges to the test's log (shown with -v or on failure).
func (l *exchangeLog) logTo(t *testing.T) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, x := range l.exchanges {
		extra := ""
		if gt := x.Form.Get("grant_type"); gt != "" {
			extra = " grant_type=" + gt
		}
		fmt.Fprintf(&b, "\n  %s %s%s -> %d", x.Method, x.URL, extra, x.Status)
	}
	t.Logf("what the client sent:%s", b.String())
}

// find returns the recorded exchanges that match.
func (l *exchangeLog) find(match func(*exchange) bool) []*exchange {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []*exchange
	for _, x := range l.exchanges {
		if match(x) {
			out = append(out, x)
		}
	}
	return out
}

// exampleMCPServers are the example MCP servers of the repository (examples/mcp-server-*, each
// with an executable run script), by folder name.
func exampleMCPServers(t *testing.T) []string {
	t.Helper()
	runs, err := filepath.Glob(filepath.Join("..", "..", "examples", "mcp-server-*", "run"))
	if err != nil || len(runs) == 0 {
		t.Fatalf("no examples/mcp-server-*/run found (%v)", err)
	}
	var names []string
	for _, r := range runs {
		names = append(names, filepath.Base(filepath.Dir(r)))
	}
	return names
}

// exampleRuntimes are the programs an example's run script needs and cannot install itself.
var exampleRuntimes = map[string]string{
	"mcp-server-ts": "node", // Node.js >= 20.9 with npm
}

// startExampleMCPServer starts examples/<name> (mcp-server-go, mcp-server-ts…) through its run
// script (which builds or installs it when needed) on a free loopback port, trusting issuer; it
// returns the MCP endpoint URL. A missing runtime fails the test: no example is skipped.
func startExampleMCPServer(t *testing.T, name, issuer string) string {
	t.Helper()
	if prog, ok := exampleRuntimes[name]; ok {
		if _, err := exec.LookPath(prog); err != nil {
			t.Fatalf("examples/%s needs %s, which is not on PATH: install it (Node.js >= 20.9 for the TypeScript example)", name, prog)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, filepath.Join("..", "..", "examples", name, "run"),
		"--addr", "127.0.0.1:0", "--issuer", issuer)
	cmd.WaitDelay = 5 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("examples/%s/run: %v", name, err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s's log:\n%s", name, logs.String())
		}
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				found <- strings.TrimSpace(rest)
			}
		}
		close(found)
	}()
	select {
	case u, ok := <-found:
		if !ok {
			t.Fatalf("%s exited before listening:\n%s", name, logs.String())
		}
		return u
	case <-time.After(3 * time.Minute): // the first run builds or installs the example
		t.Fatalf("%s did not start:\n%s", name, logs.String())
	}
	return ""
}
