package gatehouse_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/password"
	"github.com/gatehouse/gatehouse/sqlite"
	"github.com/gatehouse/gatehouse/token"
)

func TestAPIKeyFormat(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		k := gatehouse.NewAPIKeySecret()
		if len(k) != 41 || !strings.HasPrefix(k, "ak_") || !gatehouse.WellFormedAPIKey(k) || seen[k] {
			t.Fatalf("bad key %q", k)
		}
		seen[k] = true
		// Any single-character change in the random part breaks the checksum.
		b := []byte(k)
		if b[10] == 'x' {
			b[10] = 'y'
		} else {
			b[10] = 'x'
		}
		if gatehouse.WellFormedAPIKey(string(b)) {
			t.Fatalf("checksum missed a change: %s", b)
		}
	}
	for _, bad := range []string{"", "ak_", "AK_" + strings.Repeat("a", 38), "ak_" + strings.Repeat("a", 37), "ak_" + strings.Repeat("-", 38)} {
		if gatehouse.WellFormedAPIKey(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
}

// countingStore is a real SQLite store that counts key lookups.
type countingStore struct {
	gatehouse.Store
	lookups atomic.Int64
}

func (c *countingStore) APIKeyByHash(ctx context.Context, hash []byte) (*gatehouse.APIKey, error) {
	c.lookups.Add(1)
	return c.Store.APIKeyByHash(ctx, hash)
}

func TestMistypedKeyCostsNoLookup(t *testing.T) {
	ctx := context.Background()
	real, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "g.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer real.Close()
	store := &countingStore{Store: real}
	tokens := token.NewIssuer(token.Config{Issuer: "https://x", Audience: "https://x", Algorithm: "ES256", TTL: gatehouse.DefaultAuthConfig.AccessTokenTTL}, store)
	auth := gatehouse.NewAuthService(gatehouse.AuthDeps{Store: store, Hasher: password.NewHasher(password.DefaultParams, 1, 0), Policy: password.Policy{}, Tokens: tokens, Config: gatehouse.DefaultAuthConfig})
	bad := "ak_" + strings.Repeat("A", 32) + "AAAAAA"
	if _, err := auth.AuthenticateAPIKey(ctx, bad, true); err == nil {
		t.Fatal("bad checksum accepted")
	}
	if n := store.lookups.Load(); n != 0 {
		t.Fatalf("a key with a bad checksum cost %d database lookups", n)
	}
	good := gatehouse.NewAPIKeySecret()
	if _, err := auth.AuthenticateAPIKey(ctx, good, true); err == nil {
		t.Fatal("unknown key accepted")
	}
	if n := store.lookups.Load(); n != 1 {
		t.Fatalf("a well-formed key cost %d lookups, want 1", n)
	}
}

// FuzzAPIKeyFormat feeds arbitrary credentials to the key parser: it never panics, and what it
// accepts always has the documented shape.
func FuzzAPIKeyFormat(f *testing.F) {
	f.Add(gatehouse.NewAPIKeySecret())
	f.Add("ak_" + strings.Repeat("A", 38))
	f.Add("ak_")
	f.Add("")
	f.Add("ak_\x00\xff")
	f.Fuzz(func(t *testing.T, s string) {
		if !gatehouse.WellFormedAPIKey(s) {
			return
		}
		if len(s) != 41 || !gatehouse.LooksLikeAPIKey(s) {
			t.Fatalf("accepted %q", s)
		}
		for _, c := range s[3:] {
			if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
				t.Fatalf("accepted %q with %q", s, c)
			}
		}
	})
}
