package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
)

// Token exchange (RFC 8693) and delegation at /oauth2/token, one test per rule. The rig is in
// api_oauth2_exchange_helpers_test.go.

const (
	keyType    = "subject_token_type=" + gatehouse.TokenTypeAPIKey
	accessType = "subject_token_type=" + gatehouse.TokenTypeAccessToken
	actorType  = "actor_token_type=" + gatehouse.TokenTypeAccessToken
)

// An API key becomes a short-lived token for one resource: scopes narrowed to the key's, aud the
// resource, at most 5 minutes, no refresh token; the key's owner is the subject and the service
// that asked is the client.
func TestExchangeAPIKeyNarrowsToKeyScopes(t *testing.T) {
	x := newExRig(t)
	key := x.s.createKey(t, x.user.Access, gatehouse.ScopeProfileRead, gatehouse.ScopeCreditsRead)["api_key"].(string)

	// Gatehouse's own API: the key's scopes ∩ what was asked.
	m, c := exchangeOK(t, x.exchange(t, x.svcID, x.svcSecret, "subject_token="+key, keyType,
		"resource="+x.ownAPI, "scope=profile:read credits:read credits:write keys:write"))
	if m["scope"] != "credits:read profile:read" || c["scope"] != "credits:read profile:read" {
		t.Fatalf("scope %v / claim %v, want the key's scopes that were asked: credits:read profile:read", m["scope"], c["scope"])
	}
	if c["aud"] != x.ownAPI || c["sub"] != x.user.ID || c["client_id"] != x.svcID || c["act"] != nil {
		t.Fatalf("claims: %v", c)
	}
	tok := m["access_token"].(string)
	expectStatus(t, x.s.do(t, "GET", "/api/v1/users/me", nil, bearer(tok)), http.StatusOK)
	expectProblem(t, x.s.do(t, "POST", "/api/v1/public/credits/usage", map[string]any{"amount": 1}, bearer(tok)), http.StatusForbidden, "")
	// Nothing the key lacks, and no refresh token to grow it back.
	r := x.exchange(t, x.svcID, x.svcSecret, "subject_token="+key, keyType, "resource="+x.ownAPI, "scope=keys:write")
	expectO2Error(t, r, http.StatusBadRequest, gatehouse.OAuthInvalidScope)

	// A registered resource: its scopes, narrowed by scope; aud is exactly the resource.
	m, c = exchangeOK(t, x.exchange(t, x.svcID, x.svcSecret, "subject_token="+key, keyType, "resource="+exResource, "scope=tools:read"))
	if m["scope"] != "tools:read" || c["aud"] != exResource {
		t.Fatalf("scope %v aud %v", m["scope"], c["aud"])
	}
	// A token for another resource is refused by Gatehouse's own API.
	expectStatus(t, x.s.do(t, "GET", "/api/v1/users/me", nil, bearer(m["access_token"].(string))), http.StatusUnauthorized)
}

// Revoking the key stops further exchanges at once, and the tokens already exchanged from it stop
// working on Gatehouse's own API and at introspection.
func TestExchangeKeyRevokedMidway(t *testing.T) {
	x := newExRig(t)
	k := x.s.createKey(t, x.user.Access, gatehouse.ScopeProfileRead)
	key, keyID := k["api_key"].(string), k["id"].(string)
	m, _ := exchangeOK(t, x.exchange(t, x.svcID, x.svcSecret, "subject_token="+key, keyType, "resource="+x.ownAPI))
	tok := m["access_token"].(string)
	expectStatus(t, x.s.do(t, "GET", "/api/v1/users/me", nil, bearer(tok)), http.StatusOK)
	if in := x.introspect(t, tok); in["active"] != true {
		t.Fatalf("introspection before revocation: %v", in)
	}

	expectStatus(t, x.s.do(t, "DELETE", "/api/v1/api-keys/"+keyID, nil, bearer(x.user.Access)), http.StatusNoContent)

	r := x.exchange(t, x.svcID, x.svcSecret, "subject_token="+key, keyType, "resource="+x.ownAPI)
	expectO2Error(t, r, http.StatusBadRequest, gatehouse.OAuthInvalidGrant)
	expectStatus(t, x.s.do(t, "GET", "/api/v1/users/me", nil, bearer(tok)), http.StatusUnauthorized)
	if in := x.introspect(t, tok); in["active"] != false {
		t.Fatalf("a token exchanged from a revoked key is active: %v", in)
	}
}

// A user's access token (first-party) is exchanged for a resource token; one issued to an app is
// exchanged only by that app; ending the subject's session ends the exchanged token with it.
func TestExchangeAccessToken(t *testing.T) {
	x := newExRig(t)
	m, c := exchangeOK(t, x.exchange(t, x.svcID, x.svcSecret, "subject_token="+x.user.Access, accessType,
		"resource="+exResource, "scope=tools:read tools:admin"))
	if m["scope"] != "tools:read" || c["sub"] != x.user.ID || c["aud"] != exResource || c["client_id"] != x.svcID {
		t.Fatalf("answer %v claims %v", m, c)
	}
	// No scope: every scope of the resource the user could consent to.
	m, _ = exchangeOK(t, x.exchange(t, x.svcID, x.svcSecret, "subject_token="+x.user.Access, accessType, "resource="+exResource))
	if m["scope"] != "tools:read tools:write" {
		t.Fatalf("scope %v, want the resource's scopes", m["scope"])
	}
	tok := m["access_token"].(string)

	// An app's token (here the agent's own, issued by the code flow) is another client's to exchange.
	agentID, agentSecret := x.exchangeClient(t, "Agent")
	appToken := x.agentToken(t, agentID, agentSecret)
	r := x.exchange(t, x.svcID, x.svcSecret, "subject_token="+appToken, accessType, "resource="+exResource)
	expectO2Error(t, r, http.StatusBadRequest, gatehouse.OAuthInvalidGrant)
	// Its own client may: within what the user granted it.
	m2, c2 := exchangeOK(t, x.exchange(t, agentID, agentSecret, "subject_token="+appToken, accessType, "resource="+exResource, "scope=tools:read tools:write"))
	if m2["scope"] != "tools:read" || c2["sub"] != x.agentOwner.ID {
		t.Fatalf("app token exchange: %v %v", m2, c2)
	}

	// The user logs out: the exchanged token goes with the session it came from.
	expectStatus(t, x.s.do(t, "POST", "/api/v1/auth/logout", nil, bearer(x.user.Access)), http.StatusOK)
	if in := x.introspect(t, tok); in["active"] != false {
		t.Fatalf("a token exchanged from a logged-out session is active: %v", in)
	}
	r = x.exchange(t, x.svcID, x.svcSecret, "subject_token="+x.user.Access, accessType, "resource="+exResource)
	expectO2Error(t, r, http.StatusBadRequest, gatehouse.OAuthInvalidGrant)
}

// The user allows an agent once on the delegation page; from then on the agent's exchanges carry
// act, with scopes = what the user has ∩ what the user allowed it ∩ what it asked.
func TestDelegationAllowedOnceThenWorks(t *testing.T) {
	x := newExRig(t)
	agentID, agentSecret := x.exchangeClient(t, "Helpful agent")
	actor := x.agentToken(t, agentID, agentSecret)
	x.allowAgent(t, agentID, "tools:read")

	for range 2 { // no page the second time
		m, c := exchangeOK(t, x.exchange(t, agentID, agentSecret, "subject_token="+x.user.Access, accessType,
			"actor_token="+actor, actorType, "resource="+exResource, "scope=tools:read tools:write"))
		if m["scope"] != "tools:read" {
			t.Fatalf("scope %v, want tools:read (asked ∩ allowed)", m["scope"])
		}
		act, _ := c["act"].(map[string]any)
		if c["sub"] != x.user.ID || c["aud"] != exResource || c["client_id"] != agentID || act["sub"] != agentID || act["act"] != nil {
			t.Fatalf("claims %v", c)
		}
	}
	// The listing tells delegations from authorizations.
	r := x.s.do(t, "GET", "/api/v1/users/me/grants", nil, bearer(x.user.Access))
	expectStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.Body), `"kind":"delegation"`) {
		t.Fatalf("grants: %s", r.Body)
	}
	expectPage(t, x.userBrowser(t).get("/account/apps"), http.StatusOK, "Helpful agent", "Acts for you")

	// Deny records nothing new and leads to connected apps.
	x.decideDelegation(t, agentID, "tools:write", "deny", "/account/apps?notice=delegation_denied")
	m, _ := exchangeOK(t, x.exchange(t, agentID, agentSecret, "subject_token="+x.user.Access, accessType,
		"actor_token="+actor, actorType, "resource="+exResource))
	if m["scope"] != "tools:read" {
		t.Fatalf("after a deny, scope %v", m["scope"])
	}
}

// An agent the user never allowed is refused with invalid_grant, and so is an actor token that is
// not the asking client's own.
func TestDelegationActorNeverAllowed(t *testing.T) {
	x := newExRig(t)
	agentID, agentSecret := x.exchangeClient(t, "Stranger")
	actor := x.agentToken(t, agentID, agentSecret)
	r := x.exchange(t, agentID, agentSecret, "subject_token="+x.user.Access, accessType, "actor_token="+actor, actorType, "resource="+exResource)
	expectO2Error(t, r, http.StatusBadRequest, gatehouse.OAuthInvalidGrant)

	// Allowed for the resource, but the service presents the agent's token as its own actor.
	x.allowAgent(t, agentID, "tools:read")
	r = x.exchange(t, x.svcID, x.svcSecret, "subject_token="+x.user.Access, accessType, "actor_token="+actor, actorType, "resource="+exResource)
	expectO2Error(t, r, http.StatusBadRequest, gatehouse.OAuthInvalidGrant)
	// Allowed for one resource is not allowed for another.
	r = x.exchange(t, agentID, agentSecret, "subject_token="+x.user.Access, accessType, "actor_token="+actor, actorType, "resource="+x.ownAPI)
	expectO2Error(t, r, http.StatusBadRequest, gatehouse.OAuthInvalidGrant)
}

// Withdrawing the delegation in connected apps refuses the next exchange at once and ends the
// delegated tokens already issued.
func TestDelegationWithdrawnRefusedAtOnce(t *testing.T) {
	x := newExRig(t)
	agentID, agentSecret := x.exchangeClient(t, "Agent")
	actor := x.agentToken(t, agentID, agentSecret)
	x.allowAgent(t, agentID, "tools:read")
	m, _ := exchangeOK(t, x.exchange(t, agentID, agentSecret, "subject_token="+x.user.Access, accessType,
		"actor_token="+actor, actorType, "resource="+exResource))
	tok := m["access_token"].(string)

	grantID := x.delegationID(t, agentID)
	expectStatus(t, x.s.do(t, "DELETE", "/api/v1/users/me/grants/"+grantID, nil, bearer(x.user.Access)), http.StatusNoContent)

	r := x.exchange(t, agentID, agentSecret, "subject_token="+x.user.Access, accessType, "actor_token="+actor, actorType, "resource="+exResource)
	expectO2Error(t, r, http.StatusBadRequest, gatehouse.OAuthInvalidGrant)
	if in := x.introspect(t, tok); in["active"] != false {
		t.Fatalf("a delegated token outlived its delegation: %v", in)
	}
}

// Chains: a delegated token exchanged again by another allowed agent nests act; three actors are
// accepted, a fourth is invalid_request.
func TestDelegationChainDepth(t *testing.T) {
	x := newExRig(t)
	aID, aSecret := x.exchangeClient(t, "Agent A")
	bID, bSecret := x.exchangeClient(t, "Agent B")
	aTok, bTok := x.agentToken(t, aID, aSecret), x.agentToken(t, bID, bSecret)
	x.allowAgent(t, aID, "tools:read tools:write")
	x.allowAgent(t, bID, "tools:read")

	step := func(subject, id, secret, actor string) *response {
		return x.exchange(t, id, secret, "subject_token="+subject, accessType, "actor_token="+actor, actorType, "resource="+exResource)
	}
	m1, c1 := exchangeOK(t, step(x.user.Access, aID, aSecret, aTok))
	m2, c2 := exchangeOK(t, step(m1["access_token"].(string), bID, bSecret, bTok))
	m3, c3 := exchangeOK(t, step(m2["access_token"].(string), aID, aSecret, aTok))
	if c1["scope"] != "tools:read tools:write" || c2["scope"] != "tools:read" || c3["scope"] != "tools:read" {
		t.Fatalf("scopes along the chain: %v, %v, %v (each at most the last one and the agent's allowance)", c1["scope"], c2["scope"], c3["scope"])
	}
	act := c3["act"].(map[string]any)
	inner := act["act"].(map[string]any)
	innermost := inner["act"].(map[string]any)
	if c3["sub"] != x.user.ID || act["sub"] != aID || inner["sub"] != bID || innermost["sub"] != aID || innermost["act"] != nil {
		t.Fatalf("act chain: %v", c3["act"])
	}
	r := step(m3["access_token"].(string), bID, bSecret, bTok)
	expectO2Error(t, r, http.StatusBadRequest, gatehouse.OAuthInvalidRequest)

	// A delegated token is not an actor token.
	r = x.exchange(t, aID, aSecret, "subject_token="+x.user.Access, accessType, "actor_token="+m1["access_token"].(string), actorType, "resource="+exResource)
	expectO2Error(t, r, http.StatusBadRequest, gatehouse.OAuthInvalidGrant)
	// Withdrawing A ends the whole chain built on A's first token.
	grantID := x.delegationID(t, aID)
	expectStatus(t, x.s.do(t, "DELETE", "/api/v1/users/me/grants/"+grantID, nil, bearer(x.user.Access)), http.StatusNoContent)
	if in := x.introspect(t, m2["access_token"].(string)); in["active"] != false {
		t.Fatalf("B's token built on A's outlived A's delegation: %v", in)
	}
}

// Each exchange is audited with both identities (the user as subject, the client and the actor),
// refused ones too, and counted in the metrics.
func TestExchangeAuditedWithBothIdentities(t *testing.T) {
	x := newExRig(t)
	agentID, agentSecret := x.exchangeClient(t, "Audited agent")
	actor := x.agentToken(t, agentID, agentSecret)
	r := x.exchange(t, agentID, agentSecret, "subject_token="+x.user.Access, accessType, "actor_token="+actor, actorType, "resource="+exResource)
	expectO2Error(t, r, http.StatusBadRequest, gatehouse.OAuthInvalidGrant)
	x.allowAgent(t, agentID, "tools:read")
	exchangeOK(t, x.exchange(t, agentID, agentSecret, "subject_token="+x.user.Access, accessType, "actor_token="+actor, actorType, "resource="+exResource))

	a := x.s.do(t, "GET", "/api/v1/admin/audit?type="+gatehouse.EventOAuthTokenExchanged, nil, bearer(x.admin.Access))
	expectStatus(t, a, http.StatusOK)
	items := a.json(t)["items"].([]any)
	outcomes := map[string]bool{}
	for _, it := range items {
		e := it.(map[string]any)
		detail, _ := e["detail"].(string)
		if e["user_id"] != x.user.ID || !strings.Contains(detail, "subject user "+x.user.ID) || !strings.Contains(detail, "client "+agentID) ||
			!strings.Contains(detail, "actor "+agentID) || !strings.Contains(detail, exResource) {
			t.Fatalf("audit entry without both identities: %v", e)
		}
		if strings.Contains(detail, x.user.Access) || strings.Contains(detail, actor) || strings.Contains(detail, agentSecret) {
			t.Fatal("a secret reached the audit log")
		}
		outcomes[e["outcome"].(string)] = true
	}
	if len(items) != 2 || !outcomes["success"] || !outcomes["failure"] {
		t.Fatalf("audit entries: %s", a.Body)
	}
	m := x.s.do(t, "GET", "/metrics", nil)
	for _, series := range []string{
		`gatehouse_security_events_total{outcome="success",type="oauth.token_exchanged"} 1`,
		`gatehouse_security_events_total{outcome="failure",type="oauth.token_exchanged"} 1`,
		`gatehouse_security_events_total{outcome="success",type="oauth.delegation_granted"} 1`,
	} {
		if !strings.Contains(string(m.Body), series) {
			t.Fatalf("metrics lack %s", series)
		}
	}
}

// Introspection shows act and the client: /api/v1/auth/introspect for resource servers, and
// /oauth2/introspect for the client the token was issued to.
func TestExchangeIntrospectionShowsAct(t *testing.T) {
	x := newExRig(t)
	agentID, agentSecret := x.exchangeClient(t, "Agent")
	actor := x.agentToken(t, agentID, agentSecret)
	x.allowAgent(t, agentID, "tools:read")
	m, _ := exchangeOK(t, x.exchange(t, agentID, agentSecret, "subject_token="+x.user.Access, accessType,
		"actor_token="+actor, actorType, "resource="+exResource))
	tok := m["access_token"].(string)

	in := x.introspect(t, tok)
	act, _ := in["act"].(map[string]any)
	if in["active"] != true || in["sub"] != x.user.ID || in["client_id"] != agentID || in["aud"] != exResource || act["sub"] != agentID {
		t.Fatalf("/api/v1/auth/introspect: %v", in)
	}
	r := x.s.o2Form(t, "/oauth2/introspect", url.Values{"token": {tok}}, o2Basic(agentID, agentSecret))
	expectStatus(t, r, http.StatusOK)
	o := r.json(t)
	act, _ = o["act"].(map[string]any)
	if o["active"] != true || o["client_id"] != agentID || act["sub"] != agentID {
		t.Fatalf("/oauth2/introspect: %s", r.Body)
	}
	// A token nobody acts through shows no act.
	key := x.s.createKey(t, x.user.Access, gatehouse.ScopeProfileRead)["api_key"].(string)
	m, _ = exchangeOK(t, x.exchange(t, x.svcID, x.svcSecret, "subject_token="+key, keyType, "resource="+exResource))
	if in := x.introspect(t, m["access_token"].(string)); in["active"] != true || in["act"] != nil || in["client_id"] != x.svcID {
		t.Fatalf("introspection of a plain exchange: %v", in)
	}
}

// A delegated token for Gatehouse's own API is an app's token there: its scopes only, and none of
// the endpoints that need the user's own session.
func TestDelegatedTokenOnOwnAPI(t *testing.T) {
	x := newExRig(t)
	agentID, agentSecret := x.exchangeClient(t, "Agent")
	actor := x.agentToken(t, agentID, agentSecret)
	b := x.userBrowser(t)
	q := url.Values{"client_id": {agentID}, "resource": {x.ownAPI}, "scope": {"profile:read"}}
	page := b.get("/oauth2/delegate?" + q.Encode())
	expectPage(t, page, http.StatusOK, "profile:read")
	form := url.Values{"client_id": {agentID}, "resource": {x.ownAPI}, "scope": {"profile:read"}, "decision": {"allow"}}
	expectRedirect(t, b.submit("/oauth2/delegate", form), "/account/apps?notice=delegation_allowed")

	m, c := exchangeOK(t, x.exchange(t, agentID, agentSecret, "subject_token="+x.user.Access, accessType,
		"actor_token="+actor, actorType, "resource="+x.ownAPI, "scope=profile:read credits:write"))
	if m["scope"] != "profile:read" || c["aud"] != x.ownAPI {
		t.Fatalf("answer %v", m)
	}
	tok := m["access_token"].(string)
	expectStatus(t, x.s.do(t, "GET", "/api/v1/users/me", nil, bearer(tok)), http.StatusOK)
	expectProblem(t, x.s.do(t, "GET", "/api/v1/users/me/sessions", nil, bearer(tok)), http.StatusForbidden, "")
	expectProblem(t, x.s.do(t, "POST", "/api/v1/api-keys", map[string]any{"name": "k"}, bearer(tok)), http.StatusForbidden, "")
	expectProblem(t, x.s.do(t, "GET", "/api/v1/users/me/grants", nil, bearer(tok)), http.StatusForbidden, "")
}

// Hostile and malformed requests get a clear 4xx, never a 500, and who may exchange is enforced:
// confidential clients registered for the grant only.
func TestExchangeRefusals(t *testing.T) {
	x := newExRig(t)
	key := x.s.createKey(t, x.user.Access)["api_key"].(string)
	id, secret := x.svcID, x.svcSecret

	pub := x.s.o2PublicClient(t)
	r := x.s.o2Form(t, "/oauth2/token", url.Values{"grant_type": {gatehouse.GrantTokenExchange}, "client_id": {pub},
		"subject_token": {key}, "subject_token_type": {gatehouse.TokenTypeAPIKey}})
	expectO2Error(t, r, http.StatusBadRequest, gatehouse.OAuthUnauthorizedClient)
	plainID, plainSecret := x.s.o2ConfidentialClient(t, "client_secret_basic")
	expectO2Error(t, x.exchange(t, plainID, plainSecret, "subject_token="+key, keyType), http.StatusBadRequest, gatehouse.OAuthUnauthorizedClient)
	expectO2Error(t, x.exchange(t, id, "wrong", "subject_token="+key, keyType), http.StatusUnauthorized, gatehouse.OAuthInvalidClient)
	// Dynamic registration cannot ask for the grant.
	reg := x.s.o2Register(t, map[string]any{"client_name": "x", "redirect_uris": []string{exRedirect},
		"token_endpoint_auth_method": "client_secret_basic", "grant_types": []string{"authorization_code", gatehouse.GrantTokenExchange}})
	expectO2Error(t, reg, http.StatusBadRequest, gatehouse.OAuthInvalidClientMetadata)

	for name, c := range map[string]struct {
		params []string
		code   string
	}{
		"no subject":          {[]string{keyType}, gatehouse.OAuthInvalidRequest},
		"no subject type":     {[]string{"subject_token=" + key}, gatehouse.OAuthInvalidRequest},
		"unknown type":        {[]string{"subject_token=" + key, "subject_token_type=urn:x"}, gatehouse.OAuthInvalidRequest},
		"refresh requested":   {[]string{"subject_token=" + key, keyType, "requested_token_type=urn:ietf:params:oauth:token-type:refresh_token"}, gatehouse.OAuthInvalidRequest},
		"actor type alone":    {[]string{"subject_token=" + key, keyType, actorType}, gatehouse.OAuthInvalidRequest},
		"actor without type":  {[]string{"subject_token=" + key, keyType, "actor_token=abc"}, gatehouse.OAuthInvalidRequest},
		"garbage key":         {[]string{"subject_token=ak_nope", keyType}, gatehouse.OAuthInvalidGrant},
		"key as access token": {[]string{"subject_token=" + key, accessType}, gatehouse.OAuthInvalidGrant},
		"garbage token":       {[]string{"subject_token=eyJ.eyJ.sig", accessType}, gatehouse.OAuthInvalidGrant},
		"huge token":          {[]string{"subject_token=" + strings.Repeat("a", 9000), accessType}, gatehouse.OAuthInvalidRequest},
		"unknown resource":    {[]string{"subject_token=" + key, keyType, "resource=https://nowhere.example/x"}, gatehouse.OAuthInvalidTarget},
		"two resources":       {[]string{"subject_token=" + key, keyType, "resource=" + exResource, "resource=" + x.ownAPI}, gatehouse.OAuthInvalidTarget},
		"audience differs":    {[]string{"subject_token=" + key, keyType, "resource=" + exResource, "audience=" + x.ownAPI}, gatehouse.OAuthInvalidTarget},
		"bad scope":           {[]string{"subject_token=" + key, keyType, "scope=a\"b"}, gatehouse.OAuthInvalidScope},
		"garbage actor":       {[]string{"subject_token=" + key, keyType, "actor_token=xyz", actorType}, gatehouse.OAuthInvalidGrant},
		"jwt actor":           {[]string{"subject_token=" + key, keyType, "actor_token=xyz", "actor_token_type=" + gatehouse.TokenTypeJWT}, gatehouse.OAuthInvalidRequest},
	} {
		t.Run(name, func(t *testing.T) {
			expectO2Error(t, x.exchange(t, id, secret, c.params...), http.StatusBadRequest, c.code)
		})
	}
	// audience alone names the resource.
	m, c := exchangeOK(t, x.exchange(t, id, secret, "subject_token="+key, keyType, "audience="+exResource, "scope=tools:read"))
	if c["aud"] != exResource || m["scope"] != "tools:read" {
		t.Fatalf("audience: %v", c)
	}
	// A disabled user's credentials exchange nothing.
	expectStatus(t, x.s.do(t, "PATCH", "/api/v1/admin/users/"+x.user.ID, map[string]any{"is_active": false}, bearer(x.admin.Access)), http.StatusOK)
	expectO2Error(t, x.exchange(t, id, secret, "subject_token="+x.user.Access, accessType, "resource="+exResource), http.StatusBadRequest, gatehouse.OAuthInvalidGrant)
	if in := x.introspect(t, m["access_token"].(string)); in["active"] != false {
		t.Fatalf("a disabled user's exchanged token is active: %v", in)
	}
}

// The delegation page refuses what it cannot show honestly: an unknown agent, a public client, a
// client not registered for token exchange, an unknown resource, a repeated parameter; signed-out
// visitors are sent to sign in first; a post without CSRF is refused.
func TestDelegationPageRefusals(t *testing.T) {
	x := newExRig(t)
	agentID, _ := x.exchangeClient(t, "Agent")
	plainID, _ := x.s.o2ConfidentialClient(t, "client_secret_basic")
	anon := x.s.webClient(t)
	q := url.Values{"client_id": {agentID}, "resource": {exResource}, "scope": {"tools:read"}}
	r := anon.get("/oauth2/delegate?" + q.Encode())
	expectRedirect(t, r, "/login?next="+url.QueryEscape("/oauth2/delegate?"+q.Encode()))

	b := x.userBrowser(t)
	for name, path := range map[string]string{
		"unknown agent":    "/oauth2/delegate?client_id=nobody&resource=" + url.QueryEscape(exResource),
		"public client":    "/oauth2/delegate?client_id=" + url.QueryEscape(x.s.o2PublicClient(t)),
		"no exchange":      "/oauth2/delegate?client_id=" + plainID,
		"unknown resource": "/oauth2/delegate?client_id=" + agentID + "&resource=https://nowhere.example/",
		"repeated":         "/oauth2/delegate?client_id=" + agentID + "&client_id=" + plainID,
		"no known scope":   "/oauth2/delegate?client_id=" + agentID + "&resource=" + url.QueryEscape(exResource) + "&scope=nope",
	} {
		t.Run(name, func(t *testing.T) { expectNoForm(t, b.get(path)) })
	}
	form := url.Values{"client_id": {agentID}, "resource": {exResource}, "scope": {"tools:read"}, "decision": {"allow"}}
	r = b.do("POST", "/oauth2/delegate", form, "Origin: "+x.s.URL, "Sec-Fetch-Site: same-origin")
	if r.Status < 400 || r.Status >= 500 {
		t.Fatalf("a post without CSRF: status %d", r.Status)
	}
	if gs := x.s.do(t, "GET", "/api/v1/users/me/grants", nil, bearer(x.user.Access)); strings.Contains(string(gs.Body), agentID) {
		t.Fatalf("a post without CSRF recorded a delegation: %s", gs.Body)
	}
}
