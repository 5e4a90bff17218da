package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Revocation (RFC 7009), introspection (RFC 7662) and userinfo (OpenID Connect Core §5.3 with
// RFC 6750 errors), as far as they are reachable without the browser sign-in.

// RFC 7009 §2.2: an invalid or unknown token is answered 200, so a client cannot probe tokens.
func TestOAuth2RevokeUnknownTokenIs200(t *testing.T) {
	s := startServer(t)
	id := s.o2PublicClient(t)
	for _, form := range []url.Values{
		{"token": {"no-such-token"}, "client_id": {id}},
		{"token": {"no-such-token"}, "token_type_hint": {"refresh_token"}, "client_id": {id}},
		{"token": {"no-such-token"}, "token_type_hint": {"access_token"}, "client_id": {id}},
	} {
		r := s.o2Form(t, "/oauth2/revoke", form)
		expectStatus(t, r, http.StatusOK)
	}
	id, secret := s.o2ConfidentialClient(t, "client_secret_basic")
	expectStatus(t, s.o2Form(t, "/oauth2/revoke", url.Values{"token": {"no-such-token"}}, o2Basic(id, secret)), http.StatusOK)
}

// RFC 7009 §2.1 and §2.2.1 (errors as RFC 6749 §5.2): the client is authenticated first; an
// unknown client or a wrong secret is 401 invalid_client.
func TestOAuth2RevokeInvalidClient(t *testing.T) {
	s := startServer(t)
	expectO2Error(t, s.o2Form(t, "/oauth2/revoke", url.Values{"token": {"x"}, "client_id": {"no-such-client"}}), http.StatusUnauthorized, "invalid_client")
	id, secret := s.o2ConfidentialClient(t, "client_secret_basic")
	r := s.o2Form(t, "/oauth2/revoke", url.Values{"token": {"x"}}, o2Basic(id, secret+"x"))
	expectO2Error(t, r, http.StatusUnauthorized, "invalid_client")
	if h := r.Header.Get("WWW-Authenticate"); !strings.HasPrefix(strings.ToLower(h), "basic") {
		t.Fatalf("WWW-Authenticate %q after Basic authentication, want the Basic scheme", h)
	}
	// A confidential client naming itself without its secret has not authenticated.
	expectO2Error(t, s.o2Form(t, "/oauth2/revoke", url.Values{"token": {"x"}, "client_id": {id}}), http.StatusUnauthorized, "invalid_client")
}

// RFC 7009 §2.1: token is REQUIRED; without it the request is invalid_request.
func TestOAuth2RevokeMissingToken(t *testing.T) {
	s := startServer(t)
	id := s.o2PublicClient(t)
	expectO2Error(t, s.o2Form(t, "/oauth2/revoke", url.Values{"client_id": {id}}), http.StatusBadRequest, "invalid_request")
}

// RFC 7009 §2.1: the server verifies that the token was issued to the client asking to revoke
// it. A first-party refresh token (issued to no OAuth client) survives a revocation request from
// a freshly registered client.
func TestOAuth2RevokeLeavesOtherClientsTokens(t *testing.T) {
	s := startServer(t)
	a := s.register(t)
	_, refresh := s.login(t, a.Email, a.Password)
	id := s.o2PublicClient(t)
	r := s.o2Form(t, "/oauth2/revoke", url.Values{"token": {refresh}, "token_type_hint": {"refresh_token"}, "client_id": {id}})
	if r.Status != http.StatusOK && r.Status/100 != 4 {
		t.Fatalf("revocation answered %d; body %s", r.Status, r.Body)
	}
	expectStatus(t, s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": refresh}), http.StatusOK)
}

// RFC 7662 §2.1: the introspection endpoint MUST require authorization; a public client has no
// credentials, so it is refused, as is a caller naming no client at all (401 invalid_client,
// RFC 7662 §2.3). For an identified public client, 400 unauthorized_client (RFC 6749 §5.2) is
// accepted too.
func TestOAuth2IntrospectRefusesPublicClients(t *testing.T) {
	s := startServer(t)
	id := s.o2PublicClient(t)
	for name, r := range map[string]*response{
		"public client": s.o2Form(t, "/oauth2/introspect", url.Values{"token": {"x"}, "client_id": {id}}),
		"no client":     s.o2Form(t, "/oauth2/introspect", url.Values{"token": {"x"}}),
	} {
		t.Run(name, func(t *testing.T) {
			if strings.Contains(string(r.Body), "\"active\"") {
				t.Fatalf("introspection answered an unauthenticated caller: %s", r.Body)
			}
			if name == "public client" && r.Status == http.StatusBadRequest {
				expectO2Error(t, r, http.StatusBadRequest, "unauthorized_client")
				return
			}
			expectO2Error(t, r, http.StatusUnauthorized, "invalid_client")
		})
	}
}

// RFC 7662 §2.3: wrong credentials at the introspection endpoint are 401.
func TestOAuth2IntrospectWrongSecret(t *testing.T) {
	s := startServer(t)
	id, secret := s.o2ConfidentialClient(t, "client_secret_basic")
	r := s.o2Form(t, "/oauth2/introspect", url.Values{"token": {"x"}}, o2Basic(id, secret+"x"))
	expectO2Error(t, r, http.StatusUnauthorized, "invalid_client")
}

// RFC 7662 §2.2: an unknown token is {"active": false}, and nothing else is said about it.
func TestOAuth2IntrospectUnknownTokenInactive(t *testing.T) {
	s := startServer(t)
	id, secret := s.o2ConfidentialClient(t, "client_secret_basic")
	for _, tok := range []string{"no-such-token", "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0."} {
		r := s.o2Form(t, "/oauth2/introspect", url.Values{"token": {tok}}, o2Basic(id, secret))
		expectStatus(t, r, http.StatusOK)
		m := r.json(t)
		if active, ok := m["active"].(bool); !ok || active {
			t.Fatalf("unknown token: %s, want {\"active\": false}", r.Body)
		}
		if len(m) != 1 {
			t.Fatalf("inactive answer says more than active: %s (RFC 7662 §2.2 SHOULD NOT)", r.Body)
		}
	}
	// client_secret_post works the same.
	id, secret = s.o2ConfidentialClient(t, "client_secret_post")
	r := s.o2Form(t, "/oauth2/introspect", url.Values{"token": {"no-such-token"}, "client_id": {id}, "client_secret": {secret}})
	expectStatus(t, r, http.StatusOK)
	if active, ok := r.json(t)["active"].(bool); !ok || active {
		t.Fatalf("unknown token: %s, want {\"active\": false}", r.Body)
	}
}

// RFC 7662 §4: "the authorization server MUST determine whether or not the token can be used at
// the protected resource making the introspection call". Anyone can register a confidential client;
// such a client must not learn who holds a first-party token of Gatehouse's own API.
func TestOAuth2IntrospectFirstPartyTokenNotDisclosed(t *testing.T) {
	s := startServer(t)
	a := s.register(t)
	id, secret := s.o2ConfidentialClient(t, "client_secret_basic")
	for _, tok := range []string{a.Access, a.Refresh} {
		r := s.o2Form(t, "/oauth2/introspect", url.Values{"token": {tok}}, o2Basic(id, secret))
		expectStatus(t, r, http.StatusOK)
		m := r.json(t)
		if active, _ := m["active"].(bool); active || strings.Contains(string(r.Body), a.Email) || strings.Contains(string(r.Body), a.ID) {
			t.Fatalf("a freshly registered client learned about a first-party token: %s", r.Body)
		}
	}
}

// RFC 6750 §3: a request to userinfo without a token is 401 with WWW-Authenticate: Bearer.
func TestOAuth2UserinfoWithoutToken(t *testing.T) {
	s := startServer(t)
	for _, method := range []string{"GET", "POST"} {
		r := s.do(t, method, "/oauth2/userinfo", nil)
		expectStatus(t, r, http.StatusUnauthorized)
		if h := r.Header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer") {
			t.Fatalf("%s: WWW-Authenticate %q, want Bearer", method, h)
		}
	}
}

// docs/oauth-server.md and OIDC Core §5.3: userinfo accepts the access token of an openid flow; a
// first-party access token from /api/v1/auth/login is not one, and is refused with 401.
func TestOAuth2UserinfoRefusesFirstPartyToken(t *testing.T) {
	s := startServer(t)
	a := s.register(t)
	for _, method := range []string{"GET", "POST"} {
		r := s.do(t, method, "/oauth2/userinfo", nil, bearer(a.Access))
		if r.Status != http.StatusUnauthorized {
			t.Fatalf("%s: status %d, want 401; body %s", method, r.Status, r.Body)
		}
		if strings.Contains(string(r.Body), a.Email) {
			t.Fatalf("%s: userinfo disclosed the user to a first-party token: %s", method, r.Body)
		}
		if h := r.Header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer") {
			t.Fatalf("%s: WWW-Authenticate %q, want Bearer", method, h)
		}
	}
}

// RFC 6750 §3 and §3.1: a token that fails is answered with error="invalid_token" in the
// WWW-Authenticate challenge.
func TestOAuth2UserinfoBadTokenSaysInvalidToken(t *testing.T) {
	s := startServer(t)
	a := s.register(t)
	for _, tok := range []string{"garbage", a.Access} {
		r := s.do(t, "GET", "/oauth2/userinfo", nil, bearer(tok))
		expectStatus(t, r, http.StatusUnauthorized)
		if h := r.Header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer") || !strings.Contains(h, `error="invalid_token"`) {
			t.Fatalf("WWW-Authenticate %q, want Bearer with error=\"invalid_token\"", h)
		}
	}
}

// docs/oauth-server.md and RFC 6749 §5.2: a revoked client is invalid_client at every endpoint that
// authenticates clients, not only at the token endpoint.
func TestOAuth2RevokedClientRefusedEverywhere(t *testing.T) {
	s := startServer(t)
	admin := s.admin(t)
	id, secret := s.o2ConfidentialClient(t, "client_secret_basic")
	expectStatus(t, s.o2Form(t, "/oauth2/introspect", url.Values{"token": {"x"}}, o2Basic(id, secret)), http.StatusOK)
	if r := s.do(t, "DELETE", "/api/v1/admin/oauth/clients/"+url.PathEscape(id), nil, bearer(admin.Access)); r.Status/100 != 2 {
		t.Fatalf("revoking: status %d; body %s", r.Status, r.Body)
	}
	for _, path := range []string{"/oauth2/token", "/oauth2/revoke", "/oauth2/introspect"} {
		r := s.o2Form(t, path, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}, "token": {"x"}}, o2Basic(id, secret))
		expectO2Error(t, r, http.StatusUnauthorized, "invalid_client")
	}
}
