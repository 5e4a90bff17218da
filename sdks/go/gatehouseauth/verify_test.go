package gatehouseauth_test

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/sdks/go/gatehouseauth"
	"github.com/gatehouse/gatehouse/sdks/go/gatehousetest"
)

// TestChallengeMatrix sends every kind of credential a resource server meets to a route that
// needs mcp:tools and checks the status and the exact WWW-Authenticate challenge.
func TestChallengeMatrix(t *testing.T) {
	r := newRig(t, nil)
	foreign := gatehousetest.NewIssuer(r.clk.Now)
	defer foreign.Close()

	noToken := `Bearer resource_metadata="` + metadataURL + `", scope="mcp:tools"`
	badToken := noToken + `, error="invalid_token"`
	mint := func(edit func(*gatehousetest.Claims)) map[string]string { return bearer(r.token(edit)) }
	noneAlg := func() map[string]string {
		good := r.token(nil)
		parts := strings.Split(good, ".")
		hdr := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"at+jwt","kid":"` + r.iss.KeyID() + `"}`))
		return bearer(hdr + "." + parts[1] + ".")
	}

	cases := []struct {
		name      string
		target    string
		headers   map[string]string
		status    int
		challenge string
		reason    string
	}{
		{"no token", "/mcp", nil, 401, noToken, ""},
		{"token in the query string is ignored", "/mcp?access_token=" + r.token(nil), nil, 401, noToken, ""},
		{"another scheme", "/mcp", map[string]string{"Authorization": "Basic dXNlcjpwYXNz"}, 401, noToken, ""},
		{"garbage", "/mcp", bearer("not-a-token"), 401, badToken, "not a JWT"},
		{"garbage with dots", "/mcp", bearer("a.b.c"), 401, badToken, "malformed token or algorithm not accepted"},
		{"empty bearer", "/mcp", map[string]string{"Authorization": "Bearer "}, 401, badToken, "malformed Authorization header"},
		{"alg none", "/mcp", noneAlg(), 401, badToken, "malformed token or algorithm not accepted"},
		{"expired", "/mcp", mint(func(c *gatehousetest.Claims) {
			c.IssuedAt = r.clk.Now().Add(-20 * time.Minute)
			c.ExpiresAt = r.clk.Now().Add(-6 * time.Second)
		}), 401, badToken, "token expired"},
		{"not valid yet", "/mcp", mint(func(c *gatehousetest.Claims) { c.NotBefore = r.clk.Now().Add(time.Minute) }), 401, badToken, "token not valid yet"},
		{"issued in the future", "/mcp", mint(func(c *gatehousetest.Claims) { c.IssuedAt = r.clk.Now().Add(time.Minute) }), 401, badToken, "token issued in the future"},
		{"wrong iss", "/mcp", mint(func(c *gatehousetest.Claims) { c.Issuer = "https://evil.example" }), 401, badToken, "token issued by another issuer"},
		{"iss with a trailing slash", "/mcp", mint(func(c *gatehousetest.Claims) { c.Issuer = r.iss.URL + "/" }), 401, badToken, "token issued by another issuer"},
		{"wrong aud", "/mcp", mint(func(c *gatehousetest.Claims) { c.Audience = "http://other.test/mcp" }), 401, badToken, "token is for another resource"},
		{"aud a prefix of the resource", "/mcp", mint(func(c *gatehousetest.Claims) { c.Audience = "http://api.test" }), 401, badToken, "token is for another resource"},
		{"aud extending the resource", "/mcp", mint(func(c *gatehousetest.Claims) { c.Audience = resource + "/admin" }), 401, badToken, "token is for another resource"},
		{"aud differing in case", "/mcp", mint(func(c *gatehousetest.Claims) { c.Audience = "http://API.test/mcp" }), 401, badToken, "token is for another resource"},
		{"several aud", "/mcp", mint(func(c *gatehousetest.Claims) { c.Audiences = []string{resource, "http://other.test/mcp"} }), 401, badToken, "token is for several audiences"},
		{"empty aud array", "/mcp", mint(func(c *gatehousetest.Claims) { c.Audiences = []string{} }), 401, badToken, `token has no "aud"`},
		{"first-party token (aud = the issuer)", "/mcp", mint(func(c *gatehousetest.Claims) {
			c.Audience, c.ClientID, c.Scope = r.iss.URL, "", ""
		}), 401, badToken, "token is for another resource"},
		{"Gatehouse API token", "/mcp", mint(func(c *gatehousetest.Claims) { c.Audience = r.iss.URL + "/api/v1" }), 401, badToken, "token is for another resource"},
		{"typ JWT (an ID token, say)", "/mcp", mint(func(c *gatehousetest.Claims) { c.Type = "JWT" }), 401, badToken, `token type is not "at+jwt"`},
		{"signed by another issuer's key", "/mcp", bearer(foreign.Mint(gatehousetest.Claims{Issuer: r.iss.URL, Audience: resource, Scope: "mcp:tools"})), 401, badToken, "unknown signing key"},
		{"another key under the issuer's kid", "/mcp", bearer(forgeKid(foreign, r.iss.KeyID(), r.iss.URL)), 401, badToken, "bad signature"},
		{"API key while API keys are off", "/mcp", bearer("ak_0123456789abcdefABCDEF0123456789xyzXYZ"), 401, badToken, "API keys are not accepted here"},
		{"X-API-Key while API keys are off", "/mcp", map[string]string{"X-API-Key": "ak_0123456789"}, 401, noToken, ""},
		{"missing scope", "/mcp", mint(func(c *gatehousetest.Claims) { c.Scope = "openid profile" }), 403,
			`Bearer resource_metadata="` + metadataURL + `", scope="mcp:tools", error="insufficient_scope"`, "the token lacks a scope this operation needs"},
		{"right token", "/mcp", mint(nil), 200, "", ""},
		{"right token, aud an array of one", "/mcp", mint(func(c *gatehousetest.Claims) { c.Audiences = []string{resource} }), 200, "", ""},
		{"right token, typ application/AT+JWT", "/mcp", mint(func(c *gatehousetest.Claims) { c.Type = "application/AT+JWT" }), 200, "", ""},
		{"right token, expired within the leeway", "/mcp", mint(func(c *gatehousetest.Claims) {
			c.IssuedAt = r.clk.Now().Add(-15 * time.Minute)
			c.ExpiresAt = r.clk.Now().Add(-4 * time.Second)
		}), 200, "", ""},
		{"right token, lower-case scheme", "/mcp", map[string]string{"Authorization": "bearer " + r.token(nil)}, 200, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := r.call(tc.target, tc.headers, "mcp:tools")
			if a.status != tc.status {
				t.Fatalf("status %d, want %d (body %v)", a.status, tc.status, a.body)
			}
			if a.challenge != tc.challenge {
				t.Errorf("WWW-Authenticate\n got %s\nwant %s", a.challenge, tc.challenge)
			}
			if tc.status != 200 && tc.reason != "" && a.body["error_description"] != tc.reason {
				t.Errorf("error_description %q, want %q", a.body["error_description"], tc.reason)
			}
			if tc.status == 200 && (a.principal == nil || a.principal.Subject != "user-1") {
				t.Errorf("principal %+v", a.principal)
			}
		})
	}
}

// forgeKid signs a token with the foreign issuer's key but names kid in the header.
func forgeKid(foreign *gatehousetest.Issuer, kid, iss string) string {
	tok := foreign.Mint(gatehousetest.Claims{Issuer: iss, Audience: resource, Scope: "mcp:tools"})
	parts := strings.Split(tok, ".")
	hdr := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"ES256","kid":"` + kid + `","typ":"at+jwt"}`))
	return hdr + "." + parts[1] + "." + parts[2]
}

func TestPrincipal(t *testing.T) {
	r := newRig(t, nil)
	tok := r.token(func(c *gatehousetest.Claims) {
		c.Subject, c.SessionID, c.Scope = "u-42", "s-7", "mcp:tools files:read"
		c.Extra = map[string]any{"role": "admin"}
	})
	p, err := r.v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if p.Subject != "u-42" || p.SessionID != "s-7" || p.ClientID != "https://client.example/app.json" ||
		p.Email != "ada@example.com" || p.TokenType != gatehouseauth.TypeAccessToken || p.KeyID != "" {
		t.Errorf("principal %+v", p)
	}
	if !p.HasScopes("mcp:tools", "files:read") || p.HasScope("files:write") || p.Scope() != "mcp:tools files:read" {
		t.Errorf("scopes %v", p.Scopes)
	}
	if !p.ExpiresAt.Equal(r.clk.Now().Add(15 * time.Minute).Truncate(time.Second)) {
		t.Errorf("ExpiresAt %v", p.ExpiresAt)
	}
	if p.Claims["role"] != "admin" || p.Claims["jti"] == nil {
		t.Errorf("claims %v", p.Claims)
	}
}

// TestInsufficientScopeNamesEveryScope: the 403 names the whole set the operation needs, not
// only the missing one (RFC 6750 §3.1), and 401s carry the same set.
func TestInsufficientScopeNamesEveryScope(t *testing.T) {
	r := newRig(t, nil)
	a := r.call("/files", bearer(r.token(func(c *gatehousetest.Claims) { c.Scope = "files:read" })), "files:read", "files:write")
	want := `Bearer resource_metadata="` + metadataURL + `", scope="files:read files:write", error="insufficient_scope"`
	if a.status != 403 || a.challenge != want {
		t.Fatalf("%d %s", a.status, a.challenge)
	}
	a = r.call("/files", nil, "files:read", "files:write")
	if a.status != 401 || a.challenge != `Bearer resource_metadata="`+metadataURL+`", scope="files:read files:write"` {
		t.Fatalf("%d %s", a.status, a.challenge)
	}
	// A route that needs no scope: any valid token passes, and the challenge has no scope.
	a = r.call("/open", nil)
	if a.status != 401 || a.challenge != `Bearer resource_metadata="`+metadataURL+`"` {
		t.Fatalf("%d %s", a.status, a.challenge)
	}
	if a := r.call("/open", bearer(r.token(func(c *gatehousetest.Claims) { c.Scope = "" }))); a.status != 200 {
		t.Fatalf("%d", a.status)
	}
}

func TestSeveralAudiencesWhenAllowed(t *testing.T) {
	r := newRig(t, func(c *gatehouseauth.Config) { c.AllowMultipleAudiences = true })
	ok := r.token(func(c *gatehousetest.Claims) { c.Audiences = []string{"http://other.test", resource} })
	if _, err := r.v.Verify(context.Background(), ok); err != nil {
		t.Fatal(err)
	}
	notUs := r.token(func(c *gatehousetest.Claims) { c.Audiences = []string{"http://other.test", "http://third.test"} })
	if _, err := r.v.Verify(context.Background(), notUs); !errors.Is(err, gatehouseauth.ErrInvalidToken) {
		t.Fatalf("got %v", err)
	}
}

// TestKeyRotation: a token signed by a key published after the JWKS was cached is accepted
// without a restart, and tokens of the old key keep working.
func TestKeyRotation(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	oldTok := r.token(nil)
	if _, err := r.v.Verify(ctx, oldTok); err != nil {
		t.Fatal(err)
	}
	if n := r.iss.JWKSRequests(); n != 1 {
		t.Fatalf("%d JWKS requests, want 1", n)
	}
	r.clk.Advance(UnknownKeyRefetchInterval())
	r.iss.Rotate()
	newTok := r.token(func(c *gatehousetest.Claims) { c.Subject = "after-rotation" })
	p, err := r.v.Verify(ctx, newTok)
	if err != nil || p.Subject != "after-rotation" {
		t.Fatalf("token of the new key: %v", err)
	}
	if n := r.iss.JWKSRequests(); n != 2 {
		t.Fatalf("%d JWKS requests, want 2", n)
	}
	r.v = mustNew(t, r, nil) // a fresh verifier (no token cache) still takes the old key's tokens
	if _, err := r.v.Verify(ctx, oldTok); err != nil {
		t.Fatalf("token of the old key after rotation: %v", err)
	}
}

// TestRotationSoonAfterAFetch: within 10 s of the last fetch an unknown kid is refused
// without a fetch; once the interval has passed, the next such token fetches and passes.
func TestRotationSoonAfterAFetch(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	if _, err := r.v.Verify(ctx, r.token(nil)); err != nil {
		t.Fatal(err)
	}
	r.iss.Rotate()
	tok := r.token(nil)
	r.clk.Advance(UnknownKeyRefetchInterval() - time.Second)
	if _, err := r.v.Verify(ctx, tok); !errors.Is(err, gatehouseauth.ErrInvalidToken) {
		t.Fatalf("got %v", err)
	}
	if n := r.iss.JWKSRequests(); n != 1 {
		t.Fatalf("%d JWKS requests, want 1", n)
	}
	r.clk.Advance(time.Second)
	if _, err := r.v.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
}

// TestUnknownKidRefetchThrottled: a stream of tokens naming unknown kids causes at most one
// JWKS fetch per 10 s.
func TestUnknownKidRefetchThrottled(t *testing.T) {
	r := newRig(t, nil)
	foreign := gatehousetest.NewIssuer(r.clk.Now)
	defer foreign.Close()
	ctx := context.Background()
	if _, err := r.v.Verify(ctx, r.token(nil)); err != nil {
		t.Fatal(err)
	}
	for round := 1; round <= 3; round++ {
		r.clk.Advance(UnknownKeyRefetchInterval())
		for i := 0; i < 50; i++ {
			foreign.Rotate()
			tok := foreign.Mint(gatehousetest.Claims{Issuer: r.iss.URL, Audience: resource})
			if _, err := r.v.Verify(ctx, tok); !errors.Is(err, gatehouseauth.ErrInvalidToken) {
				t.Fatalf("got %v", err)
			}
			r.clk.Advance(100 * time.Millisecond) // 50 tokens over 5 s
		}
		if n, want := r.iss.JWKSRequests(), 1+round; n != want {
			t.Fatalf("round %d: %d JWKS requests, want %d", round, n, want)
		}
	}
	// Tokens of known keys never wait for or cause a fetch.
	if _, err := r.v.Verify(ctx, r.token(func(c *gatehousetest.Claims) { c.Subject = "x" })); err != nil {
		t.Fatal(err)
	}
	if n := r.iss.JWKSRequests(); n != 4 {
		t.Fatalf("%d JWKS requests", n)
	}
}

// TestWithdrawnKey: once the cached key set is older than JWKSMaxAge it is fetched again, and
// tokens (cached ones too) of a key no longer published are refused.
func TestWithdrawnKey(t *testing.T) {
	r := newRig(t, func(c *gatehouseauth.Config) { c.JWKSMaxAge = time.Minute })
	ctx := context.Background()
	oldKid := r.iss.KeyID()
	oldTok := r.token(nil)
	if _, err := r.v.Verify(ctx, oldTok); err != nil {
		t.Fatal(err)
	}
	r.iss.Rotate()
	r.iss.Withdraw(oldKid)
	newTok := r.token(nil)
	r.clk.Advance(2 * time.Minute)
	if _, err := r.v.Verify(ctx, newTok); err != nil { // unknown kid: fetch, which drops oldKid
		t.Fatal(err)
	}
	if _, err := r.v.Verify(ctx, oldTok); !errors.Is(err, gatehouseauth.ErrInvalidToken) {
		t.Fatalf("token of a withdrawn key: %v", err)
	}
}

// TestStaleKeySetRefreshed: a stale set is refreshed by a token of a known key too.
func TestStaleKeySetRefreshed(t *testing.T) {
	r := newRig(t, func(c *gatehouseauth.Config) { c.JWKSMaxAge = time.Minute })
	ctx := context.Background()
	oldKid := r.iss.KeyID()
	if _, err := r.v.Verify(ctx, r.token(nil)); err != nil {
		t.Fatal(err)
	}
	r.iss.Rotate()
	r.clk.Advance(2 * time.Minute)
	tok := r.iss.MintWith(oldKid, gatehousetest.Claims{Audience: resource})
	if _, err := r.v.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if n := r.iss.JWKSRequests(); n != 2 {
		t.Fatalf("%d JWKS requests, want 2", n)
	}
	r.iss.Withdraw(oldKid)
	r.clk.Advance(2 * time.Minute)
	tok = r.iss.MintWith(r.iss.KeyID(), gatehousetest.Claims{Audience: resource})
	if _, err := r.v.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
}

func TestIssuerUnreachable(t *testing.T) {
	r := newRig(t, nil)
	tok := r.token(nil)
	r.iss.Close()
	a := r.call("/mcp", bearer(tok), "mcp:tools")
	if a.status != 503 || a.challenge != "" {
		t.Fatalf("%d %q", a.status, a.challenge)
	}
}

// TestCacheNeverOutlivesExp: a token verified once is refused from its exp (plus leeway) on,
// though it sits in the cache.
func TestCacheNeverOutlivesExp(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	tok := r.token(func(c *gatehousetest.Claims) { c.ExpiresAt = r.clk.Now().Add(time.Minute) })
	if _, err := r.v.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
	r.clk.Advance(time.Minute + r.v.Leeway())
	if _, err := r.v.Verify(ctx, tok); !errors.Is(err, gatehouseauth.ErrInvalidToken) {
		t.Fatalf("expired cached token: %v", err)
	}
}

// TestCacheKeysOnTheWholeToken: a token that differs from a cached one only in its signature
// is verified afresh, and refused.
func TestCacheKeysOnTheWholeToken(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	tok := r.token(nil)
	if _, err := r.v.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sig[len(sig)-1] ^= 1
	forged := parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)
	if _, err := r.v.Verify(ctx, forged); !errors.Is(err, gatehouseauth.ErrInvalidToken) {
		t.Fatalf("forged signature: %v", err)
	}
	// And a payload changed under the same signature.
	forged = parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"admin"}`)) + "." + parts[2]
	if _, err := r.v.Verify(ctx, forged); !errors.Is(err, gatehouseauth.ErrInvalidToken) {
		t.Fatalf("forged payload: %v", err)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	for name, cfg := range map[string]gatehouseauth.Config{
		"no issuer":          {Resource: resource},
		"no resource":        {Issuer: "https://auth.example"},
		"issuer with slash":  {Issuer: "https://auth.example/", Resource: resource},
		"relative resource":  {Issuer: "https://auth.example", Resource: "/mcp"},
		"resource fragment":  {Issuer: "https://auth.example", Resource: resource + "#x"},
		"resource query":     {Issuer: "https://auth.example", Resource: resource + "?a=b"},
		"api keys, no key":   {Issuer: "https://auth.example", Resource: resource, AcceptAPIKeys: true},
		"sessions, no key":   {Issuer: "https://auth.example", Resource: resource, CheckSessions: true},
		"huge leeway":        {Issuer: "https://auth.example", Resource: resource, Leeway: time.Hour},
		"issuer not http(s)": {Issuer: "ftp://auth.example", Resource: resource},
	} {
		if _, err := gatehouseauth.New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func UnknownKeyRefetchInterval() time.Duration { return gatehouseauth.UnknownKeyRefetchInterval }

func mustNew(t *testing.T, r *rig, edit func(*gatehouseauth.Config)) *gatehouseauth.Verifier {
	t.Helper()
	cfg := gatehouseauth.Config{Issuer: r.iss.URL, Resource: resource, Now: r.clk.Now, HTTPClient: r.iss.Client(),
		IntrospectionKey: r.iss.IntrospectionKey}
	if edit != nil {
		edit(&cfg)
	}
	v, err := gatehouseauth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
