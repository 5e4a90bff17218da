package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// seedGrant stores a user's consent to a client for a resource, as an approval on the consent
// page does (the page itself is tested with the dashboard).
func (s *testServer) seedGrant(t *testing.T, userID, clientID, resource string, scopes ...string) string {
	t.Helper()
	ctx := context.Background()
	a, err := (&cli{ctx: ctx, env: environment{get: func(k string) string { return s.env[k] }}, stdout: io.Discard, stderr: io.Discard}).open(existingDatabase)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	now := time.Now()
	g := &gatehouse.Grant{ID: gatehouse.NewID(), UserID: userID, ClientID: clientID, ClientName: "Seeded app", Resource: resource,
		Scopes: scopes, CreatedAt: now, UpdatedAt: now}
	if err := a.store.Tx(ctx, func(tx gatehouse.StoreTx) error { return tx.SaveGrant(ctx, g) }); err != nil {
		t.Fatal(err)
	}
	return g.ID
}

// rows are the data rows of a table a list command printed (the header dropped).
func rows(t *testing.T, out string) []string {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "ID") {
		t.Fatalf("no table header:\n%s", out)
	}
	return lines[1:]
}

// TestCLIOAuthGrants: admins see grants per user (by ID or email) and per client, and revoke them.
func TestCLIOAuthGrants(t *testing.T) {
	s := startServer(t)
	alice, bob := s.register(t), s.register(t)
	client := clientIDOf(t, s.cliOut(t, "clients", "create", "--name", "Agent", "--redirect-uri", "http://127.0.0.1/cb"))
	other := clientIDOf(t, s.cliOut(t, "clients", "create", "--name", "Other", "--redirect-uri", "http://127.0.0.1/cb"))
	const mcp = "https://mcp.example.com/mcp"
	s.cliOut(t, "resources", "add", "--uri", mcp, "--name", "MCP", "--scope", "mcp:tools")
	aliceGrant := s.seedGrant(t, alice.ID, client, mcp, "mcp:tools", "openid")
	bobGrant := s.seedGrant(t, bob.ID, client, mcp, "mcp:tools")
	s.seedGrant(t, bob.ID, other, mcp)

	for _, ref := range []string{alice.ID, alice.Email} {
		got := rows(t, s.cliOut(t, "grants", "list", "--user", ref))
		if len(got) != 1 || !strings.HasPrefix(got[0], aliceGrant+" ") || !strings.Contains(got[0], alice.Email) ||
			!strings.Contains(got[0], client) || !strings.Contains(got[0], mcp) || !strings.Contains(got[0], "mcp:tools openid") {
			t.Fatalf("grants list --user %s: %q", ref, got)
		}
	}
	if got := rows(t, s.cliOut(t, "grants", "list", "--client", client)); len(got) != 2 ||
		!strings.Contains(strings.Join(got, "\n"), aliceGrant) || !strings.Contains(strings.Join(got, "\n"), bobGrant) {
		t.Fatalf("grants list --client: %q", got)
	}
	if got := rows(t, s.cliOut(t, "grants", "list", "--user", bob.Email, "--client", client)); len(got) != 1 || !strings.HasPrefix(got[0], bobGrant+" ") {
		t.Fatalf("grants list --user --client: %q", got)
	}

	s.cliFails(t, "grants list: --user or --client is required", "grants", "list")
	s.cliFails(t, "grants list: no user ghost@example.com in database ", "grants", "list", "--user", "ghost@example.com")
	s.cliFails(t, "grants list: no user no-such-id in database ", "grants", "list", "--user", "no-such-id")

	if out := s.cliOut(t, "grants", "revoke", aliceGrant); !strings.Contains(out, "revoked grant "+aliceGrant) {
		t.Fatalf("grants revoke printed %q", out)
	}
	if got := rows(t, s.cliOut(t, "grants", "list", "--user", alice.ID)); len(got) != 0 {
		t.Fatalf("the revoked grant is still listed: %q", got)
	}
	s.cliFails(t, `grants revoke: no grant "`+aliceGrant+`" in database `, "grants", "revoke", aliceGrant)
	s.cliFails(t, "grants revoke: want one grant ID", "grants", "revoke")

	// Revoking the client deletes the grants users gave it, and no others.
	if out := s.cliOut(t, "clients", "revoke", client); !strings.Contains(out, "1 grant deleted") {
		t.Fatalf("clients revoke printed %q", out)
	}
	if got := rows(t, s.cliOut(t, "grants", "list", "--client", client)); len(got) != 0 {
		t.Fatalf("grants of a revoked client: %q", got)
	}
	if got := rows(t, s.cliOut(t, "grants", "list", "--user", bob.ID)); len(got) != 1 || !strings.Contains(got[0], other) {
		t.Fatalf("bob's grant to the other client: %q", got)
	}
}
