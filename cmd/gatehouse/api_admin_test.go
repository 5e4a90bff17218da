package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

// admin creates an admin through the CLI, as an operator would, and signs it in.
func (s *testServer) admin(t *testing.T) *account {
	t.Helper()
	a := &account{Email: "admin-" + strings.ToLower(t.Name()[:min(len(t.Name()), 20)]) + "@example.com", Password: "admin password 123"}
	a.Email = strings.NewReplacer("/", "-", " ", "-").Replace(a.Email)
	s.cli(t, "users", "create", "--email", a.Email, "--password", a.Password, "--role", "admin", "--name", "Admin")
	a.Access, a.Refresh = s.login(t, a.Email, a.Password)
	me := s.do(t, "GET", "/api/v1/users/me", nil, bearer(a.Access))
	a.ID = me.str(t, "id")
	return a
}

// cli runs a gatehouse command against the server's configuration and returns its stdout.
func (s *testServer) cli(t *testing.T, args ...string) string {
	t.Helper()
	out, err := s.cliErr(args...)
	if err != nil {
		t.Fatalf("gatehouse %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func (s *testServer) cliErr(args ...string) (string, error) {
	var stdout strings.Builder
	err := run(context.Background(), args, func(k string) string { return s.env[k] }, &stdout, io.Discard)
	return stdout.String(), err
}

func TestAdminUsers(t *testing.T) {
	s := startServer(t)
	admin := s.admin(t)
	var users []*account
	for range 5 {
		users = append(users, s.register(t))
	}
	// Non-admins get 403; anonymous callers 401.
	expectProblem(t, s.do(t, "GET", "/api/v1/admin/users", nil, bearer(users[0].Access)), http.StatusForbidden, "forbidden")
	expectProblem(t, s.do(t, "PATCH", "/api/v1/admin/users/"+users[1].ID, map[string]any{"role": "admin"}, bearer(users[0].Access)), http.StatusForbidden, "forbidden")
	expectProblem(t, s.do(t, "GET", "/api/v1/admin/users", nil), http.StatusUnauthorized, "")

	// Cursor pagination walks every user exactly once.
	seen := map[string]bool{}
	cursor := ""
	pages := 0
	for {
		path := "/api/v1/admin/users?limit=2"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		r := s.do(t, "GET", path, nil, bearer(admin.Access))
		expectStatus(t, r, http.StatusOK)
		m := r.json(t)
		for _, it := range m["items"].([]any) {
			id := it.(map[string]any)["id"].(string)
			if seen[id] {
				t.Fatalf("user %s listed twice", id)
			}
			seen[id] = true
		}
		pages++
		next, _ := m["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	if len(seen) != 6 || pages != 3 {
		t.Fatalf("saw %d users on %d pages, want 6 on 3", len(seen), pages)
	}
	expectProblem(t, s.do(t, "GET", "/api/v1/admin/users?limit=0", nil, bearer(admin.Access)), http.StatusUnprocessableEntity, "")
	expectProblem(t, s.do(t, "GET", "/api/v1/admin/users?limit=abc", nil, bearer(admin.Access)), http.StatusUnprocessableEntity, "")

	// Promote: the new role shows at once, in the response, /users/me, and new tokens.
	r := s.do(t, "PATCH", "/api/v1/admin/users/"+users[0].ID, map[string]any{"role": "admin"}, bearer(admin.Access))
	expectStatus(t, r, http.StatusOK)
	if r.str(t, "role") != "admin" {
		t.Fatalf("promote: %s", r.Body)
	}
	if me := s.do(t, "GET", "/api/v1/users/me", nil, bearer(users[0].Access)); me.str(t, "role") != "admin" {
		t.Fatalf("me after promotion: %s", me.Body)
	}
	expectStatus(t, s.do(t, "GET", "/api/v1/admin/users", nil, bearer(users[0].Access)), http.StatusOK)
	// Demote: admin access ends at once, even with a token that still says admin.
	access, _ := s.login(t, users[0].Email, users[0].Password)
	expectStatus(t, s.do(t, "PATCH", "/api/v1/admin/users/"+users[0].ID, map[string]any{"role": "user"}, bearer(admin.Access)), http.StatusOK)
	expectProblem(t, s.do(t, "GET", "/api/v1/admin/users", nil, bearer(access)), http.StatusForbidden, "forbidden")

	expectProblem(t, s.do(t, "PATCH", "/api/v1/admin/users/"+users[1].ID, map[string]any{"role": "root"}, bearer(admin.Access)), http.StatusUnprocessableEntity, "validation_failed")
	expectProblem(t, s.do(t, "PATCH", "/api/v1/admin/users/nope", map[string]any{"role": "user"}, bearer(admin.Access)), http.StatusNotFound, "")
}

func TestCLIUsers(t *testing.T) {
	// The CLI is another process: with the principal cache off, its changes show at once.
	s := startServer(t, "GATEHOUSE_CACHE_TTL=0")
	out := s.cli(t, "users", "create", "--email", "Ops@Example.com", "--password", "operator password", "--name", "Ops")
	if !strings.Contains(out, "ops@example.com") {
		t.Fatalf("create output: %q", out)
	}
	access, _ := s.login(t, "ops@example.com", "operator password")
	expectProblem(t, s.do(t, "GET", "/api/v1/admin/users", nil, bearer(access)), http.StatusForbidden, "")
	s.cli(t, "users", "set-role", "--email", "ops@example.com", "--role", "admin")
	expectStatus(t, s.do(t, "GET", "/api/v1/admin/users", nil, bearer(access)), http.StatusOK)

	for _, bad := range [][]string{
		{"users", "create", "--email", "ops@example.com", "--password", "operator password"}, // duplicate
		{"users", "create", "--email", "x@example.com", "--password", "short"},
		{"users", "create", "--email", "x@example.com"},
		{"users", "set-role", "--email", "ghost@example.com", "--role", "admin"},
		{"users", "set-role", "--email", "ops@example.com", "--role", "root"},
		{"users", "frobnicate", "--email", "a@example.com"},
		{"nonsense"},
	} {
		if _, err := s.cliErr(bad...); err == nil {
			t.Errorf("gatehouse %s succeeded; want an error", strings.Join(bad, " "))
		} else if strings.Contains(err.Error(), "\n") {
			t.Errorf("error is not one line: %q", err)
		}
	}
}

func TestBadConfigurationNamesTheVariable(t *testing.T) {
	for _, kv := range []string{
		"GATEHOUSE_ACCESS_TOKEN_TTL=fifteen",
		"GATEHOUSE_SIGNING_ALG=HS256",
		"GATEHOUSE_PASSWORD_MIN_LENGTH=4",
		"GATEHOUSE_REQUIRE_EMAIL_VERIFICATION=maybe",
		"GATEHOUSE_TRUSTED_PROXIES=not-a-cidr",
		"GATEHOUSE_PUBLIC_URL=ftp://x",
		"GATEHOUSE_ADDR=nonsense",
		"GATEHOUSE_RATE_LIMITS=sometimes",
	} {
		name, _, _ := strings.Cut(kv, "=")
		env := testEnv(t)
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
		err := run(context.Background(), []string{"serve"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: error %v does not name the variable", kv, err)
		}
	}
}
