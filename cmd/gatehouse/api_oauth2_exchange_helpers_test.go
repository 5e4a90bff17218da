package main

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
)

// The rig of the token-exchange tests (api_oauth2_exchange_test.go): a server with one registered
// resource, a service (a confidential client registered for token exchange) and helpers for the
// exchange request, agents' actor tokens (through the code flow) and the delegation page.

const (
	exResource = "https://tools.example.com/mcp"
	exRedirect = "https://agent.example.com/callback"
)

type exRig struct {
	s                  *testServer
	admin              *account
	svcID, svcSecret   string
	user               *account
	userWeb            *webClient
	ownAPI             string
	agentOwner         *account
	agentOwnerSignedIn *webClient
}

func newExRig(t *testing.T) *exRig {
	t.Helper()
	s := startServer(t)
	x := &exRig{s: s, admin: s.admin(t), ownAPI: s.URL + "/api/v1"}
	s.addOAuthResource(t, x.admin, exResource, "Tools", "tools:read=Read your tools", "tools:write=Change your tools")
	x.svcID, x.svcSecret = x.exchangeClient(t, "Key service")
	x.user = s.register(t)
	return x
}

// exchangeClient registers a confidential client allowed the token-exchange grant (an agent or a
// service) through the admin API.
func (x *exRig) exchangeClient(t *testing.T, name string) (id, secret string) {
	t.Helper()
	r := x.s.do(t, "POST", "/api/v1/admin/oauth/clients", map[string]any{"name": name, "redirect_uris": []string{exRedirect},
		"confidential": true, "grant_types": []string{"authorization_code", gatehouse.GrantTokenExchange}}, bearer(x.admin.Access))
	expectStatus(t, r, http.StatusCreated)
	return r.str(t, "client_id"), r.str(t, "client_secret")
}

// exchange asks the token endpoint for a token exchange as the client; params are name=value.
func (x *exRig) exchange(t *testing.T, clientID, secret string, params ...string) *response {
	t.Helper()
	form := url.Values{"grant_type": {gatehouse.GrantTokenExchange}}
	for _, kv := range params {
		k, v, _ := strings.Cut(kv, "=")
		form.Add(k, v)
	}
	return x.s.o2Form(t, "/oauth2/token", form, o2Basic(clientID, secret))
}

// exchangeOK checks a successful exchange answer (RFC 8693 §2.2.1) and returns it and the
// token's claims.
func exchangeOK(t *testing.T, r *response) (map[string]any, map[string]any) {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("exchange: status %d: %s", r.Status, r.Body)
	}
	m := r.json(t)
	if m["issued_token_type"] != gatehouse.TokenTypeAccessToken || m["token_type"] != "Bearer" {
		t.Fatalf("issued_token_type/token_type: %s", r.Body)
	}
	if _, ok := m["refresh_token"]; ok {
		t.Fatalf("an exchange issued a refresh token: %s", r.Body)
	}
	if exp, _ := m["expires_in"].(float64); exp <= 0 || exp > 300 {
		t.Fatalf("expires_in %v, want at most 300 s", m["expires_in"])
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("token response cacheable: %v", r.Header)
	}
	c := claims(t, m["access_token"].(string))
	iat, _ := c["iat"].(float64)
	exp, _ := c["exp"].(float64)
	if exp-iat > 300 || exp <= iat {
		t.Fatalf("token lives %v s, want at most 300", exp-iat)
	}
	return m, c
}

// agentToken gets the agent an access token of its own through the code flow: the agent's
// operator (a user of its own) signs in and approves it. This is the actor token.
func (x *exRig) agentToken(t *testing.T, agentID, agentSecret string) string {
	t.Helper()
	if x.agentOwner == nil {
		x.agentOwner = x.s.register(t)
		x.agentOwnerSignedIn = x.s.webClient(t)
		x.agentOwnerSignedIn.signIn(x.agentOwner.Email, x.agentOwner.Password)
	}
	b := x.agentOwnerSignedIn
	o := newOAuthRequest(agentID, exRedirect, "resource="+exResource, "scope=tools:read")
	r := b.get(o.path())
	if r.Status == http.StatusOK {
		r = b.decide(expectConsent(t, r), "allow")
	}
	code := x.s.expectCode(t, r, o)
	tr := x.s.o2Form(t, "/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {exRedirect}, "code_verifier": {o.Verifier}}, o2Basic(agentID, agentSecret))
	expectStatus(t, tr, http.StatusOK)
	return tr.str(t, "access_token")
}

// userBrowser is the user's browser, signed in on the dashboard.
func (x *exRig) userBrowser(t *testing.T) *webClient {
	t.Helper()
	if x.userWeb == nil {
		x.userWeb = x.s.webClient(t)
		x.userWeb.signIn(x.user.Email, x.user.Password)
	}
	return x.userWeb
}

// allowAgent plays the user's part on the delegation page: the page names the agent, the
// resource and each scope, cannot be framed, and its form posts decision=allow.
func (x *exRig) allowAgent(t *testing.T, agentID, scope string) {
	t.Helper()
	x.decideDelegation(t, agentID, scope, "allow", "/account/apps?notice=delegation_allowed")
}

func (x *exRig) decideDelegation(t *testing.T, agentID, scope, decision, landing string) {
	t.Helper()
	b := x.userBrowser(t)
	q := url.Values{"client_id": {agentID}, "resource": {exResource}, "scope": {scope}}
	page := b.get("/oauth2/delegate?" + q.Encode())
	expectPage(t, page, http.StatusOK, `action="/oauth2/delegate"`, `name="decision" value="allow"`, `name="decision" value="deny"`,
		agentID, exResource, "act for you")
	for _, s := range strings.Fields(scope) {
		if !strings.Contains(string(page.Body), s) {
			t.Fatalf("the delegation page does not name the scope %s", s)
		}
	}
	if page.Header.Get("X-Frame-Options") != "DENY" || !strings.Contains(page.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Fatalf("the delegation page can be framed: %v", page.Header)
	}
	body := string(page.Body)
	form := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(body[strings.Index(body, `action="/oauth2/delegate"`):], -1) {
		form.Add(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	if form.Get("csrf_token") == "" {
		t.Fatalf("the delegation form has no CSRF token: %s", body)
	}
	form.Set("decision", decision)
	r := b.do("POST", "/oauth2/delegate", form, "Origin: "+x.s.URL, "Sec-Fetch-Site: same-origin")
	expectRedirect(t, r, landing)
}

// introspect asks /api/v1/auth/introspect with an admin's key carrying tokens:introspect.
func (x *exRig) introspect(t *testing.T, token string) map[string]any {
	t.Helper()
	key := x.s.createKey(t, x.admin.Access, gatehouse.ScopeTokensIntrospect)["api_key"].(string)
	r := x.s.do(t, "POST", "/api/v1/auth/introspect", map[string]string{"token": token}, "X-API-Key: "+key)
	expectStatus(t, r, http.StatusOK)
	return r.json(t)
}

// delegationID finds the user's delegation to the agent in GET /api/v1/users/me/grants.
func (x *exRig) delegationID(t *testing.T, agentID string) string {
	t.Helper()
	r := x.s.do(t, "GET", "/api/v1/users/me/grants", nil, bearer(x.user.Access))
	expectStatus(t, r, http.StatusOK)
	var grants []map[string]any
	if err := json.Unmarshal(r.Body, &grants); err != nil {
		t.Fatalf("grants: %v: %s", err, r.Body)
	}
	for _, g := range grants {
		if g["kind"] == gatehouse.GrantDelegation && g["client_id"] == agentID {
			return g["id"].(string)
		}
	}
	t.Fatalf("no delegation to %s listed: %s", agentID, r.Body)
	return ""
}
