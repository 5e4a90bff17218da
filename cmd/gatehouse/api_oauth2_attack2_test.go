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
