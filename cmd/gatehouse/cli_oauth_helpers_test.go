package main

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
)

// cliOut runs a command against the server's configuration; it fails the test unless the command
// succeeds without logging, and returns its stdout.
func (s *testServer) cliOut(t *testing.T, args ...string) string {
	t.Helper()
	stdout, stderr, err := runCLI(s.env, args...)
	if err != nil {
		t.Fatalf("gatehouse %s: %v", strings.Join(args, " "), err)
	}
	if stderr != "" {
		t.Errorf("gatehouse %s logged: %s", strings.Join(args, " "), stderr)
	}
	return stdout
}

// cliFails runs a command that must fail with a one-line error containing want, print nothing
// on stdout and log nothing.
func (s *testServer) cliFails(t *testing.T, want string, args ...string) {
	t.Helper()
	stdout, stderr, err := runCLI(s.env, args...)
	switch {
	case err == nil:
		t.Errorf("gatehouse %s succeeded:\n%s", strings.Join(args, " "), stdout)
	case !strings.Contains(err.Error(), want):
		t.Errorf("gatehouse %s: %q; want it to contain %q", strings.Join(args, " "), err, want)
	case strings.ContainsAny(err.Error(), "\r\n"):
		t.Errorf("gatehouse %s: error on several lines: %q", strings.Join(args, " "), err)
	case stdout != "" || stderr != "":
		t.Errorf("gatehouse %s failed but wrote stdout %q, stderr %q", strings.Join(args, " "), stdout, stderr)
	}
}

// lastOutputLine is the last line of a command's output, exactly (the output ends with a newline).
func lastOutputLine(out string) string {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	return lines[len(lines)-1]
}

// clientIDOf reads the client_id line clients create prints.
func clientIDOf(t *testing.T, out string) string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if id, ok := strings.CutPrefix(line, "client_id: "); ok && id != "" {
			return id
		}
	}
	t.Fatalf("no client_id line in:\n%s", out)
	return ""
}

// tokenWithMadeUpCode asks /oauth2/token to exchange a code that was never issued: a client
// whose credentials are good gets 400 invalid_grant, an unknown, revoked or badly authenticated
// one 401 invalid_client.
func (s *testServer) tokenWithMadeUpCode(t *testing.T, clientID, secret string) *response {
	t.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {"never-issued"}, "redirect_uri": {"http://127.0.0.1/cb"},
		"code_verifier": {strings.Repeat("v", 43)}}
	headers := []string{"Content-Type: application/x-www-form-urlencoded"}
	if secret != "" {
		headers = append(headers, "Authorization: Basic "+base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(clientID)+":"+url.QueryEscape(secret))))
	} else {
		form.Set("client_id", clientID)
	}
	return s.do(t, "POST", "/oauth2/token", form.Encode(), headers...)
}

// expectOAuthError checks an RFC 6749 JSON error answer.
func expectOAuthError(t *testing.T, r *response, status int, code string) {
	t.Helper()
	expectStatus(t, r, status)
	if got := r.str(t, "error"); got != code {
		t.Fatalf("error %q, want %q; body: %s", got, code, r.Body)
	}
}
