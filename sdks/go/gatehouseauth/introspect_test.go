package gatehouseauth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/sdks/go/gatehouseauth"
	"github.com/gatehouse/gatehouse/sdks/go/gatehousetest"
)

const apiKey = "ak_AbCdEfGhIjKlMnOpQrStUvWxYz012345abc123"

func TestAPIKeysOffByDefault(t *testing.T) {
	r := newRig(t, nil)
	r.iss.AddAPIKey(apiKey, gatehousetest.APIKey{Subject: "user-9", KeyID: "key-1", Scope: "mcp:tools"})
	if a := r.call("/mcp", map[string]string{"X-API-Key": apiKey}, "mcp:tools"); a.status != 401 {
		t.Fatalf("X-API-Key: %d", a.status)
	}
	if a := r.call("/mcp", bearer(apiKey), "mcp:tools"); a.status != 401 {
		t.Fatalf("Bearer ak_: %d", a.status)
	}
	if n := r.iss.IntrospectionRequests(); n != 0 {
		t.Fatalf("%d introspection requests while API keys are off", n)
	}
}

func TestAPIKeysThroughIntrospection(t *testing.T) {
	r := newRig(t, func(c *gatehouseauth.Config) {
		c.AcceptAPIKeys = true
		c.IntrospectionCacheTTL = 30 * time.Second
	})
	r.iss.AddAPIKey(apiKey, gatehousetest.APIKey{Subject: "user-9", KeyID: "key-1", Scope: "mcp:tools profile:read", Email: "k@example.com"})

	for _, h := range []map[string]string{{"X-API-Key": apiKey}, bearer(apiKey)} {
		a := r.call("/mcp", h, "mcp:tools")
		if a.status != 200 {
			t.Fatalf("%v: %d %v", h, a.status, a.body)
		}
		p := a.principal
		if p.Subject != "user-9" || p.KeyID != "key-1" || p.TokenType != gatehouseauth.TypeAPIKey ||
			!p.HasScopes("mcp:tools", "profile:read") || p.Email != "k@example.com" || p.SessionID != "" {
			t.Errorf("principal %+v", p)
		}
	}
	if n := r.iss.IntrospectionRequests(); n != 1 {
		t.Fatalf("%d introspection requests, want 1 (cached)", n)
	}
	// Scopes apply to keys as to tokens.
	if a := r.call("/files", map[string]string{"X-API-Key": apiKey}, "files:write"); a.status != 403 {
		t.Fatalf("key without the scope: %d", a.status)
	}
	// A revoked key works until its cached answer expires, then not.
	r.iss.RevokeAPIKey(apiKey)
	if a := r.call("/mcp", map[string]string{"X-API-Key": apiKey}, "mcp:tools"); a.status != 200 {
		t.Fatalf("within the cache TTL: %d", a.status)
	}
	r.clk.Advance(30 * time.Second)
	a := r.call("/mcp", map[string]string{"X-API-Key": apiKey}, "mcp:tools")
	if a.status != 401 || a.body["error"] != "invalid_token" {
		t.Fatalf("revoked key: %d %v", a.status, a.body)
	}
	// Unknown keys are refused, and the refusal is cached too.
	other := "ak_zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz000000"
	before := r.iss.IntrospectionRequests()
	for i := 0; i < 3; i++ {
		if a := r.call("/mcp", map[string]string{"X-API-Key": other}, "mcp:tools"); a.status != 401 {
			t.Fatalf("unknown key: %d", a.status)
		}
	}
	if n := r.iss.IntrospectionRequests() - before; n != 1 {
		t.Fatalf("%d introspection requests for a refused key, want 1", n)
	}
	// A key and a token at once is ambiguous.
	h := bearer(r.token(nil))
	h["X-API-Key"] = apiKey
	if a := r.call("/mcp", h, "mcp:tools"); a.status != 400 || a.body["error"] != "invalid_request" {
		t.Fatalf("two credentials: %d %v", a.status, a.body)
	}
	// Tokens still verify locally: no introspection.
	before = r.iss.IntrospectionRequests()
	if a := r.call("/mcp", bearer(r.token(nil)), "mcp:tools"); a.status != 200 {
		t.Fatalf("token: %d", a.status)
	}
	if r.iss.IntrospectionRequests() != before {
		t.Fatal("a token was introspected without CheckSessions")
	}
}

func TestAPIKeyCacheStopsAtKeyExpiry(t *testing.T) {
	r := newRig(t, func(c *gatehouseauth.Config) { c.AcceptAPIKeys = true })
	r.iss.AddAPIKey(apiKey, gatehousetest.APIKey{Subject: "u", Scope: "mcp:tools", ExpiresAt: r.clk.Now().Add(10 * time.Second)})
	ctx := context.Background()
	if _, err := r.v.VerifyAPIKey(ctx, apiKey); err != nil {
		t.Fatal(err)
	}
	r.clk.Advance(10 * time.Second)
	if _, err := r.v.VerifyAPIKey(ctx, apiKey); !errors.Is(err, gatehouseauth.ErrInvalidToken) {
		t.Fatalf("expired key: %v", err)
	}
}

func TestIntrospectionWithAWrongServerKey(t *testing.T) {
	r := newRig(t, func(c *gatehouseauth.Config) {
		c.AcceptAPIKeys = true
		c.IntrospectionKey = "ak_not_the_right_one"
	})
	r.iss.AddAPIKey(apiKey, gatehousetest.APIKey{Subject: "u", Scope: "mcp:tools"})
	if a := r.call("/mcp", map[string]string{"X-API-Key": apiKey}, "mcp:tools"); a.status != 503 {
		t.Fatalf("%d %v", a.status, a.body)
	}
}

// TestRevokedSession: without CheckSessions a token of a revoked session is good until it
// expires; with it, it is refused (within SessionCacheTTL).
func TestRevokedSession(t *testing.T) {
	ctx := context.Background()
	t.Run("without the check", func(t *testing.T) {
		r := newRig(t, nil)
		tok := r.token(func(c *gatehousetest.Claims) { c.SessionID = "s-1" })
		r.iss.RevokeSession("s-1")
		if _, err := r.v.Verify(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if n := r.iss.IntrospectionRequests(); n != 0 {
			t.Fatalf("%d introspection requests", n)
		}
	})
	t.Run("with the check", func(t *testing.T) {
		r := newRig(t, func(c *gatehouseauth.Config) {
			c.CheckSessions = true
			c.SessionCacheTTL = 5 * time.Second
		})
		tok := r.token(func(c *gatehousetest.Claims) { c.SessionID = "s-1" })
		for i := 0; i < 3; i++ {
			if _, err := r.v.Verify(ctx, tok); err != nil {
				t.Fatal(err)
			}
		}
		if n := r.iss.IntrospectionRequests(); n != 1 {
			t.Fatalf("%d introspection requests, want 1 (cached)", n)
		}
		r.iss.RevokeSession("s-1")
		r.clk.Advance(5 * time.Second)
		a := r.call("/mcp", bearer(tok), "mcp:tools")
		if a.status != 401 || a.body["error_description"] != "token or session revoked" {
			t.Fatalf("revoked session: %d %v", a.status, a.body)
		}
		// The refusal is remembered: no more introspection for this token.
		n := r.iss.IntrospectionRequests()
		r.clk.Advance(time.Minute)
		if _, err := r.v.Verify(ctx, tok); !errors.Is(err, gatehouseauth.ErrInvalidToken) {
			t.Fatal(err)
		}
		if r.iss.IntrospectionRequests() != n {
			t.Fatal("a revoked token was introspected again")
		}
		// Another session of the same user is unaffected.
		if _, err := r.v.Verify(ctx, r.token(func(c *gatehousetest.Claims) { c.SessionID = "s-2" })); err != nil {
			t.Fatal(err)
		}
	})
}
