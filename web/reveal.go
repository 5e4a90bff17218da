package web

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"sync"
	"time"
)

// A new API key's secret has to reach the page that follows "Create key" (post/redirect/get), yet
// be shown there once only and kept nowhere it could be read again. It waits in a revealSlot: in
// this process's memory, under a random id that only the browser that created the key holds (in
// an HttpOnly cookie), bound to that browser's session, taken out on first display, gone after
// revealTTL. Neither the secret nor the id is ever logged; the id is worth nothing without the
// session it is bound to.
const (
	revealTTL      = 2 * time.Minute
	revealMaxSlots = 1024
)

// revealSlot is one new key waiting for its page.
type revealSlot struct {
	owner   string // the session (and user) that created the key
	name    string
	secret  string
	expires time.Time
}

// reveals holds the slots, keyed by the SHA-256 of their id, so the map holds no usable id either.
type reveals struct {
	mu    sync.Mutex
	slots map[[32]byte]*revealSlot
	// bySession is each session's waiting slot: a newer key replaces it, since the browser's cookie
	// now names the newer one.
	bySession map[string][32]byte
	now       func() time.Time
}

func newReveals() *reveals {
	return &reveals{slots: map[[32]byte]*revealSlot{}, bySession: map[string][32]byte{}, now: time.Now}
}

func revealOwner(userID, sessionID string) string { return userID + "\x00" + sessionID }

// put keeps a new key for its owner's next page and returns the id to hand to the browser.
func (rv *reveals) put(userID, sessionID, name, secret string) string {
	var raw [32]byte
	_, _ = rand.Read(raw[:])
	id := base64.RawURLEncoding.EncodeToString(raw[:])
	h := sha256.Sum256([]byte(id))
	owner := revealOwner(userID, sessionID)
	now := rv.now()

	rv.mu.Lock()
	defer rv.mu.Unlock()
	if old, ok := rv.bySession[owner]; ok {
		rv.drop(old)
	}
	rv.sweep(now)
	for len(rv.slots) >= revealMaxSlots {
		rv.dropOldest()
	}
	slot := &revealSlot{owner: owner, name: name, secret: secret, expires: now.Add(revealTTL)}
	rv.slots[h] = slot
	rv.bySession[owner] = h
	// A slot nobody comes for leaves memory when it expires, not at the next key.
	time.AfterFunc(revealTTL, func() {
		rv.mu.Lock()
		defer rv.mu.Unlock()
		if rv.slots[h] == slot {
			rv.drop(h)
		}
	})
	return id
}

// take returns the key waiting under id for this session and forgets it. Another session gets
// nothing and leaves the slot for its owner.
func (rv *reveals) take(id, userID, sessionID string) (name, secret string, ok bool) {
	h := sha256.Sum256([]byte(id))
	rv.mu.Lock()
	defer rv.mu.Unlock()
	s, found := rv.slots[h]
	if !found || s.owner != revealOwner(userID, sessionID) {
		return "", "", false
	}
	rv.drop(h)
	if !rv.now().Before(s.expires) {
		return "", "", false
	}
	return s.name, s.secret, true
}

// forget drops whatever waits under id, whoever owns it: the browser that holds the id signed out.
func (rv *reveals) forget(id string) {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	rv.drop(sha256.Sum256([]byte(id)))
}

func (rv *reveals) len() int {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return len(rv.slots)
}

func (rv *reveals) drop(h [32]byte) {
	s, ok := rv.slots[h]
	if !ok {
		return
	}
	delete(rv.slots, h)
	if rv.bySession[s.owner] == h {
		delete(rv.bySession, s.owner)
	}
}

func (rv *reveals) sweep(now time.Time) {
	for h, s := range rv.slots {
		if !now.Before(s.expires) {
			rv.drop(h)
		}
	}
}

func (rv *reveals) dropOldest() {
	var oldest [32]byte
	var at time.Time
	first := true
	for h, s := range rv.slots {
		if first || s.expires.Before(at) {
			oldest, at, first = h, s.expires, false
		}
	}
	if !first {
		rv.drop(oldest)
	}
}
