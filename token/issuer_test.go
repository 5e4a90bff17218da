package token

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse/gatehouse"
)

func TestSignVerifyRoundTrip(t *testing.T) {
	for _, alg := range algorithms {
		t.Run(alg, func(t *testing.T) {
			iss, _, clk, key := setup(t, alg)
			in := sampleClaims()
			tok := mustSign(t, iss, in)

			h := segment(t, tok, 0)
			if h["alg"] != alg || h["kid"] != key.ID || h["typ"] != "at+jwt" || len(h) != 3 {
				t.Fatalf("header = %v", h)
			}
			p := segment(t, tok, 1)
			if aud, ok := p["aud"].(string); !ok || aud != testAudience {
				t.Fatalf("aud = %#v, want the single string %q", p["aud"], testAudience)
			}
			for _, name := range []string{"iss", "sub", "aud", "exp", "iat", "jti", "sid", "email", "email_verified", "role", "amr", "aal"} {
				if _, ok := p[name]; !ok {
					t.Errorf("payload lacks %q: %v", name, p)
				}
			}
			if _, ok := p["nbf"]; ok {
				t.Errorf("payload has an nbf: %v", p)
			}

			out := wantValid(t, iss, tok)
			now := clk.Now()
			want := in
			want.ID = out.ID
			want.IssuedAt = now
			want.ExpiresAt = now.Add(testTTL)
			want.Audience = testAudience // an empty audience signs as the first-party one
			if !reflect.DeepEqual(*out, want) {
				t.Fatalf("Verify = %+v\nwant     %+v", *out, want)
			}
			if len(out.ID) != 22 {
				t.Fatalf("generated jti %q is not 16 random bytes", out.ID)
			}
		})
	}
}

func TestSignHonoursGivenClaims(t *testing.T) {
	iss, _, clk, _ := setup(t, ES256)
	in := sampleClaims()
	in.ID = "fixed-jti"
	in.IssuedAt = clk.Now().Add(-time.Minute)
	in.ExpiresAt = clk.Now().Add(10 * time.Minute)
	out := wantValid(t, iss, mustSign(t, iss, in))
	if out.ID != in.ID || !out.IssuedAt.Equal(in.IssuedAt) || !out.ExpiresAt.Equal(in.ExpiresAt) {
		t.Fatalf("Verify = %+v, want the given jti, iat and exp", *out)
	}

	a := wantValid(t, iss, mustSign(t, iss, sampleClaims()))
	b := wantValid(t, iss, mustSign(t, iss, sampleClaims()))
	if a.ID == b.ID {
		t.Fatal("two tokens got the same generated jti")
	}
}

func TestSignRefusesClaimsVerifyWouldReject(t *testing.T) {
	iss, _, clk, _ := setup(t, ES256)
	for name, mutate := range map[string]func(*gatehouse.AccessClaims){
		"no subject": func(c *gatehouse.AccessClaims) { c.Subject = "" },
		"no session": func(c *gatehouse.AccessClaims) { c.SessionID = "" },
		"exp before iat": func(c *gatehouse.AccessClaims) {
			c.IssuedAt = clk.Now()
			c.ExpiresAt = clk.Now().Add(-time.Second)
		},
		"longer than the TTL": func(c *gatehouse.AccessClaims) {
			c.IssuedAt = clk.Now()
			c.ExpiresAt = clk.Now().Add(testTTL + time.Minute)
		},
	} {
		c := sampleClaims()
		mutate(&c)
		if _, err := iss.Sign(context.Background(), c); err == nil {
			t.Errorf("%s: Sign succeeded", name)
		}
	}
}

func TestVerifyLeeway(t *testing.T) {
	iss, _, clk, _ := setup(t, ES256)
	c := sampleClaims()
	c.IssuedAt = clk.Now().Add(-testTTL)
	c.ExpiresAt = clk.Now().Add(-3 * time.Second)
	wantValid(t, iss, mustSign(t, iss, c)) // within the 5 s leeway

	c.ExpiresAt = clk.Now().Add(-6 * time.Second)
	wantUnauthenticated(t, iss, mustSign(t, iss, c))

	c.IssuedAt = clk.Now().Add(3 * time.Second)
	c.ExpiresAt = c.IssuedAt.Add(testTTL)
	wantValid(t, iss, mustSign(t, iss, c)) // a signer's clock slightly ahead

	c.IssuedAt = clk.Now().Add(time.Minute)
	c.ExpiresAt = c.IssuedAt.Add(testTTL)
	wantUnauthenticated(t, iss, mustSign(t, iss, c))
}

// TestVerifyHoldsTokensToTheTTL: a token lives at most the configured TTL (exp - iat), with one
// second for the rounding of both to whole seconds; a longer one is refused even when signed
// with the real key, so a leaked key cannot mint long-lived tokens.
func TestVerifyHoldsTokensToTheTTL(t *testing.T) {
	iss, _, clk, key := setup(t, ES256)
	signed := func(lifetime time.Duration) string {
		c := validClaims(clk)
		c["exp"] = clk.Now().Add(lifetime).Unix()
		return signRaw(t, jwt.SigningMethodES256, validHeader(jwt.SigningMethodES256, key.ID), c, mustPrivate(t, key))
	}
	wantValid(t, iss, signed(testTTL))
	wantValid(t, iss, signed(testTTL+time.Second))
	wantUnauthenticated(t, iss, signed(testTTL+2*time.Second))
	wantUnauthenticated(t, iss, signed(24*time.Hour))

	// A lower TTL (a changed configuration) holds tokens issued under the higher one to it.
	shorter := testConfig(ES256, clk)
	shorter.TTL = 5 * time.Minute
	src := &memSource{}
	src.add(key)
	short := NewIssuer(shorter, src)
	if err := short.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantUnauthenticated(t, short, mustSign(t, iss, sampleClaims()))
	wantValid(t, iss, mustSign(t, short, sampleClaims()))
}

func TestReloadWithoutKey(t *testing.T) {
	clk := newClock()
	src := &memSource{}
	iss := NewIssuer(testConfig(ES256, clk), src)
	ctx := context.Background()

	if err := iss.Reload(ctx); !errors.Is(err, ErrNoSigningKey) {
		t.Fatalf("Reload on an empty store = %v, want ErrNoSigningKey", err)
	}
	if _, err := iss.Sign(ctx, sampleClaims()); !errors.Is(err, ErrNoSigningKey) {
		t.Fatalf("Sign before any key = %v, want ErrNoSigningKey", err)
	}
	if iss.CurrentKeyID() != "" {
		t.Fatalf("CurrentKeyID = %q before any key", iss.CurrentKeyID())
	}

	// Keys of another algorithm do not count.
	src.add(mustKey(t, EdDSA, clk.Now()))
	if err := iss.Reload(ctx); !errors.Is(err, ErrNoSigningKey) {
		t.Fatalf("Reload with only an EdDSA key = %v, want ErrNoSigningKey", err)
	}

	// The documented recovery: generate, store, reload.
	k, err := GenerateKey(ES256, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	src.add(k)
	if err := iss.Reload(ctx); err != nil {
		t.Fatalf("Reload after adding a key: %v", err)
	}
	if iss.CurrentKeyID() != k.ID {
		t.Fatalf("CurrentKeyID = %q, want %q", iss.CurrentKeyID(), k.ID)
	}
	wantValid(t, iss, mustSign(t, iss, sampleClaims()))
}

func TestReloadFailureKeepsKeys(t *testing.T) {
	iss, src, _, key := setup(t, ES256)
	src.setErr(errors.New("database is down"))
	if err := iss.Reload(context.Background()); err == nil {
		t.Fatal("Reload succeeded with a failing source")
	}
	if iss.CurrentKeyID() != key.ID {
		t.Fatal("a failed Reload dropped the keys")
	}
	wantValid(t, iss, mustSign(t, iss, sampleClaims()))
}

func TestReloadSkipsCorruptKeys(t *testing.T) {
	iss, src, clk, good := setup(t, ES256)
	// A newer key that cannot be parsed must neither become the signer nor retire the good one.
	src.add(gatehouse.SigningKey{ID: "corrupt", Algorithm: ES256, Private: []byte("junk"), CreatedAt: clk.Now()})
	if err := iss.Reload(context.Background()); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	if iss.CurrentKeyID() != good.ID {
		t.Fatalf("CurrentKeyID = %q, want the parseable key", iss.CurrentKeyID())
	}
	clk.Advance(24 * time.Hour)
	if err := iss.Reload(context.Background()); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	wantValid(t, iss, mustSign(t, iss, sampleClaims()))
}

func TestInvalidConfig(t *testing.T) {
	clk := newClock()
	src := &memSource{}
	src.add(mustKey(t, ES256, clk.Now()))
	for name, mutate := range map[string]func(*Config){
		"no issuer":      func(c *Config) { c.Issuer = "" },
		"no audience":    func(c *Config) { c.Audience = "" },
		"no algorithm":   func(c *Config) { c.Algorithm = "" },
		"HS256":          func(c *Config) { c.Algorithm = "HS256" },
		"none":           func(c *Config) { c.Algorithm = "none" },
		"zero TTL":       func(c *Config) { c.TTL = 0 },
		"negative TTL":   func(c *Config) { c.TTL = -time.Minute },
		"lower-case alg": func(c *Config) { c.Algorithm = "es256" },
	} {
		cfg := testConfig(ES256, clk)
		mutate(&cfg)
		iss := NewIssuer(cfg, src)
		ctx := context.Background()
		if err := iss.Reload(ctx); err == nil || errors.Is(err, ErrNoSigningKey) {
			t.Errorf("%s: Reload = %v, want a configuration error", name, err)
		}
		if _, err := iss.Sign(ctx, sampleClaims()); err == nil {
			t.Errorf("%s: Sign succeeded", name)
		}
		if _, err := iss.JWKS(ctx); err == nil {
			t.Errorf("%s: JWKS succeeded", name)
		}
		wantUnauthenticated(t, iss, "a.b.c")
	}
	if err := NewIssuer(testConfig(ES256, clk), nil).Reload(context.Background()); err == nil {
		t.Error("an Issuer without a source reloaded")
	}
}

func TestTTLAndDefaultClock(t *testing.T) {
	src := &memSource{}
	src.add(mustKey(t, EdDSA, time.Now()))
	iss := NewIssuer(Config{Issuer: testIssuer, Audience: testAudience, Algorithm: EdDSA, TTL: time.Minute}, src)
	if iss.TTL() != time.Minute {
		t.Fatalf("TTL = %v", iss.TTL())
	}
	if err := iss.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := wantValid(t, iss, mustSign(t, iss, sampleClaims()))
	if d := time.Since(c.IssuedAt); d < -time.Second || d > 2*time.Second {
		t.Fatalf("iat %v is not now", c.IssuedAt)
	}
}

func TestRunReloads(t *testing.T) {
	src := &memSource{}
	src.add(mustKey(t, ES256, time.Now().Add(-time.Hour)))
	iss := NewIssuer(Config{Issuer: testIssuer, Audience: testAudience, Algorithm: ES256, TTL: time.Minute}, src)
	if err := iss.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	next := mustKey(t, ES256, time.Now())
	reloaded := make(chan struct{})
	var once sync.Once
	iss.afterRunReload = func() {
		if iss.CurrentKeyID() == next.ID {
			once.Do(func() { close(reloaded) })
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		iss.Run(ctx, 10*time.Millisecond)
		close(done)
	}()

	src.add(next)
	select {
	case <-reloaded:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not pick up the new key")
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context was cancelled")
	}
}

// Run with -race: the keyset swap must be safe against concurrent Sign and Verify.
func TestConcurrentUse(t *testing.T) {
	iss, src, clk, _ := setup(t, ES256)
	ctx := context.Background()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				tok, err := iss.Sign(ctx, sampleClaims())
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := iss.Verify(ctx, tok); err != nil {
					t.Error(err)
					return
				}
				if _, err := iss.Verify(ctx, strings.Replace(tok, ".", "x.", 1)); err == nil {
					t.Error("a mangled token verified")
					return
				}
			}
		})
	}
	for range 3 {
		src.add(mustKey(t, ES256, clk.Now()))
		clk.Advance(time.Second)
		if err := iss.Reload(ctx); err != nil {
			t.Error(err)
		}
		if _, err := iss.JWKS(ctx); err != nil {
			t.Error(err)
		}
	}
	close(stop)
	wg.Wait()
}
