package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse/sqlstore"
)

// execSQL runs a statement on the server's database, as an operator at a SQL prompt would.
func (s *testServer) execSQL(t *testing.T, query string) {
	t.Helper()
	cfg, err := loadConfig(func(k string) string { return s.env[k] })
	if err != nil {
		t.Fatal(err)
	}
	store, err := openStore(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.(*sqlstore.Store).DB().Exec(query); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// createKey makes a key through the API with the given scopes and returns its JSON.
func (s *testServer) createKey(t *testing.T, access string, scopes ...string) map[string]any {
	t.Helper()
	body := map[string]any{"name": "test key"}
	if scopes != nil {
		body["scopes"] = scopes
	}
	r := s.do(t, "POST", "/api/v1/api-keys", body, bearer(access))
	expectStatus(t, r, http.StatusCreated)
	return r.json(t)
}

var keyFormat = regexp.MustCompile(`^ak_[0-9A-Za-z]{32}[0-9A-Za-z]{6}$`)

// TestGuideCreditsBalance is the guide's Python snippet:
//
//	requests.get(".../api/v1/public/credits/balance", headers={"X-API-Key": "ak_your_key"})
func TestGuideCreditsBalance(t *testing.T) {
	s := startServer(t)
	a := s.register(t)
	k := s.createKey(t, a.Access)
	key := k["api_key"].(string)
	if !keyFormat.MatchString(key) {
		t.Fatalf("key %q does not have the documented format", key)
	}
	admin := s.admin(t)
	expectStatus(t, s.do(t, "POST", "/api/v1/admin/users/"+a.ID+"/credits", map[string]any{"amount": 1000, "plan": "pro"}, bearer(admin.Access)), http.StatusOK)

	r := s.do(t, "GET", "/api/v1/public/credits/balance", nil, "X-API-Key: "+key)
	expectStatus(t, r, http.StatusOK)
	b := r.json(t)
	for _, f := range []string{"total_credits", "used_credits", "remaining_credits", "plan", "period_start", "period_end", "usage_percentage"} {
		if _, ok := b[f]; !ok {
			t.Fatalf("balance lacks %s: %s", f, r.Body)
		}
	}
	if b["total_credits"] != float64(1000) || b["remaining_credits"] != float64(1000) || b["plan"] != "pro" {
		t.Fatalf("balance: %s", r.Body)
	}
	// The same key as a Bearer value works too; a key in the query string is ignored.
	expectStatus(t, s.do(t, "GET", "/api/v1/public/credits/balance", nil, bearer(key)), http.StatusOK)
	expectProblem(t, s.do(t, "GET", "/api/v1/public/credits/balance?api_key="+key, nil), http.StatusUnauthorized, "")
	// Listing never shows the secret.
	list := s.do(t, "GET", "/api/v1/api-keys", nil, bearer(a.Access))
	expectStatus(t, list, http.StatusOK)
	if strings.Contains(string(list.Body), key) || strings.Contains(string(list.Body), "api_key\"") {
		t.Fatalf("listing shows a secret: %s", list.Body)
	}
	var keys []map[string]any
	json.Unmarshal(list.Body, &keys)
	if len(keys) != 1 || keys[0]["prefix"] != key[:11] || keys[0]["id"] != k["id"] {
		t.Fatalf("listing: %s", list.Body)
	}
	for _, f := range []string{"id", "name", "prefix", "scopes", "created_at", "last_used_at", "expires_at"} {
		if _, ok := keys[0][f]; !ok {
			t.Fatalf("listing lacks %s", f)
		}
	}
	// A key never lives in the database in plain text.
	if strings.Contains(s.logs.String(), key) {
		t.Fatal("the key reached the log")
	}
}

func TestAPIKeyFormatIsCheckedBeforeLookup(t *testing.T) {
	s := startServer(t)
	a := s.register(t)
	key := s.createKey(t, a.Access)["api_key"].(string)
	// One character changed in the random part: the checksum no longer matches.
	flip := map[byte]byte{'a': 'b', 'b': 'a'}
	bad := []byte(key)
	for i := 3; i < 35; i++ {
		if c, ok := flip[bad[i]]; ok {
			bad[i] = c
			break
		}
		if i == 34 {
			bad[3] = '0'
			if key[3] == '0' {
				bad[3] = '1'
			}
		}
	}
	for _, k := range []string{string(bad), key[:len(key)-1], key + "x", "ak_", "ak_" + strings.Repeat("!", 38), "sk_" + key[3:]} {
		expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, "X-API-Key: "+k), http.StatusUnauthorized, "")
	}
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, "X-API-Key: "+key), http.StatusOK)
	// Both credentials at once: refused, never "either passes".
	expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, "X-API-Key: "+key, bearer("garbage")), http.StatusBadRequest, "ambiguous_credentials")
	expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, "X-API-Key: "+string(bad), bearer(a.Access)), http.StatusBadRequest, "ambiguous_credentials")
}

// TestScopeMatrix checks every scope against every endpoint a key may reach.
func TestScopeMatrix(t *testing.T) {
	s := startServer(t)
	admin := s.admin(t)
	user := s.register(t)
	endpoints := []struct {
		method, path string
		body         any
		scope        string
		ok           int
	}{
		{"GET", "/api/v1/users/me", nil, "profile:read", 200},
		{"GET", "/api/v1/auth/me", nil, "profile:read", 200},
		{"GET", "/api/v1/api-keys", nil, "keys:read", 200},
		{"GET", "/api/v1/public/api-keys", nil, "keys:read", 200},
		{"POST", "/api/v1/api-keys", map[string]any{"name": "child", "scopes": []string{}}, "keys:write", 201},
		{"GET", "/api/v1/public/credits/balance", nil, "credits:read", 200},
		{"POST", "/api/v1/public/credits/usage", map[string]any{"amount": 1}, "credits:write", 200},
		{"POST", "/api/v1/auth/introspect", map[string]any{"token": "garbage"}, "tokens:introspect", 200},
		{"GET", "/api/v1/admin/users", nil, "admin", 200},
	}
	expectStatus(t, s.do(t, "POST", "/api/v1/admin/users/"+admin.ID+"/credits", map[string]any{"amount": 100}, bearer(admin.Access)), http.StatusOK)
	for _, scope := range []string{"profile:read", "credits:read", "credits:write", "keys:read", "keys:write", "tokens:introspect", "admin"} {
		key := s.createKey(t, admin.Access, scope)["api_key"].(string)
		for _, e := range endpoints {
			want := http.StatusForbidden
			if e.scope == scope {
				want = e.ok
			}
			r := s.do(t, e.method, e.path, e.body, "X-API-Key: "+key)
			if r.Status != want {
				t.Errorf("key with %s: %s %s = %d, want %d (%s)", scope, e.method, e.path, r.Status, want, r.Body)
			}
		}
	}
	// Whatever its scopes, a key can never act on sessions or passwords.
	all := s.createKey(t, admin.Access, "profile:read", "credits:read", "credits:write", "keys:read", "keys:write", "tokens:introspect", "admin")["api_key"].(string)
	for _, e := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/api/v1/users/me/password", map[string]string{"current_password": admin.Password, "new_password": "another admin password"}},
		{"GET", "/api/v1/users/me/sessions", nil},
		{"POST", "/api/v1/auth/logout", nil},
		{"PATCH", "/api/v1/users/me", map[string]string{"name": "x"}},
	} {
		expectProblem(t, s.do(t, e.method, e.path, e.body, "X-API-Key: "+all), http.StatusForbidden, "session_required")
	}
	// A user cannot give a key the admin scope; a key cannot mint a key with more than it has.
	expectProblem(t, s.do(t, "POST", "/api/v1/api-keys", map[string]any{"name": "x", "scopes": []string{"admin"}}, bearer(user.Access)), http.StatusForbidden, "scope_not_allowed")
	writer := s.createKey(t, user.Access, "keys:write")["api_key"].(string)
	expectProblem(t, s.do(t, "POST", "/api/v1/api-keys", map[string]any{"name": "x", "scopes": []string{"credits:write"}}, "X-API-Key: "+writer), http.StatusForbidden, "scope_not_allowed")
	expectProblem(t, s.do(t, "POST", "/api/v1/api-keys", map[string]any{"name": "x", "scopes": []string{"root"}}, bearer(user.Access)), http.StatusUnprocessableEntity, "validation_failed")
	expectProblem(t, s.do(t, "POST", "/api/v1/api-keys", map[string]any{"name": "x", "expires_in_days": 0}, bearer(user.Access)), http.StatusUnprocessableEntity, "validation_failed")
	expectProblem(t, s.do(t, "POST", "/api/v1/api-keys", map[string]any{"name": ""}, bearer(user.Access)), http.StatusUnprocessableEntity, "validation_failed")
	r := s.do(t, "POST", "/api/v1/api-keys", map[string]any{"name": "forever", "expires_in_days": 0}, bearer(admin.Access))
	expectStatus(t, r, http.StatusCreated)
	if r.json(t)["expires_at"] != nil {
		t.Fatalf("admin key with expires_in_days 0 expires: %s", r.Body)
	}
	if def := s.createKey(t, user.Access); fmt.Sprint(def["scopes"]) != "[profile:read credits:read]" {
		t.Fatalf("default scopes: %v", def["scopes"])
	}
}

func TestAPIKeyOwnerDemotionAndDisabling(t *testing.T) {
	s := startServer(t)
	root := s.admin(t)
	other := &account{Email: "second-admin@example.com", Password: "second admin pass"}
	s.cli(t, "users", "create", "--email", other.Email, "--password", other.Password, "--role", "admin")
	other.Access, _ = s.login(t, other.Email, other.Password)
	other.ID = s.do(t, "GET", "/api/v1/users/me", nil, bearer(other.Access)).str(t, "id")
	key := s.createKey(t, other.Access, "admin", "profile:read")["api_key"].(string)
	expectStatus(t, s.do(t, "GET", "/api/v1/admin/users", nil, "X-API-Key: "+key), http.StatusOK)

	// Demoted: the admin scope is gone at once, the rest of the key works.
	expectStatus(t, s.do(t, "PATCH", "/api/v1/admin/users/"+other.ID, map[string]any{"role": "user"}, bearer(root.Access)), http.StatusOK)
	expectProblem(t, s.do(t, "GET", "/api/v1/admin/users", nil, "X-API-Key: "+key), http.StatusForbidden, "insufficient_scope")
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, "X-API-Key: "+key), http.StatusOK)
	verify := s.do(t, "POST", "/api/v1/public/api-keys/verify", nil, "X-API-Key: "+key)
	expectStatus(t, verify, http.StatusOK)
	if fmt.Sprint(verify.json(t)["scopes"]) != "[profile:read]" || verify.json(t)["valid"] != true {
		t.Fatalf("verify after demotion: %s", verify.Body)
	}
	// Disabled: the key dies.
	expectStatus(t, s.do(t, "PATCH", "/api/v1/admin/users/"+other.ID, map[string]any{"is_active": false}, bearer(root.Access)), http.StatusOK)
	expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, "X-API-Key: "+key), http.StatusUnauthorized, "")
	expectProblem(t, s.do(t, "POST", "/api/v1/public/api-keys/verify", nil, "X-API-Key: "+key), http.StatusUnauthorized, "")
}

func TestAPIKeyRevocationAndOwnership(t *testing.T) {
	s := startServer(t)
	a := s.register(t)
	b := s.register(t)
	k := s.createKey(t, a.Access, "profile:read", "keys:write")
	key, id := k["api_key"].(string), k["id"].(string)
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, "X-API-Key: "+key), http.StatusOK)
	// Another user's key id: 404, and the key keeps working.
	expectProblem(t, s.do(t, "DELETE", "/api/v1/api-keys/"+id, nil, bearer(b.Access)), http.StatusNotFound, "")
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, "X-API-Key: "+key), http.StatusOK)
	// A key may revoke itself (keys:write); it stops at once.
	expectStatus(t, s.do(t, "DELETE", "/api/v1/public/api-keys/"+id, nil, "X-API-Key: "+key), http.StatusNoContent)
	expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, "X-API-Key: "+key), http.StatusUnauthorized, "")
	expectProblem(t, s.do(t, "DELETE", "/api/v1/api-keys/"+id, nil, bearer(a.Access)), http.StatusNotFound, "")
	list := s.do(t, "GET", "/api/v1/api-keys", nil, bearer(a.Access))
	if strings.Contains(string(list.Body), id) {
		t.Fatalf("revoked key still listed: %s", list.Body)
	}
	// Expired keys are refused.
	k2 := s.createKey(t, a.Access)
	s.execSQL(t, "UPDATE api_keys SET expires_at = 1 WHERE id = '"+k2["id"].(string)+"'")
	expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, "X-API-Key: "+k2["api_key"].(string)), http.StatusUnauthorized, "")
}

func TestIntrospection(t *testing.T) {
	s := startServer(t, "GATEHOUSE_CACHE_TTL=0")
	admin := s.admin(t)
	introspector := s.createKey(t, admin.Access, "tokens:introspect")["api_key"].(string)
	a := s.register(t)
	live := s.createKey(t, a.Access, "profile:read")
	revoked := s.createKey(t, a.Access)
	expectStatus(t, s.do(t, "DELETE", "/api/v1/api-keys/"+revoked["id"].(string), nil, bearer(a.Access)), http.StatusNoContent)
	expired := s.createKey(t, a.Access)
	s.execSQL(t, "UPDATE api_keys SET expires_at = 1 WHERE id = '"+expired["id"].(string)+"'")
	loggedOut, _ := s.login(t, a.Email, a.Password)
	expectStatus(t, s.do(t, "POST", "/api/v1/auth/logout", nil, bearer(loggedOut)), http.StatusOK)

	introspect := func(token string) map[string]any {
		r := s.do(t, "POST", "/api/v1/auth/introspect", map[string]string{"token": token}, "X-API-Key: "+introspector)
		expectStatus(t, r, http.StatusOK)
		return r.json(t)
	}
	at := introspect(a.Access)
	if at["active"] != true || at["sub"] != a.ID || at["token_type"] != "access_token" || at["sid"] == nil || at["exp"] == nil || at["scope"] == nil {
		t.Fatalf("live access token: %v", at)
	}
	kt := introspect(live["api_key"].(string))
	if kt["active"] != true || kt["sub"] != a.ID || kt["token_type"] != "api_key" || kt["scope"] != "profile:read" {
		t.Fatalf("live key: %v", kt)
	}
	for name, tok := range map[string]string{"revoked key": revoked["api_key"].(string), "expired key": expired["api_key"].(string),
		"logged-out token": loggedOut, "garbage": "garbage", "refresh token": a.Refresh, "bad checksum key": "ak_" + strings.Repeat("A", 38)} {
		got := introspect(tok)
		if len(got) != 1 || got["active"] != false {
			t.Errorf("%s: %v, want only active:false", name, got)
		}
	}
	// RFC 7662 form encoding works too.
	r := s.do(t, "POST", "/api/v1/auth/introspect", "token="+a.Access, "Content-Type: application/x-www-form-urlencoded", "X-API-Key: "+introspector)
	expectStatus(t, r, http.StatusOK)
	if r.json(t)["active"] != true {
		t.Fatalf("form introspection: %s", r.Body)
	}
	// Only keys with the scope may ask; a session may not.
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/introspect", map[string]string{"token": a.Access}, bearer(admin.Access)), http.StatusForbidden, "api_key_required")
	expectProblem(t, s.do(t, "POST", "/api/v1/auth/introspect", map[string]string{"token": a.Access}), http.StatusUnauthorized, "")
}

func TestCreditsUsageNeverGoesNegative(t *testing.T) {
	s := startServer(t)
	admin := s.admin(t)
	a := s.register(t)
	key := s.createKey(t, a.Access, "credits:write", "credits:read")["api_key"].(string)
	expectProblem(t, s.do(t, "POST", "/api/v1/public/credits/usage", map[string]any{"amount": 1}, "X-API-Key: "+key), http.StatusPaymentRequired, "insufficient_credits")
	expectStatus(t, s.do(t, "POST", "/api/v1/admin/users/"+a.ID+"/credits", map[string]any{"amount": 10}, bearer(admin.Access)), http.StatusOK)
	const n = 25
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = s.do(t, "POST", "/api/v1/public/credits/usage", map[string]any{"amount": 1}, "X-API-Key: "+key).Status
		}()
	}
	wg.Wait()
	ok := 0
	for _, st := range statuses {
		if st == http.StatusOK {
			ok++
		} else if st != http.StatusPaymentRequired {
			t.Fatalf("status %d", st)
		}
	}
	if ok != 10 {
		t.Fatalf("%d usages succeeded with 10 credits", ok)
	}
	b := s.do(t, "GET", "/api/v1/public/credits/balance", nil, "X-API-Key: "+key).json(t)
	if b["used_credits"] != float64(10) || b["remaining_credits"] != float64(0) || b["usage_percentage"] != float64(100) {
		t.Fatalf("balance: %v", b)
	}
	expectProblem(t, s.do(t, "POST", "/api/v1/public/credits/usage", map[string]any{"amount": -5}, "X-API-Key: "+key), http.StatusUnprocessableEntity, "")
	expectProblem(t, s.do(t, "POST", "/api/v1/admin/users/"+a.ID+"/credits", map[string]any{"amount": 0}, bearer(admin.Access)), http.StatusUnprocessableEntity, "")
	expectProblem(t, s.do(t, "POST", "/api/v1/admin/users/nope/credits", map[string]any{"amount": 5}, bearer(admin.Access)), http.StatusNotFound, "")
}

// TestInitAndKeysCLI drives the built binary as an operator would.
func TestInitAndKeysCLI(t *testing.T) {
	env := testEnv(t)
	bin := gatehouseBinary(t)
	runBin := func(args ...string) (string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Env = []string{"PATH=/usr/bin:/bin"}
		for k, v := range env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		if err != nil {
			err = fmt.Errorf("%v: %s", err, stderr.String())
		}
		return stdout.String(), err
	}
	out, err := runBin("init", "--email", "root@example.com")
	if err != nil {
		t.Fatal(err)
	}
	pw := regexp.MustCompile(`admin password \(shown once\): (\S+)`).FindStringSubmatch(out)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	adminKey := lines[len(lines)-1]
	if pw == nil || !keyFormat.MatchString(adminKey) {
		t.Fatalf("init output: %s", out)
	}
	again, err := runBin("init", "--email", "root@example.com")
	if err != nil || !strings.Contains(again, "already initialised") || keyFormat.MatchString(lastLine(again)) {
		t.Fatalf("second init: %v\n%s", err, again)
	}
	if _, err := runBin("users", "create", "--email", "dev@example.com", "--password", "developer password"); err != nil {
		t.Fatal(err)
	}
	out, err = runBin("keys", "create", "--email", "dev@example.com", "--name", "ci", "--scope", "profile:read", "--scope", "credits:read", "--expires-in-days", "30")
	if err != nil {
		t.Fatal(err)
	}
	devKey := lastLine(out)
	if !keyFormat.MatchString(devKey) {
		t.Fatalf("keys create must print the key alone on the last line: %q", out)
	}
	if _, err := runBin("credits", "grant", "--email", "dev@example.com", "--amount", "500"); err != nil {
		t.Fatal(err)
	}
	list, err := runBin("keys", "list", "--email", "dev@example.com")
	if err != nil || !strings.Contains(list, devKey[:11]) || strings.Contains(list, devKey) {
		t.Fatalf("keys list: %v\n%s", err, list)
	}
	id := strings.Fields(strings.Split(strings.TrimSpace(list), "\n")[1])[0]

	_, s := startProcess(t, env)
	admin := s.do(t, "GET", "/api/v1/admin/users", nil, "X-API-Key: "+adminKey)
	expectStatus(t, admin, http.StatusOK)
	b := s.do(t, "GET", "/api/v1/public/credits/balance", nil, "X-API-Key: "+devKey)
	expectStatus(t, b, http.StatusOK)
	if b.json(t)["total_credits"] != float64(500) {
		t.Fatalf("balance: %s", b.Body)
	}
	s.login(t, "root@example.com", pw[1])

	if _, err := runBin("keys", "revoke", id); err != nil {
		t.Fatal(err)
	}
	if _, err := runBin("keys", "revoke", "no-such-key"); err == nil {
		t.Fatal("revoking an unknown key succeeded")
	}
	if _, err := runBin("keys", "create", "--email", "dev@example.com", "--scope", "admin"); err == nil {
		t.Fatal("a user's key got the admin scope")
	}
	if strings.Contains(s.logs.String(), adminKey) || strings.Contains(s.logs.String(), pw[1]) {
		t.Fatal("a secret reached the server log")
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// TestKeyMintedByKeyNeverOutlivesIt: a leaked key cannot extend its own life through children.
func TestKeyMintedByKeyNeverOutlivesIt(t *testing.T) {
	s := startServer(t)
	admin := s.admin(t)
	r := s.do(t, "POST", "/api/v1/api-keys", map[string]any{"name": "parent", "scopes": []string{"keys:write", "admin"}, "expires_in_days": 2}, bearer(admin.Access))
	expectStatus(t, r, http.StatusCreated)
	parent, parentExp := r.str(t, "api_key"), r.str(t, "expires_at")
	child := s.do(t, "POST", "/api/v1/api-keys", map[string]any{"name": "child", "scopes": []string{}, "expires_in_days": 3650}, "X-API-Key: "+parent)
	expectStatus(t, child, http.StatusCreated)
	if child.str(t, "expires_at") > parentExp {
		t.Fatalf("child expires %s, after its parent %s", child.str(t, "expires_at"), parentExp)
	}
	expectProblem(t, s.do(t, "POST", "/api/v1/api-keys", map[string]any{"name": "forever", "scopes": []string{}, "expires_in_days": 0}, "X-API-Key: "+parent), http.StatusUnprocessableEntity, "validation_failed")
}
