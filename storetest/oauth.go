package storetest

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

func testIdentities(t *testing.T, s gatehouse.Store) {
	ctx := context.Background()
	alice := createUser(t, s, "alice@example.com")
	bob := createUser(t, s, "bob@example.com")
	gh := &gatehouse.Identity{Provider: "github", ProviderUserID: "42", UserID: alice.ID, Email: "alice@example.com", CreatedAt: t0, LastUsedAt: t0}
	li := &gatehouse.Identity{Provider: "linkedin", ProviderUserID: "li-1", UserID: alice.ID, CreatedAt: t0, LastUsedAt: t0}
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		if err := tx.CreateIdentity(ctx, li); err != nil {
			return err
		}
		return tx.CreateIdentity(ctx, gh)
	})

	got, err := s.IdentityByProviderUserID(ctx, "github", "42")
	if err != nil || got.UserID != alice.ID || got.Email != "alice@example.com" || !got.CreatedAt.Equal(t0) || !got.LastUsedAt.Equal(t0) {
		t.Fatalf("identity: %+v, %v", got, err)
	}
	if _, err := s.IdentityByProviderUserID(ctx, "linkedin", "42"); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("the provider is part of the key: %v", err)
	}
	list, err := s.ListIdentities(ctx, alice.ID)
	if err != nil || len(list) != 2 || list[0].Provider != "github" || list[1].Provider != "linkedin" {
		t.Fatalf("list: %+v, %v", list, err)
	}
	if list, err := s.ListIdentities(ctx, bob.ID); err != nil || list == nil || len(list) != 0 {
		t.Fatalf("bob's list: %#v, %v", list, err)
	}

	// A provider account links to one user; a user has one identity per provider.
	for _, dup := range []*gatehouse.Identity{
		{Provider: "github", ProviderUserID: "42", UserID: bob.ID, CreatedAt: t0, LastUsedAt: t0},
		{Provider: "github", ProviderUserID: "43", UserID: alice.ID, CreatedAt: t0, LastUsedAt: t0},
	} {
		err := s.Tx(ctx, func(tx gatehouse.StoreTx) error { return tx.CreateIdentity(ctx, dup) })
		if !errors.Is(err, gatehouse.ErrIdentityTaken) {
			t.Fatalf("duplicate %+v: %v", dup, err)
		}
	}

	later := t0.Add(time.Hour)
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		return tx.TouchIdentity(ctx, "github", "42", "new@example.com", later)
	})
	if got, _ := s.IdentityByProviderUserID(ctx, "github", "42"); got.Email != "new@example.com" || !got.LastUsedAt.Equal(later) {
		t.Fatalf("after touch: %+v", got)
	}

	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		locked, err := tx.LockIdentities(ctx, alice.ID)
		if err != nil || len(locked) != 2 {
			t.Errorf("locked: %+v, %v", locked, err)
		}
		return tx.DeleteIdentity(ctx, alice.ID, "github")
	})
	if _, err := s.IdentityByProviderUserID(ctx, "github", "42"); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	err = s.Tx(ctx, func(tx gatehouse.StoreTx) error { return tx.DeleteIdentity(ctx, alice.ID, "github") })
	if !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("deleting a missing identity: %v", err)
	}
}

func testOAuthStates(t *testing.T, s gatehouse.Store) {
	ctx := context.Background()
	st := &gatehouse.OAuthState{Hash: gatehouse.HashToken("state-1"), Provider: "github", RedirectURI: "https://app.example/cb",
		Salt: []byte("salt-salt-salt"), CreatedAt: t0, ExpiresAt: t0.Add(10 * time.Minute)}
	old := &gatehouse.OAuthState{Hash: gatehouse.HashToken("state-0"), Provider: "github", RedirectURI: "https://app.example/cb",
		Salt: []byte("old"), CreatedAt: t0.Add(-time.Hour), ExpiresAt: t0.Add(-50 * time.Minute)}
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		if err := tx.CreateOAuthState(ctx, old); err != nil {
			return err
		}
		return tx.CreateOAuthState(ctx, st)
	})
	got, err := s.OAuthStateByHash(ctx, st.Hash)
	if err != nil || got.Provider != "github" || got.RedirectURI != st.RedirectURI || !bytes.Equal(got.Salt, st.Salt) ||
		!got.ExpiresAt.Equal(st.ExpiresAt) || got.UsedAt != nil {
		t.Fatalf("state: %+v, %v", got, err)
	}
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.DeleteExpiredOAuthStates(ctx, t0) })
	if _, err := s.OAuthStateByHash(ctx, old.Hash); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("the expired state survived the sweep: %v", err)
	}

	// Of concurrent uses, exactly one succeeds; the salt is gone afterwards.
	const n = 8
	var wg sync.WaitGroup
	results := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = s.Tx(ctx, func(tx gatehouse.StoreTx) error { return tx.UseOAuthState(ctx, st.Hash, t0.Add(time.Minute)) })
		}()
	}
	wg.Wait()
	wins := 0
	for _, err := range results {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, gatehouse.ErrNotFound):
			t.Fatalf("use: %v", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d uses of one state succeeded", wins)
	}
	got, err = s.OAuthStateByHash(ctx, st.Hash)
	if err != nil || got.UsedAt == nil || !got.UsedAt.Equal(t0.Add(time.Minute)) || len(got.Salt) != 0 {
		t.Fatalf("used state: %+v, %v", got, err)
	}
}
