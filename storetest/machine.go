package storetest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// testMachineClient: a client's keys and client_credentials scopes survive the round trip.
func testMachineClient(t *testing.T, s gatehouse.Store) {
	ctx := context.Background()
	jwks := `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`
	c := &gatehouse.OAuthClient{ID: "svc-1", Kind: gatehouse.ClientRegistered, Name: "Service", RedirectURIs: []string{},
		GrantTypes: []string{"client_credentials"}, AuthMethod: gatehouse.AuthMethodJWT, JWKS: []byte(jwks),
		Scopes: []string{"a", "b"}, CreatedBy: "operator", CreatedAt: t0}
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.CreateOAuthClient(ctx, c) })
	got, err := s.OAuthClientByID(ctx, "svc-1")
	if err != nil || string(got.JWKS) != jwks || got.JWKSURI != "" || !slices.Equal(got.Scopes, []string{"a", "b"}) ||
		got.AuthMethod != gatehouse.AuthMethodJWT || len(got.RedirectURIs) != 0 {
		t.Fatalf("client with keys: %+v, %v", got, err)
	}
	c2 := &gatehouse.OAuthClient{ID: "svc-2", Kind: gatehouse.ClientRegistered, Name: "Service 2", RedirectURIs: []string{},
		GrantTypes: []string{"client_credentials"}, AuthMethod: gatehouse.AuthMethodJWT, JWKSURI: "https://svc.example/jwks.json", CreatedAt: t0}
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.CreateOAuthClient(ctx, c2) })
	got, err = s.OAuthClientByID(ctx, "svc-2")
	if err != nil || got.JWKS != nil || got.JWKSURI != c2.JWKSURI || len(got.Scopes) != 0 {
		t.Fatalf("client with a jwks_uri: %+v, %v", got, err)
	}
}

// testMachineSessions: a client_credentials token's session round-trips, is revoked once, and is
// swept after it expires.
func testMachineSessions(t *testing.T, s gatehouse.Store) {
	ctx := context.Background()
	m := &gatehouse.MachineSession{ID: "m-1", ClientID: "svc", Resource: "https://r.example", Scope: "a b", IP: "192.0.2.1",
		UserAgent: "agent", CreatedAt: t0, ExpiresAt: t0.Add(15 * time.Minute)}
	old := &gatehouse.MachineSession{ID: "m-0", ClientID: "svc", Resource: "https://r.example", Scope: "a", CreatedAt: t0.Add(-time.Hour), ExpiresAt: t0.Add(-time.Minute)}
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		if err := tx.CreateMachineSession(ctx, m); err != nil {
			return err
		}
		return tx.CreateMachineSession(ctx, old)
	})
	got, err := s.MachineSessionByID(ctx, "m-1")
	if err != nil || got.ClientID != "svc" || got.Resource != m.Resource || got.Scope != "a b" || got.IP != "192.0.2.1" || got.UserAgent != "agent" ||
		!got.CreatedAt.Equal(t0) || !got.ExpiresAt.Equal(m.ExpiresAt) || got.RevokedAt != nil || !got.Active(t0) || got.Active(m.ExpiresAt) {
		t.Fatalf("machine session: %+v, %v", got, err)
	}
	if _, err := s.MachineSessionByID(ctx, "nope"); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("missing machine session: %v", err)
	}
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.RevokeMachineSession(ctx, "m-1", t0.Add(time.Minute)) })
	if got, _ := s.MachineSessionByID(ctx, "m-1"); got.RevokedAt == nil || !got.RevokedAt.Equal(t0.Add(time.Minute)) || got.Active(t0.Add(2*time.Minute)) {
		t.Fatalf("revoked machine session: %+v", got)
	}
	if err := s.Tx(ctx, func(tx gatehouse.StoreTx) error { return tx.RevokeMachineSession(ctx, "m-1", t0) }); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("revoking twice: %v", err)
	}
	var n int64
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		var err error
		n, err = tx.DeleteExpiredMachineSessions(ctx, t0)
		return err
	})
	if n != 1 {
		t.Fatalf("swept %d machine sessions, want the expired one", n)
	}
	if _, err := s.MachineSessionByID(ctx, "m-0"); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("the expired machine session was not swept: %v", err)
	}
	if _, err := s.MachineSessionByID(ctx, "m-1"); err != nil {
		t.Fatalf("the live one was swept: %v", err)
	}
}

// testAssertionIDs: a jti is accepted once per client while it lives; another client's equal jti
// is its own; an expired row is taken over; the sweep removes expired rows only.
func testAssertionIDs(t *testing.T, s gatehouse.Store) {
	ctx := context.Background()
	use := func(client, jti string, exp, now time.Time) error {
		return s.Tx(ctx, func(tx gatehouse.StoreTx) error { return tx.UseAssertionID(ctx, client, jti, exp, now) })
	}
	exp := t0.Add(5 * time.Minute)
	if err := use("c1", "j1", exp, t0); err != nil {
		t.Fatalf("first use: %v", err)
	}
	if err := use("c1", "j1", exp, t0.Add(time.Minute)); !errors.Is(err, gatehouse.ErrAssertionReplayed) {
		t.Fatalf("replay: %v, want ErrAssertionReplayed", err)
	}
	if err := use("c2", "j1", exp, t0); err != nil {
		t.Fatalf("another client's jti: %v", err)
	}
	// Once the first has expired (and before a sweep), the jti may be recorded again.
	if err := use("c1", "j1", exp.Add(5*time.Minute), exp); err != nil {
		t.Fatalf("use after expiry: %v", err)
	}
	if err := use("c1", "j1", exp.Add(5*time.Minute), exp.Add(time.Second)); !errors.Is(err, gatehouse.ErrAssertionReplayed) {
		t.Fatalf("replay of the renewed jti: %v", err)
	}
	var n int64
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		var err error
		n, err = tx.DeleteExpiredAssertionIDs(ctx, exp.Add(time.Minute))
		return err
	})
	if n != 1 { // c2's; c1's now lives to exp+5m
		t.Fatalf("swept %d jtis, want 1", n)
	}
	if err := use("c2", "j1", exp.Add(time.Hour), exp.Add(time.Minute)); err != nil {
		t.Fatalf("a swept jti: %v", err)
	}

	// Concurrent uses of one jti: exactly one is accepted.
	const workers = 8
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = use("c3", "race", exp, t0)
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, gatehouse.ErrAssertionReplayed):
			t.Fatalf("concurrent use: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d concurrent uses of one jti were accepted, want 1", ok)
	}
}
