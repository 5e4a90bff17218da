package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// testDeviceCodes: device authorization codes (RFC 8628) round-trip, are found by either hash,
// keep user codes unique, and are updated and swept.
func testDeviceCodes(t *testing.T, s gatehouse.Store) {
	ctx := context.Background()
	alice := createUser(t, s, "alice@example.com")
	d := &gatehouse.DeviceCode{Hash: []byte("device-hash"), UserCodeHash: []byte("user-hash"), ClientID: "gatehouse-cli",
		Resource: "https://r.example", Scope: "a b", UserInfo: true, KeyName: "CI", KeyScopes: []string{"profile:read", "credits:read"},
		KeyDays: 30, RequesterIP: "203.0.113.7", RequesterAgent: "gatehouse-login/dev", Interval: 5 * time.Second,
		CreatedAt: t0, ExpiresAt: t0.Add(10 * time.Minute), Status: gatehouse.DevicePending}
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.CreateDeviceCode(ctx, d) })

	got, err := s.DeviceCodeByUserCode(ctx, []byte("user-hash"))
	if err != nil || string(got.Hash) != "device-hash" || got.ClientID != "gatehouse-cli" || got.Scope != "a b" || !got.UserInfo ||
		got.KeyName != "CI" || !slices.Equal(got.KeyScopes, d.KeyScopes) || got.KeyDays != 30 || got.RequesterIP != "203.0.113.7" ||
		got.Interval != 5*time.Second || !got.CreatedAt.Equal(t0) || !got.ExpiresAt.Equal(d.ExpiresAt) || got.PolledAt != nil ||
		got.Status != gatehouse.DevicePending || got.UsedAt != nil || got.DecidedAt != nil {
		t.Fatalf("device code: %+v, %v", got, err)
	}
	if _, err := s.DeviceCodeByUserCode(ctx, []byte("nope")); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("missing user code: %v", err)
	}

	// A user code is unique: a second code with the same one is refused, nothing written.
	clash := *d
	clash.Hash = []byte("other-device-hash")
	err = s.Tx(ctx, func(tx gatehouse.StoreTx) error { return tx.CreateDeviceCode(ctx, &clash) })
	if !errors.Is(err, gatehouse.ErrDeviceCodeExists) {
		t.Fatalf("duplicate user code: %v", err)
	}
	err = s.Tx(ctx, func(tx gatehouse.StoreTx) error {
		_, err := tx.LockDeviceCode(ctx, []byte("other-device-hash"))
		return err
	})
	if !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("the refused code was written: %v", err)
	}

	// A poll and a decision write through either lock.
	polled, decided := t0.Add(time.Minute), t0.Add(2*time.Minute)
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		c, err := tx.LockDeviceCode(ctx, []byte("device-hash"))
		if err != nil {
			return err
		}
		c.PolledAt, c.Interval = &polled, 10*time.Second
		return tx.UpdateDeviceCode(ctx, c)
	})
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		c, err := tx.LockDeviceCodeByUserCode(ctx, []byte("user-hash"))
		if err != nil || c.PolledAt == nil || !c.PolledAt.Equal(polled) || c.Interval != 10*time.Second {
			t.Fatalf("after a poll: %+v, %v", c, err)
		}
		c.Status, c.UserID, c.GrantID, c.Approver, c.AuthTime, c.DecidedAt = gatehouse.DeviceApproved, alice.ID, "grant-1", "sess-1", t0, &decided
		return tx.UpdateDeviceCode(ctx, c)
	})
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		c, err := tx.LockDeviceCode(ctx, []byte("device-hash"))
		if err != nil || c.Status != gatehouse.DeviceApproved || c.UserID != alice.ID || c.GrantID != "grant-1" || c.Approver != "sess-1" ||
			!c.AuthTime.Equal(t0) || c.DecidedAt == nil || !c.DecidedAt.Equal(decided) {
			t.Fatalf("after the approval: %+v, %v", c, err)
		}
		c.UsedAt, c.SessionID, c.KeyID = &decided, "sess-2", "key-1"
		return tx.UpdateDeviceCode(ctx, c)
	})
	if got, _ := s.DeviceCodeByUserCode(ctx, []byte("user-hash")); got.UsedAt == nil || got.SessionID != "sess-2" || got.KeyID != "key-1" {
		t.Fatalf("after the tokens: %+v", got)
	}
	err = s.Tx(ctx, func(tx gatehouse.StoreTx) error {
		return tx.UpdateDeviceCode(ctx, &gatehouse.DeviceCode{Hash: []byte("missing"), Status: gatehouse.DeviceDenied})
	})
	if !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("updating a missing code: %v", err)
	}

	// Sweeping removes the codes that expired before the time given, and only those.
	later := &gatehouse.DeviceCode{Hash: []byte("later-hash"), UserCodeHash: []byte("later-user-hash"), ClientID: "c", Resource: "r",
		Interval: 5 * time.Second, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour), Status: gatehouse.DevicePending}
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.CreateDeviceCode(ctx, later) })
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		n, err := tx.DeleteExpiredDeviceCodes(ctx, t0.Add(30*time.Minute))
		if n != 1 {
			t.Fatalf("swept %d codes, want 1", n)
		}
		return err
	})
	if _, err := s.DeviceCodeByUserCode(ctx, []byte("user-hash")); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("the expired code stayed: %v", err)
	}
	if _, err := s.DeviceCodeByUserCode(ctx, []byte("later-user-hash")); err != nil {
		t.Fatalf("a live code was swept: %v", err)
	}
}
