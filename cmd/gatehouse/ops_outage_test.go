package main

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/porthold"
)

// dbProxy forwards TCP connections to PostgreSQL until it is cut, which makes the database vanish
// for the server in front of it exactly as a crashed or partitioned database server would: open
// connections die and new ones are refused.
type dbProxy struct {
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	held  io.Closer // the port, bound but not listening, while the database is away
	conns map[net.Conn]struct{}
}

func newDBProxy(t *testing.T, target string) *dbProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &dbProxy{target: target, addr: ln.Addr().String(), conns: map[net.Conn]struct{}{}}
	p.serve(ln)
	t.Cleanup(func() {
		p.cut()
		p.release()
	})
	return p
}

// release lets go of a port held by hold.
func (p *dbProxy) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.held != nil {
		p.held.Close()
		p.held = nil
	}
}

func (p *dbProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.forward(c)
		}
	}()
}

func (p *dbProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *dbProxy) forward(client net.Conn) {
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		client.Close()
		return
	}
	if !p.track(client) || !p.track(server) {
		client.Close()
		server.Close()
		return
	}
	go func() { _, _ = io.Copy(server, client); server.Close() }()
	_, _ = io.Copy(client, server)
	client.Close()
}

// cut closes the listener and every connection.
func (p *dbProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// stop takes the database away: the port refuses connections and every open one is cut.
func (p *dbProxy) stop(t *testing.T) {
	t.Helper()
	p.cut()
	held, err := porthold.Hold(p.addr)
	if err != nil {
		t.Fatalf("hold %s: %v", p.addr, err)
	}
	p.mu.Lock()
	p.held = held
	p.mu.Unlock()
}

// restore listens again on the same port, as a restarted database server would.
func (p *dbProxy) restore(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatalf("restore proxy on %s: %v", p.addr, err)
	}
	p.release()
	p.serve(ln)
}

// proxiedDatabase returns a fresh PostgreSQL database reached through a proxy the test controls.
func proxiedDatabase(t *testing.T) (string, *dbProxy) {
	t.Helper()
	direct, err := url.Parse(postgresEnv(t)["GATEHOUSE_DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	p := newDBProxy(t, direct.Host)
	direct.Host = p.addr
	return direct.String(), p
}

// expectUnavailable sends a request while the database is down and checks the answer: a prompt
// 503 problem document with Retry-After, never a 500 and never a hang.
func (s *testServer) expectUnavailable(t *testing.T, method, path string, body any, headers ...string) {
	t.Helper()
	start := time.Now()
	r := s.do(t, method, path, body, headers...)
	took := time.Since(start)
	expectProblem(t, r, http.StatusServiceUnavailable, "")
	if r.Header.Get("Retry-After") == "" {
		t.Fatalf("%s %s: 503 without Retry-After", method, path)
	}
	// Connections are refused at once; the bound is the connect timeout, with room for a busy machine.
	if took > 6*time.Second {
		t.Fatalf("%s %s took %s with the database down", method, path, took)
	}
}

// TestDatabaseOutage takes PostgreSQL away under a running server and brings it back.
func TestDatabaseOutage(t *testing.T) {
	dbURL, proxy := proxiedDatabase(t)
	env := testEnv(t)
	env["GATEHOUSE_DATABASE_URL"] = dbURL
	// Every authenticated request reads the session from the database, so /users/me shows the outage.
	env["GATEHOUSE_CACHE_TTL"] = "0"
	env["GATEHOUSE_RATE_LIMITS"] = "off"
	s := startServerEnv(t, env)
	acct := s.register(t)
	expectStatus(t, s.do(t, "GET", "/readyz", nil), http.StatusOK)

	proxy.stop(t)
	// Twice: the first round meets the pool's dead connections, the second new connection attempts.
	for range 2 {
		s.expectUnavailable(t, "GET", "/readyz", nil)
		expectStatus(t, s.do(t, "GET", "/healthz", nil), http.StatusOK)
		s.expectUnavailable(t, "POST", "/api/v1/auth/login", map[string]string{"email": acct.Email, "password": acct.Password})
		s.expectUnavailable(t, "POST", "/api/v1/auth/register", map[string]string{"email": "new-" + acct.Email, "password": acct.Password, "name": "N"})
		s.expectUnavailable(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": acct.Refresh})
		s.expectUnavailable(t, "GET", "/api/v1/users/me", nil, bearer(acct.Access))
		s.expectUnavailable(t, "POST", "/api/v1/auth/logout", nil, bearer(acct.Access))
		// Relying parties keep verifying tokens: the JWKS falls back to the keys in memory.
		expectStatus(t, s.do(t, "GET", "/.well-known/jwks.json", nil), http.StatusOK)
	}
	if strings.Contains(s.logs.String(), "level=ERROR msg=\"internal error\"") {
		t.Fatalf("the outage produced internal errors:\n%s", s.logs.String())
	}

	proxy.restore(t)
	// The invalidation listener retries with a capped backoff (5 s) and says when it is back.
	if !s.logs.waitFor("invalidation listener reconnected", 15*time.Second) {
		t.Fatalf("the server did not reconnect within 15s of the database coming back:\n%s", s.logs.String())
	}
	// Each failed ping drops a connection that died in the outage; the pool holds at most 16.
	for attempt := 0; s.do(t, "GET", "/readyz", nil).Status != http.StatusOK; attempt++ {
		if attempt == 16 {
			t.Fatal("/readyz still failing once the database is back")
		}
	}
	// Recovered by itself: every path works again, and the state from before the outage is intact.
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(acct.Access)), http.StatusOK)
	r := s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": acct.Refresh})
	expectStatus(t, r, http.StatusOK)
	s.login(t, acct.Email, acct.Password)
	s.register(t)
	expectStatus(t, s.do(t, "POST", "/api/v1/auth/logout", nil, bearer(r.str(t, "access_token"))), http.StatusOK)
}

// TestServeNeedsTheDatabase: a server cannot start without its database (it must migrate first);
// it says so promptly instead of hanging.
func TestServeNeedsTheDatabase(t *testing.T) {
	dbURL, proxy := proxiedDatabase(t)
	proxy.stop(t)
	env := testEnv(t)
	env["GATEHOUSE_DATABASE_URL"] = dbURL
	start := time.Now()
	_, err := launch(env)
	if err == nil {
		t.Fatal("server started without its database")
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("startup failure took %s", took)
	}
	if !strings.Contains(err.Error(), `GATEHOUSE_DATABASE_URL="postgres://gatehouse:xxxxx@`) || !strings.Contains(err.Error(), "cannot connect to PostgreSQL") ||
		strings.Contains(err.Error(), "gatehouse:gatehouse@") {
		t.Fatalf("startup error does not say what failed, or leaks the password: %v", err)
	}
}
