package storetest

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// Pending email sign-ins: one per user, replaced by a new one; attempts counted atomically up to
// a limit; spent once, by code or by link, and never after expiry.

func putSignIn(t *testing.T, s gatehouse.Store, u *gatehouse.User, code, link string, at time.Time) *gatehouse.EmailSignIn {
	t.Helper()
	si := &gatehouse.EmailSignIn{UserID: u.ID, Email: u.Email, CodeHash: gatehouse.HashToken(code), LinkHash: gatehouse.HashToken(link),
		CreatedAt: at, ExpiresAt: at.Add(10 * time.Minute)}
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.PutEmailSignIn(context.Background(), si) })
	return si
}

func testEmailSignIns(t *testing.T, s gatehouse.Store) {
	ctx := context.Background()
	u := createUser(t, s, "signin@example.com")
	spendCode := func(code string, at time.Time) (*gatehouse.EmailSignIn, error) {
		var got *gatehouse.EmailSignIn
		err := s.Tx(ctx, func(tx gatehouse.StoreTx) error {
			var err error
			got, err = tx.SpendEmailSignInCode(ctx, u.ID, gatehouse.HashToken(code), at)
			return err
		})
		return got, err
	}
	spendLink := func(link string, at time.Time, max int) (*gatehouse.EmailSignIn, error) {
		var got *gatehouse.EmailSignIn
		err := s.Tx(ctx, func(tx gatehouse.StoreTx) error {
			var err error
			got, err = tx.SpendEmailSignInLink(ctx, gatehouse.HashToken(link), at, max)
			return err
		})
		return got, err
	}
	take := func(at time.Time, max int) (*gatehouse.EmailSignIn, error) {
		var got *gatehouse.EmailSignIn
		err := s.Tx(ctx, func(tx gatehouse.StoreTx) error {
			var err error
			got, err = tx.TakeEmailSignInAttempt(ctx, u.ID, at, max)
			return err
		})
		return got, err
	}

	// Nothing pending: nothing to try or spend.
	if _, err := take(t0, 5); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("attempt without a sign-in: %v", err)
	}
	first := putSignIn(t, s, u, "11111111", "link-1", t0)
	got, err := take(t0.Add(time.Second), 5)
	if err != nil || got.Attempts != 1 || got.Email != u.Email || !bytes.Equal(got.CodeHash, first.CodeHash) ||
		!got.ExpiresAt.Equal(first.ExpiresAt) || got.UsedAt != nil {
		t.Fatalf("attempt: %+v %v", got, err)
	}
	// A new one replaces it: the old code and link are dead, and attempts start again.
	putSignIn(t, s, u, "22222222", "link-2", t0.Add(time.Minute))
	if _, err := spendCode("11111111", t0.Add(2*time.Minute)); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("replaced code spent: %v", err)
	}
	if _, err := spendLink("link-1", t0.Add(2*time.Minute), 5); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("replaced link spent: %v", err)
	}
	if got, err := take(t0.Add(2*time.Minute), 5); err != nil || got.Attempts != 1 {
		t.Fatalf("attempts after the replacement: %+v %v", got, err)
	}
	// Expired: neither tried nor spent.
	expiry := t0.Add(11 * time.Minute)
	if _, err := take(expiry, 5); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("attempt after expiry: %v", err)
	}
	if _, err := spendCode("22222222", expiry); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("code spent after expiry: %v", err)
	}
	// Spent once: by code, then neither code nor link again.
	at := t0.Add(3 * time.Minute)
	if got, err := spendCode("22222222", at); err != nil || got.UsedAt == nil || !got.UsedAt.Equal(at) || got.UserID != u.ID {
		t.Fatalf("spend: %+v %v", got, err)
	}
	if _, err := spendCode("22222222", at); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("code spent twice: %v", err)
	}
	if _, err := spendLink("link-2", at, 5); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("link spent after the code: %v", err)
	}
	if _, err := take(at, 5); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("attempt after the spend: %v", err)
	}
	// By link; and a link whose code was tried the maximum is dead.
	putSignIn(t, s, u, "33333333", "link-3", at)
	// Reading by link (the link page names the account) spends nothing.
	if got, err := s.EmailSignInByLink(ctx, gatehouse.HashToken("link-3")); err != nil || got.Email != u.Email || got.UsedAt != nil {
		t.Fatalf("sign-in by link: %+v %v", got, err)
	}
	if got, err := spendLink("link-3", at, 5); err != nil || got.UserID != u.ID || got.UsedAt == nil {
		t.Fatalf("link spend: %+v %v", got, err)
	}
	if got, err := s.EmailSignInByLink(ctx, gatehouse.HashToken("link-3")); err != nil || got.UsedAt == nil {
		t.Fatalf("sign-in by link after the spend: %+v %v", got, err)
	}
	if _, err := s.EmailSignInByLink(ctx, gatehouse.HashToken("no-such-link")); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("unknown link: %v", err)
	}
	putSignIn(t, s, u, "44444444", "link-4", at)
	for i := range 2 {
		if got, err := take(at, 2); err != nil || got.Attempts != i+1 {
			t.Fatalf("attempt %d: %+v %v", i+1, got, err)
		}
	}
	if _, err := take(at, 2); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("attempt past the maximum: %v", err)
	}
	if _, err := spendLink("link-4", at, 2); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("link spent after the maximum of attempts: %v", err)
	}
	// The code of the last allowed attempt can still be spent (it was that attempt).
	if _, err := spendCode("44444444", at); err != nil {
		t.Fatalf("code of the last attempt: %v", err)
	}
	// Purged once expired long enough.
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.PurgeEmail(ctx, at.Add(time.Hour)) })
	putSignIn(t, s, u, "55555555", "link-5", at.Add(2*time.Hour))
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.PurgeEmail(ctx, at.Add(time.Hour)) })
	if _, err := take(at.Add(2*time.Hour), 5); err != nil {
		t.Fatalf("a live sign-in was purged: %v", err)
	}
}

// Concurrent attempts never exceed the maximum, and concurrent spends of one code succeed once.
func testEmailSignInsConcurrent(t *testing.T, s gatehouse.Store) {
	ctx := context.Background()
	u := createUser(t, s, "signin-race@example.com")
	putSignIn(t, s, u, "12345678", "link", t0)
	at := t0.Add(time.Second)
	count := func(fn func(tx gatehouse.StoreTx) error) int {
		return raceWins(t, 12, func() error { return s.Tx(ctx, fn) })
	}
	if n := count(func(tx gatehouse.StoreTx) error {
		_, err := tx.TakeEmailSignInAttempt(ctx, u.ID, at, 5)
		return err
	}); n != 5 {
		t.Fatalf("%d attempts counted, want 5", n)
	}
	putSignIn(t, s, u, "12345678", "link", t0)
	if n := count(func(tx gatehouse.StoreTx) error {
		_, err := tx.SpendEmailSignInCode(ctx, u.ID, gatehouse.HashToken("12345678"), at)
		return err
	}); n != 1 {
		t.Fatalf("%d spends, want 1", n)
	}
}
