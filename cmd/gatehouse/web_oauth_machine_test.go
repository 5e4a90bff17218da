package main

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestWebOAuthAdminClientCredentials: the dashboard's client form registers a client_credentials
// service (no redirect URI, confidential, with scopes), whose secret gets it a token of its own;
// a service without scopes is refused beside the scopes field.
func TestWebOAuthAdminClientCredentials(t *testing.T) {
	s := startServer(t)
	adm := s.admin(t)
	b := s.webClient(t)
	b.signIn(adm.Email, adm.Password)
	expectRedirect(t, b.submit("/admin/oauth/resources", url.Values{"action": {"add"}, "uri": {"https://mcp.example/mcp"}, "name": {"Docs MCP"},
		"scopes": {"mcp:tools"}}), "/admin/oauth/resources?notice=resource_added")

	expectPage(t, b.submit("/admin/oauth/clients", url.Values{"action": {"create"}, "name": {"Cron"}, "client_credentials": {"on"}}),
		http.StatusUnprocessableEntity, `id="f-scopes"`, "needs at least one scope")
	expectPage(t, b.submit("/admin/oauth/clients", url.Values{"action": {"create"}, "name": {"No grant"}}),
		http.StatusUnprocessableEntity, `id="f-redirect_uris"`, "At least one redirect URI")

	r := b.submit("/admin/oauth/clients", url.Values{"action": {"create"}, "name": {"Cron"}, "client_credentials": {"on"}, "scopes": {"mcp:tools"}})
	expectRedirect(t, r, "/admin/oauth/clients")
	page := b.get("/admin/oauth/clients")
	m := newSecretInput.FindSubmatch(page.Body)
	if m == nil || !strings.HasPrefix(string(m[1]), "ghs_") {
		t.Fatalf("the new secret is not shown: %s", page.Body)
	}
	clientID := regexp.MustCompile(`class="new-client-id">([^<]+)<`).FindStringSubmatch(string(page.Body))[1]
	expectPage(t, page, http.StatusOK, "Cron", "client credentials: <code>mcp:tools</code>")
	tok := s.postForm(t, "/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, "Authorization: Basic "+basicAuth(clientID, string(m[1])))
	expectStatus(t, tok, http.StatusOK)
	if tok.json(t)["scope"] != "mcp:tools" {
		t.Fatalf("token response: %s", tok.Body)
	}
}
