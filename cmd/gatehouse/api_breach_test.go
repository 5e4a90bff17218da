package main

import (
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse/breach"
	"github.com/gatehouse/gatehouse/internal/smtptest"
	"github.com/gatehouse/gatehouse/password"
)

func sha1Upper(pw string) string {
	s := sha1.Sum([]byte(pw))
	return strings.ToUpper(hex.EncodeToString(s[:]))
}

// writeRangeFiles writes a directory of Pwned Passwords range answers, named by prefix, holding
// the passwords' hashes among random others and count-0 padding.
func writeRangeFiles(t *testing.T, passwords ...string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]*strings.Builder{}
	add := func(hash string, count int) {
		b := files[hash[:5]]
		if b == nil {
			b = &strings.Builder{}
			files[hash[:5]] = b
		}
		fmt.Fprintf(b, "%s:%d\r\n", hash[5:], count)
	}
	for _, pw := range passwords {
		add(sha1Upper(pw), 17)
	}
	var random [sha1.Size]byte
	for i := range 2000 {
		rand.Read(random[:])
		add(strings.ToUpper(hex.EncodeToString(random[:])), i%3) // a third are padding
	}
	for prefix, b := range files {
		if err := os.WriteFile(filepath.Join(dir, prefix), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// expectBreached checks the 422: code password_breached, the field named in errors.
func expectBreached(t *testing.T, r *response, field string) {
	t.Helper()
	expectProblem(t, r, http.StatusUnprocessableEntity, "password_breached")
	errs, _ := r.json(t)["errors"].([]any)
	if len(errs) != 1 || errs[0].(map[string]any)["field"] != field || errs[0].(map[string]any)["message"] == "" {
		t.Fatalf("errors %v, want one for %s", errs, field)
	}
}

// TestBreachOfflineEndToEnd: range files → `gatehouse breach import` → a server in offline mode
// refuses a password from them at register, change and reset, accepts others, and flags a login
// whose password became breached.
func TestBreachOfflineEndToEnd(t *testing.T) {
	const (
		breached = "summer holiday in 2019!"
		later    = "my old favourite passphrase" // set before the filter knew it
		fine     = "a passphrase nobody leaked"
	)
	env := testEnv(t)
	mail := smtptest.Start(t, smtptest.Options{})
	for _, kv := range mailEnv(mail) {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	// An account whose password is breached only later, registered while the check is embedded.
	s := startServerEnv(t, env)
	expectStatus(t, s.do(t, "POST", "/api/v1/auth/register", map[string]string{"email": "early@example.com", "password": later}), http.StatusCreated)
	r := s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": "early@example.com", "password": later})
	expectStatus(t, r, http.StatusOK)
	if _, ok := r.json(t)["password_breached"]; ok {
		t.Fatalf("password_breached before the filter: %s", r.Body)
	}
	s.stop()

	src := writeRangeFiles(t, breached, later)
	stdout, stderr, err := runCLI(env, "breach", "import", src)
	if err != nil {
		t.Fatalf("import: %v\n%s", err, stderr)
	}
	file := filepath.Join(env["GATEHOUSE_DATA_DIR"], "breached-passwords.filter")
	if !strings.Contains(stdout, "distinct hashes to "+file) || !strings.Contains(stdout, "false-positive rate 2.3e-10") {
		t.Fatalf("import said: %s", stdout)
	}

	env["GATEHOUSE_BREACH_CHECK"] = "offline"
	s = startServerEnv(t, env)

	// Register.
	expectBreached(t, s.do(t, "POST", "/api/v1/auth/register", map[string]string{"email": "b@example.com", "password": breached}), "password")
	// A password of the embedded common list is refused the same way in every mode.
	expectBreached(t, s.do(t, "POST", "/api/v1/auth/register", map[string]string{"email": "b@example.com", "password": "password123"}), "password")
	a := s.register(t) // "correct horse battery staple": not in this filter
	r = s.do(t, "POST", "/api/v1/auth/register", map[string]string{"email": "b@example.com", "password": fine})
	expectStatus(t, r, http.StatusCreated)
	if _, ok := r.json(t)["password_breached"]; ok {
		t.Fatalf("register carries password_breached: %s", r.Body)
	}

	// Change.
	expectBreached(t, s.do(t, "POST", "/api/v1/users/me/password", map[string]string{"current_password": a.Password, "new_password": breached}, bearer(a.Access)), "new_password")
	expectStatus(t, s.do(t, "POST", "/api/v1/users/me/password", map[string]string{"current_password": a.Password, "new_password": fine}, bearer(a.Access)), http.StatusOK)
	a.Password = fine

	// Reset: the refused password leaves the link usable.
	s.forgot(t, a.Email)
	token := resetLink(t, mail, a.Email)
	expectBreached(t, s.reset(t, token, breached), "new_password")
	expectStatus(t, s.reset(t, token, "another fresh passphrase"), http.StatusOK)
	s.login(t, a.Email, "another fresh passphrase")

	// A login with a password that became breached works, flagged.
	r = s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": "early@example.com", "password": later})
	expectStatus(t, r, http.StatusOK)
	if m := r.json(t); m["password_breached"] != true || m["access_token"] == "" {
		t.Fatalf("login with a breached password: %s", r.Body)
	}
	r = s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": "b@example.com", "password": fine})
	expectStatus(t, r, http.StatusOK)
	if _, ok := r.json(t)["password_breached"]; ok {
		t.Fatalf("login with a clean password flagged: %s", r.Body)
	}
}

// TestBreachOfflineRefusesToStartWithoutValidFile: no file, a truncated one, another file.
func TestBreachOfflineRefusesToStartWithoutValidFile(t *testing.T) {
	env := testEnv(t)
	env["GATEHOUSE_BREACH_CHECK"] = "offline"
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	if _, err := breach.WriteFilter(good, []uint64{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(good)
	truncated := filepath.Join(dir, "truncated")
	os.WriteFile(truncated, b[:len(b)-3], 0o644)
	text := filepath.Join(dir, "hashes.txt")
	os.WriteFile(text, []byte(sha1Upper("x")+":1\n"), 0o644)
	for _, file := range []string{"", filepath.Join(dir, "missing"), truncated, text, dir} {
		if file != "" {
			env["GATEHOUSE_BREACH_FILE"] = file
		}
		_, _, err := runCLI(env, "serve")
		if err == nil || !strings.Contains(err.Error(), "GATEHOUSE_BREACH_FILE") || strings.Contains(err.Error(), "\n") {
			t.Fatalf("%q: %v; want one line naming GATEHOUSE_BREACH_FILE", file, err)
		}
		t.Log(err)
	}
}

// rangeAPI is a Pwned Passwords range API on loopback that knows some passwords and records the
// paths and padding headers it was sent.
type rangeAPI struct {
	*httptest.Server
	mu      sync.Mutex
	paths   []string
	padding []string
}

func newRangeAPI(t *testing.T, known ...string) *rangeAPI {
	api := &rangeAPI{}
	api.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		api.mu.Lock()
		api.paths = append(api.paths, r.URL.RequestURI())
		api.padding = append(api.padding, r.Header.Get("Add-Padding"))
		api.mu.Unlock()
		prefix := strings.TrimPrefix(r.URL.Path, "/range/")
		for _, pw := range known {
			if h := sha1Upper(pw); h[:5] == prefix {
				fmt.Fprintf(w, "%s:3\r\n", h[5:])
			}
		}
		fmt.Fprintf(w, "%035X:0\r\n", 1)
	}))
	t.Cleanup(api.Close)
	return api
}

func TestBreachOnline(t *testing.T) {
	const breached = "leaked on the internet"
	api := newRangeAPI(t, breached)
	s := startServer(t, "GATEHOUSE_BREACH_CHECK=online", "GATEHOUSE_BREACH_API_URL="+api.URL)
	expectBreached(t, s.do(t, "POST", "/api/v1/auth/register", map[string]string{"email": "o@example.com", "password": breached}), "password")
	expectStatus(t, s.do(t, "POST", "/api/v1/auth/register", map[string]string{"email": "o@example.com", "password": "not leaked anywhere"}), http.StatusCreated)
	api.mu.Lock()
	defer api.mu.Unlock()
	want := []string{"/range/" + sha1Upper(breached)[:5], "/range/" + sha1Upper("not leaked anywhere")[:5]}
	if fmt.Sprint(api.paths) != fmt.Sprint(want) || fmt.Sprint(api.padding) != "[true true]" {
		t.Fatalf("the API saw %v with padding %v; want %v, padded", api.paths, api.padding, want)
	}
}

// TestBreachOnlineOutage: an API that never answers. Closed: new passwords get 503
// breach_check_unavailable, and login still works. Open: they are accepted, with a warning.
func TestBreachOnlineOutage(t *testing.T) {
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	t.Cleanup(hang.Close)
	base := []string{"GATEHOUSE_BREACH_CHECK=online", "GATEHOUSE_BREACH_API_URL=" + hang.URL, "GATEHOUSE_BREACH_TIMEOUT=100ms"}

	closed := startServer(t, append(base, "GATEHOUSE_BREACH_FAIL=closed")...)
	r := closed.do(t, "POST", "/api/v1/auth/register", map[string]string{"email": "c@example.com", "password": "any new passphrase"})
	expectProblem(t, r, http.StatusServiceUnavailable, "breach_check_unavailable")
	if r.Header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}

	open := startServer(t, append(base, "GATEHOUSE_BREACH_FAIL=open")...)
	a := open.register(t)
	if !open.logs.waitFor("GATEHOUSE_BREACH_FAIL=open", mailWait) {
		t.Fatal("no warning logged for the unchecked password")
	}
	r = open.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": a.Email, "password": a.Password})
	expectStatus(t, r, http.StatusOK)
	if _, ok := r.json(t)["password_breached"]; ok {
		t.Fatalf("an unanswered check flags the login: %s", r.Body)
	}
}

func TestBreachConfigErrors(t *testing.T) {
	for kv, want := range map[string]string{
		"GATEHOUSE_BREACH_CHECK=sometimes":   "want embedded, offline or online",
		"GATEHOUSE_BREACH_FAIL=maybe":        "want open or closed",
		"GATEHOUSE_BREACH_TIMEOUT=soon":      "GATEHOUSE_BREACH_TIMEOUT",
		"GATEHOUSE_BREACH_API_URL=ftp://x/y": "GATEHOUSE_BREACH_API_URL",
	} {
		k, v, _ := strings.Cut(kv, "=")
		_, err := loadConfig(func(name string) string {
			if name == k {
				return v
			}
			return ""
		})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v; want %q", kv, err, want)
		}
	}
}

// TestWebBreachedPassword: the dashboard refuses a breached password at sign-up and change with
// the field's message, and a sign-in with one lands on the change-password page with a notice.
func TestWebBreachedPassword(t *testing.T) {
	const breached, later = "summer holiday in 2019!", "my old favourite passphrase"
	env := testEnv(t)
	s := startServerEnv(t, env)
	email := newWebEmail("breach")
	s.webClient(t).signUp(email, later)
	s.stop()
	if _, stderr, err := runCLI(env, "breach", "import", writeRangeFiles(t, breached, later)); err != nil {
		t.Fatalf("import: %v\n%s", err, stderr)
	}
	env["GATEHOUSE_BREACH_CHECK"] = "offline"
	s = startServerEnv(t, env)

	b := s.webClient(t)
	r := b.submit("/signup", url.Values{"email": {newWebEmail("breach2")}, "password": {breached}, "name": {"x"}})
	expectPage(t, r, http.StatusUnprocessableEntity, "appeared in a data breach")

	r = b.submit("/login", url.Values{"email": {email}, "password": {later}})
	expectRedirect(t, r, "/account/password?notice=password_breached")
	expectPage(t, b.get("/account/password?notice=password_breached"), http.StatusOK, "Your password has appeared in a data breach elsewhere")
	r = b.submit("/account/password", url.Values{"current_password": {later}, "new_password": {breached}, "confirm_password": {breached}})
	expectPage(t, r, http.StatusUnprocessableEntity, "appeared in a data breach")
	expectRedirect(t, b.submit("/account/password", url.Values{"current_password": {later}, "new_password": {"a fresh and unleaked one"}, "confirm_password": {"a fresh and unleaked one"}}), "/account/password?notice=password_changed")
	// Signed in with a clean password: the usual landing page.
	s.webClient(t).signIn(email, "a fresh and unleaked one")
}

// TestBreachEmbedded: in the default mode the embedded common-password list is the breach check:
// a password from it is refused with password_breached at register, change and reset, and a login
// with one (an account whose password was set before the list held it) is flagged.
func TestBreachEmbedded(t *testing.T) {
	const common = "password123" // in password/common_passwords.txt
	s, mail := startMailServer(t)
	expectBreached(t, s.do(t, "POST", "/api/v1/auth/register", map[string]string{"email": "e@example.com", "password": common}), "password")
	expectBreached(t, s.do(t, "POST", "/api/v1/auth/register", map[string]string{"email": "e@example.com", "password": "PassWord123"}), "password")
	a := s.register(t)
	expectBreached(t, s.do(t, "POST", "/api/v1/users/me/password", map[string]string{"current_password": a.Password, "new_password": common}, bearer(a.Access)), "new_password")
	s.forgot(t, a.Email)
	token := resetLink(t, mail, a.Email)
	expectBreached(t, s.reset(t, token, common), "new_password")

	r := s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": a.Email, "password": a.Password})
	expectStatus(t, r, http.StatusOK)
	if _, ok := r.json(t)["password_breached"]; ok {
		t.Fatalf("a clean password flagged: %s", r.Body)
	}
	// The account's password becomes one of the list's, as if set before the list held it.
	hash, err := password.NewHasher(password.DefaultParams, 1, 0).Hash(context.Background(), common)
	if err != nil {
		t.Fatal(err)
	}
	s.execSQL(t, fmt.Sprintf("UPDATE users SET password_hash = '%s' WHERE email = '%s'", hash, a.Email))
	r = s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": a.Email, "password": common})
	expectStatus(t, r, http.StatusOK)
	if m := r.json(t); m["password_breached"] != true || m["access_token"] == "" {
		t.Fatalf("login with a common password: %s", r.Body)
	}
}
