// Package gatehousemcp connects the gatehouseauth kit to the official MCP Go SDK
// (github.com/modelcontextprotocol/go-sdk), so that an MCP server accepts Gatehouse tokens:
//
//	v, _ := gatehouseauth.New(gatehouseauth.Config{Issuer: "https://auth.example.com", Resource: "https://mcp.example.com/mcp"})
//	mux := http.NewServeMux()
//	v.HandleMetadata(mux)
//	mux.Handle("/mcp", gatehousemcp.Protect(v, mcp.NewStreamableHTTPHandler(getServer, nil), "mcp:tools"))
//
// Tool handlers find the caller in req.Extra.TokenInfo; [Principal] returns it as a
// gatehouseauth.Principal.
//
// It is its own module so that the kit itself depends on no MCP code.
package gatehousemcp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/auth"

	"github.com/gatehouse/gatehouse/sdks/go/gatehouseauth"
)

// principalKey is the key of the principal in auth.TokenInfo.Extra.
const principalKey = "gatehouse.principal"

// Protect guards an MCP handler (typically mcp.NewStreamableHTTPHandler) with v: the kit's
// middleware answers missing, bad and under-scoped credentials with full RFC 6750 / RFC 9728
// challenges (error="invalid_token", error="insufficient_scope", resource_metadata, scope),
// then the SDK's auth.RequireBearerToken puts the verified caller into the request as an
// auth.TokenInfo, which the SDK hands to tool handlers (req.Extra.TokenInfo) and uses to bind
// each MCP session to its user. Every request needs all of scopes.
func Protect(v *gatehouseauth.Verifier, h http.Handler, scopes ...string) http.Handler {
	// The credential was verified by the outer middleware: the SDK's verifier only converts.
	fromContext := func(ctx context.Context, _ string, _ *http.Request) (*auth.TokenInfo, error) {
		p, ok := gatehouseauth.PrincipalFrom(ctx)
		if !ok {
			return nil, fmt.Errorf("%w: not verified", auth.ErrInvalidToken)
		}
		return TokenInfo(p), nil
	}
	sdk := auth.RequireBearerToken(fromContext, &auth.RequireBearerTokenOptions{
		ResourceMetadataURL:    v.MetadataURL(),
		Scopes:                 scopes,
		AllowMissingExpiration: true, // API keys without expiry; tokens' exp was checked already
		ClockSkew:              v.Leeway(),
	})(h)
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// RequireBearerToken reads only "Authorization: Bearer"; a request that came with an
		// X-API-Key (AcceptAPIKeys) has no bearer token, so give its clone a placeholder that
		// fromContext never looks at.
		if f := strings.Fields(r.Header.Get("Authorization")); len(f) != 2 || !strings.EqualFold(f[0], "Bearer") {
			r = r.Clone(r.Context())
			r.Header.Set("Authorization", "Bearer verified-by-gatehouseauth")
		}
		sdk.ServeHTTP(w, r)
	})
	return v.Middleware(scopes...)(inner)
}

// TokenVerifier adapts v to the SDK's auth.TokenVerifier, for servers that use
// auth.RequireBearerToken themselves. It accepts what v.Verify accepts (and API keys given as
// "Bearer ak_..." when v accepts them). Prefer [Protect]: RequireBearerToken's challenges
// carry no error code, and it answers 500 when Gatehouse cannot be reached.
func TokenVerifier(v *gatehouseauth.Verifier) auth.TokenVerifier {
	return func(ctx context.Context, token string, _ *http.Request) (*auth.TokenInfo, error) {
		var p *gatehouseauth.Principal
		var err error
		if strings.HasPrefix(token, gatehouseauth.APIKeyPrefix) {
			p, err = v.VerifyAPIKey(ctx, token)
		} else {
			p, err = v.Verify(ctx, token)
		}
		if err != nil {
			if errors.Is(err, gatehouseauth.ErrInvalidToken) || errors.Is(err, gatehouseauth.ErrNoToken) {
				return nil, fmt.Errorf("%w: %v", auth.ErrInvalidToken, err)
			}
			return nil, err
		}
		return TokenInfo(p), nil
	}
}

// TokenInfo converts a principal to the SDK's TokenInfo: UserID is the subject (the SDK binds
// sessions to it), Scopes and Expiration as granted, and Extra carries the principal itself
// (see [Principal]) and its main fields under "sub", "client_id", "sid", "key_id" and "scope".
func TokenInfo(p *gatehouseauth.Principal) *auth.TokenInfo {
	return &auth.TokenInfo{
		Scopes:     p.Scopes,
		Expiration: p.ExpiresAt,
		UserID:     p.Subject,
		Extra: map[string]any{
			principalKey: p,
			"sub":        p.Subject,
			"client_id":  p.ClientID,
			"sid":        p.SessionID,
			"key_id":     p.KeyID,
			"scope":      p.Scope(),
		},
	}
}

// Principal returns the caller of an MCP request, from req.Extra.TokenInfo in a tool handler.
func Principal(info *auth.TokenInfo) (*gatehouseauth.Principal, bool) {
	if info == nil {
		return nil, false
	}
	p, ok := info.Extra[principalKey].(*gatehouseauth.Principal)
	return p, ok && p != nil
}
