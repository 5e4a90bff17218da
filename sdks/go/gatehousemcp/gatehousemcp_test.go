package gatehousemcp_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/gatehouse/gatehouse/sdks/go/gatehouseauth"
	"github.com/gatehouse/gatehouse/sdks/go/gatehousemcp"
	"github.com/gatehouse/gatehouse/sdks/go/gatehousetest"
)

type whoami struct {
	Sub    string `json:"sub"`
	Scope  string `json:"scope"`
	Client string `json:"client_id"`
}

// server runs an MCP server with a whoami tool behind gatehousemcp.Protect.
func server(t *testing.T, edit func(*gatehouseauth.Config)) (*gatehousetest.Issuer, *httptest.Server, *gatehouseauth.Verifier) {
	t.Helper()
	iss := gatehousetest.NewIssuer(nil)
	t.Cleanup(iss.Close)
	srv := httptest.NewUnstartedServer(nil)
	resource := "http://" + srv.Listener.Addr().String() + "/mcp"
	cfg := gatehouseauth.Config{Issuer: iss.URL, Resource: resource, HTTPClient: iss.Client(),
		IntrospectionKey: iss.IntrospectionKey, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if edit != nil {
		edit(&cfg)
	}
	v, err := gatehouseauth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := mcp.NewServer(&mcp.Implementation{Name: "test", Version: "0"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "whoami"}, func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, whoami, error) {
		p, ok := gatehousemcp.Principal(req.Extra.TokenInfo)
		if !ok {
			return nil, whoami{}, errors.New("no principal")
		}
		return nil, whoami{Sub: p.Subject, Scope: p.Scope(), Client: p.ClientID}, nil
	})
	mux := http.NewServeMux()
	v.HandleMetadata(mux)
	mux.Handle("/mcp", gatehousemcp.Protect(v, mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, nil), "mcp:tools"))
	srv.Config.Handler = mux
	srv.Start()
	t.Cleanup(srv.Close)
	return iss, srv, v
}

// headerTransport adds fixed headers to every request.
type headerTransport map[string]string

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range h {
		r.Header.Set(k, v)
	}
	return http.DefaultTransport.RoundTrip(r)
}

func callWhoami(t *testing.T, url string, headers map[string]string) (whoami, error) {
	t.Helper()
	ctx := context.Background()
	c := mcp.NewClient(&mcp.Implementation{Name: "test-client", Version: "0"}, nil)
	cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: &http.Client{Transport: headerTransport(headers)},
		MaxRetries: -1, DisableStandaloneSSE: true}, nil)
	if err != nil {
		return whoami{}, err
	}
	defer cs.Close()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "whoami"})
	if err != nil {
		return whoami{}, err
	}
	if res.IsError {
		t.Fatalf("tool error: %+v", res.Content)
	}
	var out whoami
	b, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out, nil
}

func TestProtect(t *testing.T) {
	iss, srv, v := server(t, nil)
	tok := iss.Mint(gatehousetest.Claims{Audience: v.Resource(), Subject: "user-7", Scope: "mcp:tools openid", ClientID: "cli"})
	got, err := callWhoami(t, srv.URL+"/mcp", map[string]string{"Authorization": "Bearer " + tok})
	if err != nil {
		t.Fatal(err)
	}
	if got != (whoami{Sub: "user-7", Scope: "mcp:tools openid", Client: "cli"}) {
		t.Fatalf("whoami %+v", got)
	}

	post := func(headers map[string]string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/mcp", nil)
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	base := `Bearer resource_metadata="` + v.MetadataURL() + `", scope="mcp:tools"`
	if resp := post(nil); resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != base {
		t.Errorf("no token: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	if resp := post(map[string]string{"Authorization": "Bearer junk"}); resp.StatusCode != 401 ||
		resp.Header.Get("WWW-Authenticate") != base+`, error="invalid_token"` {
		t.Errorf("bad token: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	weak := iss.Mint(gatehousetest.Claims{Audience: v.Resource(), Scope: "openid"})
	if resp := post(map[string]string{"Authorization": "Bearer " + weak}); resp.StatusCode != 403 ||
		resp.Header.Get("WWW-Authenticate") != base+`, error="insufficient_scope"` {
		t.Errorf("weak token: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	if _, err := callWhoami(t, srv.URL+"/mcp", nil); err == nil {
		t.Error("the MCP client connected without a token")
	}
}

// TestSessionBoundToUser: the SDK binds an MCP session to the UserID the adapter supplies, so
// another user's token cannot ride on it.
func TestSessionBoundToUser(t *testing.T) {
	iss, srv, v := server(t, nil)
	alice := iss.Mint(gatehousetest.Claims{Audience: v.Resource(), Subject: "alice", Scope: "mcp:tools"})
	bob := iss.Mint(gatehousetest.Claims{Audience: v.Resource(), Subject: "bob", Scope: "mcp:tools"})
	init := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}`
	send := func(tok, session, body string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/mcp", stringsReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("MCP-Protocol-Version", "2025-06-18")
		if session != "" {
			req.Header.Set("Mcp-Session-Id", session)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	resp := send(alice, "", init)
	sid := resp.Header.Get("Mcp-Session-Id")
	if resp.StatusCode != 200 || sid == "" {
		t.Fatalf("initialize: %d session %q", resp.StatusCode, sid)
	}
	list := `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`
	if resp := send(bob, sid, list); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("bob on alice's session: %d", resp.StatusCode)
	}
	if resp := send(alice, sid, list); resp.StatusCode != 200 {
		t.Fatalf("alice on her session: %d", resp.StatusCode)
	}
}

func TestProtectWithAPIKey(t *testing.T) {
	iss, srv, _ := server(t, func(c *gatehouseauth.Config) { c.AcceptAPIKeys = true })
	key := "ak_0123456789abcdefghijklmnopqrstuvABCDEF"
	iss.AddAPIKey(key, gatehousetest.APIKey{Subject: "svc", KeyID: "k1", Scope: "mcp:tools"})
	got, err := callWhoami(t, srv.URL+"/mcp", map[string]string{"X-API-Key": key})
	if err != nil {
		t.Fatal(err)
	}
	if got.Sub != "svc" || got.Scope != "mcp:tools" {
		t.Fatalf("whoami %+v", got)
	}
}

func TestTokenVerifier(t *testing.T) {
	iss, _, v := server(t, nil)
	verify := gatehousemcp.TokenVerifier(v)
	tok := iss.Mint(gatehousetest.Claims{Audience: v.Resource(), Subject: "u", Scope: "mcp:tools"})
	info, err := verify(context.Background(), tok, nil)
	if err != nil {
		t.Fatal(err)
	}
	if info.UserID != "u" || len(info.Scopes) != 1 || info.Expiration.IsZero() {
		t.Fatalf("%+v", info)
	}
	if p, ok := gatehousemcp.Principal(info); !ok || p.Subject != "u" {
		t.Fatal("no principal in TokenInfo")
	}
	other := iss.Mint(gatehousetest.Claims{Audience: "http://elsewhere/mcp"})
	if _, err := verify(context.Background(), other, nil); !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("foreign token: %v", err)
	}
}
