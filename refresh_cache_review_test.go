package gatehouse_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/gatehouse/gatehouse"
)

// flakyGrantStore is a real store whose next GrantByID fails once when armed: a database that
// drops one query.
type flakyGrantStore struct {
	gatehouse.Store
	armed *atomic.Bool
}

var errFlaky = errors.New("connection reset by peer")

func (s flakyGrantStore) GrantByID(ctx context.Context, id string) (*gatehouse.Grant, error) {
	if s.armed.CompareAndSwap(true, false) {
		return nil, errFlaky
	}
	return s.Store.GrantByID(ctx, id)
}

// The OAuth refresh grant's check runs twice when a cached successor's snapshot is tried first
// and then decided again from a fresh read. An outage in the first check's grant lookup must not
// outlive it: a refresh that answers an error has spent nothing (the token still works, and on
// a retry with no retry window nobody calls it reuse), and one that spent the token answers with
// the successor.
func TestRefreshCachedCheckErrorDoesNotOutliveItsCheck(t *testing.T) {
	r := newAttackRig(t)
	ctx := context.Background()
	armed := &atomic.Bool{}
	_, as := r.newAS(flakyGrantStore{r.store, armed})
	_, victim := r.user("victim@example.com")
	app, _ := r.dcr(gatehouse.AuthMethodNone, attackRedirect)
	code, pk := r.code(victim, app, attackRedirect, "", "profile:read")
	refresh := func(rt string) (*gatehouse.OAuthTokens, error) {
		return as.Token(ctx, gatehouse.TokenRequest{GrantType: gatehouse.GrantRefresh, RefreshToken: rt, Credentials: creds(app, "")}, gatehouse.Client{})
	}
	tok, err := as.Token(ctx, gatehouse.TokenRequest{GrantType: gatehouse.GrantAuthCode, Code: code, RedirectURI: attackRedirect,
		CodeVerifier: pk.verifier, Credentials: creds(app, "")}, gatehouse.Client{})
	if err != nil {
		t.Fatal(err)
	}
	first, err := refresh(tok.RefreshToken) // its successor is now cached
	if err != nil {
		t.Fatal(err)
	}

	// The cached snapshot's check meets the outage; the refresh is then decided from a fresh
	// read, whose check finds the grant.
	armed.Store(true)
	out, err := refresh(first.RefreshToken)
	if armed.Load() {
		t.Fatal("the grant lookup was never made")
	}
	rt, lookupErr := r.store.RefreshTokenByHash(ctx, gatehouse.HashToken(first.RefreshToken))
	if lookupErr != nil {
		t.Fatal(lookupErr)
	}
	if err != nil && rt.SpentAt != nil {
		t.Fatalf("the refresh answered %v and spent the token: the client has lost its successor", err)
	}
	if err == nil && (out.RefreshToken == "" || rt.SpentAt == nil) {
		t.Fatalf("the refresh succeeded without rotating: %+v, spent %v", out, rt.SpentAt)
	}
}
