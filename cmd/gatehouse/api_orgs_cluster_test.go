package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/smtptest"
)

// TestClusterOrgRemoval: two instances on one PostgreSQL database; instance B caches sessions
// for the longest TTL allowed (10s). A member's token for the organization works on B; the member
// is removed (or has the role changed) on A, and B refuses the token at once, told by the
// database's notification, as for a revocation.
func TestClusterOrgRemoval(t *testing.T) {
	mail := smtptest.Start(t, smtptest.Options{})
	env := with(clusterEnv(t), mailEnv(mail)...)
	servers := startCluster(t, env, with(env, "GATEHOUSE_CACHE_TTL=10s"))
	a, b := servers[0], servers[1]
	g := &orgRig{s: a, mail: mail}
	owner := a.register(t)
	orgID := g.createOrg(t, owner, "cluster")

	for _, change := range []string{"role change", "removal"} {
		member := g.join(t, orgID, owner, "member")
		access := g.switchOrg(t, member, orgID)
		for range 2 {
			expectStatus(t, b.do(t, "GET", "/api/v1/users/me", nil, bearer(access)), http.StatusOK)
		}
		// The switch itself was announced to B for this session (once): the change must be
		// announced once more.
		line := `msg="caches invalidated" change=sessions:` + sessionIDOf(t, access)
		if !b.logs.waitForCount(line, 1, time.Second) {
			t.Fatal("B was not told of the switch")
		}
		seen := strings.Count(b.logs.String(), line)
		if change == "removal" {
			expectStatus(t, a.do(t, "DELETE", "/api/v1/orgs/"+orgID+"/members/"+member.ID, nil, bearer(owner.Access)), http.StatusNoContent)
		} else {
			expectStatus(t, a.do(t, "PATCH", "/api/v1/orgs/"+orgID+"/members/"+member.ID, map[string]string{"role": "admin"}, bearer(owner.Access)), http.StatusOK)
		}
		if !b.logs.waitForCount(line, seen+1, time.Second) {
			t.Fatalf("%s: B did not drop the session from its caches within a second", change)
		}
		expectProblem(t, b.do(t, "GET", "/api/v1/users/me", nil, bearer(access)), http.StatusUnauthorized, "")
		// The switch back is refused on B too after a removal.
		if change == "removal" {
			r := b.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": member.Refresh})
			expectStatus(t, r, http.StatusOK)
			if id, _, _ := orgClaims(t, r.str(t, "access_token")); id != "" {
				t.Fatalf("refresh on B after removal still names the organization")
			}
			expectProblem(t, b.do(t, "POST", "/api/v1/users/me/active-org", map[string]string{"org_id": orgID}, bearer(r.str(t, "access_token"))), http.StatusForbidden, "not_org_member")
		}
	}
}

// TestClusterOrgLastOwnerRace: two owners demote each other at the same instant, each through
// another instance: exactly one owner remains.
func TestClusterOrgLastOwnerRace(t *testing.T) {
	mail := smtptest.Start(t, smtptest.Options{})
	env := with(clusterEnv(t), mailEnv(mail)...)
	servers := startCluster(t, env, env)
	g := &orgRig{s: servers[0], mail: mail}
	first := servers[0].register(t)
	orgID := g.createOrg(t, first, "race")
	for round := range 5 {
		second := g.join(t, orgID, first, "owner")
		rs := concurrently(2, func(i int) *response {
			by, target := first, second
			if i == 1 {
				by, target = second, first
			}
			return servers[i].post2("/api/v1/orgs/"+orgID+"/members/"+target.ID, "PATCH", map[string]string{"role": "member"}, by.Access)
		})
		if c := statusCounts(rs); c[http.StatusOK] != 1 {
			t.Fatalf("round %d: statuses %v: %s / %s", round, c, rs[0].Body, rs[1].Body)
		}
		owners := servers[0].sqlStrings(t, "SELECT user_id FROM org_members WHERE org_id = '"+orgID+"' AND role = 'owner'")
		if len(owners) != 1 {
			t.Fatalf("round %d: owners %v", round, owners)
		}
		if rs[1].Status == http.StatusOK {
			first, second = second, first
		}
		expectStatus(t, servers[0].do(t, "DELETE", "/api/v1/orgs/"+orgID+"/members/"+second.ID, nil, bearer(second.Access)), http.StatusNoContent)
	}
}
