package main

import (
	"net/http"
	"strings"
	"testing"
)

// Resources (RFC 8707), the admin API of the authorization server, and a user's grants.

func o2AddResource(t *testing.T, s *testServer, admin *account, uri string) *response {
	t.Helper()
	return s.do(t, "POST", "/api/v1/admin/oauth/resources", map[string]any{
		"uri": uri, "name": "Test resource", "scopes": []string{"mcp:tools", "mcp:resources"},
	}, bearer(admin.Access))
}

// RFC 8707 §2: resources are absolute URIs the operator registers; a registered one is listed.
func TestOAuth2ResourceRegister(t *testing.T) {
	s := startServer(t, "GATEHOUSE_PUBLIC_URL="+o2PublicURL)
	admin := s.admin(t)
	r := o2AddResource(t, s, admin, "https://mcp.example.com/mcp")
	if r.Status != http.StatusCreated && r.Status != http.StatusOK {
		t.Fatalf("adding a resource: status %d; body %s", r.Status, r.Body)
	}
	list := s.do(t, "GET", "/api/v1/admin/oauth/resources", nil, bearer(admin.Access))
	expectStatus(t, list, http.StatusOK)
	if !strings.Contains(string(list.Body), "https://mcp.example.com/mcp") || !strings.Contains(string(list.Body), "mcp:tools") {
		t.Fatalf("resource not listed with its scopes: %s", list.Body)
	}
}

// A resource URI is registered once: a duplicate is 409 (contract §1: a problem document, since
// this is the /api/v1 admin API).
func TestOAuth2ResourceDuplicateConflict(t *testing.T) {
	s := startServer(t, "GATEHOUSE_PUBLIC_URL="+o2PublicURL)
	admin := s.admin(t)
	if r := o2AddResource(t, s, admin, "https://mcp.example.com/mcp"); r.Status/100 != 2 {
		t.Fatalf("adding a resource: status %d; body %s", r.Status, r.Body)
	}
	expectProblem(t, o2AddResource(t, s, admin, "https://mcp.example.com/mcp"), http.StatusConflict, "")
}

// docs/oauth-server.md: Gatehouse's own API is the resource {PUBLIC_URL}/api/v1, built in; neither it nor
// the issuer itself can be registered as another resource (422).
func TestOAuth2ResourceOwnAPIRefused(t *testing.T) {
	s := startServer(t, "GATEHOUSE_PUBLIC_URL="+o2PublicURL)
	admin := s.admin(t)
	for _, uri := range []string{o2PublicURL, o2PublicURL + "/api/v1"} {
		t.Run(uri, func(t *testing.T) {
			expectProblem(t, o2AddResource(t, s, admin, uri), http.StatusUnprocessableEntity, "")
		})
	}
}

// RFC 3986 §6.2.2.1 and §6.2.3: scheme and host are case-insensitive, the default port may be
// omitted and an empty path is "/" for https; URIs equivalent to the issuer or to
// {PUBLIC_URL}/api/v1 by that normalisation name the same resources, and are refused like them.
func TestOAuth2ResourceOwnAPIRefusedInEquivalentForms(t *testing.T) {
	s := startServer(t, "GATEHOUSE_PUBLIC_URL="+o2PublicURL)
	admin := s.admin(t)
	for _, uri := range []string{o2PublicURL + "/", "HTTPS://AUTH.EXAMPLE.COM/api/v1", "https://Auth.Example.com", "https://auth.example.com:443/api/v1"} {
		t.Run(uri, func(t *testing.T) {
			expectProblem(t, o2AddResource(t, s, admin, uri), http.StatusUnprocessableEntity, "")
		})
	}
}

// RFC 8707 §2: a resource is an absolute URI and MUST NOT include a fragment.
func TestOAuth2ResourceInvalidURIRefused(t *testing.T) {
	s := startServer(t, "GATEHOUSE_PUBLIC_URL="+o2PublicURL)
	admin := s.admin(t)
	for _, uri := range []string{"https://mcp.example.com/mcp#frag", "/mcp", "mcp.example.com", "", "javascript:alert(1)"} {
		t.Run(uri, func(t *testing.T) {
			expectProblem(t, o2AddResource(t, s, admin, uri), http.StatusUnprocessableEntity, "")
		})
	}
}

// Contract §1: the admin API of the authorization server is for admins: 403 for a signed-in
// user, 401 for an anonymous caller.
func TestOAuth2AdminAPIForbiddenForUsers(t *testing.T) {
	s := startServer(t, "GATEHOUSE_PUBLIC_URL="+o2PublicURL)
	user := s.register(t)
	for _, rt := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/api/v1/admin/oauth/clients", nil},
		{"POST", "/api/v1/admin/oauth/clients", map[string]any{"client_name": "x", "redirect_uris": []string{"https://a.example/cb"}}},
		{"DELETE", "/api/v1/admin/oauth/clients/some-client", nil},
		{"GET", "/api/v1/admin/oauth/resources", nil},
		{"POST", "/api/v1/admin/oauth/resources", map[string]any{"uri": "https://mcp.example.com/mcp", "name": "x", "scopes": []string{"a"}}},
		{"DELETE", "/api/v1/admin/oauth/resources?uri=https%3A%2F%2Fmcp.example.com%2Fmcp", nil},
		{"GET", "/api/v1/admin/oauth/grants", nil},
		{"DELETE", "/api/v1/admin/oauth/grants/some-grant", nil},
	} {
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			expectProblem(t, s.do(t, rt.method, rt.path, rt.body, bearer(user.Access)), http.StatusForbidden, "")
			expectProblem(t, s.do(t, rt.method, rt.path, rt.body), http.StatusUnauthorized, "")
		})
	}
}

// A new user has no grants: GET /api/v1/users/me/grants is 200 with an empty list.
func TestOAuth2UserGrantsEmptyForNewUser(t *testing.T) {
	s := startServer(t)
	user := s.register(t)
	r := s.do(t, "GET", "/api/v1/users/me/grants", nil, bearer(user.Access))
	expectStatus(t, r, http.StatusOK)
	expectProblem(t, s.do(t, "GET", "/api/v1/users/me/grants", nil), http.StatusUnauthorized, "")
	body := strings.TrimSpace(string(r.Body))
	if body == "[]" {
		return
	}
	m := r.json(t)
	found := false
	for _, v := range m {
		if list, ok := v.([]any); ok {
			if len(list) != 0 {
				t.Fatalf("new user has grants: %s", r.Body)
			}
			found = true
		}
	}
	if !found {
		t.Fatalf("no list in %s", r.Body)
	}
}

// Revoking a grant the user does not have is 404 (not 204: nothing was revoked).
func TestOAuth2UserGrantRevokeUnknown(t *testing.T) {
	s := startServer(t)
	user := s.register(t)
	expectProblem(t, s.do(t, "DELETE", "/api/v1/users/me/grants/no-such-grant", nil, bearer(user.Access)), http.StatusNotFound, "")
	expectProblem(t, s.do(t, "DELETE", "/api/v1/users/me/grants/no-such-grant", nil), http.StatusUnauthorized, "")
}

// Revoking an unknown client through the admin API is 404.
func TestOAuth2AdminRevokeUnknownClient(t *testing.T) {
	s := startServer(t)
	admin := s.admin(t)
	expectProblem(t, s.do(t, "DELETE", "/api/v1/admin/oauth/clients/no-such-client", nil, bearer(admin.Access)), http.StatusNotFound, "")
}

// The operator's path to a client obeys the same redirect URI rules as dynamic registration
// (RFC 6749 §3.1.2: absolute, no fragment; RFC 8252 §8.3: http on loopback only; never a script
// scheme): the admin API refuses them with 422.
func TestOAuth2AdminCreateClientRedirectRules(t *testing.T) {
	s := startServer(t)
	admin := s.admin(t)
	for _, uri := range []string{"javascript:alert(1)", "https://app.example.com/cb#frag", "http://app.example.com/cb", "/relative"} {
		t.Run(uri, func(t *testing.T) {
			r := s.do(t, "POST", "/api/v1/admin/oauth/clients", map[string]any{
				"client_name": "Operator app", "name": "Operator app",
				"redirect_uris": []string{uri}, "token_endpoint_auth_method": "none",
			}, bearer(admin.Access))
			expectProblem(t, r, http.StatusUnprocessableEntity, "")
		})
	}
}
