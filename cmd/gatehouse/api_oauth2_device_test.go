package main

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
)

// Device authorization (RFC 8628) over HTTP: the device's requests to the API, the user's
// approval on /device with a cookie jar.

// The whole flow, as the code exchange issues it: a grant session with a refresh token, an
// access token for the resource, an ID token with openid; the grant is the user's connected app.
func TestDeviceFlowIssuesTokensLikeTheCodeExchange(t *testing.T) {
	s := startServer(t)
	meta := s.do(t, "GET", "/.well-known/oauth-authorization-server", nil).json(t)
	if meta["device_authorization_endpoint"] != s.URL+"/oauth2/device_authorization" {
		t.Fatalf("device_authorization_endpoint %v", meta["device_authorization_endpoint"])
	}
	if grants, _ := meta["grant_types_supported"].([]any); !slices.Contains(grants, any(gatehouse.GrantDeviceCode)) {
		t.Fatalf("grant_types_supported %v lacks the device grant", grants)
	}

	r := s.deviceRequest(t, gatehouse.CLIClientID, "scope=openid profile:read")
	expectStatus(t, r, http.StatusOK)
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("device authorization cached: %v", r.Header)
	}
	m := r.json(t)
	device, code := m["device_code"].(string), m["user_code"].(string)
	if !userCodeShape.MatchString(code) || m["verification_uri"] != s.URL+"/device" ||
		m["verification_uri_complete"] != s.URL+"/device?user_code="+code || m["expires_in"] != float64(600) || m["interval"] != float64(5) {
		t.Fatalf("device authorization: %s", r.Body)
	}
	expectO2Error(t, s.devicePoll(t, gatehouse.CLIClientID, device), http.StatusBadRequest, gatehouse.OAuthAuthorizationPending)

	b, a := s.signedInBrowser(t)
	// The code is read case-insensitively, with or without its dash.
	typed := strings.ToLower(strings.ReplaceAll(code, "-", ""))
	b.decideDevice(typed, "allow", gatehouse.CLIClientName, gatehouse.CLIClientID, "profile:read", "See your profile", "openid", s.URL+"/api/v1", code)

	r = s.devicePoll(t, gatehouse.CLIClientID, device)
	expectStatus(t, r, http.StatusOK)
	tok := r.json(t)
	access, refresh, _ := tok["access_token"].(string), tok["refresh_token"].(string), tok["id_token"].(string)
	if access == "" || refresh == "" || tok["id_token"] == "" || tok["scope"] != "openid profile:read" || tok["token_type"] != "Bearer" {
		t.Fatalf("tokens: %s", r.Body)
	}
	if _, ok := tok["api_key"]; ok {
		t.Fatalf("an API key nobody asked for: %s", r.Body)
	}
	claims := claims(t, access)
	if claims["aud"] != s.URL+"/api/v1" || claims["sub"] != a.ID || claims["client_id"] != gatehouse.CLIClientID {
		t.Fatalf("access token claims: %v", claims)
	}
	me := s.do(t, "GET", "/api/v1/users/me", nil, bearer(access))
	expectStatus(t, me, http.StatusOK)
	if me.str(t, "email") != a.Email {
		t.Fatalf("/users/me: %s", me.Body)
	}
	expectStatus(t, s.do(t, "GET", "/oauth2/userinfo", nil, bearer(access)), http.StatusOK)
	// The refresh token rotates as every grant session's does.
	rr := s.o2Form(t, "/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {gatehouse.CLIClientID}})
	expectStatus(t, rr, http.StatusOK)
	if rr.str(t, "refresh_token") == refresh || rr.str(t, "access_token") == "" {
		t.Fatalf("refresh: %s", rr.Body)
	}
	grants := s.do(t, "GET", "/api/v1/users/me/grants", nil, bearer(a.Access))
	expectStatus(t, grants, http.StatusOK)
	if !strings.Contains(string(grants.Body), `"client_id":"`+gatehouse.CLIClientID+`"`) || !strings.Contains(string(grants.Body), "profile:read") {
		t.Fatalf("grants: %s", grants.Body)
	}
	// The built-in client is stored and listed, like any client.
	if out := s.cliOut(t, "clients", "list"); !strings.Contains(out, gatehouse.CLIClientID) {
		t.Fatalf("clients list: %s", out)
	}
}

// A device code is good once: the second poll after the tokens is invalid_grant, and of polls
// racing each other after the approval exactly one gets tokens.
func TestDeviceCodeSingleUse(t *testing.T) {
	s := startServer(t)
	b, _ := s.signedInBrowser(t)
	device, code := s.deviceStart(t, gatehouse.CLIClientID)
	b.decideDevice(code, "allow")
	rs := concurrently(8, func(int) *response { return s.devicePoll(t, gatehouse.CLIClientID, device) })
	if n := statusCounts(rs); n[http.StatusOK] != 1 || n[http.StatusBadRequest] != 7 {
		t.Fatalf("racing polls: %v", n)
	}
	for _, r := range rs {
		if r.Status == http.StatusBadRequest {
			expectO2Error(t, r, http.StatusBadRequest, gatehouse.OAuthInvalidGrant)
		}
	}
	expectO2Error(t, s.devicePoll(t, gatehouse.CLIClientID, device), http.StatusBadRequest, gatehouse.OAuthInvalidGrant)
	// The user code is spent too: the page says it is not valid.
	r := b.submit("/device", url.Values{"user_code": {code}})
	expectPage(t, r, http.StatusBadRequest, "That code is not valid")
}

// Polling faster than the interval is slow_down, and raises that code's interval by 5 s
// (RFC 8628 §3.5): 6 s after a slow_down is too soon for the raised interval (10 s); the interval
// keeps growing while the device keeps polling too fast. Time passes by moving the last poll
// back in the database.
func TestDeviceSlowDownRaisesTheInterval(t *testing.T) {
	s := startServer(t)
	device, _ := s.deviceStart(t, gatehouse.CLIClientID)
	expectO2Error(t, s.devicePoll(t, gatehouse.CLIClientID, device), http.StatusBadRequest, gatehouse.OAuthAuthorizationPending)
	expectO2Error(t, s.devicePoll(t, gatehouse.CLIClientID, device), http.StatusBadRequest, gatehouse.OAuthSlowDown)
	// 6 s later: enough for the first interval (5 s), not for the raised one (10 s), which
	// grows again (15 s).
	s.sqlExec(t, "UPDATE oauth_device_codes SET polled_at = polled_at - 6000000")
	expectO2Error(t, s.devicePoll(t, gatehouse.CLIClientID, device), http.StatusBadRequest, gatehouse.OAuthSlowDown)
	s.sqlExec(t, "UPDATE oauth_device_codes SET polled_at = polled_at - 14000000")
	expectO2Error(t, s.devicePoll(t, gatehouse.CLIClientID, device), http.StatusBadRequest, gatehouse.OAuthSlowDown)
	// 21 s later: more than the 20 s it has grown to.
	s.sqlExec(t, "UPDATE oauth_device_codes SET polled_at = polled_at - 21000000")
	expectO2Error(t, s.devicePoll(t, gatehouse.CLIClientID, device), http.StatusBadRequest, gatehouse.OAuthAuthorizationPending)
	// Another code keeps the server's interval.
	other, _ := s.deviceStart(t, gatehouse.CLIClientID)
	expectO2Error(t, s.devicePoll(t, gatehouse.CLIClientID, other), http.StatusBadRequest, gatehouse.OAuthAuthorizationPending)
}

// An expired code answers expired_token, and its user code no longer opens a page.
func TestDeviceCodeExpires(t *testing.T) {
	s := startServer(t)
	b, _ := s.signedInBrowser(t)
	device, code := s.deviceStart(t, gatehouse.CLIClientID)
	approved, approvedCode := s.deviceStart(t, gatehouse.CLIClientID)
	b.decideDevice(approvedCode, "allow")
	s.sqlExec(t, "UPDATE oauth_device_codes SET expires_at = created_at")
	expectO2Error(t, s.devicePoll(t, gatehouse.CLIClientID, device), http.StatusBadRequest, gatehouse.OAuthExpiredToken)
	// Approved but not fetched in time: expired too.
	expectO2Error(t, s.devicePoll(t, gatehouse.CLIClientID, approved), http.StatusBadRequest, gatehouse.OAuthExpiredToken)
	expectPage(t, b.get("/device/approve?user_code="+code), http.StatusBadRequest, "That code is not valid")
	expectPage(t, b.submit("/device", url.Values{"user_code": {code}}), http.StatusBadRequest, "That code is not valid")
}

// A denial answers access_denied to the device, and nothing is granted.
func TestDeviceDenial(t *testing.T) {
	s := startServer(t)
	b, a := s.signedInBrowser(t)
	device, code := s.deviceStart(t, gatehouse.CLIClientID)
	b.decideDevice(code, "deny")
	expectO2Error(t, s.devicePoll(t, gatehouse.CLIClientID, device), http.StatusBadRequest, gatehouse.OAuthAccessDenied)
	grants := s.do(t, "GET", "/api/v1/users/me/grants", nil, bearer(a.Access))
	if strings.Contains(string(grants.Body), gatehouse.CLIClientID) {
		t.Fatalf("a denial granted something: %s", grants.Body)
	}
	// Decided once: the code cannot be approved after all.
	r := b.submit("/device/approve", url.Values{"user_code": {code}, "decision": {"allow"}})
	expectPage(t, r, http.StatusBadRequest, "That code is not valid")
	expectO2Error(t, s.devicePoll(t, gatehouse.CLIClientID, device), http.StatusBadRequest, gatehouse.OAuthAccessDenied)
}

// Wrong user codes are limited per address and per signed-in user; right codes do not count.
// A wrong code says only that it is wrong.
func TestDeviceUserCodeGuessesAreRateLimited(t *testing.T) {
	s := startServer(t, "GATEHOUSE_RATE_LIMITS=device_code_user=3/15m,device_code_ip=5/15m")
	alice, _ := s.signedInBrowser(t)
	_, code := s.deviceStart(t, gatehouse.CLIClientID)
	for range 5 {
		alice.openDevicePage(code) // two look-ups each, none counted
	}
	wrong := []string{"BBBB-BBBB", "cccc-cccc", "not a code"}
	for _, w := range wrong {
		r := alice.submit("/device", url.Values{"user_code": {w}})
		expectPage(t, r, http.StatusBadRequest, "That code is not valid")
		if strings.Contains(string(r.Body), gatehouse.CLIClientName) || strings.Contains(string(r.Body), "decision") {
			t.Fatalf("a wrong code revealed something: %s", r.Body)
		}
	}
	// Alice is over her limit: even the right code waits, on every door.
	for _, r := range []*response{alice.submit("/device", url.Values{"user_code": {code}}), alice.get("/device/approve?user_code=" + code),
		alice.submit("/device/approve", url.Values{"user_code": {"DDDD-DDDD"}, "decision": {"deny"}})} {
		expectPage(t, r, http.StatusTooManyRequests)
		if n, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || n < 1 {
			t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
		}
	}
	// Bob, from the same address, has two guesses left there.
	bob, _ := s.signedInBrowser(t)
	expectPage(t, bob.submit("/device", url.Values{"user_code": {"FFFF-FFFF"}}), http.StatusBadRequest, "That code is not valid")
	expectPage(t, bob.get("/device/approve?user_code=GGGG-GGGG"), http.StatusBadRequest, "That code is not valid")
	expectPage(t, bob.submit("/device", url.Values{"user_code": {code}}), http.StatusTooManyRequests)
}

// A code belongs to the client that asked for it; clients need the device grant; unknown
// clients are invalid_client. Dynamic registration can register a device-only client.
func TestDeviceWrongClient(t *testing.T) {
	s := startServer(t)
	b, _ := s.signedInBrowser(t)
	reg := s.o2Register(t, map[string]any{"client_name": "Build agent", "token_endpoint_auth_method": "none",
		"grant_types": []string{gatehouse.GrantDeviceCode}})
	expectStatus(t, reg, http.StatusCreated)
	agent := reg.str(t, "client_id")
	webApp := s.o2PublicClient(t) // authorization_code only

	expectO2Error(t, s.deviceRequest(t, webApp), http.StatusBadRequest, gatehouse.OAuthUnauthorizedClient)
	expectO2Error(t, s.deviceRequest(t, "no-such-client"), http.StatusUnauthorized, gatehouse.OAuthInvalidClient)
	expectO2Error(t, s.deviceRequest(t, ""), http.StatusUnauthorized, gatehouse.OAuthInvalidClient)

	s.deviceStart(t, gatehouse.CLIClientID) // the built-in client exists from its first request on
	device, code := s.deviceStart(t, agent)
	b.decideDevice(code, "allow", "Build agent", "Unverified: self-registered", agent)
	expectO2Error(t, s.devicePoll(t, gatehouse.CLIClientID, device), http.StatusBadRequest, gatehouse.OAuthInvalidGrant)
	expectO2Error(t, s.devicePoll(t, webApp, device), http.StatusBadRequest, gatehouse.OAuthUnauthorizedClient)
	expectO2Error(t, s.devicePoll(t, "no-such-client", device), http.StatusUnauthorized, gatehouse.OAuthInvalidClient)
	// The wrong clients spent nothing: the right one still gets its tokens.
	r := s.devicePoll(t, agent, device)
	expectStatus(t, r, http.StatusOK)
	if r.str(t, "refresh_token") == "" {
		t.Fatalf("a public device client without a refresh token: %s", r.Body)
	}
	// An API key is the command line's to ask for, no one else's.
	expectO2Error(t, s.deviceRequest(t, agent, "api_key_name=Agent key"), http.StatusBadRequest, gatehouse.OAuthInvalidRequest)
}

// Resource and scope follow the authorization endpoint's rules: a registered resource (or the
// default), unknown scopes dropped; the poll cannot switch resources.
func TestDeviceResourceAndScopeRules(t *testing.T) {
	s := startServer(t)
	admin := s.admin(t)
	const mcp = "https://mcp.example.com/mcp"
	s.addOAuthResource(t, admin, mcp, "Example MCP", "mcp:tools=Use the example tools", "mcp:admin=Administer")
	b, _ := s.signedInBrowser(t)

	expectO2Error(t, s.deviceRequest(t, gatehouse.CLIClientID, "resource=https://unknown.example.com/mcp"), http.StatusBadRequest, gatehouse.OAuthInvalidTarget)
	expectO2Error(t, s.deviceRequest(t, gatehouse.CLIClientID, "resource="+mcp, "resource="+s.URL+"/api/v1"), http.StatusBadRequest, gatehouse.OAuthInvalidTarget)
	expectO2Error(t, s.deviceRequest(t, gatehouse.CLIClientID, "scope=a", "scope=b"), http.StatusBadRequest, gatehouse.OAuthInvalidRequest)

	// No resource named and one registered: that one. Unknown scopes are dropped.
	device, code := s.deviceStart(t, gatehouse.CLIClientID, "scope=mcp:tools bogus:scope")
	page := b.openDevicePage(code, "Example MCP", mcp, "mcp:tools", "Use the example tools")
	if strings.Contains(string(page.Body), "bogus:scope") || strings.Contains(string(page.Body), "mcp:admin") {
		t.Fatalf("the page shows scopes not granted: %s", page.Body)
	}
	r := b.submit("/device/approve", url.Values{"user_code": {code}, "decision": {"allow"}})
	expectRedirect(t, r, "/device/done?result=approved")
	expectO2Error(t, s.devicePoll(t, gatehouse.CLIClientID, device, "resource="+s.URL+"/api/v1"), http.StatusBadRequest, gatehouse.OAuthInvalidTarget)
	r = s.devicePoll(t, gatehouse.CLIClientID, device, "resource="+mcp)
	expectStatus(t, r, http.StatusOK)
	access := r.str(t, "access_token")
	if r.str(t, "scope") != "mcp:tools" || claims(t, access)["aud"] != mcp || r.str(t, "id_token") != "" {
		t.Fatalf("tokens for the resource: %s", r.Body)
	}
	// A token for another resource is refused by Gatehouse's own API.
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(access)), http.StatusUnauthorized)

	// Gatehouse's own API never grants keys:write or admin to an app.
	device, code = s.deviceStart(t, gatehouse.CLIClientID, "resource="+s.URL+"/api/v1", "scope=keys:write admin profile:read")
	b.decideDevice(code, "allow")
	r = s.devicePoll(t, gatehouse.CLIClientID, device)
	expectStatus(t, r, http.StatusOK)
	if r.str(t, "scope") != "profile:read" {
		t.Fatalf("own API scopes: %s", r.Body)
	}
}

// Hostile and malformed requests get RFC 6749 errors, never a 500.
func TestDeviceHostileInput(t *testing.T) {
	s := startServer(t)
	expectO2Error(t, s.do(t, "POST", "/oauth2/device_authorization", map[string]string{"client_id": gatehouse.CLIClientID}), http.StatusBadRequest, gatehouse.OAuthInvalidRequest)
	expectO2Error(t, s.o2Form(t, "/oauth2/device_authorization", url.Values{"client_id": {gatehouse.CLIClientID}}, "Authorization: Bearer x"), http.StatusBadRequest, gatehouse.OAuthInvalidRequest)
	expectO2Error(t, s.deviceRequest(t, gatehouse.CLIClientID, "scope="+strings.Repeat("a ", 3000)), http.StatusBadRequest, gatehouse.OAuthInvalidScope)
	expectO2Error(t, s.deviceRequest(t, gatehouse.CLIClientID, "api_key_name="), http.StatusBadRequest, gatehouse.OAuthInvalidRequest)
	expectO2Error(t, s.deviceRequest(t, gatehouse.CLIClientID, "api_key_name=k", "api_key_scope=admin"), http.StatusBadRequest, gatehouse.OAuthInvalidScope)
	expectO2Error(t, s.deviceRequest(t, gatehouse.CLIClientID, "api_key_name=k", "api_key_expires_in_days=0"), http.StatusBadRequest, gatehouse.OAuthInvalidRequest)
	expectO2Error(t, s.deviceRequest(t, gatehouse.CLIClientID, "api_key_name=k\u202e"), http.StatusBadRequest, gatehouse.OAuthInvalidRequest)
	expectO2Error(t, s.deviceRequest(t, gatehouse.CLIClientID, "client_secret=x"), http.StatusUnauthorized, gatehouse.OAuthInvalidClient)
	expectO2Error(t, s.devicePoll(t, gatehouse.CLIClientID, ""), http.StatusBadRequest, gatehouse.OAuthInvalidRequest)
	expectO2Error(t, s.devicePoll(t, gatehouse.CLIClientID, strings.Repeat("x", 5000)), http.StatusBadRequest, gatehouse.OAuthInvalidGrant)
	expectO2Error(t, s.devicePoll(t, gatehouse.CLIClientID, "made-up"), http.StatusBadRequest, gatehouse.OAuthInvalidGrant)

	// The pages: signed out goes to sign-in and back; posts need the CSRF token.
	device, code := s.deviceStart(t, gatehouse.CLIClientID)
	anon := s.webClient(t)
	r := anon.get("/device?user_code=" + code)
	expectRedirect(t, r, "/login?next="+url.QueryEscape("/device?user_code="+code))
	b, _ := s.signedInBrowser(t)
	r = b.do("POST", "/device/approve", url.Values{"user_code": {code}, "decision": {"allow"}}, "Origin: "+s.URL, "Sec-Fetch-Site: same-origin")
	expectPage(t, r, http.StatusForbidden)
	r = b.do("POST", "/device/approve", url.Values{"user_code": {code}, "decision": {"allow"}, "csrf_token": {b.csrf()}}, "Origin: https://evil.example", "Sec-Fetch-Site: cross-site")
	expectPage(t, r, http.StatusForbidden)
	expectPage(t, b.submit("/device/approve", url.Values{"user_code": {code}, "decision": {"maybe"}}), http.StatusBadRequest)
	expectPage(t, b.get("/device?user_code="+strings.Repeat("<script>", 10)), http.StatusOK)
	expectO2Error(t, s.devicePoll(t, gatehouse.CLIClientID, device), http.StatusBadRequest, gatehouse.OAuthAuthorizationPending)
}

// "gatehouse login --api-key": the page shows the key asked for; the token response carries it
// once; it works, is the user's, is listed and audited.
func TestDeviceAPIKeyIsMintedOnceAndAudited(t *testing.T) {
	s := startServer(t)
	b, a := s.signedInBrowser(t)
	device, code := s.deviceStart(t, gatehouse.CLIClientID, "api_key_name=CI <deploys>", "api_key_scope=credits:read profile:read", "api_key_expires_in_days=30")
	expectO2Error(t, s.devicePoll(t, gatehouse.CLIClientID, device), http.StatusBadRequest, gatehouse.OAuthAuthorizationPending)
	b.decideDevice(code, "allow", "Create an API key named", "CI &lt;deploys&gt;", "credits:read", "30 days")
	s.sqlExec(t, "UPDATE oauth_device_codes SET polled_at = polled_at - 6000000")
	r := s.devicePoll(t, gatehouse.CLIClientID, device)
	expectStatus(t, r, http.StatusOK)
	m := r.json(t)
	key, _ := m["api_key"].(string)
	if !gatehouse.WellFormedAPIKey(key) || m["api_key_name"] != "CI <deploys>" || m["access_token"] == "" {
		t.Fatalf("token response: %s", r.Body)
	}
	me := s.do(t, "GET", "/api/v1/users/me", nil, "X-API-Key: "+key)
	expectStatus(t, me, http.StatusOK)
	if me.str(t, "id") != a.ID {
		t.Fatalf("the key is not the user's: %s", me.Body)
	}
	// credits:read and profile:read, nothing else.
	expectStatus(t, s.do(t, "GET", "/api/v1/api-keys", nil, "X-API-Key: "+key), http.StatusForbidden)
	list := s.do(t, "GET", "/api/v1/api-keys", nil, bearer(a.Access))
	if !strings.Contains(string(list.Body), `"name":"CI \u003cdeploys\u003e"`) && !strings.Contains(string(list.Body), `"name":"CI <deploys>"`) {
		t.Fatalf("keys: %s", list.Body)
	}
	if strings.Contains(string(list.Body), key) {
		t.Fatal("the key's secret is listed")
	}
	audit := s.do(t, "GET", "/api/v1/users/me/audit", nil, bearer(a.Access))
	for _, event := range []string{"api_key.created", gatehouse.EventOAuthDeviceApproved} {
		if !strings.Contains(string(audit.Body), event) {
			t.Fatalf("audit lacks %s: %s", event, audit.Body)
		}
	}
	// Once: the code is spent, and the key is not shown again.
	r = s.devicePoll(t, gatehouse.CLIClientID, device)
	expectO2Error(t, r, http.StatusBadRequest, gatehouse.OAuthInvalidGrant)
	if strings.Contains(string(r.Body), key) {
		t.Fatal("the key was shown twice")
	}
	if strings.Contains(s.logs.String(), key) {
		t.Fatal("the key reached the log")
	}
}
