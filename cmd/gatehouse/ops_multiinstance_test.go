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
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// These tests run two gatehouse servers on one PostgreSQL database, as two instances behind a load
// balancer would, and check each promise of docs/deploy.md. They always use PostgreSQL, whatever
// GATEHOUSE_TEST_DB says: multi-instance behaviour is what PostgreSQL is for.

// clusterEnv is the shared configuration of the instances of one cluster. Instances behind one
// load balancer share their public URL: it is every token's issuer and audience.
func clusterEnv(t *testing.T) map[string]string {
	env := map[string]string{
		"GATEHOUSE_ADDR":        "127.0.0.1:0",
		"GATEHOUSE_DATA_DIR":    t.TempDir(),
		"GATEHOUSE_LOG_LEVEL":   "debug",
		"GATEHOUSE_PUBLIC_URL":  "https://auth.example.com",
		"GATEHOUSE_RATE_LIMITS": "off",
	}
	for k, v := range postgresEnv(t) {
		env[k] = v
	}
	return env
}

// with copies env with overrides ("NAME=value"), for an instance that differs from its peers.
func with(env map[string]string, overrides ...string) map[string]string {
	out := make(map[string]string, len(env)+len(overrides))
	for k, v := range env {
		out[k] = v
	}
	for _, kv := range overrides {
		k, v, _ := strings.Cut(kv, "=")
		out[k] = v
	}
	return out
}

// launch starts gatehouse serve like startServerEnv, but reports a failure instead of failing the
// test, so that it may run on any goroutine. The caller registers s.stop for cleanup.
func launch(env map[string]string) (*testServer, error) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	s := &testServer{env: env, logs: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	go func() {
		err := run(ctx, []string{"serve"}, func(k string) string { return env[k] }, pw, s.logs)
		pw.CloseWithError(fmt.Errorf("server exited: %v", err))
		s.done <- err
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		return nil, fmt.Errorf("server did not start: %v\n%s", err, s.logs.String())
	}
	go io.Copy(io.Discard, pr)
	s.URL = strings.TrimSpace(strings.TrimPrefix(line, "gatehouse listening on "))
	return s, nil
}

// startCluster starts one instance per env, all at the same moment.
func startCluster(t *testing.T, envs ...map[string]string) []*testServer {
	t.Helper()
	servers := make([]*testServer, len(envs))
	errs := make([]error, len(envs))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, env := range envs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			servers[i], errs[i] = launch(env)
		}()
	}
	close(start)
	wg.Wait()
	for _, s := range servers {
		if s != nil {
			t.Cleanup(s.stop)
		}
	}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("instance %d: %v", i, err)
		}
	}
	return servers
}

// post is a request that goroutines can send: it reports transport errors as status 0 instead
// of failing the test from the wrong goroutine.
func (s *testServer) post(path string, body any) *response {
	js, _ := json.Marshal(body)
	resp, err := httpClient.Post(s.URL+path, "application/json", bytes.NewReader(js))
	if err != nil {
		return &response{Body: []byte(err.Error())}
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return &response{Status: resp.StatusCode, Header: resp.Header, Body: data}
}

// TestClusterStartsTogether starts two instances at the same moment on an empty database: both
// migrate (one waits for the other on the advisory lock), both serve, and both see one state.
func TestClusterStartsTogether(t *testing.T) {
	env := clusterEnv(t)
	servers := startCluster(t, env, env)
	a, b := servers[0], servers[1]
	for _, s := range servers {
		expectStatus(t, s.do(t, "GET", "/readyz", nil), http.StatusOK)
	}
	// Both instances agree on the signing keys: the first one created a key, the other used it.
	if ka, kb := jwksKids(t, a), jwksKids(t, b); len(ka) != 1 || fmt.Sprint(ka) != fmt.Sprint(kb) {
		t.Fatalf("instances publish different keys: %v and %v", ka, kb)
	}
	acct := a.register(t)
	access, _ := b.login(t, acct.Email, acct.Password)
	expectStatus(t, a.do(t, "GET", "/api/v1/users/me", nil, bearer(access)), http.StatusOK)
	expectStatus(t, b.do(t, "GET", "/api/v1/users/me", nil, bearer(acct.Access)), http.StatusOK)
	expectProblem(t, b.do(t, "POST", "/api/v1/auth/register",
		map[string]string{"email": acct.Email, "password": acct.Password, "name": "Again"}), http.StatusConflict, "")
}

// TestClusterSigningKeyRotation rotates the key with the CLI: both instances publish it at once,
// both sign with it within 10 seconds, and each accepts the other's tokens, old key and new.
func TestClusterSigningKeyRotation(t *testing.T) {
	env := clusterEnv(t)
	servers := startCluster(t, env, env)
	a, b := servers[0], servers[1]
	acct := a.register(t)
	oldKid := kidOf(t, acct.Access)

	out := a.cli(t, "signing-keys", "rotate")
	var newKid string
	for _, f := range strings.Fields(out) {
		if f != oldKid && len(f) > 10 && !strings.ContainsAny(f, "();") {
			newKid = f
			break
		}
	}
	// The JWKS reads the database behind a cache of at most a second, and nothing here has asked
	// for it before: both keys are published at once.
	for _, s := range servers {
		if kids := jwksKids(t, s); !kids[newKid] || !kids[oldKid] {
			t.Fatalf("%s publishes %v after rotating to %s (rotate said %q)", s.URL, kids, newKid, out)
		}
	}

	// Each instance signs with the new key within the contract's 10 seconds of the rotation: it
	// says so when it reloads its keys. Refreshing is the cheapest way to get a fresh access token
	// from it.
	deadline := time.Now().Add(10 * time.Second)
	signedBy := func(s *testServer) string {
		t.Helper()
		if !s.logs.waitFor(`msg="token: signing with a new key" kid=`+newKid, time.Until(deadline)) {
			t.Fatalf("%s did not take up %s within ten seconds of the rotation", s.URL, newKid)
		}
		r := s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": acct.Refresh})
		expectStatus(t, r, http.StatusOK)
		acct.Refresh = r.str(t, "refresh_token")
		access := r.str(t, "access_token")
		if kid := kidOf(t, access); kid != newKid {
			t.Fatalf("%s signs with %s after taking up %s", s.URL, kid, newKid)
		}
		return access
	}
	fromA, fromB := signedBy(a), signedBy(b)
	for _, s := range servers {
		for _, tok := range []string{acct.Access, fromA, fromB} {
			expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(tok)), http.StatusOK)
		}
	}
}

// TestClusterRevocationWithoutCache: instance B runs with its principal cache off, so a logout,
// a revoked session, a revoked API key or a disabled user on instance A must be refused by B on
// the very next request.
func TestClusterRevocationWithoutCache(t *testing.T) {
	env := clusterEnv(t)
	servers := startCluster(t, env, with(env, "GATEHOUSE_CACHE_TTL=0"))
	a, b := servers[0], servers[1]
	admin := a.admin(t)

	// Logout on A.
	acct := a.register(t)
	expectStatus(t, b.do(t, "GET", "/api/v1/users/me", nil, bearer(acct.Access)), http.StatusOK)
	expectStatus(t, a.do(t, "POST", "/api/v1/auth/logout", nil, bearer(acct.Access)), http.StatusOK)
	expectProblem(t, b.do(t, "GET", "/api/v1/users/me", nil, bearer(acct.Access)), http.StatusUnauthorized, "")
	expectProblem(t, b.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": acct.Refresh}), http.StatusUnauthorized, "")

	// One session revoked from another on A.
	keep, _ := a.login(t, acct.Email, acct.Password)
	other, otherRefresh := a.login(t, acct.Email, acct.Password)
	expectStatus(t, b.do(t, "GET", "/api/v1/users/me", nil, bearer(other)), http.StatusOK)
	sid := sessionIDOf(t, other)
	expectStatus(t, a.do(t, "DELETE", "/api/v1/users/me/sessions/"+sid, nil, bearer(keep)), http.StatusNoContent)
	expectProblem(t, b.do(t, "GET", "/api/v1/users/me", nil, bearer(other)), http.StatusUnauthorized, "")
	expectProblem(t, b.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": otherRefresh}), http.StatusUnauthorized, "")
	expectStatus(t, b.do(t, "GET", "/api/v1/users/me", nil, bearer(keep)), http.StatusOK)

	// API key revoked on A.
	k := a.createKey(t, keep, "profile:read")
	apiKey := "X-API-Key: " + k["api_key"].(string)
	expectStatus(t, b.do(t, "GET", "/api/v1/users/me", nil, apiKey), http.StatusOK)
	expectStatus(t, a.do(t, "DELETE", "/api/v1/api-keys/"+k["id"].(string), nil, bearer(keep)), http.StatusNoContent)
	expectProblem(t, b.do(t, "GET", "/api/v1/users/me", nil, apiKey), http.StatusUnauthorized, "")

	// User disabled on A.
	expectStatus(t, a.do(t, "PATCH", "/api/v1/admin/users/"+acct.ID, map[string]any{"is_active": false}, bearer(admin.Access)), http.StatusOK)
	expectProblem(t, b.do(t, "GET", "/api/v1/users/me", nil, bearer(keep)), http.StatusUnauthorized, "")
	expectProblem(t, b.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": acct.Email, "password": acct.Password}), http.StatusForbidden, "account_disabled")
}

// TestClusterRevocationIsPushed: instance B caches sessions for the longest TTL allowed (10s), so
// only the NOTIFY that instance A's revocation sends at commit can make B refuse the token within
// the promised second.
func TestClusterRevocationIsPushed(t *testing.T) {
	env := clusterEnv(t)
	servers := startCluster(t, env, with(env, "GATEHOUSE_CACHE_TTL=10s"))
	a, b := servers[0], servers[1]
	admin := a.admin(t)

	// within waits for B to drop its caches on the notification of change ("table:id"), then
	// checks B honours the change at once.
	within := func(what, change string, check func() bool) {
		t.Helper()
		invalidatedWithinASecond(t, b, what, change)
		if !check() {
			t.Fatalf("%s on instance A: B dropped its caches but does not honour it", what)
		}
	}
	refused := func(access string) func() bool {
		return func() bool {
			return b.do(t, "GET", "/api/v1/users/me", nil, bearer(access)).Status == http.StatusUnauthorized
		}
	}
	warm := func(access string) {
		t.Helper()
		for range 2 {
			expectStatus(t, b.do(t, "GET", "/api/v1/users/me", nil, bearer(access)), http.StatusOK)
		}
	}

	acct := a.register(t)
	warm(acct.Access)
	expectStatus(t, a.do(t, "POST", "/api/v1/auth/logout", nil, bearer(acct.Access)), http.StatusOK)
	within("logout", "sessions:"+sessionIDOf(t, acct.Access), refused(acct.Access))

	keep, _ := a.login(t, acct.Email, acct.Password)
	other, _ := a.login(t, acct.Email, acct.Password)
	warm(other)
	expectStatus(t, a.do(t, "DELETE", "/api/v1/users/me/sessions/"+sessionIDOf(t, other), nil, bearer(keep)), http.StatusNoContent)
	within("session revocation", "sessions:"+sessionIDOf(t, other), refused(other))

	k := a.createKey(t, keep, "profile:read")
	apiKey := "X-API-Key: " + k["api_key"].(string)
	for range 2 {
		expectStatus(t, b.do(t, "GET", "/api/v1/users/me", nil, apiKey), http.StatusOK)
	}
	expectStatus(t, a.do(t, "DELETE", "/api/v1/api-keys/"+k["id"].(string), nil, bearer(keep)), http.StatusNoContent)
	within("API key revocation", "api_keys:"+k["id"].(string), func() bool {
		return b.do(t, "GET", "/api/v1/users/me", nil, apiKey).Status == http.StatusUnauthorized
	})

	warm(keep)
	expectStatus(t, a.do(t, "PATCH", "/api/v1/admin/users/"+acct.ID, map[string]any{"is_active": false}, bearer(admin.Access)), http.StatusOK)
	within("disabling the user", "users:"+acct.ID, refused(keep))

	// The CLI is another process with no cache to invalidate: its change reaches the servers the
	// same way, through the database. A role change revokes nothing: only the user's own
	// notification can make B drop the user it holds.
	admin2 := b.register(t)
	warm(admin2.Access)
	a.cli(t, "users", "set-role", "--email", admin2.Email, "--role", "admin")
	within("a role change made by the CLI", "users:"+admin2.ID, func() bool {
		r := b.do(t, "GET", "/api/v1/users/me", nil, bearer(admin2.Access))
		return r.Status == http.StatusOK && r.str(t, "role") == "admin"
	})
}

// TestClusterRevocationDefaultTTL: with the default configuration too, B is told of A's logout at
// commit and honours it within a second.
func TestClusterRevocationDefaultTTL(t *testing.T) {
	env := clusterEnv(t)
	servers := startCluster(t, env, env)
	a, b := servers[0], servers[1]
	acct := a.register(t)
	expectStatus(t, b.do(t, "GET", "/api/v1/users/me", nil, bearer(acct.Access)), http.StatusOK)
	expectStatus(t, a.do(t, "POST", "/api/v1/auth/logout", nil, bearer(acct.Access)), http.StatusOK)
	invalidatedWithinASecond(t, b, "logout", "sessions:"+sessionIDOf(t, acct.Access))
	expectProblem(t, b.do(t, "GET", "/api/v1/users/me", nil, bearer(acct.Access)), http.StatusUnauthorized, "")
}

// invalidatedWithinASecond waits for s to log that it dropped its caches on the notification of
// change ("table:id"): the contract's promise is one second.
func invalidatedWithinASecond(t *testing.T, s *testServer, what, change string) {
	t.Helper()
	if !s.logs.waitFor(`msg="caches invalidated" change=`+change, time.Second) {
		t.Fatalf("%s: %s did not drop its caches on %s within a second", what, s.URL, change)
	}
}

func sessionIDOf(t *testing.T, access string) string {
	t.Helper()
	var claims map[string]any
	decodeSegment(t, strings.Split(access, ".")[1], &claims)
	sid, _ := claims["sid"].(string)
	if sid == "" {
		t.Fatalf("access token without sid: %v", claims)
	}
	return sid
}

// refreshAcross sends n concurrent refreshes of one token, alternating between the instances.
func refreshAcross(servers []*testServer, token string, n int) []*response {
	return concurrently(n, func(i int) *response {
		return servers[i%len(servers)].post("/api/v1/auth/refresh", map[string]string{"refresh_token": token})
	})
}

// TestClusterRefreshReuseDetected: a refresh token spent on A and presented again on B is theft;
// the whole session dies on both.
func TestClusterRefreshReuseDetected(t *testing.T) {
	env := with(clusterEnv(t), "GATEHOUSE_REFRESH_REUSE_INTERVAL=0")
	servers := startCluster(t, env, env)
	a, b := servers[0], servers[1]
	acct := a.register(t)
	r := a.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": acct.Refresh})
	expectStatus(t, r, http.StatusOK)
	successor := r.str(t, "refresh_token")
	expectProblem(t, b.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": acct.Refresh}), http.StatusUnauthorized, "")
	expectProblem(t, a.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": successor}), http.StatusUnauthorized, "")
	expectProblem(t, b.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": successor}), http.StatusUnauthorized, "")
}

// TestClusterConcurrentRefreshNeverForks sends 20 refreshes of one token at once, split over two
// instances. Without a retry window exactly one wins; the others are reuse, which kills the session.
func TestClusterConcurrentRefreshNeverForks(t *testing.T) {
	env := with(clusterEnv(t), "GATEHOUSE_REFRESH_REUSE_INTERVAL=0")
	servers := startCluster(t, env, env)
	for round := range 3 {
		acct := servers[0].register(t)
		var winners []*response
		for _, r := range refreshAcross(servers, acct.Refresh, 20) {
			switch r.Status {
			case http.StatusOK:
				winners = append(winners, r)
			case http.StatusUnauthorized:
			default:
				t.Fatalf("round %d: status %d: %s", round, r.Status, r.Body)
			}
		}
		if len(winners) != 1 {
			t.Fatalf("round %d: %d of 20 concurrent refreshes across two instances succeeded, want exactly 1", round, len(winners))
		}
		// The losers were reuse: the session is revoked, successor and all.
		successor := winners[0].str(t, "refresh_token")
		expectProblem(t, servers[round%2].do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": successor}), http.StatusUnauthorized, "")
	}
}

// TestClusterConcurrentRefreshAgree: within the retry window, 20 concurrent refreshes of one token
// across two instances all succeed with the same successor, which then works.
func TestClusterConcurrentRefreshAgree(t *testing.T) {
	env := clusterEnv(t)
	servers := startCluster(t, env, env)
	for round := range 3 {
		acct := servers[1].register(t)
		successors := map[string]int{}
		for _, r := range refreshAcross(servers, acct.Refresh, 20) {
			if r.Status != http.StatusOK {
				t.Fatalf("round %d: status %d: %s", round, r.Status, r.Body)
			}
			successors[r.str(t, "refresh_token")]++
		}
		if len(successors) != 1 {
			t.Fatalf("round %d: concurrent refreshes returned %d different successors, want 1", round, len(successors))
		}
		for successor := range successors {
			expectStatus(t, servers[round%2].do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": successor}), http.StatusOK)
		}
	}
}

// TestClusterRateLimitsShared: failed logins for one account spread over two instances share one
// budget (the contract's 10 per 15 minutes), so adding instances gives an attacker nothing.
func TestClusterRateLimitsShared(t *testing.T) {
	env := with(clusterEnv(t), "GATEHOUSE_RATE_LIMITS=on", "GATEHOUSE_HASH_MAX_WAIT=60s", "GATEHOUSE_HASH_QUEUE=1000")
	servers := startCluster(t, env, env)
	acct := servers[0].register(t)
	const n = 30
	statuses := make([]int, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			statuses[i] = servers[i%2].post("/api/v1/auth/login", map[string]string{"email": acct.Email, "password": "not the password"}).Status
		}()
	}
	close(start)
	wg.Wait()
	count := map[int]int{}
	for _, st := range statuses {
		count[st]++
	}
	if count[http.StatusUnauthorized] != 10 || count[http.StatusTooManyRequests] != n-10 {
		t.Fatalf("statuses %v over two instances: want exactly 10 evaluated (401) and %d refused (429)", count, n-10)
	}
}

// TestClusterInstancesNeedOneEncryptionKey: signing keys are sealed by default, with the data
// directory's key file when GATEHOUSE_ENCRYPTION_KEY is unset (the first instance says so). A
// second instance with a directory of its own cannot open them and refuses to start with one
// line naming GATEHOUSE_ENCRYPTION_KEY; given the first one's key in that variable, instances
// with data directories of their own all serve and accept each other's tokens.
func TestClusterInstancesNeedOneEncryptionKey(t *testing.T) {
	env := clusterEnv(t)
	first := startServerEnv(t, env)
	acct := first.register(t)
	if !strings.Contains(first.logs.String(), "GATEHOUSE_ENCRYPTION_KEY is unset") {
		t.Errorf("no warning that the instances need one key:\n%s", first.logs.String())
	}
	err := refusedStart(t, with(env, "GATEHOUSE_DATA_DIR="+t.TempDir()))
	if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, "set GATEHOUSE_ENCRYPTION_KEY") {
		t.Fatalf("want one line naming GATEHOUSE_ENCRYPTION_KEY, got: %v", err)
	}
	first.stop()

	file, err := os.ReadFile(filepath.Join(env["GATEHOUSE_DATA_DIR"], "outbox.key"))
	if err != nil {
		t.Fatal(err)
	}
	shared := with(env, "GATEHOUSE_ENCRYPTION_KEY="+strings.TrimSpace(string(file)))
	servers := startCluster(t, with(shared, "GATEHOUSE_DATA_DIR="+t.TempDir()), with(shared, "GATEHOUSE_DATA_DIR="+t.TempDir()))
	a, b := servers[0], servers[1]
	access, _ := b.login(t, acct.Email, acct.Password)
	expectStatus(t, a.do(t, "GET", "/api/v1/users/me", nil, bearer(access)), http.StatusOK)
	expectStatus(t, b.do(t, "GET", "/api/v1/users/me", nil, bearer(acct.Access)), http.StatusOK)
}
