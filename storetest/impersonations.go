package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// testImpersonations: RevokeImpersonations ends the impersonation sessions one admin opened (a
// first-party session whose actor is the admin), and nothing else: not the user's own sessions,
// not another admin's impersonations, not an app's delegated session naming the same actor.
func testImpersonations(t *testing.T, s gatehouse.Store) {
	ctx := context.Background()
	u := createUser(t, s, "imp-user@example.com")
	own := createSession(t, s, u, t0)
	session := func(clientID, actor string) *gatehouse.Session {
		sess := &gatehouse.Session{ID: gatehouse.NewID(), UserID: u.ID, CreatedAt: t0, LastUsedAt: t0,
			ExpiresAt: t0.Add(time.Hour), ClientID: clientID, Act: &gatehouse.Actor{Subject: actor}}
		mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.CreateSession(ctx, sess) })
		return sess
	}
	byA := session("", "admin-a")
	byA2 := session("", "admin-a")
	byB := session("", "admin-b")
	app := session("client-1", "admin-a")
	var revoked []string
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		var err error
		revoked, err = tx.RevokeImpersonations(ctx, "admin-a", t0.Add(time.Minute))
		return err
	})
	if len(revoked) != 2 || !(revoked[0] == byA.ID && revoked[1] == byA2.ID || revoked[0] == byA2.ID && revoked[1] == byA.ID) {
		t.Fatalf("revoked %v, want %s and %s", revoked, byA.ID, byA2.ID)
	}
	for _, sess := range []*gatehouse.Session{byA, byA2} {
		if got, err := s.SessionByID(ctx, sess.ID); err != nil || got.RevokedAt == nil {
			t.Fatalf("impersonation session %s after revocation: %+v %v", sess.ID, got, err)
		}
	}
	for _, sess := range []*gatehouse.Session{own, byB, app} {
		if got, err := s.SessionByID(ctx, sess.ID); err != nil || got.RevokedAt != nil {
			t.Fatalf("session %s was revoked with admin-a's impersonations: %+v %v", sess.ID, got, err)
		}
	}
	// Nothing left to revoke.
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		var err error
		revoked, err = tx.RevokeImpersonations(ctx, "admin-a", t0.Add(2*time.Minute))
		return err
	})
	if len(revoked) != 0 {
		t.Fatalf("revoked again: %v", revoked)
	}
}
