package gatehouse

import (
	"sync"
	"time"
)

// rotationCache remembers, for each refresh token this process handed out as a successor, the
// token's row and its session and user as the rotation left them, so that the next refresh of
// that token can skip the read and go straight to the guarded write.
//
// Nothing in it is trusted. The write that spends a token checks again, in the database, that
// the token is unspent and unexpired, its session neither revoked nor expired nor moved to
// another organization or role, and its user active with the same updated_at and second-factor
// state (sqlstore's spendGuarded), which covers every field of the snapshot that can change and
// that a refresh decides with. A snapshot that no longer holds fails that write, and the refresh
// then starts over from a fresh read (AuthService.rotate), exactly as if it had never been cached.
// So an entry may be arbitrarily old, and another instance's changes need no invalidation here.
//
// Entries are forgotten when spent, when they fail, after rotationCacheMaxAge, and a tenth at a
// time, at random, when the map is full of live ones; a miss costs one read, as before.
type rotationCache struct {
	mu      sync.Mutex
	entries map[[32]byte]rotationEntry
	max     int
	maxAge  time.Duration
}

type rotationEntry struct {
	token    RefreshToken
	session  Session
	user     User
	storedAt time.Time
}

const (
	rotationCacheMaxEntries = 10_000
	// rotationCacheMaxAge bounds how long a session that stopped refreshing keeps its entry; a
	// client refreshes about once per access-token lifetime (15 minutes by default).
	rotationCacheMaxAge = time.Hour
)

func newRotationCache() *rotationCache {
	return &rotationCache{entries: map[[32]byte]rotationEntry{}, max: rotationCacheMaxEntries, maxAge: rotationCacheMaxAge}
}

// get returns copies of what was remembered for the token whose hash is hash.
func (c *rotationCache) get(hash []byte, now time.Time) (*RefreshToken, *Session, *User, bool) {
	k, ok := rotationKey(hash)
	if !ok {
		return nil, nil, nil, false
	}
	c.mu.Lock()
	e, ok := c.entries[k]
	c.mu.Unlock()
	if !ok || now.Sub(e.storedAt) >= c.maxAge {
		return nil, nil, nil, false
	}
	return &e.token, &e.session, &e.user, true
}

// put remembers a successor just committed, with its session and user, and forgets the token it
// replaced.
func (c *rotationCache) put(spent []byte, successor *RefreshToken, sess *Session, u *User, now time.Time) {
	k, ok := rotationKey(successor.Hash)
	if !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.forgetLocked(spent)
	c.putLocked(k, successor, sess, u, now)
}

func (c *rotationCache) putLocked(k [32]byte, successor *RefreshToken, sess *Session, u *User, now time.Time) {
	if len(c.entries) >= c.max {
		for key, e := range c.entries {
			if now.Sub(e.storedAt) >= c.maxAge {
				delete(c.entries, key)
			}
		}
		// Still full of live entries: drop a tenth of them, whichever the map's (random)
		// order gives first, so that more live sessions than the cache holds cost some of them
		// a read instead of emptying the cache every max rotations.
		keep := min(c.max-c.max/10, c.max-1)
		for key := range c.entries {
			if len(c.entries) <= keep {
				break
			}
			delete(c.entries, key)
		}
	}
	e := rotationEntry{token: *successor, session: *sess, user: *u, storedAt: now}
	// No refresh reads the password hash: keep it out of memory that lives this long.
	e.user.PasswordHash = ""
	c.entries[k] = e
}

// seed remembers a token handed out by a sign-in, unless it is already remembered (a successor:
// its rotation's snapshot is the newer). The token's row is rebuilt by the caller, not read: like
// any snapshot it is only a guess that the guarded write checks.
func (c *rotationCache) seed(token *RefreshToken, sess *Session, u *User, now time.Time) {
	k, ok := rotationKey(token.Hash)
	if !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, known := c.entries[k]; !known {
		c.putLocked(k, token, sess, u, now)
	}
}

// forget drops the entry of a token whose snapshot failed to hold.
func (c *rotationCache) forget(hash []byte) {
	c.mu.Lock()
	c.forgetLocked(hash)
	c.mu.Unlock()
}

func (c *rotationCache) forgetLocked(hash []byte) {
	if k, ok := rotationKey(hash); ok {
		delete(c.entries, k)
	}
}

func rotationKey(hash []byte) (k [32]byte, ok bool) {
	if len(hash) != len(k) {
		return k, false
	}
	copy(k[:], hash)
	return k, true
}
