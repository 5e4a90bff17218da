package gatehouse

import (
	"testing"
	"time"
)

// Another instance's change drops only what it names; an unnamed change drops everything.
func TestForgetDropsOnlyTheNamedChange(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	fill := func() *AuthService {
		s := &AuthService{cache: newPrincipalCache(time.Minute)}
		for _, id := range []string{"1", "2"} {
			s.cache.store(s.cache.currentGeneration(), &Session{ID: "s" + id, UserID: "u" + id}, &User{ID: "u" + id}, now)
			s.cache.storeKey(s.cache.currentGeneration(), [32]byte{id[0]}, &APIKey{ID: "k" + id, UserID: "u" + id}, &User{ID: "u" + id}, now)
		}
		return s
	}
	type cached struct{ s1, s2, u1, u2, k1, k2 bool }
	state := func(s *AuthService) cached {
		_, s1 := s.cache.session("s1", now)
		_, s2 := s.cache.session("s2", now)
		_, u1 := s.cache.user("u1", now)
		_, u2 := s.cache.user("u2", now)
		_, k1 := s.cache.key([32]byte{'1'}, now)
		_, k2 := s.cache.key([32]byte{'2'}, now)
		return cached{s1, s2, u1, u2, k1, k2}
	}
	for _, c := range []struct {
		change Change
		want   cached
	}{
		{Change{SessionID: "s1"}, cached{false, true, true, true, true, true}},
		{Change{UserID: "u2"}, cached{true, true, true, false, true, true}},
		{Change{APIKeyID: "k1"}, cached{true, true, true, true, false, false}},
		{Change{}, cached{}},
	} {
		s := fill()
		if got := state(s); got != (cached{true, true, true, true, true, true}) {
			t.Fatalf("filled cache: %+v", got)
		}
		s.Forget(c.change)
		if got := state(s); got != c.want {
			t.Errorf("after Forget(%+v): cached %+v, want %+v", c.change, got, c.want)
		}
	}
}
