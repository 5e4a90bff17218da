package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// testServer is a real gatehouse started through run, on a fresh database.
type testServer struct {
	URL    string
	env    map[string]string
	logs   *syncBuffer
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

// syncBuffer collects the server's log output for assertions, and wakes whoever waits for a line.
type syncBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed and replaced on every write
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.changed != nil {
		close(b.changed)
		b.changed = nil
	}
	return b.buf.Write(p)
}

// waitFor blocks until the output contains substr, woken by writes, not by polling; false when
// the deadline passes first.
func (b *syncBuffer) waitFor(substr string, timeout time.Duration) bool {
	return b.waitForCount(substr, 1, timeout)
}

// waitForCount blocks until the output contains substr at least n times, woken by writes; false
// when the deadline passes first.
func (b *syncBuffer) waitForCount(substr string, n int, timeout time.Duration) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		b.mu.Lock()
		if strings.Count(b.buf.String(), substr) >= n {
			b.mu.Unlock()
			return true
		}
		if b.changed == nil {
			b.changed = make(chan struct{})
		}
		changed := b.changed
		b.mu.Unlock()
		select {
		case <-changed:
		case <-deadline.C:
			return false
		}
	}
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testEnv is the base configuration of test servers: an ephemeral port and a fresh database.
func testEnv(t *testing.T) map[string]string {
	env := map[string]string{
		"GATEHOUSE_ADDR":      "127.0.0.1:0",
		"GATEHOUSE_DATA_DIR":  t.TempDir(),
		"GATEHOUSE_LOG_LEVEL": "debug",
		// Most tests send bursts from one address; the rate-limit tests switch the limits on.
		"GATEHOUSE_RATE_LIMITS": "off",
	}
	for k, v := range testDatabaseEnv(t) {
		env[k] = v
	}
	return env
}

// startServer runs gatehouse serve with testEnv plus overrides, and waits until it listens.
func startServer(t *testing.T, overrides ...string) *testServer {
	t.Helper()
	env := testEnv(t)
	for _, kv := range overrides {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	return startServerEnv(t, env)
}

func startServerEnv(t *testing.T, env map[string]string) *testServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	s := &testServer{env: env, logs: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	getenv := func(k string) string { return env[k] }
	go func() {
		err := run(ctx, []string{"serve"}, getenv, pw, s.logs)
		pw.CloseWithError(fmt.Errorf("server exited: %v", err))
		s.done <- err
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("server did not start: %v\n%s", err, s.logs.String())
	}
	go io.Copy(io.Discard, pr)
	s.URL = strings.TrimSpace(strings.TrimPrefix(line, "gatehouse listening on "))
	t.Cleanup(s.stop)
	return s
}

func (s *testServer) stop() {
	s.once.Do(func() {
		s.cancel()
		select {
		case <-s.done:
		case <-time.After(30 * time.Second):
		}
	})
}

// response is a finished HTTP exchange.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r *response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("response is not a JSON object (status %d): %s", r.Status, r.Body)
	}
	return m
}

func (r *response) str(t *testing.T, key string) string {
	t.Helper()
	v, _ := r.json(t)[key].(string)
	return v
}

var httpClient = &http.Client{
	Timeout:   30 * time.Second,
	Transport: &http.Transport{MaxIdleConnsPerHost: 64},
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

// do sends a request. body may be nil, a string (sent as is) or a value (sent as JSON).
// headers are "Name: value" strings.
func (s *testServer) do(t *testing.T, method, path string, body any, headers ...string) *response {
	t.Helper()
	var rd io.Reader
	contentType := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		js, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(js)
		contentType = "application/json"
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &response{Status: resp.StatusCode, Header: resp.Header, Body: data}
}

func bearer(token string) string { return "Authorization: Bearer " + token }

// expectStatus fails unless r has the status; it prints the body to explain.
func expectStatus(t *testing.T, r *response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d; body: %s", r.Status, status, r.Body)
	}
}

// expectProblem checks a problem+json answer with the status and error code.
func expectProblem(t *testing.T, r *response, status int, code string) {
	t.Helper()
	expectStatus(t, r, status)
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q, want application/problem+json", ct)
	}
	m := r.json(t)
	if got, _ := m["status"].(float64); int(got) != status {
		t.Fatalf("problem status %v, want %d", m["status"], status)
	}
	if d, _ := m["detail"].(string); d == "" {
		t.Fatalf("problem without detail: %s", r.Body)
	}
	if code != "" && m["error_code"] != code {
		t.Fatalf("error_code %v, want %s; body: %s", m["error_code"], code, r.Body)
	}
	if status == http.StatusUnauthorized && !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("401 without WWW-Authenticate: Bearer")
	}
}

// account is a registered user with its tokens.
type account struct {
	Email, Password string
	ID              string
	Access, Refresh string
}

var accountSeq struct {
	sync.Mutex
	n int
}

// register creates a fresh account through the API.
func (s *testServer) register(t *testing.T) *account {
	t.Helper()
	accountSeq.Lock()
	accountSeq.n++
	n := accountSeq.n
	accountSeq.Unlock()
	a := &account{Email: fmt.Sprintf("user%d-%d@example.com", n, os.Getpid()), Password: "correct horse battery staple"}
	r := s.do(t, "POST", "/api/v1/auth/register", map[string]string{"email": a.Email, "password": a.Password, "name": "Test User"})
	expectStatus(t, r, http.StatusCreated)
	m := r.json(t)
	a.Access, _ = m["access_token"].(string)
	a.Refresh, _ = m["refresh_token"].(string)
	a.ID, _ = m["user"].(map[string]any)["id"].(string)
	return a
}

// login signs an account in again and returns the new tokens.
func (s *testServer) login(t *testing.T, email, password string) (access, refresh string) {
	t.Helper()
	r := s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": email, "password": password})
	expectStatus(t, r, http.StatusOK)
	return r.str(t, "access_token"), r.str(t, "refresh_token")
}

// concurrently sends n requests released at the same instant and returns their answers in order.
func concurrently(n int, send func(i int) *response) []*response {
	out := make([]*response, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = send(i)
		}()
	}
	close(start)
	wg.Wait()
	return out
}

// statusCounts tallies the statuses of answers.
func statusCounts(rs []*response) map[int]int {
	count := map[int]int{}
	for _, r := range rs {
		count[r.Status]++
	}
	return count
}
