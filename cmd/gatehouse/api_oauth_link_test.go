package main

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
)

// TestOAuthLinkingMatrix: for every provider, each combination of a local account (none, verified,
// unverified) and the provider's word on the address (verified or not).
func TestOAuthLinkingMatrix(t *testing.T) {
	r := startOAuthServer(t)
	cases := []struct {
		local            string // "", "verified", "unverified"
		providerVerified bool
		status           int
		code             string
	}{
		{"", true, http.StatusOK, ""},
		{"", false, http.StatusForbidden, "provider_email_unverified"},
		{"verified", true, http.StatusOK, ""},
		{"verified", false, http.StatusForbidden, "provider_email_unverified"},
		{"unverified", true, http.StatusConflict, "account_email_unverified"},
		{"unverified", false, http.StatusForbidden, "provider_email_unverified"},
	}
	for _, provider := range []string{"github", "linkedin", "corp"} {
		for i, c := range cases {
			name := fmt.Sprintf("%s/local=%s/provider-verified=%v", provider, c.local, c.providerVerified)
			t.Run(name, func(t *testing.T) {
				email := fmt.Sprintf("m%d-%s@example.com", i, provider)
				const password = "local password 123"
				var localID, localAccess string
				switch c.local {
				case "verified":
					r.cli(t, "users", "create", "--email", email, "--password", password, "--name", "Local")
					localAccess, _ = r.login(t, email, password)
					localID = r.do(t, "GET", "/api/v1/users/me", nil, bearer(localAccess)).str(t, "id")
				case "unverified":
					res := r.do(t, "POST", "/api/v1/auth/register", map[string]string{"email": email, "password": password, "name": "Local"})
					expectStatus(t, res, http.StatusCreated)
					localID, localAccess = tokenUser(t, res)["id"].(string), res.str(t, "access_token")
				}
				p := persona{subject: fmt.Sprintf("sub-%d-%s", i, provider), email: email, verified: c.providerVerified, name: "Provider Name"}
				res := r.signIn(t, provider, p)
				if c.status != http.StatusOK {
					expectProblem(t, res, c.status, c.code)
					if c.local == "" && !r.emailIsFree(t, email) {
						t.Fatal("a refused sign-in created an account")
					}
					if c.local != "" {
						if ids := r.identities(t, localAccess); len(ids) != 0 {
							t.Fatalf("a refused sign-in linked %v", ids)
						}
						// The local account is untouched: its password still signs in.
						r.login(t, email, password)
					}
					return
				}
				expectStatus(t, res, http.StatusOK)
				u := tokenUser(t, res)
				if u["email_verified"] != true || u["email"] != email {
					t.Fatalf("user: %v", u)
				}
				if localID != "" && u["id"] != localID {
					t.Fatalf("linked to %v, want the local account %s", u["id"], localID)
				}
				if localID != "" && u["name"] != "Local" {
					t.Fatalf("linking changed the local account's name to %v", u["name"])
				}
				if ids := r.identities(t, res.str(t, "access_token")); len(ids) != 1 || ids[0]["provider"] != provider {
					t.Fatalf("identities: %v", ids)
				}
			})
		}
	}
}

// TestOAuthUnverifiedLocalAccountLinksOnceVerified: the 409 is not final. Once the local owner
// proves the address (here an operator marks it, as email verification would), the next sign-in
// with the provider links to the account.
func TestOAuthUnverifiedLocalAccountLinksOnceVerified(t *testing.T) {
	r := startOAuthServer(t, "GATEHOUSE_CACHE_TTL=0")
	const email, password = "later@example.com", "local password 123"
	res := r.do(t, "POST", "/api/v1/auth/register", map[string]string{"email": email, "password": password})
	expectStatus(t, res, http.StatusCreated)
	localID := tokenUser(t, res)["id"]
	p := persona{subject: "later", email: email, verified: true}
	expectProblem(t, r.signIn(t, "github", p), http.StatusConflict, "account_email_unverified")
	r.execSQL(t, "UPDATE users SET email_verified = TRUE WHERE email = '"+email+"'")
	res = r.signIn(t, "github", p)
	expectStatus(t, res, http.StatusOK)
	if tokenUser(t, res)["id"] != localID {
		t.Fatalf("linked to %v, want %v", tokenUser(t, res)["id"], localID)
	}
}

// TestOAuthConcurrentFirstSignIn: two first sign-ins of one provider account, racing, end in one
// account and one identity.
func TestOAuthConcurrentFirstSignIn(t *testing.T) {
	r := startOAuthServer(t)
	p := persona{subject: "twin", email: "twin@example.com", verified: true}
	const n = 4
	type attempt struct{ code, state string }
	attempts := make([]attempt, n)
	for i := range attempts {
		authURL, state := r.authorize(t, "github", appCallback)
		code, _ := r.gh.Approve(t, authURL, r.githubUser(p))
		attempts[i] = attempt{code, state}
	}
	results := make([]*response, n)
	var wg sync.WaitGroup
	for i, a := range attempts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = r.callback(t, "github", a.code, appCallback, a.state)
		}()
	}
	wg.Wait()
	var id any
	for _, res := range results {
		expectStatus(t, res, http.StatusOK)
		if id == nil {
			id = tokenUser(t, res)["id"]
		} else if tokenUser(t, res)["id"] != id {
			t.Fatalf("concurrent first sign-ins made two accounts: %v and %v", id, tokenUser(t, res)["id"])
		}
	}
	if ids := r.identities(t, results[0].str(t, "access_token")); len(ids) != 1 {
		t.Fatalf("identities: %v", ids)
	}
}

func TestOAuthIdentitiesAndUnlink(t *testing.T) {
	r := startOAuthServer(t)
	expectProblem(t, r.do(t, "GET", "/api/v1/users/me/identities", nil), http.StatusUnauthorized, "")
	expectProblem(t, r.do(t, "DELETE", "/api/v1/users/me/identities/github", nil), http.StatusUnauthorized, "")

	// An account made by GitHub has no password: its only identity cannot go.
	p := persona{subject: "solo", email: "solo@example.com", verified: true, name: "Solo"}
	res := r.signIn(t, "github", p)
	expectStatus(t, res, http.StatusOK)
	access, id := res.str(t, "access_token"), tokenUser(t, res)["id"]
	expectProblem(t, r.do(t, "DELETE", "/api/v1/users/me/identities/github", nil, bearer(access)), http.StatusConflict, "last_sign_in_method")
	expectProblem(t, r.do(t, "DELETE", "/api/v1/users/me/identities/linkedin", nil, bearer(access)), http.StatusNotFound, "identity_not_found")

	// An API key never touches identities, whatever its scopes.
	key := r.createKey(t, access, "profile:read", "keys:read", "keys:write")["api_key"].(string)
	expectProblem(t, r.do(t, "GET", "/api/v1/users/me/identities", nil, "X-API-Key: "+key), http.StatusForbidden, "session_required")
	expectProblem(t, r.do(t, "DELETE", "/api/v1/users/me/identities/github", nil, bearer(key)), http.StatusForbidden, "session_required")

	// LinkedIn with the same verified address links to it (the account is verified), and then
	// either one may go, but not both.
	li := r.signIn(t, "linkedin", persona{subject: "li-solo", email: "SOLO@example.com", verified: true})
	expectStatus(t, li, http.StatusOK)
	if tokenUser(t, li)["id"] != id {
		t.Fatal("LinkedIn made another account")
	}
	if ids := r.identities(t, access); len(ids) != 2 || ids[0]["provider"] != "github" || ids[1]["provider"] != "linkedin" {
		t.Fatalf("identities: %v", ids)
	}
	res = r.do(t, "DELETE", "/api/v1/users/me/identities/github", nil, bearer(access))
	expectStatus(t, res, http.StatusNoContent)
	if ids := r.identities(t, access); len(ids) != 1 || ids[0]["provider"] != "linkedin" {
		t.Fatalf("identities after unlink: %v", ids)
	}
	expectProblem(t, r.do(t, "DELETE", "/api/v1/users/me/identities/github", nil, bearer(access)), http.StatusNotFound, "identity_not_found")
	expectProblem(t, r.do(t, "DELETE", "/api/v1/users/me/identities/linkedin", nil, bearer(access)), http.StatusConflict, "last_sign_in_method")

	// Two unlinks racing for an account's last two identities: one wins, the other is refused.
	expectStatus(t, r.signIn(t, "corp", persona{subject: "corp-solo", email: "solo@example.com", verified: true}), http.StatusOK)
	statuses := make([]int, 2)
	var wg sync.WaitGroup
	for i, provider := range []string{"linkedin", "corp"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = r.do(t, "DELETE", "/api/v1/users/me/identities/"+provider, nil, bearer(access)).Status
		}()
	}
	wg.Wait()
	slices.Sort(statuses)
	if statuses[0] != http.StatusNoContent || statuses[1] != http.StatusConflict {
		t.Fatalf("racing unlinks: %v, want one 204 and one 409", statuses)
	}
	if ids := r.identities(t, access); len(ids) != 1 {
		t.Fatalf("identities after racing unlinks: %v", ids)
	}
	// An account with a password may drop all its identities: TestOAuthPreRegistrationTakeover.
}

// TestOAuthDisabledAccount: a disabled account cannot come back through a provider.
func TestOAuthDisabledAccount(t *testing.T) {
	r := startOAuthServer(t)
	admin := r.admin(t)
	p := persona{subject: "gone", email: "gone@example.com", verified: true}
	res := r.signIn(t, "github", p)
	expectStatus(t, res, http.StatusOK)
	id := tokenUser(t, res)["id"].(string)
	expectStatus(t, r.do(t, "PATCH", "/api/v1/admin/users/"+id, map[string]any{"is_active": false}, bearer(admin.Access)), http.StatusOK)
	expectProblem(t, r.signIn(t, "github", p), http.StatusForbidden, "account_disabled")
	// Nor by linking a second provider to it.
	expectProblem(t, r.signIn(t, "linkedin", persona{subject: "li-gone", email: "gone@example.com", verified: true}),
		http.StatusForbidden, "account_disabled")
}
