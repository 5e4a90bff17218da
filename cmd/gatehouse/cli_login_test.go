package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// "gatehouse login" driven end to end against a test server: the command runs through run, the
// user's approval on /device is done over HTTP by the test, from inside the command's wait
// between polls (injected: nothing sleeps).

var printedUserCode = regexp.MustCompile(`shows the code ([BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4})`)

// loginRun runs gatehouse login with a config directory of its own. onWait is called at each
// wait with its number (from 1), the duration asked for and the output so far.
func loginRun(t *testing.T, configHome string, onWait func(n int, d time.Duration, out string), args ...string) (stdout, stderr string, waits []time.Duration, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	ctx := withLoginWait(context.Background(), func(ctx context.Context, d time.Duration) error {
		waits = append(waits, d)
		if len(waits) > 20 {
			t.Fatalf("gatehouse login keeps polling: waits %v; output: %s", waits, out.String())
		}
		onWait(len(waits), d, out.String())
		return ctx.Err()
	})
	env := map[string]string{"XDG_CONFIG_HOME": configHome, "HOME": configHome, "AppData": configHome}
	err = run(ctx, append([]string{"login"}, args...), func(k string) string { return env[k] }, &out, &errb)
	return out.String(), errb.String(), waits, err
}

func userCodeIn(t *testing.T, out string) string {
	t.Helper()
	m := printedUserCode.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no user code in the output: %s", out)
	}
	return m[1]
}

func readCredentials(t *testing.T, configHome string) (credentialsFile, string) {
	t.Helper()
	path, err := credentialsPath(func(k string) string {
		return map[string]string{"XDG_CONFIG_HOME": configHome, "HOME": configHome, "AppData": configHome}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f credentialsFile
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	return f, path
}

// The tokens land in the config directory (0600 in a 0700 directory), are never printed, and
// work; the command prints the code and both links.
func TestLoginStoresTokens(t *testing.T) {
	s := startServer(t)
	b, a := s.signedInBrowser(t)
	home := t.TempDir()
	out, _, waits, err := loginRun(t, home, func(n int, d time.Duration, out string) {
		if n == 1 {
			code := userCodeIn(t, out)
			if !strings.Contains(out, s.URL+"/device?user_code="+code) || !strings.Contains(out, s.URL+"/device ") {
				t.Fatalf("the links are not printed: %s", out)
			}
			b.decideDevice(code, "allow", gatehouse.CLIClientName)
		}
	}, "--url", s.URL+"/", "--scope", "openid", "--scope", "profile:read")
	if err != nil {
		t.Fatalf("gatehouse login: %v\n%s", err, out)
	}
	if len(waits) != 1 || waits[0] != 5*time.Second {
		t.Fatalf("waits %v, want one of the server's 5 s interval", waits)
	}
	f, path := readCredentials(t, home)
	entry, ok := f.Servers[s.URL]
	if !ok || entry.AccessToken == "" || entry.RefreshToken == "" || entry.IDToken == "" || entry.Scope != "openid profile:read" ||
		entry.ClientID != gatehouse.CLIClientID || !entry.ExpiresAt.After(time.Now()) {
		t.Fatalf("stored: %+v", f)
	}
	for _, secret := range []string{entry.AccessToken, entry.RefreshToken, entry.IDToken} {
		if strings.Contains(out, secret) {
			t.Fatalf("a token was printed: %s", out)
		}
	}
	if !strings.Contains(out, path) {
		t.Fatalf("the output does not say where the tokens are: %s", out)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file mode: %v %v", st.Mode(), err)
	}
	if st, err := os.Stat(filepath.Dir(path)); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("credentials directory mode: %v %v", st.Mode(), err)
	}
	me := s.do(t, "GET", "/api/v1/users/me", nil, bearer(entry.AccessToken))
	expectStatus(t, me, http.StatusOK)
	if me.str(t, "id") != a.ID {
		t.Fatalf("the stored token is not the user's: %s", me.Body)
	}

	// A second server's sign-in keeps the first one's entry.
	s2 := startServer(t)
	b2, _ := s2.signedInBrowser(t)
	if _, _, _, err := loginRun(t, home, func(n int, _ time.Duration, out string) {
		if n == 1 {
			b2.decideDevice(userCodeIn(t, out), "allow")
		}
	}, "--url", s2.URL); err != nil {
		t.Fatal(err)
	}
	if f, _ := readCredentials(t, home); len(f.Servers) != 2 || f.Servers[s.URL].AccessToken != entry.AccessToken {
		t.Fatalf("entries after a second server: %d", len(f.Servers))
	}
}

// The command waits the server's interval between polls, and 5 s more after each slow_down.
func TestLoginHonoursSlowDown(t *testing.T) {
	s := startServer(t)
	b, _ := s.signedInBrowser(t)
	home := t.TempDir()
	_, _, waits, err := loginRun(t, home, func(n int, _ time.Duration, out string) {
		// The waits return at once, so the second poll comes too fast: slow_down.
		if n == 3 {
			b.decideDevice(userCodeIn(t, out), "allow")
		}
	}, "--url", s.URL)
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{5 * time.Second, 5 * time.Second, 10 * time.Second}
	if len(waits) != len(want) || waits[0] != want[0] || waits[1] != want[1] || waits[2] != want[2] {
		t.Fatalf("waits %v, want %v", waits, want)
	}
}

// --api-key: the key the user approved is printed once, alone on the last line, and works; the
// tokens are stored as without it.
func TestLoginAPIKey(t *testing.T) {
	s := startServer(t)
	b, a := s.signedInBrowser(t)
	home := t.TempDir()
	out, _, _, err := loginRun(t, home, func(n int, _ time.Duration, out string) {
		if n == 1 {
			b.decideDevice(userCodeIn(t, out), "allow", "Create an API key named", "CI deploys", "credits:read", "30 days")
		}
	}, "--url", s.URL, "--api-key", "--api-key-name", "CI deploys", "--api-key-scope", "credits:read", "--api-key-expires-in-days", "30")
	if err != nil {
		t.Fatalf("gatehouse login --api-key: %v\n%s", err, out)
	}
	key := lastOutputLine(out)
	if !gatehouse.WellFormedAPIKey(key) {
		t.Fatalf("the last line is not a key: %s", out)
	}
	bal := s.do(t, "GET", "/api/v1/public/credits/balance", nil, "X-API-Key: "+key)
	expectStatus(t, bal, http.StatusOK)
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, "X-API-Key: "+key), http.StatusForbidden) // profile:read not approved
	keys := s.do(t, "GET", "/api/v1/api-keys", nil, bearer(a.Access))
	if !strings.Contains(string(keys.Body), "CI deploys") {
		t.Fatalf("keys: %s", keys.Body)
	}
	f, _ := readCredentials(t, home)
	if f.Servers[s.URL].AccessToken == "" || strings.Contains(out, f.Servers[s.URL].AccessToken) {
		t.Fatalf("tokens stored or printed wrongly: %s", out)
	}
	raw, _ := json.Marshal(f)
	if strings.Contains(string(raw), key) {
		t.Fatal("the API key was written to the credentials file")
	}
}

// A denial ends the command with an error and stores nothing.
func TestLoginDenied(t *testing.T) {
	s := startServer(t)
	b, _ := s.signedInBrowser(t)
	home := t.TempDir()
	_, _, _, err := loginRun(t, home, func(n int, _ time.Duration, out string) {
		if n == 1 {
			b.decideDevice(userCodeIn(t, out), "deny")
		}
	}, "--url", s.URL)
	if err == nil || !strings.Contains(err.Error(), "denied") {
		t.Fatalf("err %v, want the denial", err)
	}
	if _, err := os.Stat(filepath.Join(home, "gatehouse", "credentials.json")); !os.IsNotExist(err) {
		t.Fatalf("credentials stored after a denial: %v", err)
	}
}

// The command refuses what it cannot use safely or at all, with one line each.
func TestLoginRefusals(t *testing.T) {
	s := startServer(t)
	home := t.TempDir()
	never := func(int, time.Duration, string) { t.Fatal("no wait expected") }
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "--url"},
		{[]string{"--url", "http://auth.example.com"}, "https"},
		{[]string{"--url", "ftp://auth.example.com"}, "https"},
		{[]string{"--url", s.URL, "--api-key-name", "x"}, "go with --api-key"},
		{[]string{"--url", s.URL, "--api-key", "--api-key-expires-in-days", "0"}, "--api-key-expires-in-days"},
		{[]string{"--url", s.URL, "--resource", "https://unknown.example.com"}, "invalid_target"},
		{[]string{"--url", s.URL, "--client-id", "no-such-client"}, "invalid_client"},
		{[]string{"--url", strings.Replace(s.URL, "127.0.0.1", "localhost", 1)}, "calls itself"},
	} {
		_, _, _, err := loginRun(t, home, never, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("login %v: err %v, want one line about %s", tc.args, err, tc.want)
		}
	}
	// The operator turns command-line sign-in off by revoking its client.
	if _, _, _, err := loginRun(t, home, func(n int, _ time.Duration, _ string) {
		if n == 1 {
			s.cli(t, "clients", "revoke", gatehouse.CLIClientID)
		}
	}, "--url", s.URL); err == nil || !strings.Contains(err.Error(), "invalid_client") {
		t.Fatalf("after the revocation: %v", err)
	}
	if _, _, _, err := loginRun(t, home, never, "--url", s.URL); err == nil || !strings.Contains(err.Error(), "invalid_client") {
		t.Fatalf("a revoked CLI client came back: %v", err)
	}
}

// A client registered by the operator for the device grant alone (no redirect URI) signs in
// with --client-id; its page carries no self-registered warning.
func TestLoginWithARegisteredDeviceClient(t *testing.T) {
	s := startServer(t)
	out := s.cliOut(t, "clients", "create", "--name", "Build agent", "--grant", "device_code")
	id := clientIDOf(t, out)
	if !strings.Contains(out, gatehouse.GrantDeviceCode) {
		t.Fatalf("clients create: %s", out)
	}
	b, _ := s.signedInBrowser(t)
	home := t.TempDir()
	_, _, _, err := loginRun(t, home, func(n int, _ time.Duration, out string) {
		if n == 1 {
			page := b.openDevicePage(userCodeIn(t, out), "Build agent", id)
			if strings.Contains(string(page.Body), "self-registered") {
				t.Fatalf("an operator's client marked self-registered: %s", page.Body)
			}
			expectRedirect(t, b.submit("/device/approve", url.Values{"user_code": {userCodeIn(t, out)}, "decision": {"allow"}}), "/device/done?result=approved")
		}
	}, "--url", s.URL, "--client-id", id)
	if err != nil {
		t.Fatal(err)
	}
	if f, _ := readCredentials(t, home); f.Servers[s.URL].ClientID != id || f.Servers[s.URL].RefreshToken == "" {
		t.Fatalf("stored: %+v", f.Servers[s.URL])
	}
}
