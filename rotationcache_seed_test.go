package gatehouse_test

import (
	"context"
	"testing"

	"github.com/gatehouse/gatehouse"
)

// TestRefreshStatementsInOrg: a token handed out in an organization — by a login in it, or by a
// refresh that switched to it — is refreshed, like any token this instance handed out, with no
// read before the guarded write. The snapshot remembered for it must be its session as committed,
// organization included: one taken before the switch names the wrong organization, fails the
// guarded write every time, and costs the refresh a failed write and a read.
func TestRefreshStatementsInOrg(t *testing.T) {
	for name, store := range costStores(t) {
		t.Run(name, func(t *testing.T) {
			r := newCostRig(t, store)
			ctx := context.Background()
			orgs := gatehouse.NewOrgService(r.auth, gatehouse.OrgConfig{})
			ts, err := r.auth.Login(ctx, r.plain, costPassword, gatehouse.Client{})
			if err != nil {
				t.Fatal(err)
			}
			p, err := r.auth.Authenticate(ctx, ts.AccessToken)
			if err != nil {
				t.Fatal(err)
			}
			orgName, slug := "Cost", "cost"
			org, err := orgs.CreateOrg(ctx, p, gatehouse.OrgInput{Name: &orgName, Slug: &slug})
			if err != nil {
				t.Fatal(err)
			}
			// refresh returns how many times the refresh of token read it.
			refresh := func(token string) int {
				t.Helper()
				next, queries := r.refresh(t, r.auth, token)
				if next.User.ID != p.User.ID {
					t.Fatalf("refreshed as %s", next.User.ID)
				}
				return tokenReads(queries)
			}

			in, err := orgs.LoginInOrg(ctx, r.plain, costPassword, org.ID, gatehouse.Client{})
			if err != nil {
				t.Fatal(err)
			}
			if reads := refresh(in.RefreshToken); reads != 0 {
				t.Errorf("the refresh of a login in an organization read the token %d times", reads)
			}

			switched, err := orgs.RefreshInOrg(ctx, ts.RefreshToken, org.ID, gatehouse.Client{})
			if err != nil {
				t.Fatal(err)
			}
			if reads := refresh(switched.RefreshToken); reads != 0 {
				t.Errorf("the refresh of a token handed out by a switch to an organization read the token %d times", reads)
			}
		})
	}
}
