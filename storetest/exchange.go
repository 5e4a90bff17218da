package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// Token exchange and delegation (migration 0009): a delegation is a grant of its own kind beside
// an authorization for the same user, client and resource; exchanged sessions keep their parent,
// their subject key and their actor chain, and are revoked with the key.
func testExchange(t *testing.T, s gatehouse.Store) {
	ctx := context.Background()
	alice := createUser(t, s, "alice@example.com")
	const res = "https://r.example"
	auth := &gatehouse.Grant{ID: "auth-1", UserID: alice.ID, ClientID: "agent", ClientName: "Agent", Resource: res,
		Scopes: []string{"a"}, CreatedAt: t0, UpdatedAt: t0}
	del := &gatehouse.Grant{ID: "del-1", Kind: gatehouse.GrantDelegation, UserID: alice.ID, ClientID: "agent", ClientName: "Agent",
		Resource: res, Scopes: []string{"b"}, CreatedAt: t0, UpdatedAt: t0}
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		if err := tx.SaveGrant(ctx, auth); err != nil {
			return err
		}
		return tx.SaveGrant(ctx, del)
	})
	if _, err := s.DelegationFor(ctx, alice.ID, "agent", "https://other.example"); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("delegation for another resource: %v", err)
	}
	// Saving the delegation again updates it, not the authorization.
	again := *del
	again.ID, again.Scopes, again.UpdatedAt = "ignored", []string{"b", "c"}, t0.Add(time.Minute)
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.SaveGrant(ctx, &again) })
	d, err := s.DelegationFor(ctx, alice.ID, "agent", res)
	if err != nil || d.ID != "del-1" || d.Kind != gatehouse.GrantDelegation || !slices.Equal(d.Scopes, []string{"b", "c"}) {
		t.Fatalf("delegation: %+v, %v", d, err)
	}
	g, err := s.GrantFor(ctx, alice.ID, "agent", res, "")
	if err != nil || g.ID != "auth-1" || g.Kind != gatehouse.GrantAuthorization || !slices.Equal(g.Scopes, []string{"a"}) {
		t.Fatalf("authorization: %+v, %v", g, err)
	}
	if list, err := s.ListGrants(ctx, gatehouse.GrantFilter{UserID: alice.ID}); err != nil || len(list) != 2 {
		t.Fatalf("both kinds are listed: %+v, %v", list, err)
	}

	// Exchanged sessions: one from a key, one from a first-party session, delegated.
	first := createSession(t, s, alice, t0)
	act := &gatehouse.Actor{Subject: "agent", Act: &gatehouse.Actor{Subject: "other"}}
	fromKey := &gatehouse.Session{ID: "x-key", UserID: alice.ID, CreatedAt: t0, LastUsedAt: t0, ExpiresAt: t0.Add(5 * time.Minute),
		ClientID: "svc", Resource: res, Scope: "a", SubjectKeyID: "key-1"}
	fromSession := &gatehouse.Session{ID: "x-sess", UserID: alice.ID, CreatedAt: t0, LastUsedAt: t0, ExpiresAt: t0.Add(5 * time.Minute),
		ClientID: "agent", GrantID: "del-1", Resource: res, Scope: "b", ParentID: first.ID, Act: act}
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		if err := tx.CreateSession(ctx, fromKey); err != nil {
			return err
		}
		return tx.CreateSession(ctx, fromSession)
	})
	got, err := s.SessionByID(ctx, "x-sess")
	if err != nil || got.ParentID != first.ID || got.SubjectKeyID != "" || got.Act == nil || got.Act.Subject != "agent" ||
		got.Act.Act == nil || got.Act.Act.Subject != "other" || got.Act.Act.Act != nil {
		t.Fatalf("exchanged session: %+v (act %+v), %v", got, got.Act, err)
	}
	got, err = s.SessionByID(ctx, "x-key")
	if err != nil || got.SubjectKeyID != "key-1" || got.ParentID != "" || got.Act != nil {
		t.Fatalf("key-exchanged session: %+v, %v", got, err)
	}
	if got, _ := s.SessionByID(ctx, first.ID); got.Act != nil || got.ParentID != "" || got.SubjectKeyID != "" {
		t.Fatalf("a first-party session: %+v", got)
	}

	var revoked []string
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		var err error
		revoked, err = tx.RevokeKeySessions(ctx, "key-1", t0)
		return err
	})
	if !slices.Equal(revoked, []string{"x-key"}) {
		t.Fatalf("revoked with the key: %v", revoked)
	}
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		var err error
		if revoked, err = tx.RevokeKeySessions(ctx, "key-1", t0); err == nil && len(revoked) != 0 {
			t.Fatalf("revoked twice: %v", revoked)
		}
		if none, err := tx.RevokeKeySessions(ctx, "", t0); err != nil || len(none) != 0 {
			t.Fatalf("an empty key ID selected %v, %v", none, err)
		}
		return err
	})
	if got, _ := s.SessionByID(ctx, "x-sess"); got.RevokedAt != nil {
		t.Fatal("a session not exchanged from the key was revoked with it")
	}
	// Withdrawing the delegation revokes its sessions through the grant.
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		if err := tx.DeleteGrant(ctx, "del-1"); err != nil {
			return err
		}
		var err error
		revoked, err = tx.RevokeSessionsWhere(ctx, gatehouse.GrantFilter{GrantID: "del-1"}, t0)
		return err
	})
	if !slices.Equal(revoked, []string{"x-sess"}) {
		t.Fatalf("revoked with the delegation: %v", revoked)
	}
	if _, err := s.GrantFor(ctx, alice.ID, "agent", res, ""); err != nil {
		t.Fatalf("the authorization went with the delegation: %v", err)
	}
}
