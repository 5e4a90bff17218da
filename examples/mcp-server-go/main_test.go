package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/gatehouse/gatehouse/sdks/go/gatehousetest"
)

// TestExampleServer builds the example, starts it on a free port against a stand-in issuer,
// and calls whoami through the official MCP Go SDK client with a token minted for it.
func TestExampleServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the example binary")
	}
	iss := gatehousetest.NewIssuer(nil)
	defer iss.Close()
	bin := filepath.Join(t.TempDir(), "mcp-server-go")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Run("built binary", func(t *testing.T) {
		exercise(t, iss, start(t, exec.Command(bin, "--addr", "127.0.0.1:0", "--issuer", iss.URL)))
	})
	t.Run("run script", func(t *testing.T) {
		exercise(t, iss, start(t, exec.Command("./run", "--addr", "127.0.0.1:0", "--issuer", iss.URL)))
	})
}

var listening = regexp.MustCompile(`^listening on (http://127\.0\.0\.1:[0-9]+/mcp)$`)

// start runs cmd and returns the URL of its "listening on" line.
func start(t *testing.T, cmd *exec.Cmd) string {
	t.Helper()
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	lines := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			lines <- s.Text()
		}
		close(lines)
	}()
	select {
	case line, ok := <-lines:
		m := listening.FindStringSubmatch(line)
		if !ok || m == nil {
			t.Fatalf("first line %q, want listening on http://127.0.0.1:PORT/mcp", line)
		}
		go func() { // keep draining
			for range lines {
			}
		}()
		return m[1]
	case <-time.After(3 * time.Minute): // a bound on a cold build, not a timing assertion
		t.Fatal("the server never said it was listening")
	}
	return ""
}

type bearerTransport string

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+string(b))
	return http.DefaultTransport.RoundTrip(r)
}

func exercise(t *testing.T, iss *gatehousetest.Issuer, url string) {
	base := url[:len(url)-len("/mcp")]
	metadata := base + "/.well-known/oauth-protected-resource/mcp"

	// Without a token: 401 and the challenge that starts an MCP client's OAuth discovery.
	resp, err := http.Post(url, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	want := `Bearer resource_metadata="` + metadata + `", scope="mcp:tools"`
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != want {
		t.Fatalf("no token: %d %q, want 401 %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), want)
	}

	// The metadata it points to names the resource and the issuer.
	resp, err = http.Get(metadata)
	if err != nil {
		t.Fatal(err)
	}
	var prm struct {
		Resource             string   `json:"resource"`
		AuthorizationServers []string `json:"authorization_servers"`
		ScopesSupported      []string `json:"scopes_supported"`
	}
	err = json.NewDecoder(resp.Body).Decode(&prm)
	resp.Body.Close()
	if err != nil || prm.Resource != url || len(prm.AuthorizationServers) != 1 || prm.AuthorizationServers[0] != iss.URL ||
		len(prm.ScopesSupported) != 1 || prm.ScopesSupported[0] != "mcp:tools" {
		t.Fatalf("metadata %+v %v", prm, err)
	}

	// A token without mcp:tools: 403 insufficient_scope.
	weak := iss.Mint(gatehousetest.Claims{Audience: url, Scope: "openid"})
	req, _ := http.NewRequest(http.MethodPost, url, nil)
	req.Header.Set("Authorization", "Bearer "+weak)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || resp.Header.Get("WWW-Authenticate") != `Bearer resource_metadata="`+metadata+`", scope="mcp:tools", error="insufficient_scope"` {
		t.Fatalf("weak token: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}

	// The right token: whoami through the MCP Go SDK client.
	tok := iss.Mint(gatehousetest.Claims{Audience: url, Subject: "user-123", Scope: "mcp:tools offline_access", ClientID: "test-client"})
	ctx := context.Background()
	c := mcp.NewClient(&mcp.Implementation{Name: "example-test", Version: "0"}, nil)
	cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: &http.Client{Transport: bearerTransport(tok)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "whoami"})
	if err != nil {
		t.Fatal(err)
	}
	var got whoamiOut
	b, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(b, &got); err != nil || res.IsError {
		t.Fatalf("whoami: %s %v", b, err)
	}
	if got.Sub != "user-123" || got.Scope != "mcp:tools offline_access" {
		t.Fatalf("whoami = %+v", got)
	}
	if len(res.Content) == 0 {
		t.Fatal("whoami has no text content")
	}
	if text, ok := res.Content[0].(*mcp.TextContent); !ok || text.Text == "" {
		t.Fatalf("whoami content %#v", res.Content[0])
	}
}
