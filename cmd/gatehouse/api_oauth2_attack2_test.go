package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/gatehouse/gatehouse"
)

// The second hostile review of the machine grants (device flow, token exchange and delegation,
// client credentials with private_key_jwt). Each test here failed against the code it was written
// for; the name says what the attacker gets.

// A Client ID Metadata Document describes a client that nobody registered: whoever controls a web
// host writes it. Since private_key_jwt is accepted for metadata documents (its "jwks"), such a
// client is no longer public, and its document may list the token-exchange grant: the exchange
// checks only "not public" and "allows the grant", never that an operator registered the client.
// docs/oauth-server.md ("Who may exchange"): "Only confidential clients an operator registered for
// the grant ... Dynamic registration cannot ask for the grant: a self-registered client would
// otherwise turn any user token it comes by into tokens of its own." A self-described client is
// exactly as unvetted as a self-registered one, and here it turns a user's API key (or first-party
// token) into a token for any registered resource, with every scope of that resource, and may be
// offered as an agent on the delegation page.
func TestAttack2MetadataDocumentClientExchangesTokens(t *testing.T) {
	rig := newMachineRig(t, "GATEHOUSE_OAUTH_CIMD_ALLOW_PRIVATE_NETWORKS=true")
	host := startCIMDHost(t)
	key := newMachineKey(t, "attacker-key")
	doc := cimdDoc(host.URL + "/agent.json")
	doc["token_endpoint_auth_method"] = "private_key_jwt"
	doc["jwks"] = json.RawMessage(key.jwks(t))
	doc["grant_types"] = []string{"authorization_code", gatehouse.GrantTokenExchange}
	id := host.doc("/agent.json", doc)

	// A user's API key that the attacker's service came by (a key that was meant only to read the
	// user's profile on Gatehouse).
	victim := rig.s.register(t)
	apiKey := rig.s.createKey(t, victim.Access, gatehouse.ScopeProfileRead)["api_key"].(string)

	f := url.Values{"grant_type": {gatehouse.GrantTokenExchange}, "client_id": {id},
		"subject_token": {apiKey}, "subject_token_type": {gatehouse.TokenTypeAPIKey}, "resource": {rig.resource}}
	r := rig.s.o2Form(t, "/oauth2/token", withAssertion(f, key.assertion(t, assertionClaims(id, rig.token))))
	if r.Status == http.StatusOK {
		t.Fatalf("a client described by a metadata document on the attacker's host (never registered by an operator) exchanged "+
			"a user's profile:read API key for a token for %s: %s", rig.resource, r.Body)
	}
	expectO2Error(t, r, http.StatusBadRequest, "unauthorized_client")
}

// The same self-described client offered to users as an agent on the delegation page: the page
// checks only "not public" and "allows token exchange", so it shows the form, and Allow records a
// delegation to a client nobody registered.
func TestAttack2DelegationPageOffersMetadataDocumentAgent(t *testing.T) {
	rig := newMachineRig(t, "GATEHOUSE_OAUTH_CIMD_ALLOW_PRIVATE_NETWORKS=true")
	host := startCIMDHost(t)
	key := newMachineKey(t, "attacker-key")
	doc := cimdDoc(host.URL + "/agent.json")
	doc["token_endpoint_auth_method"] = "private_key_jwt"
	doc["jwks"] = json.RawMessage(key.jwks(t))
	doc["grant_types"] = []string{"authorization_code", gatehouse.GrantTokenExchange}
	id := host.doc("/agent.json", doc)
	victim := rig.s.register(t)
	b := rig.s.webClient(t)
	b.signIn(victim.Email, victim.Password)
	page := b.get("/oauth2/delegate?" + url.Values{"client_id": {id}, "resource": {rig.resource}, "scope": {"mcp:tools"}}.Encode())
	expectNoForm(t, page)
}

// The operator turns command-line sign-in off before anyone used it: docs/oauth-server.md says
// "gatehouse clients revoke gatehouse-cli turns command-line sign-in off, for good". But the
// built-in client is stored only on its first device request, so on a server where nobody has
// run "gatehouse login" yet the revocation finds no client and fails, and the next device request
// creates the client, live: an operator cannot keep the device flow's built-in public client (and
// with it API-key minting through the device flow) off before it is first used.
func TestAttack2RevokingCLIClientBeforeFirstUseDoesNotTurnItOff(t *testing.T) {
	s := startServer(t)
	stdout, stderr, err := runCLI(s.env, "clients", "revoke", gatehouse.CLIClientID)
	if err != nil {
		t.Errorf("gatehouse clients revoke %s on a server where nobody signed in with gatehouse login yet: %v (stdout %q, stderr %q)",
			gatehouse.CLIClientID, err, stdout, stderr)
	}
	r := s.deviceRequest(t, gatehouse.CLIClientID)
	if r.Status == http.StatusOK {
		t.Fatalf("after the operator revoked %s, a device request as %s still gets a code: %s", gatehouse.CLIClientID, gatehouse.CLIClientID, r.Body)
	}
	expectO2Error(t, r, http.StatusUnauthorized, "invalid_client")
}

// Removing a resource "removes a resource and every grant for it; sessions for it are revoked"
// (RemoveResource), and the first review fixed a removal that left a live session (A6). But only
// sessions of a grant are found: a token exchanged from an API key (no grant) and a
// client_credentials token (a machine session) for the removed resource stay active at
// introspection, where resource servers that check sessions (the kits' CheckSessions) ask. A
// resource the operator removed keeps accepting tokens Gatehouse says are live.
func TestAttack2RemovedResourceKeepsExchangedAndMachineTokensActive(t *testing.T) {
	x := newExRig(t)
	apiKey := x.s.createKey(t, x.user.Access, gatehouse.ScopeProfileRead)["api_key"].(string)
	m, _ := exchangeOK(t, x.exchange(t, x.svcID, x.svcSecret, "subject_token="+apiKey,
		"subject_token_type="+gatehouse.TokenTypeAPIKey, "resource="+exResource))
	exchanged := m["access_token"].(string)

	r := x.s.do(t, "POST", "/api/v1/admin/oauth/clients", map[string]any{"name": "Nightly job", "confidential": true,
		"grant_types": []string{"client_credentials"}, "scopes": []string{"tools:read"}}, bearer(x.admin.Access))
	expectStatus(t, r, http.StatusCreated)
	ccID, ccSecret := r.str(t, "client_id"), r.str(t, "client_secret")
	r = x.s.o2Form(t, "/oauth2/token", ccForm("resource="+exResource), o2Basic(ccID, ccSecret))
	_, _, body := machineToken(t, r)
	machine := body["access_token"].(string)

	for name, tok := range map[string]string{"exchanged": exchanged, "machine": machine} {
		if in := x.introspect(t, tok); in["active"] != true {
			t.Fatalf("%s token inactive before the removal: %v", name, in)
		}
	}
	r = x.s.do(t, "DELETE", "/api/v1/admin/oauth/resources?"+url.Values{"uri": {exResource}}.Encode(), nil, bearer(x.admin.Access))
	if r.Status/100 != 2 {
		t.Fatalf("remove resource: %d %s", r.Status, r.Body)
	}
	for name, tok := range map[string]string{"exchanged": exchanged, "machine": machine} {
		if in := x.introspect(t, tok); in["active"] == true {
			t.Errorf("the %s token for %s is still active at introspection after the operator removed the resource: %v", name, exResource, in)
		}
	}
}
