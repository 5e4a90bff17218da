package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The token endpoint's refusals: RFC 6749 §2.3, §3.2, §5.1, §5.2, §6 and OAuth 2.1. Everything
// here is reachable without the browser sign-in.

func o2Refresh(clientID, token string) url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}, "client_id": {clientID}}
}

// RFC 6749 §5.2: a grant type the server does not support is unsupported_grant_type; OAuth 2.1
// removed the password grant, and the implicit "token" is not a grant type at all.
func TestOAuth2TokenUnsupportedGrantType(t *testing.T) {
	s := startServer(t)
	id := s.o2PublicClient(t)
	for _, gt := range []string{"password", "urn:example:teleport", "implicit"} {
		r := s.o2Form(t, "/oauth2/token", url.Values{"grant_type": {gt}, "client_id": {id}, "username": {"a@example.com"}, "password": {"x"}})
		expectO2Error(t, r, http.StatusBadRequest, "unsupported_grant_type")
	}
}

// RFC 6749 §4.1.3 and §5.2: grant_type is REQUIRED; without it the request is invalid_request.
func TestOAuth2TokenMissingGrantType(t *testing.T) {
	s := startServer(t)
	id := s.o2PublicClient(t)
	expectO2Error(t, s.o2Form(t, "/oauth2/token", url.Values{"client_id": {id}, "refresh_token": {"x"}}), http.StatusBadRequest, "invalid_request")
	// RFC 6749 §3.2: a parameter sent without a value is treated as omitted.
	expectO2Error(t, s.o2Form(t, "/oauth2/token", url.Values{"grant_type": {""}, "client_id": {id}, "refresh_token": {"x"}}), http.StatusBadRequest, "invalid_request")
}

// RFC 6749 §3.2 and §4.1.3: parameters come as application/x-www-form-urlencoded; a JSON body
// is invalid_request, even when it names every parameter.
func TestOAuth2TokenJSONBodyRefused(t *testing.T) {
	s := startServer(t)
	id := s.o2PublicClient(t)
	r := s.do(t, "POST", "/oauth2/token", map[string]string{"grant_type": "refresh_token", "refresh_token": "x", "client_id": id})
	expectO2Error(t, r, http.StatusBadRequest, "invalid_request")
}

// RFC 6749 §3.2: request parameters MUST NOT be included more than once; a repeated parameter
// is invalid_request (§5.2), whichever parameter it is.
func TestOAuth2TokenRepeatedParameterRefused(t *testing.T) {
	s := startServer(t)
	id := s.o2PublicClient(t)
	for name, body := range map[string]string{
		"refresh_token": "grant_type=refresh_token&refresh_token=a&refresh_token=b&client_id=" + url.QueryEscape(id),
		"grant_type":    "grant_type=refresh_token&grant_type=refresh_token&refresh_token=a&client_id=" + url.QueryEscape(id),
		"client_id":     "grant_type=refresh_token&refresh_token=a&client_id=" + url.QueryEscape(id) + "&client_id=" + url.QueryEscape(id),
		"code":          "grant_type=authorization_code&code=a&code=b&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcallback&code_verifier=" + o2Verifier + "&client_id=" + url.QueryEscape(id),
	} {
		t.Run(name, func(t *testing.T) {
			r := s.do(t, "POST", "/oauth2/token", body, "Content-Type: application/x-www-form-urlencoded")
			expectO2Error(t, r, http.StatusBadRequest, "invalid_request")
		})
	}
}

// RFC 6749 §5.2: an unknown client is invalid_client, 401 (docs/oauth-server.md: so clients re-register);
// when the client used HTTP Basic, the 401 carries WWW-Authenticate with the Basic scheme.
func TestOAuth2TokenUnknownClient(t *testing.T) {
	s := startServer(t)
	expectO2Error(t, s.o2Form(t, "/oauth2/token", o2Refresh("no-such-client", "x")), http.StatusUnauthorized, "invalid_client")
	r := s.o2Form(t, "/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}, o2Basic("no-such-client", "secret"))
	expectO2Error(t, r, http.StatusUnauthorized, "invalid_client")
	if h := r.Header.Get("WWW-Authenticate"); !strings.HasPrefix(strings.ToLower(h), "basic") {
		t.Fatalf("WWW-Authenticate %q after Basic authentication, want the Basic scheme", h)
	}
}

// docs/oauth-server.md and RFC 6749 §5.2: a revoked client is invalid_client, 401, at once.
func TestOAuth2TokenRevokedClient(t *testing.T) {
	s := startServer(t)
	admin := s.admin(t)
	id := s.o2PublicClient(t)
	expectO2Error(t, s.o2Form(t, "/oauth2/token", o2Refresh(id, "x")), http.StatusBadRequest, "invalid_grant")
	r := s.do(t, "DELETE", "/api/v1/admin/oauth/clients/"+url.PathEscape(id), nil, bearer(admin.Access))
	if r.Status/100 != 2 {
		t.Fatalf("revoking client %s: status %d; body %s", id, r.Status, r.Body)
	}
	expectO2Error(t, s.o2Form(t, "/oauth2/token", o2Refresh(id, "x")), http.StatusUnauthorized, "invalid_client")
}

// An operator-created client (admin API) is a client like any other, and revoking it through the
// admin API makes it invalid_client.
func TestOAuth2TokenAdminCreatedClientRevoked(t *testing.T) {
	s := startServer(t)
	admin := s.admin(t)
	r := s.do(t, "POST", "/api/v1/admin/oauth/clients", map[string]any{
		"client_name":                "Operator app",
		"name":                       "Operator app",
		"redirect_uris":              []string{"https://app.example.com/callback"},
		"token_endpoint_auth_method": "none",
	}, bearer(admin.Access))
	if r.Status != http.StatusCreated && r.Status != http.StatusOK {
		t.Fatalf("creating a client: status %d; body %s", r.Status, r.Body)
	}
	id := r.str(t, "client_id")
	if id == "" {
		t.Fatalf("no client_id: %s", r.Body)
	}
	expectO2Error(t, s.o2Form(t, "/oauth2/token", o2Refresh(id, "x")), http.StatusBadRequest, "invalid_grant")
	if r := s.do(t, "DELETE", "/api/v1/admin/oauth/clients/"+url.PathEscape(id), nil, bearer(admin.Access)); r.Status/100 != 2 {
		t.Fatalf("revoking: status %d; body %s", r.Status, r.Body)
	}
	expectO2Error(t, s.o2Form(t, "/oauth2/token", o2Refresh(id, "x")), http.StatusUnauthorized, "invalid_client")
}

// RFC 6749 §5.2: a wrong secret is invalid_client, 401; over HTTP Basic the answer carries
// WWW-Authenticate matching the scheme the client used.
func TestOAuth2TokenWrongSecretBasic(t *testing.T) {
	s := startServer(t)
	id, secret := s.o2ConfidentialClient(t, "client_secret_basic")
	r := s.o2Form(t, "/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}, o2Basic(id, secret+"x"))
	expectO2Error(t, r, http.StatusUnauthorized, "invalid_client")
	if h := r.Header.Get("WWW-Authenticate"); !strings.HasPrefix(strings.ToLower(h), "basic") {
		t.Fatalf("WWW-Authenticate %q, want the Basic scheme (RFC 6749 §5.2)", h)
	}
}

// RFC 6749 §2.3.1 and §5.2: a wrong secret in the body is invalid_client too.
func TestOAuth2TokenWrongSecretPost(t *testing.T) {
	s := startServer(t)
	id, secret := s.o2ConfidentialClient(t, "client_secret_post")
	form := o2Refresh(id, "x")
	form.Set("client_secret", secret+"x")
	expectO2Error(t, s.o2Form(t, "/oauth2/token", form), http.StatusUnauthorized, "invalid_client")
}

// RFC 6749 §2.3 and §3.2.1: a confidential client MUST authenticate; naming its client_id alone
// is not authentication.
func TestOAuth2TokenConfidentialClientWithoutSecretRefused(t *testing.T) {
	s := startServer(t)
	for _, method := range []string{"client_secret_basic", "client_secret_post"} {
		id, _ := s.o2ConfidentialClient(t, method)
		expectO2Error(t, s.o2Form(t, "/oauth2/token", o2Refresh(id, "x")), http.StatusUnauthorized, "invalid_client")
	}
}

// RFC 6749 §2.3.1: with the right secret, over Basic or in the body, authentication passes and
// the request reaches the grant (here a bogus refresh token: invalid_grant). The Basic
// credentials are form-urlencoded before base64.
func TestOAuth2TokenRightSecretReachesTheGrant(t *testing.T) {
	s := startServer(t)
	id, secret := s.o2ConfidentialClient(t, "client_secret_basic")
	expectO2Error(t, s.o2Form(t, "/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}, o2Basic(id, secret)), http.StatusBadRequest, "invalid_grant")
	id, secret = s.o2ConfidentialClient(t, "client_secret_post")
	form := o2Refresh(id, "x")
	form.Set("client_secret", secret)
	expectO2Error(t, s.o2Form(t, "/oauth2/token", form), http.StatusBadRequest, "invalid_grant")
}

// RFC 6749 §2.3: the client MUST NOT use more than one authentication method in a request.
func TestOAuth2TokenTwoAuthenticationMethodsRefused(t *testing.T) {
	s := startServer(t)
	id, secret := s.o2ConfidentialClient(t, "client_secret_basic")
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}, "client_id": {id}, "client_secret": {secret}}
	r := s.o2Form(t, "/oauth2/token", form, o2Basic(id, secret))
	if r.Status == http.StatusBadRequest {
		expectO2Error(t, r, http.StatusBadRequest, "invalid_request")
	} else {
		expectO2Error(t, r, http.StatusUnauthorized, "invalid_client")
	}
}

// OAuth 2.1 §2.4 and RFC 7591 §2 (token_endpoint_auth_method none): a public client has no
// secret; one that sends a secret is not the client it claims to be.
func TestOAuth2TokenPublicClientSendingSecretRefused(t *testing.T) {
	s := startServer(t)
	id := s.o2PublicClient(t)
	form := o2Refresh(id, "x")
	form.Set("client_secret", "made-up")
	expectO2Error(t, s.o2Form(t, "/oauth2/token", form), http.StatusUnauthorized, "invalid_client")
	r := s.o2Form(t, "/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}, o2Basic(id, "made-up"))
	expectO2Error(t, r, http.StatusUnauthorized, "invalid_client")
}

// RFC 6749 §5.2: an authorization code the server never issued is invalid_grant.
func TestOAuth2TokenBogusAuthorizationCode(t *testing.T) {
	s := startServer(t)
	id := s.o2PublicClient(t)
	r := s.o2Form(t, "/oauth2/token", url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {"bogus-code-" + strings.Repeat("x", 30)},
		"redirect_uri":  {"http://127.0.0.1/callback"},
		"code_verifier": {o2Verifier},
		"client_id":     {id},
	})
	expectO2Error(t, r, http.StatusBadRequest, "invalid_grant")
}

// RFC 6749 §5.2 and §6: a refresh token the server never issued is invalid_grant.
func TestOAuth2TokenBogusRefreshToken(t *testing.T) {
	s := startServer(t)
	id := s.o2PublicClient(t)
	for _, tok := range []string{"bogus", strings.Repeat("A", 43), "rt_" + strings.Repeat("0", 40)} {
		expectO2Error(t, s.o2Form(t, "/oauth2/token", o2Refresh(id, tok)), http.StatusBadRequest, "invalid_grant")
	}
}

// RFC 6749 §6 ("the refresh token was issued to the authenticated client"): a first-party refresh
// token from /api/v1/auth/login was issued to no OAuth client; /oauth2/token refuses it with
// invalid_grant and spends nothing, so it still works at /api/v1/auth/refresh.
func TestOAuth2TokenFirstPartyRefreshTokenRefused(t *testing.T) {
	s := startServer(t)
	a := s.register(t)
	_, refresh := s.login(t, a.Email, a.Password)
	id := s.o2PublicClient(t)
	r := s.o2Form(t, "/oauth2/token", o2Refresh(id, refresh))
	expectO2Error(t, r, http.StatusBadRequest, "invalid_grant")
	if strings.Contains(string(r.Body), "access_token") {
		t.Fatalf("first-party refresh token bought an OAuth token: %s", r.Body)
	}
	ok := s.do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": refresh})
	expectStatus(t, ok, http.StatusOK)
}

// RFC 6749 §5.1 (and the contract: answers that carry or refuse tokens are not cached): the
// token endpoint answers with Cache-Control: no-store, errors included.
func TestOAuth2TokenAnswersAreNotCached(t *testing.T) {
	s := startServer(t)
	id := s.o2PublicClient(t)
	for name, r := range map[string]*response{
		"invalid_grant":          s.o2Form(t, "/oauth2/token", o2Refresh(id, "x")),
		"invalid_client":         s.o2Form(t, "/oauth2/token", o2Refresh("nobody", "x")),
		"unsupported_grant_type": s.o2Form(t, "/oauth2/token", url.Values{"grant_type": {"password"}, "client_id": {id}}),
		"invalid_request":        s.o2Form(t, "/oauth2/token", url.Values{"client_id": {id}}),
	} {
		if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
			t.Errorf("%s answer (status %d): Cache-Control %q, want no-store", name, r.Status, cc)
		}
	}
}

// RFC 6749 §3.2: the token endpoint takes POST only.
func TestOAuth2TokenGetRefused(t *testing.T) {
	s := startServer(t)
	id := s.o2PublicClient(t)
	r := s.do(t, "GET", "/oauth2/token?"+o2Refresh(id, "x").Encode(), nil)
	if r.Status/100 == 2 {
		t.Fatalf("GET /oauth2/token answered %d: %s", r.Status, r.Body)
	}
	if r.Status != http.StatusMethodNotAllowed && r.Status != http.StatusBadRequest {
		t.Fatalf("GET /oauth2/token: status %d, want 405 or 400; body %s", r.Status, r.Body)
	}
}

// RFC 6749 §2.3.1: client credentials "can only be transmitted in the request-body and MUST NOT
// be included in the request URI". A secret in the query string does not authenticate the client.
func TestOAuth2TokenSecretInQueryRefused(t *testing.T) {
	s := startServer(t)
	id, secret := s.o2ConfidentialClient(t, "client_secret_post")
	query := url.Values{"client_secret": {secret}}.Encode()
	r := s.do(t, "POST", "/oauth2/token?"+query, o2Refresh(id, "x").Encode(), "Content-Type: application/x-www-form-urlencoded")
	if r.Status == http.StatusBadRequest {
		expectO2Error(t, r, http.StatusBadRequest, "invalid_request")
		return
	}
	expectO2Error(t, r, http.StatusUnauthorized, "invalid_client")
}

// RFC 6749 §3.2: parameters are read from the body; the query string cannot add one, nor repeat
// one the body already has (§3.2: no parameter more than once).
func TestOAuth2TokenQueryParametersDoNotCount(t *testing.T) {
	s := startServer(t)
	id := s.o2PublicClient(t)
	// grant_type only in the query: the body has none, so the request is invalid_request.
	r := s.do(t, "POST", "/oauth2/token?grant_type=refresh_token", url.Values{"refresh_token": {"x"}, "client_id": {id}}.Encode(), "Content-Type: application/x-www-form-urlencoded")
	expectO2Error(t, r, http.StatusBadRequest, "invalid_request")
}

// RFC 6749 §2.3 and §3.2.1: a client authenticated over Basic cannot speak for another client by
// naming it in the body.
func TestOAuth2TokenBasicAndBodyClientMismatchRefused(t *testing.T) {
	s := startServer(t)
	id, secret := s.o2ConfidentialClient(t, "client_secret_basic")
	other := s.o2PublicClient(t)
	r := s.o2Form(t, "/oauth2/token", o2Refresh(other, "x"), o2Basic(id, secret))
	if r.Status == http.StatusBadRequest {
		expectO2Error(t, r, http.StatusBadRequest, "invalid_request")
		return
	}
	expectO2Error(t, r, http.StatusUnauthorized, "invalid_client")
}

// RFC 6749 §4.4: the client credentials grant MUST only be used by confidential clients; a public
// client gets no token from it.
func TestOAuth2TokenClientCredentialsRefusedForPublicClient(t *testing.T) {
	s := startServer(t)
	id := s.o2PublicClient(t)
	r := s.o2Form(t, "/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {id}})
	if strings.Contains(string(r.Body), "access_token") {
		t.Fatalf("public client got a token from client_credentials: %s", r.Body)
	}
	if r.Status == http.StatusUnauthorized {
		expectO2Error(t, r, http.StatusUnauthorized, "invalid_client")
		return
	}
	expectO2ErrorIn(t, r, http.StatusBadRequest, "unauthorized_client", "unsupported_grant_type")
}

// Contract §1 (bodies over 1 MiB get 413) with §8 (RFC 6749 error bodies): a huge token request
// is refused, never a 500.
func TestOAuth2TokenOversizedBodyRefused(t *testing.T) {
	s := startServer(t)
	id := s.o2PublicClient(t)
	form := o2Refresh(id, strings.Repeat("a", 2<<20))
	expectO2Error(t, s.o2Form(t, "/oauth2/token", form), http.StatusRequestEntityTooLarge, "")
}
