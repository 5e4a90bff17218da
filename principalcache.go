package gatehouse

import (
	"sync"
	"sync/atomic"
	"time"
)

// principalCache keeps recently checked sessions and users in memory, so that authenticating an
// access token costs no database round trip. Entries live at most ttl, which bounds how long a
// revocation made by another process (a CLI command, another instance) can go unnoticed; revocations
// made through this process invalidate their entries at once.
type principalCache struct {
	ttl      time.Duration
	mu       sync.RWMutex
	sessions map[string]cachedSession
	users    map[string]cachedUser
	keys     map[[32]byte]cachedKey
	balances map[string]cachedBalance
	// generation is bumped by every invalidation; a load that started before an invalidation does
	// not store its (possibly stale) result.
	generation atomic.Uint64
	maxEntries int
}

type cachedSession struct {
	session  Session
	storedAt time.Time
}

type cachedUser struct {
	user     User
	storedAt time.Time
}

type cachedKey struct {
	key      APIKey
	storedAt time.Time
}

type cachedBalance struct {
	balance  CreditAccount
	storedAt time.Time
}

func newPrincipalCache(ttl time.Duration) *principalCache {
	return &principalCache{
		ttl:        ttl,
		sessions:   make(map[string]cachedSession),
		users:      make(map[string]cachedUser),
		keys:       make(map[[32]byte]cachedKey),
		balances:   make(map[string]cachedBalance),
		maxEntries: 100_000,
	}
}

func (c *principalCache) session(id string, now time.Time) (Session, bool) {
	c.mu.RLock()
	e, ok := c.sessions[id]
	c.mu.RUnlock()
	if !ok || c.ttl <= 0 || now.Sub(e.storedAt) >= c.ttl {
		return Session{}, false
	}
	return e.session, true
}

func (c *principalCache) user(id string, now time.Time) (User, bool) {
	c.mu.RLock()
	e, ok := c.users[id]
	c.mu.RUnlock()
	if !ok || c.ttl <= 0 || now.Sub(e.storedAt) >= c.ttl {
		return User{}, false
	}
	return e.user, true
}

// store saves a loaded session and user unless an invalidation happened since generation was read.
func (c *principalCache) store(generation uint64, s *Session, u *User, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.generation.Load() != generation || c.ttl <= 0 {
		return
	}
	if len(c.sessions) >= c.maxEntries || len(c.users) >= c.maxEntries {
		c.sweepLocked(now)
	}
	c.sessions[s.ID] = cachedSession{session: *s, storedAt: now}
	c.users[u.ID] = cachedUser{user: *u, storedAt: now}
}

func (c *principalCache) sweepLocked(now time.Time) {
	for k, e := range c.sessions {
		if now.Sub(e.storedAt) >= c.ttl {
			delete(c.sessions, k)
		}
	}
	for k, e := range c.users {
		if now.Sub(e.storedAt) >= c.ttl {
			delete(c.users, k)
		}
	}
	for k, e := range c.keys {
		if now.Sub(e.storedAt) >= c.ttl {
			delete(c.keys, k)
		}
	}
	for k, e := range c.balances {
		if now.Sub(e.storedAt) >= c.ttl {
			delete(c.balances, k)
		}
	}
	// Still full of live entries: drop everything rather than grow without bound.
	if len(c.sessions) >= c.maxEntries || len(c.users) >= c.maxEntries || len(c.keys) >= c.maxEntries || len(c.balances) >= c.maxEntries {
		clear(c.sessions)
		clear(c.users)
		clear(c.keys)
		clear(c.balances)
	}
}

func (c *principalCache) currentGeneration() uint64 { return c.generation.Load() }

// InvalidateSessions forgets the given sessions.
func (c *principalCache) invalidateSessions(ids ...string) {
	c.mu.Lock()
	c.generation.Add(1)
	for _, id := range ids {
		delete(c.sessions, id)
	}
	c.mu.Unlock()
}

// InvalidateUser forgets a user, so a role change, a disabled account or a new name shows at once.
func (c *principalCache) invalidateUser(id string) {
	c.mu.Lock()
	c.generation.Add(1)
	delete(c.users, id)
	c.mu.Unlock()
}

// InvalidateAll forgets everything; used when another instance signals a change it cannot name.
func (c *principalCache) invalidateAll() {
	c.mu.Lock()
	c.generation.Add(1)
	clear(c.sessions)
	clear(c.users)
	clear(c.keys)
	clear(c.balances)
	c.mu.Unlock()
}

func (c *principalCache) key(hash [32]byte, now time.Time) (APIKey, bool) {
	c.mu.RLock()
	e, ok := c.keys[hash]
	c.mu.RUnlock()
	if !ok || c.ttl <= 0 || now.Sub(e.storedAt) >= c.ttl {
		return APIKey{}, false
	}
	return e.key, true
}

func (c *principalCache) storeKey(generation uint64, hash [32]byte, k *APIKey, u *User, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.generation.Load() != generation || c.ttl <= 0 {
		return
	}
	if len(c.keys) >= c.maxEntries || len(c.users) >= c.maxEntries {
		c.sweepLocked(now)
	}
	c.keys[hash] = cachedKey{key: *k, storedAt: now}
	c.users[u.ID] = cachedUser{user: *u, storedAt: now}
}

// invalidateKeys forgets every cached key: revocations are rare, and keys are cached by hash.
func (c *principalCache) invalidateKeys() {
	c.mu.Lock()
	c.generation.Add(1)
	clear(c.keys)
	c.mu.Unlock()
}

func (c *principalCache) balance(userID string, now time.Time) (CreditAccount, bool) {
	c.mu.RLock()
	e, ok := c.balances[userID]
	c.mu.RUnlock()
	if !ok || c.ttl <= 0 || now.Sub(e.storedAt) >= c.ttl {
		return CreditAccount{}, false
	}
	return e.balance, true
}

func (c *principalCache) storeBalance(generation uint64, b *CreditAccount, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.generation.Load() != generation || c.ttl <= 0 {
		return
	}
	if len(c.balances) >= c.maxEntries {
		c.sweepLocked(now)
	}
	c.balances[b.UserID] = cachedBalance{balance: *b, storedAt: now}
}

func (c *principalCache) invalidateBalance(userID string) {
	c.mu.Lock()
	c.generation.Add(1)
	delete(c.balances, userID)
	c.mu.Unlock()
}
