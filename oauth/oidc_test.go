package oauth

import (
	"context"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/oauthtest"
)

func TestOIDCIdentity(t *testing.T) {
	op := oauthtest.NewOIDCProvider(t, testRedirect)
	op.AddUser(&oauthtest.OIDCUser{ID: "u1", Username: "u1", Password: "pw", FirstName: "Kay", LastName: "Dee",
		Email: "kay@example.com", EmailVerified: true})
	p := NewOIDC(OIDCConfig{Name: "corp", Issuer: op.Issuer, ClientID: op.ClientID, ClientSecret: op.ClientSecret,
		Scopes: []string{"openid", "email", "profile"}})
	ctx := context.Background()
	const verifier = "pkce-verifier-0123456789012345678901234567890"
	req := gatehouse.AuthCodeRequest{State: "s1", CodeChallenge: oauthtest.S256(verifier), Nonce: "nonce-1", RedirectURI: testRedirect}
	authURL, err := p.AuthCodeURL(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	code, state := op.SignIn(t, authURL, "u1", "pw")
	if state != "s1" {
		t.Fatalf("state %q", state)
	}
	id, err := p.Exchange(ctx, gatehouse.CodeExchange{Code: code, CodeVerifier: verifier, Nonce: "nonce-1", RedirectURI: testRedirect})
	if err != nil {
		t.Fatal(err)
	}
	if id.Subject != "u1" || id.Email != "kay@example.com" || !id.EmailVerified || id.Name != "Kay Dee" {
		t.Fatalf("identity %+v", id)
	}

	// The same code again: the provider refuses it.
	_, err = p.Exchange(ctx, gatehouse.CodeExchange{Code: code, CodeVerifier: verifier, Nonce: "nonce-1", RedirectURI: testRedirect})
	if gatehouse.ErrorCodeOf(err) != "invalid_oauth_code" {
		t.Fatalf("replayed code: %v", err)
	}
	// An ID token for another request's nonce.
	code, _ = op.SignIn(t, authURL, "u1", "pw")
	_, err = p.Exchange(ctx, gatehouse.CodeExchange{Code: code, CodeVerifier: verifier, Nonce: "nonce-2", RedirectURI: testRedirect})
	if gatehouse.ErrorCodeOf(err) != "invalid_oauth_code" {
		t.Fatalf("nonce mismatch: %v", err)
	}
	// Wrong client secret: the operator's problem, 502.
	bad := NewOIDC(OIDCConfig{Name: "corp", Issuer: op.Issuer, ClientID: op.ClientID, ClientSecret: "wrong", Scopes: []string{"openid"}})
	authURL, _ = bad.AuthCodeURL(ctx, req)
	code, _ = op.SignIn(t, authURL, "u1", "pw")
	if _, err := bad.Exchange(ctx, gatehouse.CodeExchange{Code: code, CodeVerifier: verifier, Nonce: "nonce-1", RedirectURI: testRedirect}); gatehouse.ErrorKindOf(err) != gatehouse.KindBadGateway {
		t.Fatalf("wrong secret: %v", err)
	}
}

func TestOIDCDiscoveryFailures(t *testing.T) {
	op := oauthtest.NewOIDCProvider(t, testRedirect)
	ctx := context.Background()
	// An issuer that differs from the one the provider states (here by a trailing slash) is refused.
	p := NewOIDC(OIDCConfig{Name: "corp", Issuer: op.Issuer + "/", ClientID: op.ClientID, ClientSecret: op.ClientSecret, Scopes: []string{"openid"}})
	if _, err := p.AuthCodeURL(ctx, gatehouse.AuthCodeRequest{State: "s", RedirectURI: testRedirect}); gatehouse.ErrorKindOf(err) != gatehouse.KindBadGateway {
		t.Fatalf("issuer mismatch: %v", err)
	}
	// A provider that is down: 502, and the next call tries discovery again rather than caching the failure.
	p = NewOIDC(OIDCConfig{Name: "corp", Issuer: op.Issuer, ClientID: op.ClientID, ClientSecret: op.ClientSecret, Scopes: []string{"openid"}})
	op.Close()
	for range 2 {
		if _, err := p.AuthCodeURL(ctx, gatehouse.AuthCodeRequest{State: "s", RedirectURI: testRedirect}); gatehouse.ErrorKindOf(err) != gatehouse.KindBadGateway {
			t.Fatalf("provider down: %v", err)
		}
	}
	if p.d != nil {
		t.Fatal("a failed discovery was cached")
	}
}
