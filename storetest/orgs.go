package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

func createOrg(t *testing.T, s gatehouse.Store, slug string, owner *gatehouse.User) *gatehouse.Org {
	t.Helper()
	ctx := context.Background()
	o := &gatehouse.Org{ID: gatehouse.NewID(), Name: "Org " + slug, Slug: slug, CreatedAt: t0, UpdatedAt: t0}
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		if err := tx.CreateOrg(ctx, o); err != nil {
			return err
		}
		return tx.AddMember(ctx, &gatehouse.Membership{OrgID: o.ID, UserID: owner.ID, Role: gatehouse.OrgRoleOwner, CreatedAt: t0, UpdatedAt: t0})
	})
	return o
}

// testOrgs: organizations, memberships and custom roles round-trip; slugs, memberships and role
// names are unique; sessions carry and lose their organization.
func testOrgs(t *testing.T, s gatehouse.Store) {
	ctx := context.Background()
	alice := createUser(t, s, "alice-org@example.com")
	bob := createUser(t, s, "bob-org@example.com")
	o := createOrg(t, s, "acme", alice)
	got, err := s.OrgByID(ctx, o.ID)
	if err != nil || got.Slug != "acme" || got.Name != "Org acme" || !got.CreatedAt.Equal(t0) {
		t.Fatalf("OrgByID: %+v %v", got, err)
	}
	err = s.Tx(ctx, func(tx gatehouse.StoreTx) error {
		return tx.CreateOrg(ctx, &gatehouse.Org{ID: gatehouse.NewID(), Name: "x", Slug: "acme", CreatedAt: t0, UpdatedAt: t0})
	})
	if !errors.Is(err, gatehouse.ErrOrgSlugTaken) {
		t.Fatalf("duplicate slug: %v", err)
	}
	err = s.Tx(ctx, func(tx gatehouse.StoreTx) error {
		return tx.AddMember(ctx, &gatehouse.Membership{OrgID: o.ID, UserID: alice.ID, Role: "member", CreatedAt: t0, UpdatedAt: t0})
	})
	if !errors.Is(err, gatehouse.ErrAlreadyMember) {
		t.Fatalf("duplicate membership: %v", err)
	}
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		if err := tx.AddMember(ctx, &gatehouse.Membership{OrgID: o.ID, UserID: bob.ID, Role: "member", CreatedAt: t0, UpdatedAt: t0}); err != nil {
			return err
		}
		return tx.CreateOrgRole(ctx, &gatehouse.OrgRole{OrgID: o.ID, Name: "viewer", Permissions: []string{"org:read"}, CreatedAt: t0, UpdatedAt: t0})
	})
	err = s.Tx(ctx, func(tx gatehouse.StoreTx) error {
		return tx.CreateOrgRole(ctx, &gatehouse.OrgRole{OrgID: o.ID, Name: "viewer", CreatedAt: t0, UpdatedAt: t0})
	})
	if !errors.Is(err, gatehouse.ErrOrgRoleExists) {
		t.Fatalf("duplicate role: %v", err)
	}
	if r, err := s.OrgRoleByName(ctx, o.ID, "viewer"); err != nil || len(r.Permissions) != 1 || r.Permissions[0] != "org:read" {
		t.Fatalf("role: %+v %v", r, err)
	}
	members, err := s.ListMembers(ctx, o.ID)
	if err != nil || len(members) != 2 || members[0].Email != alice.Email {
		t.Fatalf("members: %+v %v", members, err)
	}
	// The admins' list: newest first (ids are time-ordered, and break the tie of equal
	// creation times), with member counts, bounded by limit.
	newer := createOrg(t, s, "acme-newer", createUser(t, s, "carol-org@example.com"))
	all, err := s.ListAllOrgs(ctx, 10)
	if err != nil || len(all) != 2 || all[0].Org.ID != newer.ID || all[0].Members != 1 || all[1].Org.ID != o.ID || all[1].Members != 2 {
		t.Fatalf("ListAllOrgs: %+v %v", all, err)
	}
	if one, err := s.ListAllOrgs(ctx, 1); err != nil || len(one) != 1 || one[0].Org.ID != newer.ID {
		t.Fatalf("ListAllOrgs(1): %+v %v", one, err)
	}
	orgs, err := s.ListOrgsOf(ctx, bob.ID)
	if err != nil || len(orgs) != 1 || orgs[0].Org.ID != o.ID || orgs[0].Role != "member" {
		t.Fatalf("bob's orgs: %+v %v", orgs, err)
	}
	var owners int
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		if _, err := tx.LockOrg(ctx, o.ID); err != nil {
			return err
		}
		var err error
		owners, err = tx.CountMembersWithRole(ctx, o.ID, gatehouse.OrgRoleOwner)
		return err
	})
	if owners != 1 {
		t.Fatalf("owners: %d", owners)
	}

	// Sessions: set, rewrite the role, clear.
	sess := createSession(t, s, bob, t0)
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.SetSessionOrg(ctx, sess.ID, o.ID, "member") })
	if got, _ := s.SessionByID(ctx, sess.ID); got.OrgID != o.ID || got.OrgRole != "member" {
		t.Fatalf("session org: %+v", got)
	}
	var ids []string
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		var err error
		ids, err = tx.SetMemberSessionsOrgRole(ctx, o.ID, bob.ID, "admin")
		return err
	})
	if got, _ := s.SessionByID(ctx, sess.ID); len(ids) != 1 || got.OrgID != o.ID || got.OrgRole != "admin" {
		t.Fatalf("role rewrite: %v %+v", ids, got)
	}
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		var err error
		ids, err = tx.SetMemberSessionsOrgRole(ctx, o.ID, bob.ID, "")
		return err
	})
	if got, _ := s.SessionByID(ctx, sess.ID); len(ids) != 1 || got.OrgID != "" || got.OrgRole != "" {
		t.Fatalf("clear: %v %+v", ids, got)
	}
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.RemoveMember(ctx, o.ID, bob.ID) })
	if _, err := s.MembershipOf(ctx, o.ID, bob.ID); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("removed member: %v", err)
	}
}

// testOrgInvitations: one pending invitation per address, accepted once even by concurrent
// transactions, and an expired one can be retired.
func testOrgInvitations(t *testing.T, s gatehouse.Store) {
	ctx := context.Background()
	alice := createUser(t, s, "alice-inv@example.com")
	o := createOrg(t, s, "invites", alice)
	inv := &gatehouse.Invitation{ID: gatehouse.NewID(), OrgID: o.ID, Email: "x@example.com", Role: "member",
		TokenHash: gatehouse.HashToken("t1"), CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.CreateInvitation(ctx, inv) })
	err := s.Tx(ctx, func(tx gatehouse.StoreTx) error {
		return tx.CreateInvitation(ctx, &gatehouse.Invitation{ID: gatehouse.NewID(), OrgID: o.ID, Email: "x@example.com", Role: "member",
			TokenHash: gatehouse.HashToken("t2"), CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)})
	})
	if !errors.Is(err, gatehouse.ErrInvitationPending) {
		t.Fatalf("second pending invitation: %v", err)
	}
	if got, err := s.InvitationByHash(ctx, gatehouse.HashToken("t1")); err != nil || got.ID != inv.ID || !got.Pending(t0) {
		t.Fatalf("by hash: %+v %v", got, err)
	}
	accepted := raceCount(t, 8, func() (bool, error) {
		err := s.Tx(ctx, func(tx gatehouse.StoreTx) error { return tx.AcceptInvitation(ctx, inv.ID, alice.ID, t0) })
		if errors.Is(err, gatehouse.ErrNotFound) { // lost the race: nothing written
			return false, nil
		}
		return err == nil, err
	})
	if accepted != 1 {
		t.Fatalf("%d concurrent accepts succeeded, want 1", accepted)
	}
	if err := s.Tx(ctx, func(tx gatehouse.StoreTx) error { return tx.RevokeInvitation(ctx, inv.ID, t0) }); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("revoking an accepted invitation: %v", err)
	}
	// Expired: not listed, refused, and retired so the address can be invited again.
	old := &gatehouse.Invitation{ID: gatehouse.NewID(), OrgID: o.ID, Email: "y@example.com", Role: "member",
		TokenHash: gatehouse.HashToken("t3"), CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.CreateInvitation(ctx, old) })
	later := t0.Add(time.Hour)
	if list, err := s.ListPendingInvitations(ctx, o.ID, later); err != nil || len(list) != 0 {
		t.Fatalf("pending after expiry: %v %v", list, err)
	}
	if err := s.Tx(ctx, func(tx gatehouse.StoreTx) error { return tx.AcceptInvitation(ctx, old.ID, alice.ID, later) }); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("accepting an expired invitation: %v", err)
	}
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		if err := tx.RetireExpiredInvitations(ctx, o.ID, "y@example.com", later); err != nil {
			return err
		}
		return tx.CreateInvitation(ctx, &gatehouse.Invitation{ID: gatehouse.NewID(), OrgID: o.ID, Email: "y@example.com", Role: "member",
			TokenHash: gatehouse.HashToken("t4"), CreatedAt: later, ExpiresAt: later.Add(time.Hour)})
	})
}

// testOrgCreditsAndDeletion: concurrent uses never overdraw an organization's credits; deleting
// an organization removes its rows, deletes its keys and clears its sessions.
func testOrgCreditsAndDeletion(t *testing.T, s gatehouse.Store) {
	ctx := context.Background()
	alice := createUser(t, s, "alice-credits@example.com")
	o := createOrg(t, s, "credits", alice)
	if _, err := s.OrgCreditAccountOf(ctx, o.ID); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("no account yet: %v", err)
	}
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		for range 2 {
			if err := tx.EnsureOrgCreditAccount(ctx, &gatehouse.OrgCreditAccount{OrgID: o.ID, Plan: "free", PeriodStart: t0, PeriodEnd: t0.Add(time.Hour), UpdatedAt: t0}); err != nil {
				return err
			}
		}
		return tx.GrantOrgCredits(ctx, o.ID, 5, t0)
	})
	ok := raceCount(t, 12, func() (used bool, err error) {
		err = s.Tx(ctx, func(tx gatehouse.StoreTx) (err error) {
			used, err = tx.UseOrgCredits(ctx, o.ID, 1, t0)
			return err
		})
		return used && err == nil, err
	})
	if a, err := s.OrgCreditAccountOf(ctx, o.ID); err != nil || ok != 5 || a.Used != 5 || a.Total != 5 {
		t.Fatalf("after 12 concurrent uses of 5 credits: ok=%d %+v %v", ok, a, err)
	}

	key := &gatehouse.APIKey{ID: gatehouse.NewID(), UserID: alice.ID, OrgID: o.ID, Name: "org", Prefix: "ak_orgkey1",
		Hash: gatehouse.HashToken("org key"), Scopes: []string{"credits:read"}, CreatedAt: t0}
	mine := &gatehouse.APIKey{ID: gatehouse.NewID(), UserID: alice.ID, Name: "mine", Prefix: "ak_mykey01",
		Hash: gatehouse.HashToken("my key"), Scopes: []string{"profile:read"}, CreatedAt: t0}
	sess := createSession(t, s, alice, t0)
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		if err := tx.CreateAPIKey(ctx, key); err != nil {
			return err
		}
		if err := tx.CreateAPIKey(ctx, mine); err != nil {
			return err
		}
		if err := tx.AddOrgCreditEntry(ctx, &gatehouse.OrgCreditEntry{ID: gatehouse.NewID(), OrgID: o.ID, Amount: 5, Kind: "grant", CreatedAt: t0}); err != nil {
			return err
		}
		if err := tx.CreateOrgRole(ctx, &gatehouse.OrgRole{OrgID: o.ID, Name: "r", CreatedAt: t0, UpdatedAt: t0}); err != nil {
			return err
		}
		e := &gatehouse.AuditEvent{ID: gatehouse.NewID(), At: t0, Type: "org.created", UserID: alice.ID, Outcome: "success", OrgID: o.ID}
		if err := tx.AppendAuditEvent(ctx, e); err != nil {
			return err
		}
		return tx.SetSessionOrg(ctx, sess.ID, o.ID, "owner")
	})
	// The user's own listing and mass revocation leave the organization's key alone.
	if keys, err := s.ListAPIKeys(ctx, alice.ID); err != nil || len(keys) != 1 || keys[0].ID != mine.ID {
		t.Fatalf("user's keys: %+v %v", keys, err)
	}
	if keys, err := s.ListOrgAPIKeys(ctx, o.ID); err != nil || len(keys) != 1 || keys[0].ID != key.ID || keys[0].OrgID != o.ID {
		t.Fatalf("organization's keys: %+v %v", keys, err)
	}
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		n, err := tx.RevokeUserAPIKeys(ctx, alice.ID, t0)
		if err == nil && n != 1 {
			t.Errorf("RevokeUserAPIKeys revoked %d keys, want 1", n)
		}
		return err
	})
	if k, err := s.APIKeyByID(ctx, key.ID); err != nil || k.RevokedAt != nil {
		t.Fatalf("the organization's key after revoking the user's: %+v %v", k, err)
	}
	if events, err := s.ListAuditEvents(ctx, gatehouse.AuditFilter{OrgID: o.ID, Limit: 10}); err != nil || len(events) != 1 || events[0].OrgID != o.ID {
		t.Fatalf("audit by organization: %+v %v", events, err)
	}

	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		if _, err := tx.DeleteOrgAPIKeys(ctx, o.ID, t0); err != nil {
			return err
		}
		if ids, err := tx.ClearOrgSessions(ctx, o.ID); err != nil || len(ids) != 1 {
			t.Errorf("cleared sessions: %v", ids)
			return err
		}
		return tx.DeleteOrg(ctx, o.ID)
	})
	if _, err := s.OrgByID(ctx, o.ID); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("deleted org: %v", err)
	}
	if _, err := s.APIKeyByID(ctx, key.ID); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("deleted org's key: %v", err)
	}
	if got, _ := s.SessionByID(ctx, sess.ID); got.OrgID != "" {
		t.Fatalf("session still in the deleted org: %+v", got)
	}
	if _, err := s.OrgCreditAccountOf(ctx, o.ID); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("deleted org's credits: %v", err)
	}
	if _, err := s.MembershipOf(ctx, o.ID, alice.ID); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("deleted org's members: %v", err)
	}
}
