package gatehouse

import (
	"crypto/sha256"
	"strconv"
	"testing"
	"time"
)

func rotationHash(i int) []byte {
	h := sha256.Sum256([]byte(strconv.Itoa(i)))
	return h[:]
}

// The rotation cache is bounded: never more than max entries (live ones are dropped all at once,
// expired ones first), an entry older than maxAge is never served, a spent token's entry goes
// with its rotation, and what get returns is a copy the caller may change.
func TestRotationCacheBounds(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c := newRotationCache()
	c.max = 4
	put := func(spent, successor int, at time.Time) {
		c.put(rotationHash(spent), &RefreshToken{Hash: rotationHash(successor)}, &Session{ID: "s" + strconv.Itoa(successor)}, &User{ID: "u"}, at)
	}
	for i := 1; i <= 4; i++ {
		put(-i, i, now)
	}
	if len(c.entries) != 4 {
		t.Fatalf("%d entries, want 4", len(c.entries))
	}
	// Full of live entries: the next one makes room by dropping one of them (a tenth, at least
	// one), and the cache stays full rather than emptying.
	put(-5, 5, now)
	if len(c.entries) != 4 {
		t.Fatalf("%d entries after overflowing, want 4", len(c.entries))
	}
	if _, _, _, ok := c.get(rotationHash(5), now); !ok {
		t.Fatal("the new entry was not stored")
	}
	gone := 0
	for i := 1; i <= 4; i++ {
		if _, _, _, ok := c.get(rotationHash(i), now); !ok {
			gone++
		}
	}
	if gone != 1 {
		t.Fatalf("%d of the four older entries were dropped, want 1", gone)
	}
	for i := 1; i <= 4; i++ {
		c.forget(rotationHash(i))
	}
	// Expired entries are dropped first, and never served.
	for i := 6; i <= 8; i++ {
		put(-i, i, now.Add(-2*c.maxAge))
	}
	if _, _, _, ok := c.get(rotationHash(6), now); ok {
		t.Fatal("an expired entry was served")
	}
	put(-9, 9, now)
	if len(c.entries) != 2 {
		t.Fatalf("%d entries, want the two live ones", len(c.entries))
	}
	// Spending 9 (rotating it into 10) forgets it.
	put(9, 10, now)
	if _, _, _, ok := c.get(rotationHash(9), now); ok {
		t.Fatal("a spent token's entry survived its rotation")
	}
	_, sess, _, ok := c.get(rotationHash(10), now)
	if !ok || sess.ID != "s10" {
		t.Fatalf("entry 10: %v %+v", ok, sess)
	}
	sess.ID = "changed"
	if _, again, _, _ := c.get(rotationHash(10), now); again.ID != "s10" {
		t.Fatal("get handed out the stored entry, not a copy")
	}
	// The password hash stays out of the snapshot, and the caller's user is left as it was.
	u := &User{ID: "u", PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"}
	c.put(rotationHash(10), &RefreshToken{Hash: rotationHash(11)}, &Session{ID: "s11"}, u, now)
	_, _, cached, ok := c.get(rotationHash(11), now)
	if !ok {
		t.Fatal("entry 11 not found")
	}
	if cached.PasswordHash != "" || u.PasswordHash == "" {
		t.Fatalf("snapshot's password hash %q, caller's %q", cached.PasswordHash, u.PasswordHash)
	}
	// A key that is not a SHA-256 hash is neither stored nor found.
	if _, _, _, ok := c.get([]byte("short"), now); ok {
		t.Fatal("a short key was found")
	}
}
