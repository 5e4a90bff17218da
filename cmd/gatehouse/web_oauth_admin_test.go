package main

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var newSecretInput = regexp.MustCompile(`id="new-secret" class="mono" type="text" value="([^"]+)"`)

// TestWebOAuthAdminPages: admins register and revoke clients (a confidential client's secret is
// shown once, after a redirect), add and remove resources, and list and revoke grants per user
// and per client; non-admins get 403 and change nothing.
func TestWebOAuthAdminPages(t *testing.T) {
	s := startServer(t)
	user := s.register(t)
	ub := s.webClient(t)
	ub.signIn(user.Email, user.Password)
	for _, path := range []string{"/admin/oauth/clients", "/admin/oauth/resources", "/admin/oauth/grants"} {
		expectPage(t, ub.get(path), http.StatusForbidden, "Admins only")
	}
	expectPage(t, ub.submit("/admin/oauth/resources", url.Values{"action": {"add"}, "uri": {"https://x.example/api"}, "name": {"X"}}), http.StatusForbidden)

	adm := s.admin(t)
	b := s.webClient(t)
	b.signIn(adm.Email, adm.Password)
	expectPage(t, b.get("/account"), http.StatusOK, `href="/admin/oauth/clients"`, `href="/admin/oauth/resources"`, `href="/admin/oauth/grants"`)

	// Resources.
	expectRedirect(t, b.submit("/admin/oauth/resources", url.Values{"action": {"add"}, "uri": {"https://mcp.example/mcp"}, "name": {"Docs MCP"},
		"scopes": {"mcp:tools=Use the docs tools\r\nmcp:admin"}}), "/admin/oauth/resources?notice=resource_added")
	expectPage(t, b.get("/admin/oauth/resources"), http.StatusOK, "Docs MCP", "https://mcp.example/mcp", `title="Use the docs tools">mcp:tools</li>`, ">mcp:admin</li>")
	expectPage(t, b.submit("/admin/oauth/resources", url.Values{"action": {"add"}, "uri": {"https://mcp.example/mcp"}, "name": {"Again"}}),
		http.StatusUnprocessableEntity, "already registered", `id="f-uri"`)
	expectPage(t, b.submit("/admin/oauth/resources", url.Values{"action": {"add"}, "uri": {"ftp://x"}, "name": {""}}), http.StatusUnprocessableEntity, "A name is required")

	// A public client, then a confidential one whose secret is shown once.
	expectPage(t, b.submit("/admin/oauth/clients", url.Values{"action": {"create"}, "name": {"Bad"}, "redirect_uris": {"javascript:alert(1)"}}),
		http.StatusUnprocessableEntity, `id="f-redirect_uris"`, "cannot be a redirect URI")
	expectRedirect(t, b.submit("/admin/oauth/clients", url.Values{"action": {"create"}, "name": {"Desk CLI"}, "redirect_uris": {"http://127.0.0.1/cb"}}),
		"/admin/oauth/clients?notice=client_created")
	r := b.submit("/admin/oauth/clients", url.Values{"action": {"create"}, "name": {"Web Backend"},
		"redirect_uris": {"https://backend.example/cb\nhttps://backend.example/cb2"}, "confidential": {"on"}})
	expectRedirect(t, r, "/admin/oauth/clients")
	if c := setCookies(r)["gatehouse_new_secret"]; c == nil || strings.Contains(c.Value, "ghs_") || !c.HttpOnly {
		t.Fatalf("the new secret's cookie: %+v", c)
	}
	page := b.get("/admin/oauth/clients")
	m := newSecretInput.FindSubmatch(page.Body)
	if m == nil || !strings.HasPrefix(string(m[1]), "ghs_") {
		t.Fatalf("the new secret is not shown: %s", page.Body)
	}
	secret := string(m[1])
	clientID := regexp.MustCompile(`class="new-client-id">([^<]+)<`).FindStringSubmatch(string(page.Body))[1]
	expectPage(t, page, http.StatusOK, "Web Backend", "Desk CLI", "confidential", "public", "https://backend.example/cb2")
	if again := b.get("/admin/oauth/clients"); strings.Contains(string(again.Body), secret) {
		t.Fatal("the secret is shown twice")
	}
	// The secret is the client's: it authenticates at the introspection endpoint.
	intro := s.postForm(t, "/oauth2/introspect", url.Values{"token": {"nothing"}}, "Authorization: Basic "+basicAuth(clientID, secret))
	expectStatus(t, intro, http.StatusOK)

	// Grants of a user and of a client: a user connects the public client.
	cli := regexp.MustCompile(`<span class="strong">Desk CLI</span><br><code class="small">([^<]+)<`).FindStringSubmatch(string(page.Body))[1]
	o := newOAuthRequest(cli, "http://127.0.0.1:5000/cb", "resource=https://mcp.example/mcp", "scope=mcp:tools")
	code := s.expectCode(t, ub.decide(expectConsent(t, ub.get(o.path()), "Desk CLI", "Docs MCP"), "allow"), o)
	tok := s.exchangeCode(t, o, code)
	expectPage(t, b.get("/admin/oauth/grants"), http.StatusOK, "Name a user or a client")
	expectPage(t, b.get("/admin/users"), http.StatusOK, `href="/admin/oauth/grants?user=`+user.ID+`"`)
	expectPage(t, b.get("/admin/oauth/grants?user="+user.ID), http.StatusOK, "Desk CLI", "Docs MCP", "<li>mcp:tools</li>")
	byClient := b.get("/admin/oauth/grants?client=" + cli)
	expectPage(t, byClient, http.StatusOK, user.ID)
	grantID := regexp.MustCompile(`name="id" value="([^"]+)"`).FindStringSubmatch(string(byClient.Body))[1]
	expectRedirect(t, b.submit("/admin/oauth/grants", url.Values{"action": {"revoke"}, "id": {grantID}, "client": {cli}}),
		"/admin/oauth/grants?client="+cli+"&notice=grant_revoked")
	expectPage(t, b.get("/admin/oauth/grants?client="+cli), http.StatusOK, "No grants.")
	refresh, _ := tok["refresh_token"].(string)
	if r := s.postForm(t, "/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {cli}}); r.str(t, "error") != "invalid_grant" {
		t.Fatalf("refresh after an admin revoked the grant: %d %s", r.Status, r.Body)
	}

	// Revoking a client: it is unknown to the authorization endpoint afterwards.
	expectRedirect(t, b.submit("/admin/oauth/clients", url.Values{"action": {"revoke"}, "id": {cli}}), "/admin/oauth/clients?notice=client_revoked")
	expectPage(t, b.get("/admin/oauth/clients"), http.StatusOK, "Revoked")
	expectNoForm(t, ub.get(newOAuthRequest(cli, "http://127.0.0.1:5000/cb").path()))
	expectPage(t, b.submit("/admin/oauth/clients", url.Values{"action": {"revoke"}, "id": {cli}}), http.StatusNotFound, "already revoked")

	// Removing the resource.
	expectRedirect(t, b.submit("/admin/oauth/resources", url.Values{"action": {"remove"}, "uri": {"https://mcp.example/mcp"}}), "/admin/oauth/resources?notice=resource_removed")
	expectPage(t, b.get("/admin/oauth/resources"), http.StatusOK, "No resources registered")
}
