package token

import (
	"context"
	"testing"

	"github.com/gatehouse/gatehouse"
)

// A delegated token carries its actor chain ("act", RFC 8693 §4.1), signed and verified as is.
func TestActSignedAndVerified(t *testing.T) {
	iss, _, _, _ := setup(t, ES256)
	in := sampleClaims()
	in.Act = &gatehouse.Actor{Subject: "agent-b", Act: &gatehouse.Actor{Subject: "agent-a"}}
	tok := mustSign(t, iss, in)
	p := segment(t, tok, 1)
	act, ok := p["act"].(map[string]any)
	if !ok || act["sub"] != "agent-b" {
		t.Fatalf("act = %#v", p["act"])
	}
	if inner, ok := act["act"].(map[string]any); !ok || inner["sub"] != "agent-a" || len(inner) != 1 {
		t.Fatalf("nested act = %#v", act["act"])
	}
	out := wantValid(t, iss, tok)
	if out.Act == nil || out.Act.Subject != "agent-b" || out.Act.Act == nil || out.Act.Act.Subject != "agent-a" || out.Act.Act.Act != nil {
		t.Fatalf("verified act = %+v", out.Act)
	}
	if _, ok := segment(t, mustSign(t, iss, sampleClaims()), 1)["act"]; ok {
		t.Fatal("a token nobody acts through carries act")
	}
}

// The issuer never signs an actor chain deeper than gatehouse.MaxActorDepth or an actor without a
// subject, and refuses such tokens when someone else signed them.
func TestActTooDeepOrEmptyRefused(t *testing.T) {
	iss, _, clk, key := setup(t, ES256)
	deep := &gatehouse.Actor{Subject: "a1"}
	for i := 0; i < gatehouse.MaxActorDepth; i++ {
		deep = &gatehouse.Actor{Subject: "a", Act: deep}
	}
	for name, act := range map[string]*gatehouse.Actor{
		"too deep":      deep,
		"empty subject": {Subject: ""},
		"empty nested":  {Subject: "a", Act: &gatehouse.Actor{}},
	} {
		c := sampleClaims()
		c.Act = act
		if _, err := iss.Sign(context.Background(), c); err == nil {
			t.Errorf("%s: Sign succeeded", name)
		}
	}
	method := methodFor(ES256)
	for name, act := range map[string]any{
		"too deep":   map[string]any{"sub": "a", "act": map[string]any{"sub": "b", "act": map[string]any{"sub": "c", "act": map[string]any{"sub": "d"}}}},
		"no sub":     map[string]any{"act": map[string]any{"sub": "b"}},
		"not object": "agent",
	} {
		claims := validClaims(clk)
		claims["act"] = act
		tok := signRaw(t, method, validHeader(method, key.ID), claims, mustPrivate(t, key))
		t.Run(name, func(t *testing.T) { wantUnauthenticated(t, iss, tok) })
	}
	ok := validClaims(clk)
	ok["act"] = map[string]any{"sub": "a", "act": map[string]any{"sub": "b", "act": map[string]any{"sub": "c"}}}
	wantValid(t, iss, signRaw(t, method, validHeader(method, key.ID), ok, mustPrivate(t, key)))
}
