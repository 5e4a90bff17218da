package main

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse"
)

// OAuth consent for an organization (docs/oauth-server.md, "Consent for an organization"): the
// consent page offers the user's organizations, the grant and its tokens carry the chosen one,
// and a removal or a role change reaches the app's tokens at once.

// orgApp is a confidential client registered by itself (so every request shows the consent
// page) and a member of an organization signed in on the dashboard.
type orgApp struct {
	g          *orgRig
	owner      *account
	member     *account
	orgID      string
	id, secret string
	b          *webClient
}

func newOrgApp(t *testing.T) *orgApp {
	t.Helper()
	g := startOrgRig(t)
	x := &orgApp{g: g, owner: g.verified(t)}
	x.orgID = g.createOrg(t, x.owner, "acme")
	x.member = g.join(t, x.orgID, x.owner, "member")
	x.id, x.secret = g.s.o2ConfidentialClient(t, "client_secret_basic")
	x.b = g.s.webClient(t)
	x.b.signIn(x.member.Email, x.member.Password)
	return x
}

// consent opens the consent page of a new request (extra are its parameters), posts it with the
// organization field set to org (absent when org is nil) and returns the request and the answer.
func (x *orgApp) consent(t *testing.T, org *string, extra ...string) (*oauthRequest, *response) {
	t.Helper()
	o := newOAuthRequest(x.id, "https://app.example.com/callback", append([]string{"scope=openid profile:read"}, extra...)...)
	form := expectConsent(t, x.b.get(o.path()))
	if org != nil {
		form.Set("organization", *org)
	}
	return o, x.b.decide(form, "allow")
}

// tokens exchanges the code of an approved request.
func (x *orgApp) tokens(t *testing.T, o *oauthRequest, r *response) map[string]any {
	t.Helper()
	code := x.g.s.expectCode(t, r, o)
	res := x.g.s.postForm(t, "/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {o.RedirectURI}, "code_verifier": {o.Verifier}}, o2Basic(x.id, x.secret))
	expectStatus(t, res, http.StatusOK)
	return res.json(t)
}

func (x *orgApp) refresh(t *testing.T, refresh string) *response {
	t.Helper()
	return x.g.s.postForm(t, "/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, o2Basic(x.id, x.secret))
}

func (x *orgApp) introspect(t *testing.T, token string) map[string]any {
	t.Helper()
	r := x.g.s.postForm(t, "/oauth2/introspect", url.Values{"token": {token}}, o2Basic(x.id, x.secret))
	expectStatus(t, r, http.StatusOK)
	return r.json(t)
}

func TestOAuth2ConsentForOrganization(t *testing.T) {
	x := newOrgApp(t)
	s := x.g.s

	// The page offers the organization; personal is the default without an active one.
	o := newOAuthRequest(x.id, "https://app.example.com/callback", "scope=openid profile:read")
	expectPage(t, x.b.get(o.path()), http.StatusOK, `name="organization"`, `<option value="">Personal</option>`,
		`<option value="`+x.orgID+`">Org acme</option>`)
	// The organization parameter preselects it.
	o = newOAuthRequest(x.id, "https://app.example.com/callback", "scope=openid profile:read", "organization="+x.orgID)
	expectPage(t, x.b.get(o.path()), http.StatusOK, `<option value="`+x.orgID+`" selected>Org acme</option>`)

	// Consent for the organization: the tokens carry it, with the member's role and permissions.
	o, r := x.consent(t, &x.orgID)
	tok := x.tokens(t, o, r)
	access, refresh := tok["access_token"].(string), tok["refresh_token"].(string)
	id, role, perms := orgClaims(t, access)
	if id != x.orgID || role != "member" || len(perms) == 0 {
		t.Fatalf("org claims of the app's token: %q %q %v", id, role, perms)
	}
	info := x.introspect(t, access)
	if info["active"] != true || info["org_id"] != x.orgID || info["org_role"] != "member" {
		t.Fatalf("introspection of an org token: %v", info)
	}

	// Refresh keeps the organization.
	rr := x.refresh(t, refresh)
	expectStatus(t, rr, http.StatusOK)
	access2, refresh2 := rr.str(t, "access_token"), rr.str(t, "refresh_token")
	if id, role, _ := orgClaims(t, access2); id != x.orgID || role != "member" {
		t.Fatalf("refreshed token's org: %q %q", id, role)
	}

	// A role change: the tokens signed before it stop at once; a refresh carries the new role.
	base := "/api/v1/orgs/" + x.orgID + "/members/" + x.member.ID
	expectStatus(t, s.do(t, "PATCH", base, map[string]string{"role": "admin"}, bearer(x.owner.Access)), http.StatusOK)
	if info := x.introspect(t, access2); info["active"] != false {
		t.Fatalf("a token of the old role is still active: %v", info)
	}
	rr = x.refresh(t, refresh2)
	expectStatus(t, rr, http.StatusOK)
	access3, refresh3 := rr.str(t, "access_token"), rr.str(t, "refresh_token")
	if id, role, perms := orgClaims(t, access3); id != x.orgID || role != "admin" || !slices.Contains(perms, "members:write") {
		t.Fatalf("after the role change: %q %q %v", id, role, perms)
	}
	if info := x.introspect(t, access3); info["active"] != true || info["org_role"] != "admin" {
		t.Fatalf("introspection after the role change: %v", info)
	}

	// Gatehouse's own API (the token's audience) accepts it, until the removal.
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(access3)), http.StatusOK)

	// Removal: the access token is inactive at once, and the refresh token is refused.
	expectStatus(t, s.do(t, "DELETE", base, nil, bearer(x.owner.Access)), http.StatusNoContent)
	if info := x.introspect(t, access3); info["active"] != false {
		t.Fatalf("a removed member's app token is still active: %v", info)
	}
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(access3)), http.StatusUnauthorized)
	expectO2Error(t, x.refresh(t, refresh3), http.StatusBadRequest, "invalid_grant")

	// And the organization can no longer be chosen: a posted form naming it is refused.
	o, r = x.consent(t, &x.orgID)
	if q := s.expectClientRedirect(t, r, o); q.Get("error") != "access_denied" || q.Get("code") != "" {
		t.Fatalf("consent for an organization after removal: %v", q)
	}
}

func TestOAuth2ConsentForgedOrganization(t *testing.T) {
	x := newOrgApp(t)
	s := x.g.s
	// An organization the user is not a member of: another owner's.
	other := x.g.createOrg(t, x.g.verified(t), "other")
	for _, org := range []string{other, "not-an-org-id"} {
		o, r := x.consent(t, &org)
		q := s.expectClientRedirect(t, r, o)
		if q.Get("code") != "" || q.Get("error") == "" {
			t.Fatalf("consent for %q: %v", org, q)
		}
	}
	// Nothing was granted: the user's grants list is empty.
	r := s.do(t, "GET", "/api/v1/users/me/grants", nil, bearer(x.member.Access))
	expectStatus(t, r, http.StatusOK)
	if strings.Contains(string(r.Body), x.id) {
		t.Fatalf("a forged consent left a grant: %s", r.Body)
	}
}

func TestOAuth2ConsentPersonalCarriesNoOrg(t *testing.T) {
	x := newOrgApp(t)
	personal := ""
	o, r := x.consent(t, &personal)
	tok := x.tokens(t, o, r)
	access := tok["access_token"].(string)
	if id, role, perms := orgClaims(t, access); id != "" || role != "" || len(perms) != 0 {
		t.Fatalf("a personal consent's token carries an organization: %q %q %v", id, role, perms)
	}
	// Removal from the organization does not touch a personal grant.
	expectStatus(t, x.g.s.do(t, "DELETE", "/api/v1/orgs/"+x.orgID+"/members/"+x.member.ID, nil, bearer(x.owner.Access)), http.StatusNoContent)
	if info := x.introspect(t, access); info["active"] != true || info["org_id"] != nil {
		t.Fatalf("personal token after a removal: %v", info)
	}
	expectStatus(t, x.refresh(t, tok["refresh_token"].(string)), http.StatusOK)
}

// A resource server's introspection (/api/v1/auth/introspect) sees an app's token of an
// organization with its org_id, and inactive once the member is removed.
func TestOAuth2OrgTokenAtResourceIntrospection(t *testing.T) {
	x := newOrgApp(t)
	s := x.g.s
	admin := s.admin(t)
	key := s.createKey(t, admin.Access, gatehouse.ScopeTokensIntrospect)["api_key"].(string)
	ask := func(token string) map[string]any {
		r := s.do(t, "POST", "/api/v1/auth/introspect", map[string]string{"token": token}, "X-API-Key: "+key)
		expectStatus(t, r, http.StatusOK)
		return r.json(t)
	}
	o, r := x.consent(t, &x.orgID)
	access := x.tokens(t, o, r)["access_token"].(string)
	if info := ask(access); info["active"] != true || info["org_id"] != x.orgID {
		t.Fatalf("resource introspection of an org token: %v", info)
	}
	expectStatus(t, s.do(t, "DELETE", "/api/v1/orgs/"+x.orgID+"/members/"+x.member.ID, nil, bearer(x.owner.Access)), http.StatusNoContent)
	if info := ask(access); info["active"] != false {
		t.Fatalf("resource introspection after removal: %v", info)
	}
}

// A remembered consent is per organization: a pre-registered client with an https redirect gets
// a code without the page for the organization the user consented for, and the page again for
// personal use or when the dashboard's active organization is another.
func TestOAuth2RememberedConsentPerOrganization(t *testing.T) {
	x := newOrgApp(t)
	s := x.g.s
	redirect := "https://web.example.com/callback"
	client := s.createOAuthClient(t, s.admin(t), "Web app", redirect)
	req := func(extra ...string) *oauthRequest {
		return newOAuthRequest(client, redirect, append([]string{"scope=openid profile:read"}, extra...)...)
	}
	o := req("organization=" + x.orgID)
	form := expectConsent(t, x.b.get(o.path()))
	form.Set("organization", x.orgID)
	s.expectCode(t, x.b.decide(form, "allow"), o)

	// Remembered for the organization: a code at once, and its token carries the organization.
	o = req("organization=" + x.orgID)
	code := s.expectCode(t, x.b.get(o.path()), o)
	if id, _, _ := orgClaims(t, s.exchangeCode(t, o, code)["access_token"].(string)); id != x.orgID {
		t.Fatalf("remembered org consent issued a token for %q", id)
	}
	// Not for personal use: the page is shown again.
	expectConsent(t, x.b.get(req().path()))
	// Nor for another organization the user belongs to.
	other := x.g.createOrg(t, x.member, "other")
	expectConsent(t, x.b.get(req("organization="+other).path()))
}

// Without an organization parameter, the page preselects the dashboard session's active
// organization.
func TestOAuth2ConsentDefaultsToActiveOrganization(t *testing.T) {
	x := newOrgApp(t)
	s := x.g.s
	access, _ := x.b.sessionTokens()
	r := s.do(t, "POST", "/api/v1/users/me/active-org", map[string]string{"org_id": x.orgID}, bearer(access))
	expectStatus(t, r, http.StatusOK)
	o := newOAuthRequest(x.id, "https://app.example.com/callback", "scope=openid profile:read")
	expectPage(t, x.b.get(o.path()), http.StatusOK, `<option value="`+x.orgID+`" selected>Org acme</option>`)
}

// A removal racing the code exchange leaves nothing usable in the organization: either the
// exchange is refused, or the session it started is taken out of the organization with the rest.
func TestOAuth2OrgCodeExchangeRacesRemoval(t *testing.T) {
	x := newOrgApp(t)
	s := x.g.s
	o, r := x.consent(t, &x.orgID)
	code := s.expectCode(t, r, o)
	var exchanged, removed *response
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		exchanged = s.postForm(t, "/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {o.RedirectURI}, "code_verifier": {o.Verifier}}, o2Basic(x.id, x.secret))
	}()
	go func() {
		defer wg.Done()
		removed = s.do(t, "DELETE", "/api/v1/orgs/"+x.orgID+"/members/"+x.member.ID, nil, bearer(x.owner.Access))
	}()
	wg.Wait()
	expectStatus(t, removed, http.StatusNoContent)
	if exchanged.Status != http.StatusOK {
		expectO2Error(t, exchanged, http.StatusBadRequest, "invalid_grant")
		return
	}
	tok := exchanged.json(t)
	if info := x.introspect(t, tok["access_token"].(string)); info["active"] != false {
		t.Fatalf("a token exchanged during the removal is active: %v", info)
	}
	expectO2Error(t, x.refresh(t, tok["refresh_token"].(string)), http.StatusBadRequest, "invalid_grant")
}
