package storetest

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

func testMFAFactors(t *testing.T, s gatehouse.Store) {
	ctx := context.Background()
	u := createUser(t, s, "mfa@example.com")
	if _, err := s.TOTPFactorOf(ctx, u.ID); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("no factor yet: %v", err)
	}
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		return tx.PutTOTPFactor(ctx, &gatehouse.TOTPFactor{UserID: u.ID, Secret: []byte("first"), CreatedAt: t0})
	})
	// A second pending enrolment replaces the first.
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		return tx.PutTOTPFactor(ctx, &gatehouse.TOTPFactor{UserID: u.ID, Secret: []byte("sealed"), CreatedAt: t0})
	})
	f, err := s.TOTPFactorOf(ctx, u.ID)
	if err != nil || !bytes.Equal(f.Secret, []byte("sealed")) || f.Confirmed() || f.LastStep != 0 || !f.CreatedAt.Equal(t0) {
		t.Fatalf("pending factor: %+v %v", f, err)
	}
	expectMFAEnabled(t, s, u.ID, false) // a pending factor is no factor
	// A pending factor accepts no sign-in step; confirming needs it pending.
	if err := s.Tx(ctx, func(tx gatehouse.StoreTx) error { return tx.UseTOTPStep(ctx, u.ID, 5, nil) }); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("step of a pending factor: %v", err)
	}
	confirm := t0.Add(time.Minute)
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.UseTOTPStep(ctx, u.ID, 10, &confirm) })
	if err := s.Tx(ctx, func(tx gatehouse.StoreTx) error { return tx.UseTOTPStep(ctx, u.ID, 11, &confirm) }); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("confirmed twice: %v", err)
	}
	f, _ = s.TOTPFactorOf(ctx, u.ID)
	if !f.Confirmed() || !f.ConfirmedAt.Equal(confirm) || f.LastStep != 10 {
		t.Fatalf("confirmed factor: %+v", f)
	}
	expectMFAEnabled(t, s, u.ID, true)
	if totp, passkeys, err := s.SecondFactorsOf(ctx, u.ID); err != nil || !totp || passkeys {
		t.Fatalf("SecondFactorsOf: totp %v passkeys %v %v", totp, passkeys, err)
	}
	// UpdateUser (a rename, a password change) leaves the flag alone.
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		cur, err := tx.LockUser(ctx, u.ID)
		if err != nil {
			return err
		}
		if !cur.MFAEnabled {
			t.Error("LockUser does not say mfa_enabled")
		}
		cur.Name, cur.MFAEnabled = "Renamed", false
		return tx.UpdateUser(ctx, cur)
	})
	expectMFAEnabled(t, s, u.ID, true)
	// Steps only move forward.
	for _, step := range []int64{10, 9} {
		if err := s.Tx(ctx, func(tx gatehouse.StoreTx) error { return tx.UseTOTPStep(ctx, u.ID, step, nil) }); !errors.Is(err, gatehouse.ErrNotFound) {
			t.Fatalf("step %d accepted after 10: %v", step, err)
		}
	}
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.UseTOTPStep(ctx, u.ID, 12, nil) })

	// Recovery codes: replaced as a set, each spent once, only by their user.
	hashes := [][]byte{gatehouse.HashToken("a"), gatehouse.HashToken("b")}
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		return tx.ReplaceRecoveryCodes(ctx, u.ID, [][]byte{gatehouse.HashToken("old")}, t0)
	})
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.ReplaceRecoveryCodes(ctx, u.ID, hashes, t0) })
	if n, err := s.RecoveryCodesLeft(ctx, u.ID); err != nil || n != 2 {
		t.Fatalf("codes left: %d %v", n, err)
	}
	other := createUser(t, s, "mfa-other@example.com")
	for _, c := range []struct {
		user string
		hash []byte
	}{{other.ID, hashes[0]}, {u.ID, gatehouse.HashToken("old")}} {
		if err := s.Tx(ctx, func(tx gatehouse.StoreTx) error { return tx.UseRecoveryCode(ctx, c.user, c.hash, t0) }); !errors.Is(err, gatehouse.ErrNotFound) {
			t.Fatalf("spent a code that is not the user's: %v", err)
		}
	}
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.UseRecoveryCode(ctx, u.ID, hashes[0], t0) })
	if err := s.Tx(ctx, func(tx gatehouse.StoreTx) error { return tx.UseRecoveryCode(ctx, u.ID, hashes[0], t0) }); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("spent a code twice: %v", err)
	}
	if n, _ := s.RecoveryCodesLeft(ctx, u.ID); n != 1 {
		t.Fatalf("codes left after one use: %d", n)
	}

	// Deleting removes factor, codes and challenges, and says whether there was anything.
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		return tx.CreateMFAChallenge(ctx, &gatehouse.MFAChallenge{Hash: gatehouse.HashToken("ch"), UserID: u.ID, AMR: "pwd", CreatedAt: t0, ExpiresAt: t0.Add(5 * time.Minute)})
	})
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		had, err := tx.DeleteMFAFactors(ctx, u.ID)
		if err == nil && !had {
			t.Error("DeleteMFAFactors found nothing")
		}
		return err
	})
	if _, err := s.TOTPFactorOf(ctx, u.ID); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("factor survived: %v", err)
	}
	if _, err := s.MFAChallengeByHash(ctx, gatehouse.HashToken("ch")); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("challenge survived: %v", err)
	}
	if n, _ := s.RecoveryCodesLeft(ctx, u.ID); n != 0 {
		t.Fatalf("codes survived: %d", n)
	}
	expectMFAEnabled(t, s, u.ID, false)
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		had, err := tx.DeleteMFAFactors(ctx, u.ID)
		if err == nil && had {
			t.Error("DeleteMFAFactors found something the second time")
		}
		return err
	})
}

func testMFAChallenges(t *testing.T, s gatehouse.Store) {
	ctx := context.Background()
	u := createUser(t, s, "challenge@example.com")
	c := &gatehouse.MFAChallenge{Hash: gatehouse.HashToken("token"), UserID: u.ID, AMR: "pwd", CreatedAt: t0, ExpiresAt: t0.Add(5 * time.Minute)}
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.CreateMFAChallenge(ctx, c) })
	got, err := s.MFAChallengeByHash(ctx, c.Hash)
	if err != nil || got.UserID != u.ID || got.AMR != "pwd" || !got.ExpiresAt.Equal(c.ExpiresAt) || got.UsedAt != nil {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	// Expired: not spent.
	if err := s.Tx(ctx, func(tx gatehouse.StoreTx) error {
		_, err := tx.SpendMFAChallenge(ctx, c.Hash, c.ExpiresAt)
		return err
	}); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("spent an expired challenge: %v", err)
	}
	// A transaction that fails after spending it leaves it unspent.
	boom := errors.New("boom")
	if err := s.Tx(ctx, func(tx gatehouse.StoreTx) error {
		if _, err := tx.SpendMFAChallenge(ctx, c.Hash, t0); err != nil {
			return err
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("tx: %v", err)
	}
	// Of concurrent spends, exactly one wins.
	wins := raceWins(t, 10, func() error {
		return s.Tx(ctx, func(tx gatehouse.StoreTx) error {
			got, err := tx.SpendMFAChallenge(ctx, c.Hash, t0.Add(time.Minute))
			if err == nil && (got.UsedAt == nil || got.UserID != u.ID) {
				t.Errorf("spent challenge: %+v", got)
			}
			return err
		})
	})
	if wins != 1 {
		t.Fatalf("%d spends of one challenge won", wins)
	}
}

// testTOTPStepOnce: of concurrent uses of one time step, exactly one succeeds.
func testTOTPStepOnce(t *testing.T, s gatehouse.Store) {
	ctx := context.Background()
	u := createUser(t, s, "steps@example.com")
	confirm := t0
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		return tx.PutTOTPFactor(ctx, &gatehouse.TOTPFactor{UserID: u.ID, Secret: []byte("x"), CreatedAt: t0})
	})
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.UseTOTPStep(ctx, u.ID, 100, &confirm) })
	wins := raceWins(t, 20, func() error {
		return s.Tx(ctx, func(tx gatehouse.StoreTx) error { return tx.UseTOTPStep(ctx, u.ID, 101, nil) })
	})
	if wins != 1 {
		t.Fatalf("%d uses of one step won", wins)
	}
}

// testSessionAMR: how the user authenticated survives the session's round trips, the refresh
// token's join included.
func testSessionAMR(t *testing.T, s gatehouse.Store) {
	ctx := context.Background()
	u := createUser(t, s, "amr@example.com")
	sess := &gatehouse.Session{ID: gatehouse.NewID(), UserID: u.ID, CreatedAt: t0, LastUsedAt: t0, ExpiresAt: t0.Add(time.Hour), AMR: []string{"pwd", "otp", "mfa"}}
	rt := &gatehouse.RefreshToken{Hash: gatehouse.HashToken("amr-refresh"), SessionID: sess.ID, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		if err := tx.CreateSession(ctx, sess); err != nil {
			return err
		}
		return tx.CreateRefreshToken(ctx, rt)
	})
	got, err := s.SessionByID(ctx, sess.ID)
	if err != nil || len(got.AMR) != 3 || got.AMR[0] != "pwd" || got.AMR[2] != "mfa" {
		t.Fatalf("session amr: %v %v", got, err)
	}
	_, viaToken, _, err := s.RefreshTokenSession(ctx, rt.Hash)
	if err != nil || len(viaToken.AMR) != 3 || viaToken.AMR[1] != "otp" {
		t.Fatalf("session amr through the refresh token: %+v %v", viaToken, err)
	}
}

// expectMFAEnabled checks users.mfa_enabled through every read of a user.
func expectMFAEnabled(t *testing.T, s gatehouse.Store, userID string, want bool) {
	t.Helper()
	ctx := context.Background()
	u, err := s.UserByID(ctx, userID)
	if err != nil || u.MFAEnabled != want {
		t.Fatalf("UserByID: mfa_enabled %v (%v), want %v", u != nil && u.MFAEnabled, err, want)
	}
	if u, err = s.UserByEmail(ctx, u.Email); err != nil || u.MFAEnabled != want {
		t.Fatalf("UserByEmail: mfa_enabled %v (%v), want %v", u != nil && u.MFAEnabled, err, want)
	}
}
