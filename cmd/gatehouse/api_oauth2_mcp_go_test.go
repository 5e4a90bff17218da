package main

// Interop: the official MCP Go SDK's client (github.com/modelcontextprotocol/go-sdk, its
// auth.AuthorizationCodeHandler) signs in to each example MCP server guarded by Gatehouse tokens
// (examples/mcp-server-go with the Go kit, examples/mcp-server-ts with the TypeScript kit and the
// official MCP TypeScript SDK, started through their run scripts) the way every MCP client does: 401 and WWW-Authenticate
// from the MCP server, protected-resource metadata (RFC 9728), Gatehouse's metadata (RFC 8414),
// dynamic registration (RFC 7591), the authorization code flow with PKCE S256 and resource
// (RFC 8707), iss in the response (RFC 9207), then tool calls and refreshes. The user's part
// (sign-in on /login, approval on the consent page) is played over HTTP with a cookie jar.

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// mcpResource registers the MCP server at mcpURL as a resource with scope mcp:tools, through
// the admin API.
func mcpResource(t *testing.T, s *testServer, adminToken, mcpURL string) {
	t.Helper()
	r := s.do(t, "POST", "/api/v1/admin/oauth/resources", map[string]any{
		"uri": mcpURL, "name": "Example MCP server", "scopes": []string{"mcp:tools=Call the example's tools"},
	}, bearer(adminToken))
	expectStatus(t, r, http.StatusCreated)
}

func TestOAuthInteropMCPGoSDK(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the example MCP servers")
	}
	for _, name := range exampleMCPServers(t) {
		t.Run(name, func(t *testing.T) { testMCPGoSDKAgainst(t, name) })
	}
}

func testMCPGoSDKAgainst(t *testing.T, example string) {
	// Access tokens live 2 s: x/oauth2 (under the SDK) refreshes a token 10 s before it expires,
	// so every request the SDK sends after the first exchange goes through a refresh.
	s := startServer(t, "GATEHOUSE_ACCESS_TOKEN_TTL=2s")
	// The example starts first (a first start installs its packages, which outlasts a 2 s
	// token); the admin signs in after it.
	mcpURL := startExampleMCPServer(t, example, s.URL)
	admin := s.admin(t)
	user := s.register(t)
	mcpResource(t, s, admin.Access, mcpURL)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	log := &exchangeLog{}
	person := newOAuthUser(t, s.URL, user.Email, user.Password)
	const redirectURI = "http://127.0.0.1:53682/callback" // never listened on: the test reads the redirect
	var authURLs []string
	handler, err := auth.NewAuthorizationCodeHandler(&auth.AuthorizationCodeHandlerConfig{
		DynamicClientRegistrationConfig: &auth.DynamicClientRegistrationConfig{
			Metadata: &oauthex.ClientRegistrationMetadata{
				RedirectURIs:            []string{redirectURI},
				ClientName:              "Go SDK interop client",
				GrantTypes:              []string{"authorization_code", "refresh_token"},
				ResponseTypes:           []string{"code"},
				TokenEndpointAuthMethod: "none",
			},
		},
		RequestRefreshToken: true,
		Client:              log.client(),
		AuthorizationCodeFetcher: func(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
			authURLs = append(authURLs, args.URL)
			back, err := person.authorize(ctx, args.URL)
			if err != nil {
				return nil, err
			}
			q := back.Query()
			return &auth.AuthorizationResult{Code: q.Get("code"), State: q.Get("state"), Iss: q.Get("iss")}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "gatehouse-interop-go", Version: "1.0.0"}, nil)
	session, err := client.Connect(ctx, &mcp.StreamableClientTransport{
		Endpoint: mcpURL, OAuthHandler: handler, HTTPClient: log.client(),
	}, nil)
	if err != nil {
		t.Fatalf("connect with the Go SDK: %v\nGatehouse log:\n%s", err, s.logs.String())
	}
	defer session.Close()

	whoami := func() (sub, scope string) {
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
	sub, scope := whoami()
	if sub != user.ID {
		t.Fatalf("whoami says sub %q, want the user %q", sub, user.ID)
	}
	if !slices.Contains(strings.Fields(scope), "mcp:tools") {
		t.Fatalf("whoami says scope %q, want mcp:tools in it", scope)
	}

	defer func() { log.logTo(t) }()

	t.Run("the MCP server's challenge led the SDK to Gatehouse", func(t *testing.T) {
		first := log.find(func(x *exchange) bool { return x.URL == mcpURL })
		if len(first) == 0 || first[0].Status != http.StatusUnauthorized {
			t.Fatalf("the SDK's first MCP request was not answered 401")
		}
		if ch := first[0].RespHeader.Get("WWW-Authenticate"); !strings.Contains(ch, "resource_metadata=") {
			t.Fatalf("401 without resource_metadata: %q", ch)
		}
		if len(log.find(func(x *exchange) bool {
			return strings.Contains(x.URL, "/.well-known/oauth-protected-resource") && x.Status == 200
		})) == 0 {
			t.Fatal("the SDK never read the protected-resource metadata")
		}
		if len(log.find(func(x *exchange) bool {
			return strings.HasPrefix(x.URL, s.URL+"/.well-known/") && x.Status == 200
		})) == 0 {
			t.Fatal("the SDK never read Gatehouse's metadata")
		}
		reg := log.find(func(x *exchange) bool { return x.URL == s.URL+"/oauth2/register" })
		if len(reg) != 1 || reg[0].Status != http.StatusCreated {
			t.Fatalf("registrations: %d, want one answered 201", len(reg))
		}
	})

	t.Run("authorization request: PKCE S256, resource, scope; consent page named the scope", func(t *testing.T) {
		if len(authURLs) != 1 {
			t.Fatalf("the SDK asked the user to authorize %d times, want 1", len(authURLs))
		}
		u, _ := url.Parse(authURLs[0])
		q := u.Query()
		if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
			t.Fatalf("authorization URL without S256 PKCE: %s", authURLs[0])
		}
		if q.Get("resource") != mcpURL {
			t.Fatalf("authorization URL resource %q, want %q", q.Get("resource"), mcpURL)
		}
		if !slices.Contains(strings.Fields(q.Get("scope")), "mcp:tools") {
			t.Fatalf("authorization URL scope %q lacks mcp:tools", q.Get("scope"))
		}
		consented := false
		for _, p := range person.Pages() {
			if strings.Contains(p, `name="decision"`) && strings.Contains(p, "mcp:tools") && strings.Contains(p, "Go SDK interop client") {
				consented = true
			}
		}
		if !consented {
			t.Fatalf("no consent page naming the client and mcp:tools among %d pages", len(person.Pages()))
		}
		code := log.find(func(x *exchange) bool {
			return x.URL == s.URL+"/oauth2/token" && x.Form.Get("grant_type") == "authorization_code"
		})
		if len(code) != 1 || code[0].Status != 200 {
			t.Fatalf("code exchanges: %d, want one answered 200", len(code))
		}
		if code[0].Form.Get("code_verifier") == "" || code[0].Form.Get("resource") != mcpURL {
			t.Fatalf("code exchange form %v lacks the verifier or the resource", code[0].Form)
		}
	})

	t.Run("the SDK refreshes and keeps calling", func(t *testing.T) {
		refreshes := func() []*exchange {
			return log.find(func(x *exchange) bool {
				return x.URL == s.URL+"/oauth2/token" && x.Form.Get("grant_type") == "refresh_token"
			})
		}
		bearers := func() []string {
			var out []string
			for _, x := range log.find(func(x *exchange) bool { return x.URL == mcpURL }) {
				if b := x.Header.Get("Authorization"); b != "" && !slices.Contains(out, b) {
					out = append(out, b)
				}
			}
			return out
		}
		before, firstBearer := len(refreshes()), bearers()[0]
		// Call until the SDK has refreshed since the first call and sent a token other than its
		// first; the context bounds the loop. With 2 s tokens the first call does it.
		for len(refreshes()) <= before || len(bearers()) < 2 {
			if ctx.Err() != nil {
				t.Fatalf("no refresh before the deadline: %d refreshes, %d distinct bearer tokens", len(refreshes()), len(bearers()))
			}
			if sub, _ := whoami(); sub != user.ID {
				t.Fatalf("after a refresh whoami says sub %q, want %q", sub, user.ID)
			}
		}
		if bearers()[0] != firstBearer {
			t.Fatal("bearer bookkeeping is off")
		}
		seen := map[string]bool{}
		for _, x := range refreshes() {
			if x.Status != 200 {
				t.Fatalf("a refresh was answered %d: %s", x.Status, x.RespBody)
			}
			rt := x.Form.Get("refresh_token")
			if seen[rt] {
				t.Fatal("the SDK presented one refresh token twice: rotation was not honoured")
			}
			seen[rt] = true
			var tok map[string]any
			if err := json.Unmarshal(x.RespBody, &tok); err != nil || tok["refresh_token"] == "" || tok["refresh_token"] == nil {
				t.Fatalf("refresh answer without a new refresh token: %s", x.RespBody)
			}
		}
	})
}
