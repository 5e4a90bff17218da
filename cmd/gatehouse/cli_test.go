package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/postgres/pgtest"
)

// runCLI runs gatehouse in-process with env, whose variable names it can list as main's can.
func runCLI(env map[string]string, args ...string) (stdout, stderr string, err error) {
	var out, errOut strings.Builder
	var names []string
	for k := range env {
		names = append(names, k)
	}
	err = runWith(context.Background(), args, environment{get: func(k string) string { return env[k] }, names: names}, &out, &errOut)
	return out.String(), errOut.String(), err
}

// commandPaths lists every command of the CLI, as argument lists.
func commandPaths(t *testing.T) [][]string {
	root := (&cli{ctx: context.Background(), env: environment{get: func(string) string { return "" }}, stdout: io.Discard, stderr: io.Discard}).rootCommand()
	paths := [][]string{{}, {"help"}, {"completion"}}
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		paths = append(paths, []string{"completion", shell})
	}
	var walk func(cmd *cobra.Command, path []string)
	walk = func(cmd *cobra.Command, path []string) {
		for _, sub := range cmd.Commands() {
			p := append(slices.Clone(path), sub.Name())
			paths = append(paths, p)
			walk(sub, p)
		}
	}
	walk(root, nil)
	if len(paths) < 25 {
		t.Fatalf("only %d commands found: %v", len(paths), paths)
	}
	return paths
}

// TestHelpOnEveryCommand: --help and -h print the command's usage and succeed, and never open or
// create a database.
func TestHelpOnEveryCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	env := map[string]string{"GATEHOUSE_DATA_DIR": dir}
	for _, path := range commandPaths(t) {
		for _, flag := range []string{"--help", "-h"} {
			args := append(slices.Clone(path), flag)
			stdout, stderr, err := runCLI(env, args...)
			if err != nil {
				t.Errorf("gatehouse %s: %v", strings.Join(args, " "), err)
				continue
			}
			if !strings.Contains(strings.ToLower(stdout), "usage") || !strings.Contains(stdout, strings.Join(append([]string{"gatehouse"}, path...), " ")) {
				t.Errorf("gatehouse %s printed no usage of its own:\n%s", strings.Join(args, " "), stdout)
			}
			if stderr != "" {
				t.Errorf("gatehouse %s wrote to stderr: %s", strings.Join(args, " "), stderr)
			}
		}
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("asking for help created %s (%v)", dir, err)
	}
}

func TestVersionAndCompletion(t *testing.T) {
	bin := gatehouseBinary(t)
	for _, args := range [][]string{{"--version"}, {"version"}} {
		out, err := exec.Command(bin, args...).Output()
		if err != nil || strings.TrimSpace(string(out)) != "gatehouse dev" {
			t.Errorf("gatehouse %s: %q, %v", args[0], out, err)
		}
	}
	for _, shell := range []string{"bash", "zsh", "fish"} {
		out, err := exec.Command(bin, "completion", shell).Output()
		if err != nil || !strings.Contains(string(out), "gatehouse") || len(out) < 1000 {
			t.Errorf("completion %s: %v, %d bytes", shell, err, len(out))
		}
	}
	// Flag values complete too: the scopes of keys create.
	var out strings.Builder
	err := run(context.Background(), []string{"__complete", "keys", "create", "--scope", ""}, func(string) string { return "" }, &out, io.Discard)
	if err != nil || !strings.Contains(out.String(), "tokens:introspect") {
		t.Errorf("scope completion: %v\n%s", err, out.String())
	}
}

// databaseCommands are the commands that need an existing database.
var databaseCommands = [][]string{
	{"users", "list"},
	{"users", "create", "--email", "a@example.com", "--password", "long enough password"},
	{"users", "set-role", "--email", "a@example.com", "--role", "admin"},
	{"users", "disable", "--email", "a@example.com"},
	{"users", "enable", "--email", "a@example.com"},
	{"keys", "create", "--email", "a@example.com"},
	{"keys", "list", "--email", "a@example.com"},
	{"keys", "revoke", "ak_12345678"},
	{"sessions", "list", "--email", "a@example.com"},
	{"sessions", "revoke", "--email", "a@example.com"},
	{"audit", "tail"},
	{"credits", "grant", "--email", "a@example.com", "--amount", "5"},
	{"signing-keys", "rotate"},
	{"clients", "create", "--name", "app", "--redirect-uri", "https://app.example.com/cb"},
	{"clients", "list"},
	{"clients", "revoke", "some-client"},
	{"resources", "add", "--uri", "https://mcp.example.com/mcp", "--name", "MCP"},
	{"resources", "list"},
	{"resources", "remove", "https://mcp.example.com/mcp"},
	{"grants", "list", "--user", "a@example.com"},
	{"grants", "revoke", "some-grant"},
}

// TestCommandsRefuseWithoutDatabase: run where there is no database, every command but serve,
// migrate and init refuses, says where it looked, and creates nothing.
func TestCommandsRefuseWithoutDatabase(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "data")
	file := filepath.Join(base, "elsewhere", "gatehouse.db")
	for _, args := range databaseCommands {
		_, stderr, err := runCLI(map[string]string{"GATEHOUSE_DATA_DIR": dir}, args...)
		want := "no Gatehouse database at " + dir + " (set GATEHOUSE_DATA_DIR or run from the server's directory"
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("gatehouse %s: %v; want %q", strings.Join(args, " "), err, want)
		}
		if stderr != "" {
			t.Errorf("gatehouse %s logged: %s", strings.Join(args, " "), stderr)
		}
		_, _, err = runCLI(map[string]string{"GATEHOUSE_DATA_DIR": dir, "GATEHOUSE_DATABASE_URL": "sqlite:" + file}, args...)
		if err == nil || !strings.Contains(err.Error(), "no Gatehouse database at "+file+" (set GATEHOUSE_DATABASE_URL") {
			t.Errorf("gatehouse %s with sqlite:%s: %v", strings.Join(args, " "), file, err)
		}
	}
	entries, err := os.ReadDir(base)
	if err != nil || len(entries) != 0 {
		t.Fatalf("the refused commands created %v (%v)", entries, err)
	}
	// migrate creates it; then the same commands find it.
	if _, _, err := runCLI(map[string]string{"GATEHOUSE_DATA_DIR": dir}, "migrate"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCLI(map[string]string{"GATEHOUSE_DATA_DIR": dir}, "users", "list"); err != nil {
		t.Fatal(err)
	}
}

// TestCommandsRefuseAnEmptyPostgresDatabase: on PostgreSQL "exists" means reachable with the
// schema migrated; the error names the database without its password.
func TestCommandsRefuseAnEmptyPostgresDatabase(t *testing.T) {
	url := pgtest.NewDatabase(t)
	env := map[string]string{"GATEHOUSE_DATABASE_URL": url}
	password := ""
	if i := strings.Index(url, "://"); i >= 0 {
		if userinfo, _, ok := strings.Cut(url[i+3:], "@"); ok {
			_, password, _ = strings.Cut(userinfo, ":")
		}
	}
	for _, args := range databaseCommands {
		_, _, err := runCLI(env, args...)
		if err == nil || !strings.Contains(err.Error(), "no Gatehouse database at postgres") || !strings.Contains(err.Error(), "no Gatehouse schema") ||
			(password != "" && strings.Contains(err.Error(), ":"+password+"@")) {
			t.Errorf("gatehouse %s: %v", strings.Join(args, " "), err)
		}
	}
	if _, _, err := runCLI(env, "migrate"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCLI(env, "users", "list"); err != nil {
		t.Fatal(err)
	}
}

// TestCLIErrorWording: one message, once, in the CLI's words.
func TestCLIErrorWording(t *testing.T) {
	s := startServer(t, "GATEHOUSE_CACHE_TTL=0")
	dev := s.register(t)
	cli := func(args ...string) (string, error) {
		stdout, stderr, err := runCLI(s.env, args...)
		if stderr != "" {
			t.Errorf("gatehouse %s logged: %s", strings.Join(args, " "), stderr)
		}
		return stdout, err
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"keys", "create", "--email", dev.Email, "--expires-in-days", "5000"}, "keys create: --expires-in-days must be from 0 to 3650"},
		{[]string{"keys", "create", "--email", dev.Email, "--scope", "admin"}, "keys create: --scope admin: " + dev.Email + " is not an admin"},
		{[]string{"keys", "create", "--email", dev.Email, "--scope", "profile:read,nope"}, `--scope nope: unknown scope (scopes: profile:read`},
		{[]string{"keys", "create", "--email", dev.Email, "--expires-in-days", "0"}, "--expires-in-days 0: " + dev.Email + " is not an admin"},
		{[]string{"keys", "create", "--email", "ghost@example.com"}, "no user ghost@example.com in database "},
		{[]string{"keys", "create"}, "keys create: --email is required"},
		{[]string{"keys", "create", "--emial", dev.Email}, "keys create: unknown flag: --emial; did you mean --email?"},
		{[]string{"keys", "create", "-email", dev.Email}, "long flags take two dashes: --email"},
		{[]string{"keys", "revoke"}, "keys revoke: want one key ID or prefix"},
		{[]string{"keys", "revoke", "ak_00000000"}, `no key "ak_00000000" in database`},
		{[]string{"keys", "frobnicate"}, `keys: unknown subcommand "frobnicate"`},
		{[]string{"users", "creat"}, `users: unknown subcommand "creat"; did you mean "create"?`},
		{[]string{"users", "create", "--email", dev.Email, "--password", "long enough password"}, dev.Email + " already has an account"},
		{[]string{"users", "create", "--email", "x@example.com", "--password", "short"}, "users create: --password: password must be at least 8 characters"},
		{[]string{"users", "set-role", "--email", dev.Email, "--role", "root"}, `--role must be admin or user, not "root"`},
		{[]string{"users", "list", "extra"}, `users list: unexpected argument "extra"`},
		{[]string{"nonsense"}, `unknown command "nonsense"`},
	} {
		_, err := cli(c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("gatehouse %s: %v\nwant: %s", strings.Join(c.args, " "), err, c.want)
			continue
		}
		// No API field names, no message said twice.
		msg := err.Error()
		if strings.Contains(msg, "expires_in_days") || strings.Contains(msg, "\n") || strings.Count(msg, c.want) != 1 {
			t.Errorf("gatehouse %s: %q", strings.Join(c.args, " "), msg)
		}
	}

	// Scopes separated by commas, and repeated.
	out, err := cli("keys", "create", "--email", dev.Email, "--scope", "profile:read,credits:read", "--scope", "keys:read")
	if err != nil || !strings.Contains(out, "scopes: profile:read credits:read keys:read") {
		t.Fatalf("comma-separated scopes: %v\n%s", err, out)
	}
	key := lastLine(out)
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, "X-API-Key: "+key), http.StatusOK)

	// Revoked by the prefix keys list shows; a second revocation says so and fails.
	list, err := cli("keys", "list", "--email", dev.Email)
	if err != nil || !strings.Contains(list, key[:11]) {
		t.Fatalf("keys list: %v\n%s", err, list)
	}
	if out, err := cli("keys", "revoke", key[:11]); err != nil || !strings.Contains(out, "revoked key") {
		t.Fatalf("revoke by prefix: %v %s", err, out)
	}
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, "X-API-Key: "+key), http.StatusUnauthorized)
	for _, ref := range []string{key[:11], key} {
		if _, err := cli("keys", "revoke", ref); err == nil || !strings.Contains(err.Error(), "already revoked") {
			t.Errorf("revoking %s again: %v", ref, err)
		}
	}
	// By ID, as before.
	out, err = cli("keys", "create", "--email", dev.Email)
	if err != nil {
		t.Fatal(err)
	}
	id := regexp.MustCompile(`created key (\S+)`).FindStringSubmatch(out)[1]
	if _, err := cli("keys", "revoke", id); err != nil {
		t.Fatal(err)
	}
	if _, err := cli("keys", "revoke", id); err == nil || !strings.Contains(err.Error(), "already revoked") {
		t.Fatalf("revoking %s again: %v", id, err)
	}
}

// TestOperatorCommands drives users list/disable/enable, sessions list/revoke and audit tail
// against a running server.
func TestOperatorCommands(t *testing.T) {
	s := startServer(t, "GATEHOUSE_CACHE_TTL=0")
	a := s.register(t)
	b := s.register(t)
	cli := func(args ...string) string {
		t.Helper()
		stdout, stderr, err := runCLI(s.env, args...)
		if err != nil || stderr != "" {
			t.Fatalf("gatehouse %s: %v\n%s", strings.Join(args, " "), err, stderr)
		}
		return stdout
	}
	if out := cli("users", "list"); !strings.Contains(out, a.Email) || !strings.Contains(out, b.Email) || !strings.Contains(out, "EMAIL") {
		t.Fatalf("users list:\n%s", out)
	}
	key := lastLine(cli("keys", "create", "--email", a.Email))

	// Sessions: list, revoke one, revoke all.
	access2, refresh2 := s.login(t, a.Email, a.Password)
	out := cli("sessions", "list", "--email", a.Email)
	if strings.Count(out, "\n") != 3 { // header and two sessions
		t.Fatalf("sessions list:\n%s", out)
	}
	sessionID := strings.Fields(strings.Split(out, "\n")[1])[0] // newest first: the second login
	if out := cli("sessions", "revoke", "--email", a.Email, "--id", sessionID); !strings.Contains(out, "revoked session "+sessionID) {
		t.Fatalf("sessions revoke --id: %s", out)
	}
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(access2)), http.StatusUnauthorized)
	expectStatus(t, s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": refresh2}), http.StatusUnauthorized)
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(a.Access)), http.StatusOK)
	if _, _, err := runCLI(s.env, "sessions", "revoke", "--email", a.Email, "--id", sessionID); err == nil || !strings.Contains(err.Error(), "no active session") {
		t.Fatalf("revoking a revoked session: %v", err)
	}
	if out := cli("sessions", "revoke", "--email", a.Email); !strings.Contains(out, "revoked 1 session of") {
		t.Fatalf("sessions revoke: %s", out)
	}
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(a.Access)), http.StatusUnauthorized)

	// Disabling, as the admin API does: sessions and keys revoked, sign-in refused.
	access, _ := s.login(t, a.Email, a.Password)
	cli("users", "disable", "--email", a.Email)
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(access)), http.StatusUnauthorized)
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, "X-API-Key: "+key), http.StatusUnauthorized)
	expectStatus(t, s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": a.Email, "password": a.Password}), http.StatusForbidden)
	if out := cli("users", "list"); !strings.Contains(out, "disabled") {
		t.Fatalf("users list after disable:\n%s", out)
	}
	if _, _, err := runCLI(s.env, "users", "disable", "--email", a.Email); err == nil || !strings.Contains(err.Error(), "already disabled") {
		t.Fatalf("disabling twice: %v", err)
	}
	cli("users", "enable", "--email", a.Email)
	s.login(t, a.Email, a.Password)
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, "X-API-Key: "+key), http.StatusUnauthorized) // keys stay revoked

	// The audit log tells the story, newest last; --user keeps to one account.
	out = cli("audit", "tail", "--user", a.Email, "--limit", "100")
	for _, event := range []string{"user.registered", "session.revoked", "user.disabled", "user.enabled", "login.succeeded"} {
		if !strings.Contains(out, event) {
			t.Errorf("audit tail lacks %s:\n%s", event, out)
		}
	}
	if strings.Contains(out, b.Email) || strings.Index(out, "user.disabled") > strings.Index(out, "user.enabled") {
		t.Errorf("audit tail --user:\n%s", out)
	}
	if out := cli("audit", "tail", "--limit", "1"); strings.Count(out, "\n") != 2 {
		t.Errorf("audit tail --limit 1:\n%s", out)
	}
}

// TestCLILogsOnlyWarnings: one-shot commands are quiet on a deployment that works, and the
// signing key they load is never announced as new.
func TestCLILogsOnlyWarnings(t *testing.T) {
	env := testEnv(t) // GATEHOUSE_LOG_LEVEL=debug
	if _, _, err := runCLI(env, "migrate"); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := runCLI(env, "users", "list")
	if err != nil || stderr != "" || !strings.HasPrefix(stdout, "ID") {
		t.Fatalf("users list: %v\nstdout: %s\nstderr: %s", err, stdout, stderr)
	}
	cfg, err := loadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	_, stderr, err = runCLI(env, "--verbose", "users", "list")
	if err != nil || !strings.Contains(stderr, "gatehouse: database "+describeDatabase(cfg)+"\n") ||
		strings.Contains(stderr, "new key") {
		t.Fatalf("--verbose: %v\n%s", err, stderr)
	}
	// The server, too, announces a new key only when there is one.
	s := startServerEnv(t, env)
	if logs := s.logs.String(); strings.Contains(logs, "signing with a new key") || !strings.Contains(logs, "signing key loaded") {
		t.Fatalf("server start on an existing key:\n%s", logs)
	}
}

// TestConfigErrorsAreOneLine: a bad value stops the process with one line that names the
// variable and says what would be right.
func TestConfigErrorsAreOneLine(t *testing.T) {
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		kv, command string
		want        []string
	}{
		{"GATEHOUSE_LOG_LEVEL=verbose", "migrate", []string{"want debug, info, warn or error"}},
		{"GATEHOUSE_ADDR=8090", "serve", []string{"127.0.0.1:8090", ":8090 (every interface)"}},
		{"GATEHOUSE_ADDR=127.0.0.1:99999", "serve", []string{`the port "99999" is not a number`}},
		{"GATEHOUSE_METRICS_ADDR=metrics", "serve", []string{"want host:port"}},
		{"GATEHOUSE_SMTP_URL=smtp://mailer:hunter2@mail.example.com:notaport", "migrate", []string{`the port "notaport" is not a number`, "smtp://mailer:xxxxx@"}},
		{"GATEHOUSE_DATABASE_URL=postgres://gatehouse:hunter2@127.0.0.1:1/gatehouse", "migrate", []string{"cannot connect to PostgreSQL at gatehouse@127.0.0.1:1/gatehouse", "connection refused", "is the server running"}},
		{"GATEHOUSE_DATABASE_URL=postgres://gatehouse:hunter2@127.0.0.1:1/gatehouse", "serve", []string{"cannot connect to PostgreSQL", "connection refused"}},
		{"GATEHOUSE_DATABASE_URL=postgres://gatehouse:hunter2@127.0.0.1:1/gatehouse", "users list", []string{"cannot connect to PostgreSQL", "connection refused"}},
		{"GATEHOUSE_DATABASE_URL=mysql://x", "migrate", []string{"want postgres://user:password@host:5432/database, or sqlite:PATH"}},
		{"GATEHOUSE_DATA_DIR=" + filepath.Join(notADir, "data"), "migrate", []string{"cannot create or open the database", "not a directory", "choose a directory this user can write"}},
		{"GATEHOUSE_LOG_FORMAT=xml", "users list", []string{"want text or json"}},
	} {
		name, value, _ := strings.Cut(c.kv, "=")
		env := testEnv(t)
		delete(env, "GATEHOUSE_DATABASE_URL")
		env[name] = value
		_, _, err := runCLI(env, strings.Fields(c.command)...)
		if err == nil {
			t.Errorf("%s %s: accepted", c.kv, c.command)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, name+"=") || strings.ContainsAny(msg, "\r\n") || strings.Contains(msg, "hunter2") ||
			strings.Contains(msg, "migration 0001") || strings.Count(msg, "open database") > 0 {
			t.Errorf("%s %s: %q", c.kv, c.command, msg)
		}
		for _, w := range c.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s %s: %q lacks %q", c.kv, c.command, msg, w)
			}
		}
	}

	// The process itself prints exactly one line, on stderr, and exits non-zero.
	cmd := exec.Command(gatehouseBinary(t), "migrate")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "GATEHOUSE_DATABASE_URL=postgres://gatehouse:hunter2@127.0.0.1:1/gatehouse"}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err == nil || strings.Count(stderr.String(), "\n") != 1 || !strings.HasPrefix(stderr.String(), "gatehouse: GATEHOUSE_DATABASE_URL=") {
		t.Fatalf("exit %v, stderr:\n%s", err, stderr.String())
	}
}

// TestUnknownVariablesAreWarned: a misspelt GATEHOUSE_* variable is named at start, with the
// closest known name; the test harness's own variables are not.
func TestUnknownVariablesAreWarned(t *testing.T) {
	env := testEnv(t)
	env["GATEHOUSE_PORT"] = "8090"
	env["GATEHOUSE_ACCES_TOKEN_TTL"] = "5m"
	env["GATEHOUSE_OIDC_GOOGLE_ISSUER"] = "https://accounts.google.com"
	env["GATEHOUSE_TEST_ANYTHING"] = "1"
	env["GATEHOUSE_URL"] = "http://127.0.0.1:8080" // an SDK app's setting
	_, stderr, err := runCLI(env, "migrate")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"unknown variable GATEHOUSE_PORT is ignored; did you mean GATEHOUSE_ADDR",
		"unknown variable GATEHOUSE_ACCES_TOKEN_TTL is ignored; did you mean GATEHOUSE_ACCESS_TOKEN_TTL?",
		"unknown variable GATEHOUSE_OIDC_GOOGLE_ISSUER is ignored: no provider google in GATEHOUSE_OIDC_PROVIDERS",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("no warning %q in:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "GATEHOUSE_TEST_") || strings.Contains(stderr, "GATEHOUSE_URL ") || strings.Count(stderr, "level=WARN") != 3 {
		t.Errorf("warnings:\n%s", stderr)
	}

	// The server warns too, from the process environment.
	cmd := exec.Command(gatehouseBinary(t), "config", "check")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "GATEHOUSE_DATA_DIR=" + t.TempDir(), "GATEHOUSE_LOG_LEVL=debug", "GATEHOUSE_TEST_DB=sqlite"}
	var out strings.Builder
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil || !strings.Contains(out.String(), "GATEHOUSE_LOG_LEVL is ignored; did you mean GATEHOUSE_LOG_LEVEL?") || strings.Contains(out.String(), "GATEHOUSE_TEST_DB") {
		t.Fatalf("config check: %v\n%s", err, out.String())
	}
}

// TestConfigCheck prints the configuration in effect with every secret masked, or fails with the
// one-line error.
func TestConfigCheck(t *testing.T) {
	raw := make([]byte, 32)
	rand.Read(raw)
	encryptionKey := base64.StdEncoding.EncodeToString(raw)
	dir := filepath.Join(t.TempDir(), "data")
	env := map[string]string{
		"GATEHOUSE_DATA_DIR":                   dir,
		"GATEHOUSE_DATABASE_URL":               "postgres://gatehouse:dbsecret1@db.example.com:5432/gatehouse",
		"GATEHOUSE_SMTP_URL":                   "smtps://mailer:smtpsecret2@mail.example.com",
		"GATEHOUSE_GITHUB_CLIENT_ID":           "github-id",
		"GATEHOUSE_GITHUB_CLIENT_SECRET":       "githubsecret3",
		"GATEHOUSE_LINKEDIN_CLIENT_ID":         "linkedin-id",
		"GATEHOUSE_LINKEDIN_SECRET":            "linkedinsecret4",
		"GATEHOUSE_OIDC_PROVIDERS":             "corp",
		"GATEHOUSE_OIDC_CORP_ISSUER":           "https://sso.example.com",
		"GATEHOUSE_OIDC_CORP_CLIENT_ID":        "corp-id",
		"GATEHOUSE_OIDC_CORP_CLIENT_SECRET":    "oidcsecret5",
		"GATEHOUSE_ENCRYPTION_KEY":             encryptionKey,
		"GATEHOUSE_ACCESS_TOKEN_TTL":           "5m",
		"GATEHOUSE_REQUIRE_EMAIL_VERIFICATION": "true",
	}
	stdout, stderr, err := runCLI(env, "config", "check")
	if err != nil || stderr != "" {
		t.Fatalf("config check: %v\n%s", err, stderr)
	}
	for _, secret := range []string{"dbsecret1", "smtpsecret2", "githubsecret3", "linkedinsecret4", "oidcsecret5", encryptionKey} {
		if strings.Contains(stdout, secret) {
			t.Errorf("config check shows a secret %q:\n%s", secret, stdout)
		}
	}
	for _, want := range []string{
		`configuration is valid`,
		`GATEHOUSE_DATABASE_URL\s+postgres://gatehouse:xxxxx@db\.example\.com:5432/gatehouse\s+environment`,
		`GATEHOUSE_SMTP_URL\s+smtps://mailer:xxxxx@mail\.example\.com:465`,
		`GATEHOUSE_ACCESS_TOKEN_TTL\s+5m\s+environment`,
		`GATEHOUSE_REFRESH_TOKEN_TTL\s+168h\s+default`,
		`GATEHOUSE_REQUIRE_EMAIL_VERIFICATION\s+true\s+environment`,
		`GATEHOUSE_GITHUB_CLIENT_SECRET\s+xxxxx \(hidden\)\s+environment`,
		`GATEHOUSE_LINKEDIN_CLIENT_SECRET\s+xxxxx \(hidden\)\s+environment`,
		`GATEHOUSE_OIDC_CORP_CLIENT_SECRET\s+xxxxx \(hidden\)\s+environment`,
		`GATEHOUSE_ENCRYPTION_KEY\s+xxxxx \(hidden\)\s+environment`,
		`GATEHOUSE_OIDC_CORP_ISSUER\s+https://sso\.example\.com`,
		`GATEHOUSE_CORS_ORIGINS\s+\(unset: none\)\s+default`,
	} {
		if !regexp.MustCompile(want).MatchString(stdout) {
			t.Errorf("config check lacks %s:\n%s", want, stdout)
		}
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("config check created %s", dir)
	}

	env["GATEHOUSE_SIGNING_ALG"] = "HS256"
	stdout, _, err = runCLI(env, "config", "check")
	if err == nil || !strings.HasPrefix(err.Error(), `GATEHOUSE_SIGNING_ALG="HS256": want ES256, RS256 or EdDSA`) || stdout != "" {
		t.Fatalf("config check of a bad value: %v\n%s", err, stdout)
	}
}

// TestEveryVariableIsKnownAndDocumented: the names the configuration reads are the names config
// check lists, the unknown-variable warning knows, and docs/configuration.md documents.
func TestEveryVariableIsKnownAndDocumented(t *testing.T) {
	full := map[string]string{
		"GATEHOUSE_GITHUB_CLIENT_ID": "x", "GATEHOUSE_GITHUB_CLIENT_SECRET": "x",
		"GATEHOUSE_LINKEDIN_CLIENT_ID": "x", "GATEHOUSE_LINKEDIN_CLIENT_SECRET": "x",
		"GATEHOUSE_OIDC_PROVIDERS": "corp", "GATEHOUSE_OIDC_CORP_ISSUER": "https://sso.example.com",
		"GATEHOUSE_OIDC_CORP_CLIENT_ID": "x", "GATEHOUSE_OIDC_CORP_CLIENT_SECRET": "x",
	}
	read := map[string]bool{}
	if _, err := loadConfig(func(k string) string { read[k] = true; return full[k] }); err != nil {
		t.Fatal(err)
	}
	known := knownVariables([]string{"corp"})
	for name := range read {
		if !slices.Contains(known, name) {
			t.Errorf("%s is read by loadConfig but unknown to config check and the warning", name)
		}
	}
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range knownVariables(nil) {
		if !strings.Contains(string(doc), name) {
			t.Errorf("docs/configuration.md does not document %s", name)
		}
	}
}

// TestNoCommandGiven: gatehouse alone prints its usage on stderr and fails.
func TestNoCommandGiven(t *testing.T) {
	stdout, stderr, err := runCLI(nil)
	if err == nil || !strings.Contains(err.Error(), "no command given") || !strings.Contains(stderr, "Usage:") || stdout != "" {
		t.Fatalf("%v\nstdout: %s\nstderr: %s", err, stdout, stderr)
	}
}

func TestRedactURL(t *testing.T) {
	for raw, want := range map[string]string{
		"postgres://gatehouse:hunter2@db:5432/gh":             "postgres://gatehouse:xxxxx@db:5432/gh",
		"postgres://db:5432/gh?user=gh&password=hunter2":      "postgres://db:5432/gh?password=xxxxx&user=gh",
		"smtp://mailer:hunter2@mail.example.com:notaport":     "smtp://mailer:xxxxx@mail.example.com:notaport",
		"smtp://mailer:hun/ter2@mail.example.com:notaport":    "smtp://mailer:xxxxx@mail.example.com:notaport",
		"host=db user=gh password=hunter2":                    "(hidden: it holds a password)",
		"sqlite:/var/lib/gatehouse/gatehouse.db":              "sqlite:/var/lib/gatehouse/gatehouse.db",
		"postgres://gatehouse@db:5432/gh?sslmode=verify-full": "postgres://gatehouse@db:5432/gh?sslmode=verify-full",
	} {
		if got := redactURL(raw); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", raw, got, want)
		}
	}
}
