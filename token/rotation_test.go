package token

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

func TestRotation(t *testing.T) {
	for _, alg := range algorithms {
		t.Run(alg, func(t *testing.T) {
			iss, src, clk, old := setup(t, alg)
			ctx := context.Background()

			before := mustSign(t, iss, sampleClaims())

			clk.Advance(time.Minute)
			next := mustKey(t, alg, clk.Now())
			src.add(next)

			// Published at once, before this instance signs with it.
			if got := kids(rawJWKS(t, iss)); !slices.Equal(got, []string{next.ID, old.ID}) {
				t.Fatalf("JWKS right after the rotation = %v, want [new old]", got)
			}
			if iss.CurrentKeyID() != old.ID {
				t.Fatal("the signer changed without a reload")
			}

			if err := iss.Reload(ctx); err != nil {
				t.Fatal(err)
			}
			if iss.CurrentKeyID() != next.ID {
				t.Fatalf("CurrentKeyID = %q, want the new key", iss.CurrentKeyID())
			}
			after := mustSign(t, iss, sampleClaims())
			if kid := segment(t, after, 0)["kid"]; kid != next.ID {
				t.Fatalf("Sign used kid %v, want the new key", kid)
			}
			wantValid(t, iss, before)
			wantValid(t, iss, after)

			// The old key is kept until every token it can have signed has expired.
			retireAt := next.CreatedAt.Add(10*time.Second + testTTL + time.Minute)
			// A token of the old key still unexpired at its retirement (no issuer signs one that
			// late), so that only retirement can reject it.
			late := validClaims(clk)
			late["iat"] = retireAt.Add(-time.Minute).Unix()
			late["exp"] = retireAt.Add(-time.Minute + testTTL).Unix()
			longLived := signRaw(t, methodFor(alg), validHeader(methodFor(alg), old.ID), late, mustPrivate(t, old))
			clk.Advance(retireAt.Sub(clk.Now()) - time.Second)
			if got := kids(rawJWKS(t, iss)); !slices.Equal(got, []string{next.ID, old.ID}) {
				t.Fatalf("JWKS just before retirement = %v, want both keys", got)
			}
			wantValid(t, iss, longLived)

			clk.Advance(time.Second)
			if got := kids(rawJWKS(t, iss)); !slices.Equal(got, []string{next.ID}) {
				t.Fatalf("JWKS after retirement = %v, want only the new key", got)
			}
			// Rejected both before and after the next reload.
			wantUnauthenticated(t, iss, longLived)
			if err := iss.Reload(ctx); err != nil {
				t.Fatal(err)
			}
			wantUnauthenticated(t, iss, longLived)
		})
	}
}

func TestUnknownKIDTriggersReload(t *testing.T) {
	iss, src, clk, _ := setup(t, ES256)
	ctx := context.Background()

	// Another instance sharing the store rotates and signs with its new key.
	other := NewIssuer(testConfig(ES256, clk), src)
	rotate := func() string {
		t.Helper()
		clk.Advance(time.Millisecond)
		src.add(mustKey(t, ES256, clk.Now()))
		if err := other.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		return mustSign(t, other, sampleClaims())
	}

	tok := rotate()
	reads := src.readCount()
	wantValid(t, iss, tok)
	if src.readCount() != reads+1 {
		t.Fatalf("an unknown kid caused %d store reads, want 1", src.readCount()-reads)
	}
	// The reload installed the key for good: no more reads for it.
	wantValid(t, iss, tok)
	if src.readCount() != reads+1 {
		t.Fatal("a now-known kid read the store again")
	}

	// Within a second of that reload, another unknown kid does not reach the store.
	tok = rotate()
	reads = src.readCount()
	wantUnauthenticated(t, iss, tok)
	wantUnauthenticated(t, iss, tok)
	if src.readCount() != reads {
		t.Fatal("unknown kids reloaded more than once a second")
	}
	clk.Advance(time.Second)
	wantValid(t, iss, tok)
}

func TestVerifyLoadsKeysOnFirstUse(t *testing.T) {
	iss, src, clk, _ := setup(t, EdDSA)
	fresh := NewIssuer(testConfig(EdDSA, clk), src)
	if fresh.CurrentKeyID() != "" {
		t.Fatal("a new Issuer has keys before Reload")
	}
	wantValid(t, fresh, mustSign(t, iss, sampleClaims()))
}

func TestPublish(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	ttl := 15 * time.Minute
	hold := 10*time.Second + ttl + time.Minute
	a := mustKey(t, ES256, t0)
	b := mustKey(t, ES256, t0.Add(time.Hour))
	c := mustKey(t, ES256, t0.Add(2*time.Hour))
	other := mustKey(t, EdDSA, t0.Add(3*time.Hour))
	stored := []gatehouse.SigningKey{c, other, a, b}

	for _, tc := range []struct {
		at   time.Time
		want []string
	}{
		{t0, []string{c.ID, b.ID, a.ID}}, // retirement is relative to successors, not to now
		{b.CreatedAt.Add(hold - time.Nanosecond), []string{c.ID, b.ID, a.ID}},
		{b.CreatedAt.Add(hold), []string{c.ID, b.ID}},
		{c.CreatedAt.Add(hold), []string{c.ID}},
		{c.CreatedAt.Add(1000 * time.Hour), []string{c.ID}}, // the newest key never retires
	} {
		keys, skipped, err := publish(stored, ES256, ttl, tc.at)
		if err != nil || len(skipped) != 0 {
			t.Fatalf("publish: %v %v", err, skipped)
		}
		var got []string
		for _, k := range keys {
			got = append(got, k.id)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("at %v: published %v, want %v", tc.at.Sub(t0), got, tc.want)
		}
	}

	// Same timestamp: the larger ID is the newer, so every instance elects the same signer.
	x, y := mustKey(t, ES256, t0), mustKey(t, ES256, t0)
	if x.ID < y.ID {
		x, y = y, x
	}
	for _, order := range [][]gatehouse.SigningKey{{x, y}, {y, x}} {
		keys, _, err := publish(order, ES256, ttl, t0)
		if err != nil || keys[0].id != x.ID {
			t.Fatalf("tie broken towards %q, want %q", keys[0].id, x.ID)
		}
	}

	if _, _, err := publish([]gatehouse.SigningKey{other}, ES256, ttl, t0); err != ErrNoSigningKey {
		t.Fatalf("publish without a key of the algorithm = %v", err)
	}
}
