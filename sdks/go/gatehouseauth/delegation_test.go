package gatehouseauth_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/gatehouse/gatehouse/sdks/go/gatehouseauth"
	"github.com/gatehouse/gatehouse/sdks/go/gatehousetest"
)

func delegated(c *gatehousetest.Claims) {
	c.Subject = "user-1"
	c.ClientID = "agent-b"
	c.Extra = map[string]any{"act": map[string]any{"sub": "agent-b", "act": map[string]any{"sub": "agent-a"}}}
}

// A delegated token's actor chain is on the principal: Act names the agent acting for the user
// (Subject), nested for a chain.
func TestPrincipalAct(t *testing.T) {
	r := newRig(t, nil)
	p, err := r.v.Verify(context.Background(), r.token(delegated))
	if err != nil {
		t.Fatal(err)
	}
	if !p.Delegated() || p.Subject != "user-1" || p.Act.Subject != "agent-b" || p.Act.Act == nil || p.Act.Act.Subject != "agent-a" || p.Act.Depth() != 2 {
		t.Fatalf("principal %+v act %+v", p, p.Act)
	}
	direct, err := r.v.Verify(context.Background(), r.token(nil))
	if err != nil || direct.Delegated() || direct.Act != nil {
		t.Fatalf("a direct token: %+v, %v", direct, err)
	}
	for name, act := range map[string]any{
		"no sub":     map[string]any{"act": map[string]any{"sub": "a"}},
		"too deep":   map[string]any{"sub": "a", "act": map[string]any{"sub": "b", "act": map[string]any{"sub": "c", "act": map[string]any{"sub": "d"}}}},
		"not object": "agent",
	} {
		tok := r.token(func(c *gatehousetest.Claims) { c.Extra = map[string]any{"act": act} })
		if _, err := r.v.Verify(context.Background(), tok); !errors.Is(err, gatehouseauth.ErrInvalidToken) {
			t.Errorf("%s: %v, want ErrInvalidToken", name, err)
		}
	}
}

// DelegationRequired lets only agents acting for a user through; DelegationRefused only direct
// tokens. A refused token is 401 invalid_token.
func TestDelegationPolicies(t *testing.T) {
	req := newRig(t, func(c *gatehouseauth.Config) { c.Delegation = gatehouseauth.DelegationRequired })
	if a := req.call("/mcp", bearer(req.token(delegated)), "mcp:tools"); a.status != http.StatusOK || a.principal.Act == nil {
		t.Fatalf("required, delegated: %+v", a)
	}
	if a := req.call("/mcp", bearer(req.token(nil)), "mcp:tools"); a.status != http.StatusUnauthorized || a.body["error"] != "invalid_token" {
		t.Fatalf("required, direct: %+v", a)
	}
	ref := newRig(t, func(c *gatehouseauth.Config) { c.Delegation = gatehouseauth.DelegationRefused })
	if a := ref.call("/mcp", bearer(ref.token(nil)), "mcp:tools"); a.status != http.StatusOK {
		t.Fatalf("refused, direct: %+v", a)
	}
	tok := ref.token(delegated)
	for range 2 { // the second time from the verified-token cache
		if a := ref.call("/mcp", bearer(tok), "mcp:tools"); a.status != http.StatusUnauthorized || a.body["error"] != "invalid_token" {
			t.Fatalf("refused, delegated: %+v", a)
		}
	}
	// Per route, with the default policy.
	r := newRig(t, nil)
	p, _ := r.v.Verify(context.Background(), r.token(delegated))
	d, _ := r.v.Verify(context.Background(), r.token(nil))
	if gatehouseauth.RequireDelegated(p) != nil || gatehouseauth.RefuseDelegated(d) != nil ||
		!errors.Is(gatehouseauth.RequireDelegated(d), gatehouseauth.ErrInvalidToken) || !errors.Is(gatehouseauth.RefuseDelegated(p), gatehouseauth.ErrInvalidToken) {
		t.Fatal("RequireDelegated / RefuseDelegated")
	}
	if _, err := gatehouseauth.New(gatehouseauth.Config{Issuer: r.iss.URL, Resource: resource, Delegation: 7}); err == nil {
		t.Fatal("an unknown policy was accepted")
	}
}

// An API key is never delegated: DelegationRequired refuses it.
func TestDelegationRequiredRefusesAPIKeys(t *testing.T) {
	r := newRig(t, func(c *gatehouseauth.Config) {
		c.AcceptAPIKeys = true
		c.Delegation = gatehouseauth.DelegationRequired
	})
	r.iss.AddAPIKey(apiKey, gatehousetest.APIKey{Subject: "user-9", KeyID: "key-1", Scope: "mcp:tools"})
	if a := r.call("/mcp", map[string]string{"X-API-Key": apiKey}, "mcp:tools"); a.status != http.StatusUnauthorized {
		t.Fatalf("an API key under DelegationRequired: %+v", a)
	}
}
