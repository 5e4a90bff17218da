package gatehouseauth_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/sdks/go/gatehouseauth"
	"github.com/gatehouse/gatehouse/sdks/go/gatehousetest"
)

func benchRig(b *testing.B, cacheSize int) (*gatehouseauth.Verifier, string) {
	iss := gatehousetest.NewIssuer(nil)
	b.Cleanup(iss.Close)
	v, err := gatehouseauth.New(gatehouseauth.Config{Issuer: iss.URL, Resource: resource, HTTPClient: iss.Client(),
		TokenCacheSize: cacheSize})
	if err != nil {
		b.Fatal(err)
	}
	tok := iss.Mint(gatehousetest.Claims{Audience: resource, Scope: "mcp:tools", ClientID: "c", Email: "a@example.com"})
	if _, err := v.Verify(context.Background(), tok); err != nil {
		b.Fatal(err)
	}
	return v, tok
}

// BenchmarkVerifyCached: a token seen before (the common case: a client sends the same token
// until it expires). Target: well under 20 µs, 50,000/s on one core (go test -cpu 1).
func BenchmarkVerifyCached(b *testing.B) {
	v, tok := benchRig(b, 0)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := v.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifications/s")
}

// BenchmarkVerifyCachedParallel: the same across all cores.
func BenchmarkVerifyCachedParallel(b *testing.B) {
	v, tok := benchRig(b, 0)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := v.Verify(ctx, tok); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "verifications/s")
}

// BenchmarkVerifyUncached: the full ES256 verification and claim checks of a cached key, the
// cost of a token's first use.
func BenchmarkVerifyUncached(b *testing.B) {
	v, tok := benchRig(b, -1)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := v.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifications/s")
}

// BenchmarkMiddlewareCached: the whole middleware, header parsing to handler, for a cached token.
func BenchmarkMiddlewareCached(b *testing.B) {
	v, tok := benchRig(b, 0)
	h := v.Middleware("mcp:tools")(nopHandler{})
	req := newBenchRequest(tok)
	w := &nopWriter{h: make(map[string][]string)}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		h.ServeHTTP(w, req)
		if w.status != 0 {
			b.Fatal(w.status)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "requests/s")
}

// TestConcurrentVerification runs verifications, rotations and cache churn at once, for the
// race detector.
func TestConcurrentVerification(t *testing.T) {
	r := newRig(t, func(c *gatehouseauth.Config) { c.TokenCacheSize = 50 })
	var wg sync.WaitGroup
	toks := make([]string, 200)
	for i := range toks {
		toks[i] = r.token(func(c *gatehousetest.Claims) { c.Subject = fmt.Sprint("u", i) })
	}
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 400; i++ {
				n := (g*31 + i) % len(toks)
				p, err := r.v.Verify(context.Background(), toks[n])
				if err != nil || p.Subject != fmt.Sprint("u", n) {
					t.Errorf("token %d: %v", n, err)
					return
				}
				if g == 0 && i%100 == 0 {
					r.iss.Rotate()
					r.clk.Advance(gatehouseauth.UnknownKeyRefetchInterval)
				}
			}
		}()
	}
	wg.Wait()
}
