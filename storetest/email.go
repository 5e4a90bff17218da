package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

func newEmailToken(u *gatehouse.User, purpose gatehouse.EmailPurpose, secret string) *gatehouse.EmailToken {
	return &gatehouse.EmailToken{Hash: gatehouse.HashToken(secret), Purpose: purpose, UserID: u.ID, Email: u.Email,
		CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
}

func testEmailTokens(t *testing.T, s gatehouse.Store) {
	ctx := context.Background()
	u := createUser(t, s, "tokens@example.com")
	verify := newEmailToken(u, gatehouse.PurposeVerify, "v1")
	verify.Resend = true
	reset1, reset2 := newEmailToken(u, gatehouse.PurposeReset, "r1"), newEmailToken(u, gatehouse.PurposeReset, "r2")
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		for _, et := range []*gatehouse.EmailToken{verify, reset1, reset2} {
			if err := tx.CreateEmailToken(ctx, et); err != nil {
				return err
			}
		}
		return nil
	})
	got, err := s.EmailTokenByHash(ctx, verify.Hash)
	if err != nil || got.Purpose != gatehouse.PurposeVerify || got.UserID != u.ID || got.Email != u.Email ||
		!got.ExpiresAt.Equal(verify.ExpiresAt) || got.UsedAt != nil || !got.Resend {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	if last, err := s.LastResendAt(ctx, u.ID); err != nil || !last.Equal(t0) {
		t.Fatalf("LastResendAt: %v %v", last, err)
	}
	if _, err := s.LastResendAt(ctx, "nobody"); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("LastResendAt of nobody: %v", err)
	}
	// Expired tokens cannot be used.
	if err := s.Tx(ctx, func(tx gatehouse.StoreTx) error { return tx.UseEmailToken(ctx, reset1.Hash, t0.Add(time.Hour)) }); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("used an expired token: %v", err)
	}
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.UseEmailToken(ctx, reset1.Hash, t0.Add(time.Minute)) })
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		return tx.DeleteEmailTokens(ctx, u.ID, gatehouse.PurposeReset, reset1.Hash)
	})
	if _, err := s.EmailTokenByHash(ctx, reset2.Hash); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("other reset token survived: %v", err)
	}
	if got, err := s.EmailTokenByHash(ctx, reset1.Hash); err != nil || got.UsedAt == nil {
		t.Fatalf("the used token: %+v %v", got, err)
	}
	if _, err := s.EmailTokenByHash(ctx, verify.Hash); err != nil {
		t.Fatalf("a token of the other purpose was deleted: %v", err)
	}
	// SetEmailVerified holds only for the address the account still has.
	if err := s.Tx(ctx, func(tx gatehouse.StoreTx) error { return tx.SetEmailVerified(ctx, u.ID, "old@example.com", t0) }); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("verified another address: %v", err)
	}
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.SetEmailVerified(ctx, u.ID, u.Email, t0) })
	if got, _ := s.UserByID(ctx, u.ID); !got.EmailVerified {
		t.Fatal("not verified")
	}
}

// Of concurrent redemptions of one token, exactly one wins.
func testEmailTokenUsedOnce(t *testing.T, s gatehouse.Store) {
	ctx := context.Background()
	u := createUser(t, s, "once@example.com")
	et := newEmailToken(u, gatehouse.PurposeReset, "once")
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.CreateEmailToken(ctx, et) })
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 8 {
		wg.Go(func() {
			err := s.Tx(ctx, func(tx gatehouse.StoreTx) error {
				if _, err := tx.LockUser(ctx, u.ID); err != nil {
					return err
				}
				return tx.UseEmailToken(ctx, et.Hash, t0.Add(time.Second))
			})
			if err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			} else if !errors.Is(err, gatehouse.ErrNotFound) {
				t.Errorf("unexpected: %v", err)
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d redemptions won, want 1", wins)
	}
}

func outboxMessage(i int, keyID string, secret []byte) *gatehouse.OutboxMessage {
	return &gatehouse.OutboxMessage{ID: fmt.Sprintf("msg-%03d", i), Kind: gatehouse.EmailVerify, To: "to@example.com",
		Subject: "s", Text: "t", HTML: "<p>h</p>", Secret: secret, KeyID: keyID, NextAttemptAt: t0, CreatedAt: t0}
}

func testOutbox(t *testing.T, s gatehouse.Store) {
	ctx := context.Background()
	expires := t0.Add(time.Hour)
	a, b, c := outboxMessage(1, "key-a", []byte("sealed")), outboxMessage(2, "key-b", []byte("sealed")), outboxMessage(3, "", nil)
	a.ExpiresAt = &expires
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		for _, m := range []*gatehouse.OutboxMessage{a, b, c} {
			if err := tx.EnqueueEmail(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
	if next, err := s.NextOutboxAttempt(ctx, "key-a"); err != nil || !next.Equal(t0) {
		t.Fatalf("NextOutboxAttempt: %v %v", next, err)
	}
	var claimed []*gatehouse.OutboxMessage
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		var err error
		claimed, err = tx.ClaimOutbox(ctx, "key-a", t0, t0.Add(time.Minute), 10)
		return err
	})
	// key-b's message is not for a worker holding key-a; the one without a secret is for anyone.
	if len(claimed) != 2 || claimed[0].ID != a.ID || claimed[1].ID != c.ID {
		t.Fatalf("claimed %v", ids(claimed))
	}
	got := claimed[0]
	if got.To != a.To || got.Subject != a.Subject || got.Text != a.Text || got.HTML != a.HTML || !bytes.Equal(got.Secret, a.Secret) ||
		got.KeyID != "key-a" || got.ExpiresAt == nil || !got.ExpiresAt.Equal(expires) || !got.CreatedAt.Equal(t0) || got.Kind != gatehouse.EmailVerify {
		t.Fatalf("round trip: %+v", got)
	}
	// Leased: not claimable again until the lease ends.
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		again, err := tx.ClaimOutbox(ctx, "key-a", t0.Add(time.Second), t0.Add(time.Minute), 10)
		if err == nil && len(again) != 0 {
			t.Errorf("claimed under lease: %v", ids(again))
		}
		return err
	})
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		if err := tx.MarkOutboxSent(ctx, a.ID, 1, t0.Add(time.Second)); err != nil {
			return err
		}
		// A late failure report from a worker whose lease ran out does not undo the delivery.
		if err := tx.MarkOutboxRetry(ctx, a.ID, 2, t0.Add(time.Hour), "late"); err != nil {
			return err
		}
		return tx.MarkOutboxFailed(ctx, c.ID, 1, t0.Add(time.Second), "refused")
	})
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		left, err := tx.ClaimOutbox(ctx, "key-a", t0.Add(2*time.Hour), t0.Add(3*time.Hour), 10)
		if err == nil && len(left) != 0 {
			t.Errorf("sent or failed messages claimed again: %v", ids(left))
		}
		return err
	})
	// The sweep gives up key-b's message once too old, and returns it.
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		gone, err := tx.ExpireOutbox(ctx, t0.Add(time.Second), t0.Add(time.Second))
		if err == nil && (len(gone) != 1 || gone[0] != b.ID) {
			t.Errorf("expired %v, want [%s]", gone, b.ID)
		}
		return err
	})
	if _, err := s.NextOutboxAttempt(ctx, "key-b"); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("pending after the sweep: %v", err)
	}
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.PurgeEmail(ctx, t0.Add(time.Hour)) })
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		left, err := tx.ExpireOutbox(ctx, t0.Add(100*time.Hour), t0.Add(100*time.Hour))
		if err == nil && len(left) != 0 {
			t.Errorf("rows left after purge: %v", left)
		}
		return err
	})
}

// Workers claiming at once each get different messages, and every message is claimed once.
func testOutboxConcurrentClaims(t *testing.T, s gatehouse.Store) {
	ctx := context.Background()
	const total = 30
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		for i := range total {
			if err := tx.EnqueueEmail(ctx, outboxMessage(i, "k", []byte("x"))); err != nil {
				return err
			}
		}
		return nil
	})
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				var got []*gatehouse.OutboxMessage
				err := s.Tx(ctx, func(tx gatehouse.StoreTx) error {
					var err error
					got, err = tx.ClaimOutbox(ctx, "k", t0, t0.Add(time.Hour), 3)
					return err
				})
				if err != nil {
					t.Errorf("claim: %v", err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, m := range got {
					seen[m.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != total {
		t.Fatalf("%d of %d messages claimed", len(seen), total)
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("%s claimed %d times", id, n)
		}
	}
}

func ids(ms []*gatehouse.OutboxMessage) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}
