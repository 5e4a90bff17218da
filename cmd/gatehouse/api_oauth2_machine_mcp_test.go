package main

// Interop: an MCP client with no user (io.modelcontextprotocol/oauth-client-credentials) calls
// the example MCP server (examples/mcp-server-go, the Go kit) with a client_credentials token
// from Gatehouse. With a secret, through the official MCP Go SDK's own handler
// (auth/extauth.ClientCredentialsHandler: 401 from the MCP server, protected-resource metadata,
// Gatehouse's metadata, the token request); with private_key_jwt, which that handler does not
// offer, through the extension's token request made by hand.

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth/extauth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"golang.org/x/oauth2"
)

func TestOAuth2MachineMCPClientCredentials(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs examples/mcp-server-go")
	}
	s := startServer(t)
	admin := s.admin(t)
	mcpURL := startExampleMCPServer(t, "mcp-server-go", s.URL)
	mcpResource(t, s, admin.Access, mcpURL)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	whoami := func(t *testing.T, session *mcp.ClientSession) (sub, scope string) {
		t.Helper()
		res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "whoami"})
		if err != nil {
			t.Fatalf("whoami: %v", err)
		}
		if res.IsError {
			t.Fatalf("whoami failed: %+v", res.Content)
		}
		var out struct{ Sub, Scope string }
		b, _ := json.Marshal(res.StructuredContent)
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("whoami answered %s", b)
		}
		return out.Sub, out.Scope
	}

	t.Run("the official Go SDK's client-credentials handler, with a secret", func(t *testing.T) {
		out := s.cliOut(t, "clients", "create", "--name", "MCP service", "--grant", "client_credentials", "--scope", "mcp:tools")
		id, secret := clientIDOf(t, out), lastOutputLine(out)
		log := &exchangeLog{}
		handler, err := extauth.NewClientCredentialsHandler(&extauth.ClientCredentialsHandlerConfig{
			Credentials: &oauthex.ClientCredentials{ClientID: id, ClientSecretAuth: &oauthex.ClientSecretAuth{ClientSecret: secret}, Issuer: s.URL},
			HTTPClient:  log.client(),
		})
		if err != nil {
			t.Fatal(err)
		}
		client := mcp.NewClient(&mcp.Implementation{Name: "gatehouse-machine-go", Version: "1.0.0"}, nil)
		session, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: mcpURL, OAuthHandler: handler, HTTPClient: log.client()}, nil)
		if err != nil {
			t.Fatalf("connect with the Go SDK: %v\nGatehouse log:\n%s", err, s.logs.String())
		}
		defer session.Close()
		defer func() { log.logTo(t) }()
		if sub, scope := whoami(t, session); sub != id || scope != "mcp:tools" {
			t.Fatalf("whoami says sub %q scope %q, want the client %q and mcp:tools", sub, scope, id)
		}
		tokens := log.find(func(x *exchange) bool { return x.URL == s.URL+"/oauth2/token" })
		if len(tokens) != 1 || tokens[0].Status != http.StatusOK || tokens[0].Form.Get("grant_type") != "client_credentials" {
			t.Fatalf("token requests: %d, want one client_credentials answered 200", len(tokens))
		}
		if first := log.find(func(x *exchange) bool { return x.URL == mcpURL }); len(first) == 0 || first[0].Status != http.StatusUnauthorized {
			t.Fatal("the SDK's first MCP request was not answered 401")
		}
	})

	t.Run("private_key_jwt, the extension's request by hand", func(t *testing.T) {
		key := newMachineKey(t, "agent-1")
		r := s.do(t, "POST", "/api/v1/admin/oauth/clients", map[string]any{"name": "MCP agent", "grant_types": []string{"client_credentials"},
			"scopes": []string{"mcp:tools"}, "jwks": json.RawMessage(key.jwks(t))}, bearer(admin.Access))
		expectStatus(t, r, http.StatusCreated)
		id := r.str(t, "client_id")
		meta := s.do(t, "GET", "/.well-known/oauth-authorization-server", nil).json(t)
		tokenURL := meta["token_endpoint"].(string)
		// As in the extension's example: no client_id, the assertion names the client.
		source := oauth2.ReuseTokenSource(nil, tokenSourceFunc(func() (*oauth2.Token, error) {
			form := url.Values{"grant_type": {"client_credentials"}, "resource": {mcpURL}, "scope": {"mcp:tools"},
				"client_assertion_type": {jwtBearer}, "client_assertion": {key.assertion(t, assertionClaims(id, tokenURL))}}
			resp, err := http.PostForm(tokenURL, form)
			if err != nil {
				return nil, err
			}
			defer resp.Body.Close()
			var tok struct {
				AccessToken string `json:"access_token"`
				TokenType   string `json:"token_type"`
				ExpiresIn   int64  `json:"expires_in"`
			}
			if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&tok) != nil {
				t.Errorf("token request answered %d", resp.StatusCode)
				return nil, context.Canceled
			}
			return &oauth2.Token{AccessToken: tok.AccessToken, TokenType: tok.TokenType, Expiry: time.Now().Add(time.Duration(tok.ExpiresIn) * time.Second)}, nil
		}))
		client := mcp.NewClient(&mcp.Implementation{Name: "gatehouse-machine-jwt", Version: "1.0.0"}, nil)
		session, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: mcpURL, HTTPClient: oauth2.NewClient(ctx, source)}, nil)
		if err != nil {
			t.Fatalf("connect: %v\nGatehouse log:\n%s", err, s.logs.String())
		}
		defer session.Close()
		if sub, scope := whoami(t, session); sub != id || scope != "mcp:tools" {
			t.Fatalf("whoami says sub %q scope %q, want the client %q and mcp:tools", sub, scope, id)
		}
	})
}

type tokenSourceFunc func() (*oauth2.Token, error)

func (f tokenSourceFunc) Token() (*oauth2.Token, error) { return f() }
