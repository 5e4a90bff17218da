package main

import (
	"encoding/json"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// doctorLines runs oauth doctor with env and returns its check lines by name ("FAIL", "WARN" or
// "PASS" and the rest of the line), its output and its error.
func doctorLines(t *testing.T, env map[string]string, args ...string) (map[string]string, string, error) {
	t.Helper()
	stdout, stderr, err := runCLI(env, append([]string{"oauth", "doctor"}, args...)...)
	if stderr != "" {
		t.Errorf("oauth doctor logged: %s", stderr)
	}
	checks := map[string]string{}
	for _, line := range strings.Split(strings.TrimRight(stdout, "\n"), "\n") {
		status, rest, ok := strings.Cut(line, "  ")
		if !ok || (status != "PASS" && status != "WARN" && status != "FAIL") {
			continue
		}
		name, _, _ := strings.Cut(rest, ": ")
		if _, dup := checks[name]; dup {
			t.Errorf("check %q printed twice:\n%s", name, stdout)
		}
		checks[name] = status + " " + rest
	}
	if len(checks) < 15 {
		t.Fatalf("oauth doctor printed %d checks:\n%s", len(checks), stdout)
	}
	if !strings.Contains(lastOutputLine(stdout), "checks: ") {
		t.Errorf("no summary line:\n%s", stdout)
	}
	return checks, stdout, err
}

// protectedResource serves a resource's protected resource metadata (RFC 9728) at
// /.well-known/oauth-protected-resource/mcp, naming the authorization server *issuer.
func protectedResource(t *testing.T, issuer *string) string {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/oauth-protected-resource/mcp" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"resource": srv.URL + "/mcp", "authorization_servers": []string{*issuer}})
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/mcp"
}

// authorizeServed reports whether this build serves the authorization endpoint (the dashboard's
// page); without it, doctor must report the two authorization checks as failures.
func authorizeServed(t *testing.T, s *testServer) bool {
	return s.do(t, "GET", "/oauth2/authorize", nil).Status != http.StatusNotFound
}

// TestCLIOAuthDoctorHealthy: against a correctly configured server with a registered resource
// whose metadata names it, every check passes and the exit status is 0; the doctor's client is
// registered under its announced name.
func TestCLIOAuthDoctorHealthy(t *testing.T) {
	s := startServer(t)
	issuer := s.URL
	resource := protectedResource(t, &issuer)
	s.cliOut(t, "resources", "add", "--uri", resource, "--name", "Sample MCP", "--scope", "mcp:tools")
	// The operator's configuration names the URL the server is reached at.
	env := maps.Clone(s.env)
	env["GATEHOUSE_PUBLIC_URL"] = s.URL

	checks, out, err := doctorLines(t, env, "--resource", resource)
	served := authorizeServed(t, s)
	for name, line := range checks {
		if !strings.HasPrefix(line, "PASS") {
			if !served && (name == "authorization request" || name == "bogus PKCE method") && strings.HasPrefix(line, "FAIL") {
				continue
			}
			t.Errorf("not a pass: %s", line)
		}
	}
	if served && err != nil {
		t.Errorf("doctor failed against a healthy server: %v\n%s", err, out)
	}
	if !served && (err == nil || !strings.Contains(err.Error(), "oauth doctor: 2 checks failed")) {
		t.Errorf("without the authorization endpoint: %v", err)
	}
	for _, name := range []string{"metadata /.well-known/oauth-authorization-server", "metadata /.well-known/openid-configuration",
		"metadata documents identical", "issuer equals the URL used", "issuer equals GATEHOUSE_PUBLIC_URL", "issuer form", "PKCE",
		"iss parameter", "client metadata documents", "dynamic registration", "resource registered", "protected resource metadata",
		"CORS /.well-known/oauth-authorization-server", "CORS token endpoint", "CORS token response", "token endpoint", "JWKS", "CORS JWKS"} {
		if checks[name] == "" {
			t.Errorf("no %q check:\n%s", name, out)
		}
	}
	if !strings.Contains(checks["dynamic registration"], `"gatehouse-doctor"`) {
		t.Errorf("registration line does not name the doctor's client: %s", checks["dynamic registration"])
	}
	if list := s.cliOut(t, "clients", "list"); !strings.Contains(list, "gatehouse-doctor") || !strings.Contains(list, "dynamic") {
		t.Errorf("the doctor's client is not listed:\n%s", list)
	}
}

// TestCLIOAuthDoctorIssuerMismatch: a server whose GATEHOUSE_PUBLIC_URL is not the URL doctor
// reaches it at fails the issuer check, with the fix, and doctor exits non-zero. The resource
// is not registered and its metadata is unreachable: a FAIL and a WARN.
func TestCLIOAuthDoctorIssuerMismatch(t *testing.T) {
	s := startServer(t, "GATEHOUSE_PUBLIC_URL=https://auth.example.com")
	const resource = "http://127.0.0.1:9/mcp" // nothing listens on the discard port
	checks, out, err := doctorLines(t, s.env, "--url", s.URL, "--resource", resource)
	if err == nil || !strings.Contains(err.Error(), "oauth doctor: ") || !strings.Contains(err.Error(), "failed") {
		t.Fatalf("doctor succeeded against a misconfigured server: %v\n%s", err, out)
	}
	if line := checks["issuer equals the URL used"]; !strings.HasPrefix(line, "FAIL") ||
		!strings.Contains(line, `issuer "https://auth.example.com"`) || !strings.Contains(line, "fix: set GATEHOUSE_PUBLIC_URL="+s.URL) {
		t.Errorf("issuer check: %s", line)
	}
	// This command's configuration agrees with the server's: that check passes.
	if line := checks["issuer equals GATEHOUSE_PUBLIC_URL"]; !strings.HasPrefix(line, "PASS") {
		t.Errorf("configured issuer check: %s", line)
	}
	if line := checks["resource registered"]; !strings.HasPrefix(line, "FAIL") || !strings.Contains(line, "gatehouse resources add --uri "+resource) {
		t.Errorf("resource check: %s", line)
	}
	if line := checks["protected resource metadata"]; !strings.HasPrefix(line, "WARN") || !strings.Contains(line, "unreachable") {
		t.Errorf("protected resource metadata check: %s", line)
	}
	for name, line := range checks {
		if strings.HasPrefix(line, "FAIL") || strings.HasPrefix(line, "WARN") {
			if !strings.Contains(line, "; fix: ") {
				t.Errorf("%s has no fix: %s", name, line)
			}
		}
	}

	// Run with the server's own configuration but another one here: named too.
	env := maps.Clone(s.env)
	env["GATEHOUSE_PUBLIC_URL"] = "https://login.example.org"
	checks, _, err = doctorLines(t, env, "--url", s.URL, "--resource", resource)
	if err == nil || !strings.HasPrefix(checks["issuer equals GATEHOUSE_PUBLIC_URL"], "FAIL") ||
		!strings.Contains(checks["issuer equals GATEHOUSE_PUBLIC_URL"], `"https://login.example.org"`) {
		t.Errorf("configuration mismatch: %v; %s", err, checks["issuer equals GATEHOUSE_PUBLIC_URL"])
	}
}

// TestCLIOAuthDoctorBehindProxy: the proxy terminates TLS for clients but GATEHOUSE_PUBLIC_URL
// says http (or the other way round): doctor names the scheme mismatch. A trailing slash in the
// URL is flagged too.
func TestCLIOAuthDoctorBehindProxy(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	// The server believes it is reached over https on this host and port; doctor fetches it over
	// http, as a client of a proxy set up the other way round would.
	s := startServer(t, "GATEHOUSE_ADDR="+addr, "GATEHOUSE_PUBLIC_URL=https://"+addr)
	checks, out, err := doctorLines(t, s.env, "--url", "http://"+addr+"/", "--resource", "https://mcp.example.com/mcp")
	if err == nil {
		t.Fatalf("doctor passed:\n%s", out)
	}
	if line := checks["url"]; !strings.HasPrefix(line, "FAIL") || !strings.Contains(line, "ends with a slash") {
		t.Errorf("trailing slash: %s", line)
	}
	if line := checks["issuer equals the URL used"]; !strings.HasPrefix(line, "FAIL") || !strings.Contains(line, "scheme mismatch (http fetched, https in the issuer)") {
		t.Errorf("scheme mismatch: %s", line)
	}
}

// TestCLIOAuthDoctorErrors: flags are checked before anything is fetched; an unreachable server
// fails with the reason, not a stack of errors.
func TestCLIOAuthDoctorErrors(t *testing.T) {
	env := map[string]string{"GATEHOUSE_DATA_DIR": t.TempDir()}
	for _, c := range []struct {
		want string
		args []string
	}{
		{"oauth doctor: --resource is required", []string{"--url", "https://auth.example.com"}},
		{"oauth doctor: GATEHOUSE_PUBLIC_URL is not set; give the URL clients use with --url", []string{"--resource", "https://mcp.example.com/mcp"}},
		{`oauth doctor: --url must be an http or https URL`, []string{"--url", "auth.example.com", "--resource", "https://mcp.example.com/mcp"}},
		{`oauth doctor: --resource must be the resource's URL`, []string{"--url", "https://auth.example.com", "--resource", "mcp"}},
	} {
		stdout, _, err := runCLI(env, append([]string{"oauth", "doctor"}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) || stdout != "" {
			t.Errorf("oauth doctor %s: %v, stdout %q; want %q", strings.Join(c.args, " "), err, stdout, c.want)
		}
	}
	// Nothing listens on the discard port.
	stdout, _, err := runCLI(env, "oauth", "doctor", "--url", "http://127.0.0.1:9", "--resource", "https://mcp.example.com/mcp")
	if err == nil || !strings.Contains(stdout, "FAIL  metadata /.well-known/oauth-authorization-server: ") ||
		!strings.Contains(stdout, "fix: nothing listens at 127.0.0.1:9") {
		t.Errorf("unreachable server: %v\n%s", err, stdout)
	}
}
