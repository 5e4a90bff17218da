package gatehouse

import (
	"sync"
	"sync/atomic"
	"time"
)

// principalCache keeps recently checked sessions, users, API keys and credit balances in memory, so
// that authenticating a request costs no database round trip. Entries live at most ttl, which
// bounds how long a revocation made by another process (a CLI command, another instance) can go
// unnoticed; revocations made through this process invalidate their entries at once.
type principalCache struct {
	ttl      time.Duration
	mu       sync.RWMutex // guards the four maps
	sessions ttlMap[string, Session]
	users    ttlMap[string, User]
	keys     ttlMap[[32]byte, APIKey]
	balances ttlMap[string, CreditAccount]
	// generation is bumped by every invalidation; a load that started before an invalidation does
	// not store its (possibly stale) result.
	generation atomic.Uint64
	maxEntries int
}

// ttlMap is a map whose entries expire ttl after they were stored. It does no locking of its own:
// principalCache's mutex guards all its maps together.
type ttlMap[K comparable, V any] map[K]ttlEntry[V]

type ttlEntry[V any] struct {
	value    V
	storedAt time.Time
}

func (m ttlMap[K, V]) get(k K, ttl time.Duration, now time.Time) (V, bool) {
	e, ok := m[k]
	if !ok || ttl <= 0 || now.Sub(e.storedAt) >= ttl {
		var zero V
		return zero, false
	}
	return e.value, true
}

func (m ttlMap[K, V]) put(k K, v V, now time.Time) { m[k] = ttlEntry[V]{value: v, storedAt: now} }

// sweep deletes the expired entries.
func (m ttlMap[K, V]) sweep(ttl time.Duration, now time.Time) {
	for k, e := range m {
		if now.Sub(e.storedAt) >= ttl {
			delete(m, k)
		}
	}
}

func newPrincipalCache(ttl time.Duration) *principalCache {
	return &principalCache{
		ttl:        ttl,
		sessions:   ttlMap[string, Session]{},
		users:      ttlMap[string, User]{},
		keys:       ttlMap[[32]byte, APIKey]{},
		balances:   ttlMap[string, CreditAccount]{},
		maxEntries: 100_000,
	}
}

func (c *principalCache) session(id string, now time.Time) (Session, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.sessions.get(id, c.ttl, now)
}

func (c *principalCache) user(id string, now time.Time) (User, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.users.get(id, c.ttl, now)
}

func (c *principalCache) key(hash [32]byte, now time.Time) (APIKey, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.keys.get(hash, c.ttl, now)
}

func (c *principalCache) balance(userID string, now time.Time) (CreditAccount, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.balances.get(userID, c.ttl, now)
}

// storing takes the lock for a store, and reports false (having released it) when an
// invalidation happened since generation was read or the cache is off. When any map is full it
// sweeps first.
func (c *principalCache) storing(generation uint64, now time.Time) bool {
	c.mu.Lock()
	if c.generation.Load() != generation || c.ttl <= 0 {
		c.mu.Unlock()
		return false
	}
	if c.full() {
		c.sweepLocked(now)
	}
	return true
}

func (c *principalCache) full() bool {
	return len(c.sessions) >= c.maxEntries || len(c.users) >= c.maxEntries ||
		len(c.keys) >= c.maxEntries || len(c.balances) >= c.maxEntries
}

// store saves a loaded session and user unless an invalidation happened since generation was read.
func (c *principalCache) store(generation uint64, s *Session, u *User, now time.Time) {
	if !c.storing(generation, now) {
		return
	}
	defer c.mu.Unlock()
	c.sessions.put(s.ID, *s, now)
	c.users.put(u.ID, *u, now)
}

func (c *principalCache) storeKey(generation uint64, hash [32]byte, k *APIKey, u *User, now time.Time) {
	if !c.storing(generation, now) {
		return
	}
	defer c.mu.Unlock()
	c.keys.put(hash, *k, now)
	c.users.put(u.ID, *u, now)
}

func (c *principalCache) storeBalance(generation uint64, b *CreditAccount, now time.Time) {
	if !c.storing(generation, now) {
		return
	}
	defer c.mu.Unlock()
	c.balances.put(b.UserID, *b, now)
}

func (c *principalCache) sweepLocked(now time.Time) {
	c.sessions.sweep(c.ttl, now)
	c.users.sweep(c.ttl, now)
	c.keys.sweep(c.ttl, now)
	c.balances.sweep(c.ttl, now)
	// Still full of live entries: drop everything rather than grow without bound.
	if c.full() {
		c.clearLocked()
	}
}

func (c *principalCache) clearLocked() {
	clear(c.sessions)
	clear(c.users)
	clear(c.keys)
	clear(c.balances)
}

func (c *principalCache) currentGeneration() uint64 { return c.generation.Load() }

// invalidate runs forget under the lock and bumps the generation, so that loads already under
// way do not store what they read before the change.
func (c *principalCache) invalidate(forget func()) {
	c.mu.Lock()
	c.generation.Add(1)
	forget()
	c.mu.Unlock()
}

// invalidateSessions forgets the given sessions.
func (c *principalCache) invalidateSessions(ids ...string) {
	c.invalidate(func() {
		for _, id := range ids {
			delete(c.sessions, id)
		}
	})
}

// invalidateUser forgets a user, so a role change, a disabled account or a new name shows at once.
func (c *principalCache) invalidateUser(id string) { c.invalidate(func() { delete(c.users, id) }) }

// invalidateAll forgets everything; used when another instance signals a change it cannot name.
func (c *principalCache) invalidateAll() { c.invalidate(c.clearLocked) }

// invalidateKeys forgets every cached key: revocations are rare, and keys are cached by hash.
func (c *principalCache) invalidateKeys() { c.invalidate(func() { clear(c.keys) }) }

func (c *principalCache) invalidateBalance(userID string) {
	c.invalidate(func() { delete(c.balances, userID) })
}
