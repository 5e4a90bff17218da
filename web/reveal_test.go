package web

import (
	"strings"
	"testing"
	"time"
)

func TestRevealSlotOpensOnceForItsSession(t *testing.T) {
	rv := newReveals()
	id := rv.put("u1", "s1", "ci", "ak_secret")
	if strings.Contains(id, "ak_secret") || len(id) < 40 {
		t.Fatalf("id %q", id)
	}
	for _, other := range [][2]string{{"u1", "s2"}, {"u2", "s1"}, {"", ""}} {
		if _, _, ok := rv.take(id, other[0], other[1]); ok {
			t.Fatalf("session %v opened another session's slot", other)
		}
	}
	name, secret, ok := rv.take(id, "u1", "s1")
	if !ok || name != "ci" || secret != "ak_secret" {
		t.Fatalf("take = %q %q %v", name, secret, ok)
	}
	if _, _, ok := rv.take(id, "u1", "s1"); ok {
		t.Fatal("a slot opened twice")
	}
	if _, _, ok := rv.take("not-an-id", "u1", "s1"); ok {
		t.Fatal("an unknown id opened a slot")
	}
}

func TestRevealSlotExpires(t *testing.T) {
	rv := newReveals()
	now := time.Date(2026, 5, 14, 9, 30, 0, 0, time.UTC)
	rv.now = func() time.Time { return now }
	id := rv.put("u1", "s1", "ci", "ak_secret")
	now = now.Add(revealTTL)
	if _, _, ok := rv.take(id, "u1", "s1"); ok {
		t.Fatal("an expired slot opened")
	}
	if rv.len() != 0 {
		t.Fatal("an expired slot stays in memory after it was asked for")
	}
	// Expired slots leave at the next key, whoever makes it.
	rv.put("u1", "s1", "a", "ak_a")
	now = now.Add(revealTTL)
	rv.put("u2", "s2", "b", "ak_b")
	if rv.len() != 1 {
		t.Fatalf("%d slots, want 1", rv.len())
	}
}

func TestRevealSlotsAreBounded(t *testing.T) {
	rv := newReveals()
	// A newer key of the same session replaces the one waiting: its cookie names the newer one.
	first := rv.put("u1", "s1", "a", "ak_a")
	second := rv.put("u1", "s1", "b", "ak_b")
	if rv.len() != 1 {
		t.Fatalf("%d slots for one session, want 1", rv.len())
	}
	if _, _, ok := rv.take(first, "u1", "s1"); ok {
		t.Fatal("a replaced slot opened")
	}
	if _, secret, _ := rv.take(second, "u1", "s1"); secret != "ak_b" {
		t.Fatalf("the newer slot holds %q", secret)
	}
	now := time.Date(2026, 5, 14, 9, 30, 0, 0, time.UTC)
	rv.now = func() time.Time { now = now.Add(time.Millisecond); return now }
	oldest := rv.put("u0", "s0", "old", "ak_old")
	for i := range revealMaxSlots + 10 {
		rv.put("u", "s"+string(rune('a'+i%26))+strings.Repeat("x", i/26), "k", "ak_k")
	}
	if rv.len() != revealMaxSlots {
		t.Fatalf("%d slots, want at most %d", rv.len(), revealMaxSlots)
	}
	if _, _, ok := rv.take(oldest, "u0", "s0"); ok {
		t.Fatal("the oldest slot was kept when the store was full")
	}
}

func TestRevealForget(t *testing.T) {
	rv := newReveals()
	id := rv.put("u1", "s1", "ci", "ak_secret")
	rv.forget(id)
	if _, _, ok := rv.take(id, "u1", "s1"); ok || rv.len() != 0 {
		t.Fatal("a forgotten slot opened")
	}
}
