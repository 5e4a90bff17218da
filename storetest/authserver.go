package storetest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

func testOAuthClientsAndResources(t *testing.T, s gatehouse.Store) {
	ctx := context.Background()
	reuse := 3 * time.Second
	c := &gatehouse.OAuthClient{ID: "client-1", Kind: gatehouse.ClientRegistered, Name: "CLI", SecretHash: []byte("hash"),
		RedirectURIs: []string{"http://127.0.0.1/cb", "cursor://cb"}, GrantTypes: []string{"authorization_code", "refresh_token"},
		AuthMethod: gatehouse.AuthMethodBasic, ClientURI: "https://cli.example", RefreshReuse: &reuse, CreatedBy: "operator", CreatedAt: t0}
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.CreateOAuthClient(ctx, c) })
	got, err := s.OAuthClientByID(ctx, "client-1")
	if err != nil || got.Name != "CLI" || !slices.Equal(got.RedirectURIs, c.RedirectURIs) || !slices.Equal(got.GrantTypes, c.GrantTypes) ||
		string(got.SecretHash) != "hash" || got.RefreshReuse == nil || *got.RefreshReuse != reuse || !got.CreatedAt.Equal(t0) || got.RevokedAt != nil {
		t.Fatalf("client: %+v, %v", got, err)
	}
	if _, err := s.OAuthClientByID(ctx, "nope"); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("missing client: %v", err)
	}
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.RevokeOAuthClient(ctx, "client-1", t0.Add(time.Hour)) })
	if got, _ := s.OAuthClientByID(ctx, "client-1"); got.RevokedAt == nil || !got.RevokedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("revoked client: %+v", got)
	}
	err = s.Tx(ctx, func(tx gatehouse.StoreTx) error { return tx.RevokeOAuthClient(ctx, "client-1", t0) })
	if !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("revoking twice: %v", err)
	}
	if list, err := s.ListOAuthClients(ctx); err != nil || len(list) != 1 {
		t.Fatalf("clients: %+v, %v", list, err)
	}

	r := &gatehouse.Resource{URI: "https://mcp.example/mcp", Name: "MCP", Scopes: []gatehouse.ScopeInfo{{Name: "mcp:tools", Description: "Tools"}}, CreatedAt: t0}
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.CreateResource(ctx, r) })
	err = s.Tx(ctx, func(tx gatehouse.StoreTx) error { return tx.CreateResource(ctx, r) })
	if !errors.Is(err, gatehouse.ErrResourceExists) {
		t.Fatalf("duplicate resource: %v", err)
	}
	gotR, err := s.ResourceByURI(ctx, r.URI)
	if err != nil || gotR.Name != "MCP" || len(gotR.Scopes) != 1 || gotR.Scopes[0] != r.Scopes[0] {
		t.Fatalf("resource: %+v, %v", gotR, err)
	}
	if _, err := s.ResourceByURI(ctx, "https://mcp.example/MCP"); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("resource URIs compare exactly: %v", err)
	}
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.DeleteResource(ctx, r.URI) })
	if list, err := s.ListResources(ctx); err != nil || list == nil || len(list) != 0 {
		t.Fatalf("resources after delete: %#v, %v", list, err)
	}
	if err := s.Tx(ctx, func(tx gatehouse.StoreTx) error { return tx.DeleteResource(ctx, r.URI) }); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("deleting twice: %v", err)
	}
}

func testOAuthGrantsAndCodes(t *testing.T, s gatehouse.Store) {
	ctx := context.Background()
	alice := createUser(t, s, "alice@example.com")
	g := &gatehouse.Grant{ID: "grant-1", UserID: alice.ID, ClientID: "c1", ClientName: "App", Resource: "https://r.example",
		Scopes: []string{"a", "b"}, CreatedAt: t0, UpdatedAt: t0}
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.SaveGrant(ctx, g) })
	// Saving again under the same key widens the scope of the same grant.
	g2 := *g
	g2.ID, g2.Scopes, g2.UpdatedAt = "ignored", []string{"a", "b", "c"}, t0.Add(time.Minute)
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.SaveGrant(ctx, &g2) })
	got, err := s.GrantFor(ctx, alice.ID, "c1", "https://r.example", "")
	if err != nil || got.ID != "grant-1" || !slices.Equal(got.Scopes, []string{"a", "b", "c"}) || !got.UpdatedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("grant: %+v, %v", got, err)
	}
	if list, err := s.ListGrants(ctx, gatehouse.GrantFilter{UserID: alice.ID}); err != nil || len(list) != 1 {
		t.Fatalf("grants: %+v, %v", list, err)
	}
	if list, err := s.ListGrants(ctx, gatehouse.GrantFilter{}); err != nil || len(list) != 0 {
		t.Fatalf("an empty filter matches nothing: %+v, %v", list, err)
	}

	// Sessions of the grant are revoked by grant; first-party sessions never are.
	first := createSession(t, s, alice, t0)
	oauth := &gatehouse.Session{ID: "oauth-sess", UserID: alice.ID, CreatedAt: t0, LastUsedAt: t0, ExpiresAt: t0.Add(time.Hour),
		ClientID: "c1", GrantID: "grant-1", Resource: "https://r.example", Scope: "a b", AuthTime: t0.Add(-time.Minute)}
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.CreateSession(ctx, oauth) })
	gotS, err := s.SessionByID(ctx, "oauth-sess")
	if err != nil || gotS.ClientID != "c1" || gotS.GrantID != "grant-1" || gotS.Scope != "a b" || !gotS.AuthTime.Equal(t0.Add(-time.Minute)) {
		t.Fatalf("OAuth session: %+v, %v", gotS, err)
	}
	if list, _ := s.ListActiveSessions(ctx, alice.ID, t0); len(list) != 1 || list[0].ID != first.ID {
		t.Fatalf("first-party session list shows OAuth sessions: %+v", list)
	}
	var revoked []string
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		var err error
		revoked, err = tx.RevokeSessionsWhere(ctx, gatehouse.GrantFilter{GrantID: "grant-1"}, t0)
		return err
	})
	if !slices.Equal(revoked, []string{"oauth-sess"}) {
		t.Fatalf("revoked %v", revoked)
	}
	if got, _ := s.SessionByID(ctx, first.ID); got.RevokedAt != nil {
		t.Fatal("a first-party session was revoked with a grant")
	}

	code := &gatehouse.AuthCode{Hash: []byte("code-hash"), GrantID: "grant-1", ClientID: "c1", UserID: alice.ID, RedirectURI: "http://127.0.0.1/cb",
		Challenge: "ch", Resource: "https://r.example", Scope: "a", Nonce: "n", AuthTime: t0, CreatedAt: t0, ExpiresAt: t0.Add(time.Minute),
		AMR: []string{"pwd", "otp", "mfa"}}
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.CreateAuthCode(ctx, code) })
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		c, err := tx.LockAuthCode(ctx, []byte("code-hash"))
		if err != nil || c.UsedAt != nil || c.Nonce != "n" || !c.ExpiresAt.Equal(t0.Add(time.Minute)) || strings.Join(c.AMR, " ") != "pwd otp mfa" {
			t.Fatalf("code: %+v, %v", c, err)
		}
		return tx.UseAuthCode(ctx, c.Hash, t0, "oauth-sess")
	})
	err = s.Tx(ctx, func(tx gatehouse.StoreTx) error { return tx.UseAuthCode(ctx, []byte("code-hash"), t0, "other") })
	if !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("a code is used once: %v", err)
	}
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		c, err := tx.LockAuthCode(ctx, []byte("code-hash"))
		if err != nil || c.UsedAt == nil || c.SessionID != "oauth-sess" {
			t.Fatalf("used code: %+v, %v", c, err)
		}
		n, err := tx.DeleteExpiredAuthCodes(ctx, t0.Add(2*time.Minute))
		if n != 1 {
			t.Fatalf("deleted %d expired codes", n)
		}
		return err
	})

	var deleted []string
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		var err error
		deleted, err = tx.DeleteGrants(ctx, gatehouse.GrantFilter{ClientID: "c1"})
		return err
	})
	if !slices.Equal(deleted, []string{"grant-1"}) {
		t.Fatalf("deleted grants %v", deleted)
	}
	if _, err := s.GrantByID(ctx, "grant-1"); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("deleted grant: %v", err)
	}

	// A grant for an organization is a grant of its own: saving it neither widens nor replaces
	// the personal one, and each is found only under its organization.
	personal := &gatehouse.Grant{ID: "grant-p", UserID: alice.ID, ClientID: "c2", ClientName: "App", Resource: "https://r.example",
		Scopes: []string{"a"}, CreatedAt: t0, UpdatedAt: t0}
	inOrg := *personal
	inOrg.ID, inOrg.OrgID, inOrg.Scopes = "grant-o", "org-1", []string{"a", "b"}
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		if err := tx.SaveGrant(ctx, personal); err != nil {
			return err
		}
		return tx.SaveGrant(ctx, &inOrg)
	})
	if got, err := s.GrantFor(ctx, alice.ID, "c2", "https://r.example", ""); err != nil || got.ID != "grant-p" || got.OrgID != "" || !slices.Equal(got.Scopes, []string{"a"}) {
		t.Fatalf("personal grant: %+v, %v", got, err)
	}
	if got, err := s.GrantFor(ctx, alice.ID, "c2", "https://r.example", "org-1"); err != nil || got.ID != "grant-o" || got.OrgID != "org-1" || !slices.Equal(got.Scopes, []string{"a", "b"}) {
		t.Fatalf("organization grant: %+v, %v", got, err)
	}
	if got, err := s.GrantByID(ctx, "grant-o"); err != nil || got.OrgID != "org-1" {
		t.Fatalf("organization grant by id: %+v, %v", got, err)
	}
	if _, err := s.GrantFor(ctx, alice.ID, "c2", "https://r.example", "org-2"); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("a grant for another organization: %v", err)
	}
}
