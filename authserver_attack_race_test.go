package gatehouse_test

import (
	"context"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/postgres/pgtest"
)

// grantHookStore runs a hook once, inside the transaction of an authorization-code exchange, right
// after it read the grant: the moment between "the grant still stands" and "the session is
// created".
type grantHookStore struct {
	gatehouse.Store
	once *sync.Once
	hook func()
}

func (s grantHookStore) Tx(ctx context.Context, fn func(gatehouse.StoreTx) error) error {
	return s.Store.Tx(ctx, func(tx gatehouse.StoreTx) error { return fn(grantHookTx{tx, s}) })
}

type grantHookTx struct {
	gatehouse.StoreTx
	s grantHookStore
}

func (t grantHookTx) LockGrant(ctx context.Context, id string) (*gatehouse.Grant, error) {
	g, err := t.StoreTx.LockGrant(ctx, id)
	t.s.once.Do(t.s.hook)
	return g, err
}

// On PostgreSQL (READ COMMITTED) an exchangeCode that read the grant without a lock would create
// the session afterwards. An admin's revocation of the grant (RevokeGrantOf takes no user lock) or the
// removal of the resource (no user lock either) that commits in that window deletes
// the grant and revokes the grant's sessions, which do not include the one about to be created: the
// exchange then commits a live session (refresh token, own-API access) for a grant that no longer
// exists, which no later revocation of the grant can find. Issue 16: "Revoking a grant ... kills
// its refresh tokens at once". SQLite serialises the transactions. (A revoked client is caught
// later by client authentication; the user's own revocation locks the user row, as the exchange
// does, and is serialised.)
func TestAttackRevocationRacingCodeExchangeLeavesLiveSessionPostgres(t *testing.T) {
	for _, tc := range []struct {
		name   string
		revoke func(r *attackRig, admin *gatehouse.Principal, c *gatehouse.OAuthClient, grantID string) error
	}{
		{"admin revokes the grant", func(r *attackRig, admin *gatehouse.Principal, _ *gatehouse.OAuthClient, grantID string) error {
			return r.as.RevokeGrantOf(context.Background(), admin, grantID)
		}},
		{"operator removes the resource", func(r *attackRig, admin *gatehouse.Principal, _ *gatehouse.OAuthClient, _ string) error {
			return r.as.RemoveResource(context.Background(), admin, attackMCP)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			store, err := postgres.Open(ctx, pgtest.NewMigratedDatabase(t), postgres.Options{MaxConns: 4})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { store.Close() })
			r := newAttackRigOn(t, store)
			r.resource(attackMCP, "mcp:tools")
			_, victim := r.user("victim@example.com")
			admin := r.admin()
			app, _ := r.dcr(gatehouse.AuthMethodNone, attackRedirect)
			code, pk := r.code(victim, app, attackRedirect, attackMCP, "mcp:tools")
			grants, err := r.as.ListGrants(ctx, victim)
			if err != nil || len(grants) != 1 {
				t.Fatalf("grants: %v %v", grants, err)
			}

			// The revocation starts while the exchange holds the grant, in a transaction of its
			// own: whichever order the two commit in, the end state must have no live session.
			hooked := &attackRig{t: t, as: nil}
			revoked := make(chan error, 1)
			_, hooked.as = r.newAS(grantHookStore{store, &sync.Once{}, func() {
				go func() { revoked <- tc.revoke(r, admin, app, grants[0].ID) }()
			}})
			tok, err := hooked.exchange(app, "", code, attackRedirect, pk)
			if rerr := <-revoked; rerr != nil {
				t.Fatalf("revocation: %v", rerr)
			}
			if err != nil {
				return // refused: sound
			}
			if left, _ := r.as.ListGrants(ctx, victim); len(left) != 0 {
				t.Fatalf("the grant survived its revocation: %+v", left)
			}
			_, refreshErr := r.refresh(app, "", tok.RefreshToken)
			if refreshErr == nil {
				t.Fatalf("%s while the code was being exchanged: the exchange committed anyway and its refresh token still works, on a grant that no longer exists", tc.name)
			}
		})
	}
}
