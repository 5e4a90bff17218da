package gatehouseauth_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/sdks/go/gatehouseauth"
)

// TestAgainstGatehouseBinary builds the Gatehouse server of this repository, starts it, and
// checks the kit against its real JWKS, tokens and introspection endpoint. It is skipped when
// the kit is used outside the repository (no ../../../cmd/gatehouse) or with -short.
func TestAgainstGatehouseBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the Gatehouse server")
	}
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "cmd", "gatehouse")); err != nil {
		t.Skip("not inside the Gatehouse repository")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "gatehouse")
	build := exec.Command("go", "build", "-o", bin, "./cmd/gatehouse")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building gatehouse: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	issuer := "http://" + addr
	env := append(os.Environ(), "GATEHOUSE_ADDR="+addr, "GATEHOUSE_DATA_DIR="+filepath.Join(dir, "data"),
		"GATEHOUSE_PUBLIC_URL="+issuer, "GATEHOUSE_RATE_LIMITS=off")

	serve := exec.Command(bin, "serve")
	serve.Env = env
	stdout, _ := serve.StdoutPipe()
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = serve.Process.Kill(); _ = serve.Wait() })
	ready := make(chan bool, 1)
	go func() {
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			if strings.HasPrefix(s.Text(), "gatehouse listening on ") {
				ready <- true
			}
		}
		close(ready)
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatal("gatehouse exited before listening")
		}
	case <-time.After(2 * time.Minute): // a bound, not a timing assertion
		t.Fatal("gatehouse never said it was listening")
	}

	postJSON := func(path, bearerTok string, body any) (int, map[string]any) {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, issuer+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		if bearerTok != "" {
			req.Header.Set("Authorization", "Bearer "+bearerTok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	status, reg := postJSON("/api/v1/auth/register", "", map[string]string{"email": "kit@example.com", "password": "a long enough passphrase", "name": "Kit"})
	if status != 201 {
		t.Fatalf("register: %d %v", status, reg)
	}
	tok, _ := reg["access_token"].(string)
	userID, _ := reg["user"].(map[string]any)["id"].(string)

	keysCreate := exec.Command(bin, "keys", "create", "--email", "kit@example.com", "--scope", "tokens:introspect", "--name", "kit")
	keysCreate.Env = env
	out, err := keysCreate.Output()
	if err != nil {
		t.Fatalf("keys create: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	introKey := strings.TrimSpace(lines[len(lines)-1])

	ctx := context.Background()
	// Gatehouse's first-party token (aud = the issuer) is refused by an MCP server's kit, and
	// refused for its audience only: JWKS, alg, typ, iss and exp all passed.
	mcpKit, err := gatehouseauth.New(gatehouseauth.Config{Issuer: issuer, Resource: issuer + "/mcp"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = mcpKit.Verify(ctx, tok)
	var e *gatehouseauth.Error
	if !errors.As(err, &e) || e.Reason != "token is for another resource" {
		t.Fatalf("first-party token at an MCP resource: %v", err)
	}

	// With the token's own audience as the resource, Gatehouse's signature, header and claims
	// verify; its introspection answers for the session and for API keys.
	kit, err := gatehouseauth.New(gatehouseauth.Config{Issuer: issuer, Resource: issuer, CheckSessions: true,
		AcceptAPIKeys: true, IntrospectionKey: introKey, SessionCacheTTL: -1, IntrospectionCacheTTL: -1})
	if err != nil {
		t.Fatal(err)
	}
	p, err := kit.Verify(ctx, tok)
	if err != nil {
		t.Fatalf("Gatehouse token: %v", err)
	}
	if p.Subject != userID || p.SessionID == "" || p.Email != "kit@example.com" {
		t.Fatalf("principal %+v", p)
	}
	kp, err := kit.VerifyAPIKey(ctx, introKey)
	if err != nil || kp.Subject != userID || kp.KeyID == "" || !kp.HasScope("tokens:introspect") {
		t.Fatalf("API key: %+v %v", kp, err)
	}
	// Change the key's last character to another one (appending a fixed "x" is no change when the
	// key already ends in x, about one run in sixty).
	last := "x"
	if strings.HasSuffix(introKey, "x") {
		last = "y"
	}
	if _, err := kit.VerifyAPIKey(ctx, introKey[:len(introKey)-1]+last); !errors.Is(err, gatehouseauth.ErrInvalidToken) {
		t.Fatalf("bad API key: %v", err)
	}
	if status, body := postJSON("/api/v1/auth/logout", tok, map[string]any{}); status != 200 {
		t.Fatalf("logout: %d %v", status, body)
	}
	if _, err := kit.Verify(ctx, tok); !errors.Is(err, gatehouseauth.ErrInvalidToken) {
		t.Fatalf("token of a logged-out session with CheckSessions: %v", err)
	}
}
