package main

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"testing"
)

// RFC 7662 §2.1 and §4: introspection is for protected resources about the tokens meant for them,
// and must not be a token-scanning oracle. Anyone on the internet can register a confidential
// client (dynamic registration is on by default) and then ask /oauth2/introspect about a
// Gatehouse dashboard/API access token: the answer says it is live, whose it is and its session.
func TestAttackOAuth2IntrospectionAnswersSelfRegisteredClientAboutFirstPartyToken(t *testing.T) {
	s := startServer(t)
	victim := s.register(t)
	reg := s.do(t, "POST", "/oauth2/register", map[string]any{"client_name": "Spy", "redirect_uris": []string{"https://spy.example/cb"},
		"token_endpoint_auth_method": "client_secret_basic"})
	expectStatus(t, reg, http.StatusCreated)
	id, secret := reg.str(t, "client_id"), reg.str(t, "client_secret")
	basic := "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))

	r := s.do(t, "POST", "/oauth2/introspect", url.Values{"token": {victim.Access}}.Encode(),
		"Content-Type: application/x-www-form-urlencoded", basic)
	expectStatus(t, r, http.StatusOK)
	if m := r.json(t); m["active"] == true {
		t.Fatalf("a self-registered client learned about a first-party access token: %s; want {\"active\":false}", r.Body)
	}
}
