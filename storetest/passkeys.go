package storetest

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// testPasskeys: passkeys round-trip, are found by credential id, belong to one user (rename and
// delete by another user find nothing), a credential id is registered once, counters only move
// forward (0 stays acceptable for counter-less keys), and a user's deletion takes them all.
func testPasskeys(t *testing.T, s gatehouse.Store) {
	ctx := context.Background()
	u := createUser(t, s, "passkeys@example.com")
	other := createUser(t, s, "other-passkeys@example.com")
	pk := &gatehouse.Passkey{ID: gatehouse.NewID(), UserID: u.ID, CredentialID: []byte{1, 2, 3}, Name: "Laptop",
		Record: []byte(`{"publicKey":"x"}`), SignCount: 7, BackupEligible: true, BackupState: false, CreatedAt: t0}
	synced := &gatehouse.Passkey{ID: gatehouse.NewID(), UserID: u.ID, CredentialID: []byte{9}, Name: "Phone",
		Record: []byte(`{}`), CreatedAt: t0.Add(time.Second)}
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		if err := tx.CreatePasskey(ctx, pk); err != nil {
			return err
		}
		return tx.CreatePasskey(ctx, synced)
	})
	// A passkey is a second factor: the user row says so, and SecondFactorsOf lists it.
	expectMFAEnabled(t, s, u.ID, true)
	expectMFAEnabled(t, s, other.ID, false)
	if totp, passkeys, err := s.SecondFactorsOf(ctx, u.ID); err != nil || totp || !passkeys {
		t.Fatalf("SecondFactorsOf: totp %v passkeys %v %v", totp, passkeys, err)
	}
	dup := *pk
	dup.ID, dup.UserID = gatehouse.NewID(), other.ID
	if err := s.Tx(ctx, func(tx gatehouse.StoreTx) error { return tx.CreatePasskey(ctx, &dup) }); !errors.Is(err, gatehouse.ErrPasskeyExists) {
		t.Fatalf("a credential id registered twice: %v", err)
	}
	got, err := s.PasskeyByCredentialID(ctx, []byte{1, 2, 3})
	if err != nil || got.ID != pk.ID || got.UserID != u.ID || got.Name != "Laptop" || !bytes.Equal(got.Record, pk.Record) ||
		got.SignCount != 7 || !got.BackupEligible || got.BackupState || !got.CreatedAt.Equal(t0) || got.LastUsedAt != nil {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	if _, err := s.PasskeyByCredentialID(ctx, []byte{4}); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("unknown credential: %v", err)
	}
	list, err := s.PasskeysOf(ctx, u.ID)
	if err != nil || len(list) != 2 || list[0].ID != pk.ID || list[1].ID != synced.ID {
		t.Fatalf("list: %v %v", list, err)
	}
	if list, _ := s.PasskeysOf(ctx, other.ID); len(list) != 0 {
		t.Fatalf("another user's list: %v", list)
	}

	// Another user can neither rename nor delete it.
	if err := s.Tx(ctx, func(tx gatehouse.StoreTx) error { return tx.RenamePasskey(ctx, other.ID, pk.ID, "Mine") }); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("renamed by another user: %v", err)
	}
	if err := s.Tx(ctx, func(tx gatehouse.StoreTx) error { return tx.DeletePasskey(ctx, other.ID, pk.ID) }); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("deleted by another user: %v", err)
	}
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.RenamePasskey(ctx, u.ID, pk.ID, "Work laptop") })

	// Counters move forward only.
	used := t0.Add(time.Minute)
	for _, n := range []uint32{7, 6, 0} {
		if err := s.Tx(ctx, func(tx gatehouse.StoreTx) error { return tx.UsePasskey(ctx, pk.ID, n, true, used) }); !errors.Is(err, gatehouse.ErrNotFound) {
			t.Fatalf("counter %d accepted after 7: %v", n, err)
		}
	}
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.UsePasskey(ctx, pk.ID, 8, true, used) })
	got, _ = s.PasskeyByCredentialID(ctx, pk.CredentialID)
	if got.SignCount != 8 || !got.BackupState || got.LastUsedAt == nil || !got.LastUsedAt.Equal(used) || got.Name != "Work laptop" {
		t.Fatalf("after use: %+v", got)
	}
	// A key without a counter: 0 after 0 is fine.
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.UsePasskey(ctx, synced.ID, 0, false, used) })
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.UsePasskey(ctx, synced.ID, 0, false, used) })

	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.DeletePasskey(ctx, u.ID, synced.ID) })
	expectMFAEnabled(t, s, u.ID, true) // one passkey left
	var n int
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		var err error
		n, err = tx.DeletePasskeys(ctx, u.ID)
		return err
	})
	if list, _ := s.PasskeysOf(ctx, u.ID); n != 1 || len(list) != 0 {
		t.Fatalf("delete all: %d, left %v", n, list)
	}
	expectMFAEnabled(t, s, u.ID, false)
	if totp, passkeys, err := s.SecondFactorsOf(ctx, u.ID); err != nil || totp || passkeys {
		t.Fatalf("SecondFactorsOf after removal: totp %v passkeys %v %v", totp, passkeys, err)
	}
}

// testPasskeyCounterOnce: of concurrent uses with one counter value, exactly one wins.
func testPasskeyCounterOnce(t *testing.T, s gatehouse.Store) {
	ctx := context.Background()
	u := createUser(t, s, "counter@example.com")
	pk := &gatehouse.Passkey{ID: gatehouse.NewID(), UserID: u.ID, CredentialID: []byte("c"), Name: "k", Record: []byte(`{}`), SignCount: 1, CreatedAt: t0}
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.CreatePasskey(ctx, pk) })
	wins := raceWins(t, 20, func() error {
		return s.Tx(ctx, func(tx gatehouse.StoreTx) error { return tx.UsePasskey(ctx, pk.ID, 2, false, t0) })
	})
	if wins != 1 {
		t.Fatalf("%d uses of one counter won", wins)
	}
}

// testPasskeyCeremonies: a ceremony is spent once, only as its kind, never once expired, and a
// new one with the same hash replaces it; concurrent spends: one wins.
func testPasskeyCeremonies(t *testing.T, s gatehouse.Store) {
	ctx := context.Background()
	u := createUser(t, s, "ceremony@example.com")
	put := func(c *gatehouse.PasskeyCeremony) {
		t.Helper()
		mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.CreatePasskeyCeremony(ctx, c) })
	}
	spend := func(hash []byte, kind string, now time.Time) (*gatehouse.PasskeyCeremony, error) {
		var c *gatehouse.PasskeyCeremony
		err := s.Tx(ctx, func(tx gatehouse.StoreTx) error {
			var err error
			c, err = tx.SpendPasskeyCeremony(ctx, hash, kind, now)
			return err
		})
		return c, err
	}
	h := gatehouse.HashToken("ceremony")
	put(&gatehouse.PasskeyCeremony{Hash: h, Kind: gatehouse.CeremonyRegister, UserID: u.ID, State: []byte("first"), CreatedAt: t0, ExpiresAt: t0.Add(5 * time.Minute)})
	put(&gatehouse.PasskeyCeremony{Hash: h, Kind: gatehouse.CeremonyRegister, UserID: u.ID, State: []byte("second"), CreatedAt: t0, ExpiresAt: t0.Add(5 * time.Minute)})
	if _, err := spend(h, gatehouse.CeremonyLogin, t0); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("spent as another kind: %v", err)
	}
	c, err := spend(h, gatehouse.CeremonyRegister, t0.Add(time.Minute))
	if err != nil || string(c.State) != "second" || c.UserID != u.ID || !c.ExpiresAt.Equal(t0.Add(5*time.Minute)) {
		t.Fatalf("spend: %+v %v", c, err)
	}
	if _, err := spend(h, gatehouse.CeremonyRegister, t0.Add(time.Minute)); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("spent twice: %v", err)
	}
	old := gatehouse.HashToken("old")
	put(&gatehouse.PasskeyCeremony{Hash: old, Kind: gatehouse.CeremonyLogin, State: []byte("s"), CreatedAt: t0, ExpiresAt: t0.Add(5 * time.Minute)})
	if _, err := spend(old, gatehouse.CeremonyLogin, t0.Add(5*time.Minute)); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("spent once expired: %v", err)
	}
	race := gatehouse.HashToken("race")
	put(&gatehouse.PasskeyCeremony{Hash: race, Kind: gatehouse.CeremonyLogin, State: []byte("s"), CreatedAt: t0, ExpiresAt: t0.Add(5 * time.Minute)})
	wins := raceWins(t, 20, func() error {
		_, err := spend(race, gatehouse.CeremonyLogin, t0)
		return err
	})
	if wins != 1 {
		t.Fatalf("%d spends of one ceremony won", wins)
	}
	// DeletePasskeyCeremonies: the user's ceremonies of that kind only.
	r1, r2, mfa := gatehouse.HashToken("r1"), gatehouse.HashToken("r2"), gatehouse.HashToken("m")
	put(&gatehouse.PasskeyCeremony{Hash: r1, Kind: gatehouse.CeremonyRegister, UserID: u.ID, State: []byte("s"), CreatedAt: t0, ExpiresAt: t0.Add(5 * time.Minute)})
	put(&gatehouse.PasskeyCeremony{Hash: r2, Kind: gatehouse.CeremonyRegister, UserID: u.ID, State: []byte("s"), CreatedAt: t0, ExpiresAt: t0.Add(5 * time.Minute)})
	put(&gatehouse.PasskeyCeremony{Hash: mfa, Kind: gatehouse.CeremonyMFA, UserID: u.ID, State: []byte("s"), CreatedAt: t0, ExpiresAt: t0.Add(5 * time.Minute)})
	other := createUser(t, s, "ceremony-other@example.com")
	r3 := gatehouse.HashToken("r3")
	put(&gatehouse.PasskeyCeremony{Hash: r3, Kind: gatehouse.CeremonyRegister, UserID: other.ID, State: []byte("s"), CreatedAt: t0, ExpiresAt: t0.Add(5 * time.Minute)})
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		return tx.DeletePasskeyCeremonies(ctx, u.ID, gatehouse.CeremonyRegister)
	})
	for _, h := range [][]byte{r1, r2} {
		if _, err := spend(h, gatehouse.CeremonyRegister, t0); !errors.Is(err, gatehouse.ErrNotFound) {
			t.Fatalf("a deleted registration ceremony was spent: %v", err)
		}
	}
	if _, err := spend(mfa, gatehouse.CeremonyMFA, t0); err != nil {
		t.Fatalf("another kind was deleted: %v", err)
	}
	if _, err := spend(r3, gatehouse.CeremonyRegister, t0); err != nil {
		t.Fatalf("another user's ceremony was deleted: %v", err)
	}
	// Concurrent ceremonies of one hash (new options for one mfa_token, twice at once): every
	// write succeeds, one of them is kept.
	again := gatehouse.HashToken("again")
	if n := raceWins(t, 20, func() error {
		return s.Tx(ctx, func(tx gatehouse.StoreTx) error {
			return tx.CreatePasskeyCeremony(ctx, &gatehouse.PasskeyCeremony{Hash: again, Kind: gatehouse.CeremonyMFA, UserID: u.ID,
				State: []byte("s"), CreatedAt: t0, ExpiresAt: t0.Add(5 * time.Minute)})
		})
	}); n != 20 {
		t.Fatalf("%d of 20 concurrent replaces succeeded", n)
	}
	if c, err := spend(again, gatehouse.CeremonyMFA, t0); err != nil || c.UserID != u.ID {
		t.Fatalf("after concurrent replaces: %+v %v", c, err)
	}
}
