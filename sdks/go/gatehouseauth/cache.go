package gatehouseauth

import (
	"crypto/sha256"
	"sync"
	"time"
)

// tokenKey is the SHA-256 of a whole credential: the caches never hold a credential itself,
// and two tokens that differ anywhere (signature included) never share an entry.
type tokenKey [sha256.Size]byte

func keyOf(token string) tokenKey { return sha256.Sum256([]byte(token)) }

// tokenCache remembers tokens whose signature and claims were verified, until their exp.
type tokenCache struct {
	mu  sync.RWMutex
	m   map[tokenKey]tokenEntry
	max int
}

type tokenEntry struct {
	p   *Principal
	exp time.Time // the token's exp: the entry is dead from then on
	kid string    // the signing key, so that withdrawing a key drops its tokens
}

func newTokenCache(max int) *tokenCache {
	if max < 0 {
		return nil
	}
	return &tokenCache{m: make(map[tokenKey]tokenEntry), max: max}
}

func (c *tokenCache) get(k tokenKey, now time.Time) *Principal {
	if c == nil {
		return nil
	}
	c.mu.RLock()
	e, ok := c.m[k]
	c.mu.RUnlock()
	if !ok || !now.Before(e.exp) {
		return nil
	}
	return e.p
}

func (c *tokenCache) put(k tokenKey, e tokenEntry, now time.Time) {
	if c == nil || !now.Before(e.exp) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		c.evict(now)
	}
	c.m[k] = e
}

// evict drops the expired entries and, if that is not enough, arbitrary ones (Go's map order
// is random) down to 90% of the bound, so that a flood of distinct tokens costs one sweep per
// tenth of the cache rather than one per token. The caller holds mu.
func (c *tokenCache) evict(now time.Time) {
	for k, e := range c.m {
		if !now.Before(e.exp) {
			delete(c.m, k)
		}
	}
	target := c.max - c.max/10 - 1
	for k := range c.m {
		if len(c.m) <= target {
			break
		}
		delete(c.m, k)
	}
}

func (c *tokenCache) dropKeys(kids []string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.m {
		for _, kid := range kids {
			if e.kid == kid {
				delete(c.m, k)
				break
			}
		}
	}
}

// resultCache remembers introspection answers for a short while.
type resultCache struct {
	mu  sync.Mutex
	m   map[tokenKey]resultEntry
	max int
}

type resultEntry struct {
	p     *Principal // nil: the credential was refused
	err   error
	until time.Time
}

func newResultCache(max int) *resultCache {
	return &resultCache{m: make(map[tokenKey]resultEntry), max: max}
}

func (c *resultCache) get(k tokenKey, now time.Time) (resultEntry, bool) {
	c.mu.Lock()
	e, ok := c.m[k]
	c.mu.Unlock()
	if !ok || !now.Before(e.until) {
		return resultEntry{}, false
	}
	return e, true
}

func (c *resultCache) put(k tokenKey, e resultEntry, now time.Time) {
	if !now.Before(e.until) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for k2, e2 := range c.m {
			if !now.Before(e2.until) || len(c.m) >= c.max {
				delete(c.m, k2)
			}
		}
	}
	c.m[k] = e
}
