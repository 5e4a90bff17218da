package main

import (
	"net/http"
	"strings"
	"testing"
)

// TestCLIOAuthResources: add, list (the discovery document lists the scopes too), remove.
func TestCLIOAuthResources(t *testing.T) {
	s := startServer(t)
	out := s.cliOut(t, "resources", "add", "--uri", "https://mcp.example.com/mcp", "--name", "Example MCP",
		"--scope", "mcp:tools=Use the tools", "--scope", "mcp:resources", "--scope", "openid")
	if !strings.Contains(out, "registered resource https://mcp.example.com/mcp (Example MCP), scopes: mcp:tools mcp:resources") {
		t.Fatalf("resources add printed %q", out)
	}
	s.cliOut(t, "resources", "add", "--uri", "https://api.example.com", "--name", "Plain API")

	list := s.cliOut(t, "resources", "list")
	lines := strings.Split(strings.TrimSpace(list), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "URI") ||
		!strings.HasPrefix(lines[1], "https://api.example.com ") || !strings.HasSuffix(lines[1], "-") ||
		!strings.HasPrefix(lines[2], "https://mcp.example.com/mcp ") || !strings.HasSuffix(lines[2], "mcp:tools mcp:resources") {
		t.Fatalf("resources list:\n%s", list)
	}
	meta := s.do(t, "GET", "/.well-known/oauth-authorization-server", nil)
	expectStatus(t, meta, http.StatusOK)
	if !strings.Contains(string(meta.Body), `"mcp:tools"`) {
		t.Fatalf("the metadata does not list the new scope: %s", meta.Body)
	}

	out = s.cliOut(t, "resources", "remove", "https://mcp.example.com/mcp")
	if !strings.Contains(out, "removed resource https://mcp.example.com/mcp") {
		t.Fatalf("resources remove printed %q", out)
	}
	if list := s.cliOut(t, "resources", "list"); strings.Contains(list, "mcp.example.com") || !strings.Contains(list, "api.example.com") {
		t.Fatalf("after remove:\n%s", list)
	}
}

// TestCLIOAuthResourcesErrors: missing flags, bad URIs, duplicates and unknown URIs.
func TestCLIOAuthResourcesErrors(t *testing.T) {
	// The CLI knows the server's own API by GATEHOUSE_PUBLIC_URL.
	s := startServer(t, "GATEHOUSE_PUBLIC_URL=https://auth.example.com")
	s.cliOut(t, "resources", "add", "--uri", "https://mcp.example.com/mcp", "--name", "Example MCP")
	for _, c := range []struct {
		want string
		args []string
	}{
		{"resources add: --uri is required", []string{"resources", "add", "--name", "x"}},
		{"resources add: --name is required", []string{"resources", "add", "--uri", "https://x.example.com"}},
		{"resources add: https://mcp.example.com/mcp is already registered", []string{"resources", "add", "--uri", "https://mcp.example.com/mcp", "--name", "Again"}},
		{"resources add: --uri: a resource URI has no fragment", []string{"resources", "add", "--uri", "https://x.example.com/#frag", "--name", "x"}},
		{"resources add: --uri: a resource URI is an absolute URL", []string{"resources", "add", "--uri", "mcp.example.com", "--name", "x"}},
		{"resources add: --uri: a resource URI is an https URL", []string{"resources", "add", "--uri", "ftp://x.example.com", "--name", "x"}},
		{"resources add: --uri: the public URL and Gatehouse's own API are not resources to register", []string{"resources", "add", "--uri", "https://auth.example.com/api/v1", "--name", "x"}},
		{"resources add: --scope: a scope is printable ASCII", []string{"resources", "add", "--uri", "https://x.example.com", "--name", "x", "--scope", "bad scope"}},
		{"resources remove: no resource https://nope.example.com in database ", []string{"resources", "remove", "https://nope.example.com"}},
		{"resources remove: want one resource URI", []string{"resources", "remove"}},
	} {
		s.cliFails(t, c.want, c.args...)
	}
	if list := s.cliOut(t, "resources", "list"); strings.Count(strings.TrimSpace(list), "\n") != 1 {
		t.Fatalf("refused resources were stored:\n%s", list)
	}
}
