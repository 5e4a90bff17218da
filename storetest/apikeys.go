package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

func testAPIKeys(t *testing.T, s gatehouse.Store) {
	ctx := context.Background()
	u := createUser(t, s, "keys@example.com")
	exp := t0.Add(24 * time.Hour)
	k := &gatehouse.APIKey{ID: gatehouse.NewID(), UserID: u.ID, Name: "ci", Prefix: "ak_12345678",
		Hash: gatehouse.HashToken("secret"), Scopes: []string{"profile:read", "credits:read"}, CreatedAt: t0, ExpiresAt: &exp}
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.CreateAPIKey(ctx, k) })
	got, err := s.APIKeyByHash(ctx, gatehouse.HashToken("secret"))
	if err != nil || got.ID != k.ID || len(got.Scopes) != 2 || got.Scopes[1] != "credits:read" || !got.ExpiresAt.Equal(exp) || got.LastUsedAt != nil {
		t.Fatalf("by hash: %+v %v", got, err)
	}
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.RecordAPIKeyUse(ctx, k.ID, 3, t0.Add(time.Minute)) })
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.RecordAPIKeyUse(ctx, k.ID, 2, t0.Add(time.Second)) })
	got, _ = s.APIKeyByID(ctx, k.ID)
	if got.UseCount != 5 || !got.LastUsedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("usage: count %d last %v", got.UseCount, got.LastUsedAt)
	}
	list, err := s.ListAPIKeys(ctx, u.ID)
	if err != nil || len(list) != 1 {
		t.Fatalf("list: %v %v", list, err)
	}
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.RevokeAPIKey(ctx, k.ID, t0) })
	if list, _ := s.ListAPIKeys(ctx, u.ID); len(list) != 0 {
		t.Fatalf("revoked key listed")
	}
	err = s.Tx(ctx, func(tx gatehouse.StoreTx) error { return tx.RevokeAPIKey(ctx, k.ID, t0) })
	if !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("second revoke: %v", err)
	}
	// By prefix, revoked keys included (the CLI says a key is already revoked).
	if byPrefix, err := s.APIKeysByPrefix(ctx, "ak_12345678"); err != nil || len(byPrefix) != 1 || byPrefix[0].ID != k.ID || byPrefix[0].RevokedAt == nil {
		t.Fatalf("by prefix: %v %v", byPrefix, err)
	}
	if byPrefix, err := s.APIKeysByPrefix(ctx, "ak_00000000"); err != nil || len(byPrefix) != 0 {
		t.Fatalf("by unknown prefix: %v %v", byPrefix, err)
	}
	if _, err := s.APIKeyByHash(ctx, []byte("nope")); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("missing key: %v", err)
	}
}

func testCredits(t *testing.T, s gatehouse.Store) {
	ctx := context.Background()
	u := createUser(t, s, "credits@example.com")
	if _, err := s.CreditAccountOf(ctx, u.ID); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("no account yet: %v", err)
	}
	acct := &gatehouse.CreditAccount{UserID: u.ID, Plan: "free", PeriodStart: t0, PeriodEnd: t0.Add(time.Hour), UpdatedAt: t0}
	for range 2 { // idempotent
		mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.EnsureCreditAccount(ctx, acct) })
	}
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.GrantCredits(ctx, u.ID, 5, "pro", nil, nil, t0) })
	ok := raceCount(t, 12, func() (used bool, err error) {
		err = s.Tx(ctx, func(tx gatehouse.StoreTx) (err error) {
			used, err = tx.UseCredits(ctx, u.ID, 1, t0)
			return err
		})
		return used && err == nil, err
	})
	a, err := s.CreditAccountOf(ctx, u.ID)
	if err != nil || ok != 5 || a.Used != 5 || a.Total != 5 || a.Plan != "pro" {
		t.Fatalf("after 12 concurrent uses of 5 credits: ok=%d %+v %v", ok, a, err)
	}
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		return tx.AddCreditEntry(ctx, &gatehouse.CreditEntry{ID: gatehouse.NewID(), UserID: u.ID, Amount: -1, Kind: "usage", CreatedAt: t0})
	})
}
