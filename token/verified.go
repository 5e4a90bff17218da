package token

import (
	"crypto/sha256"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse"
)

// verifiedTokens remembers tokens whose signature and claims were checked, keyed by a SHA-256 of
// the whole token, until they expire. A client presents the same access token many times over
// its life, and a signature check costs a hundred times more than this lookup. A forged token
// hashes to another key, so it can never hit the entry of a genuine one.
type verifiedTokens struct {
	mu      sync.RWMutex
	entries map[[32]byte]verifiedClaims
	max     int
}

func newVerifiedTokens(max int) *verifiedTokens {
	return &verifiedTokens{entries: make(map[[32]byte]verifiedClaims), max: max}
}

func (v *verifiedTokens) get(token string, now time.Time) (verifiedClaims, bool) {
	key := sha256.Sum256([]byte(token))
	v.mu.RLock()
	c, ok := v.entries[key]
	v.mu.RUnlock()
	// The same leeway as the parser would grant, and not a moment more.
	if !ok || !now.Before(c.ExpiresAt.Add(leeway)) {
		return verifiedClaims{}, false
	}
	return c, true // a copy, on the caller's stack
}

func (v *verifiedTokens) put(token string, c *verifiedClaims, now time.Time) {
	key := sha256.Sum256([]byte(token))
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.entries) >= v.max {
		for k, e := range v.entries {
			if !now.Before(e.ExpiresAt.Add(leeway)) {
				delete(v.entries, k)
			}
		}
		if len(v.entries) >= v.max {
			clear(v.entries)
		}
	}
	v.entries[key] = *c
}

// verifiedClaims are the claims of a checked token and the key that signed it, which must still
// be published when the token is presented again.
type verifiedClaims struct {
	gatehouse.AccessClaims
	KeyID string
}
