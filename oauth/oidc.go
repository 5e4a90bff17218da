package oauth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse"
)

// OIDCConfig configures a generic OpenID Connect provider (Google, Microsoft Entra ID, Keycloak,
// Auth0, ...), found by discovery from its issuer.
type OIDCConfig struct {
	Name         string // as in URLs and logs
	Issuer       string // exactly as the provider's discovery document states it
	ClientID     string
	ClientSecret string
	Scopes       []string // must include openid
	Timeout      time.Duration
}

// OIDC signs users in with an OpenID Connect provider. The ID token is verified (signature against
// the provider's published keys, issuer, audience, expiry, and the nonce of the request); claims
// the ID token lacks (often email) are read from the userinfo endpoint.
//
// Discovery happens on first use, not at start-up, so that a provider that is down when Gatehouse
// starts costs its own sign-ins a 502 and nothing else; a failed discovery is retried next time.
type OIDC struct {
	cfg    OIDCConfig
	client *http.Client

	mu sync.Mutex
	d  *oidcEndpoints // nil until discovery succeeds
}

type oidcEndpoints struct {
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
	conf     oauth2.Config
}

var _ gatehouse.Provider = (*OIDC)(nil)

// NewOIDC returns a generic OpenID Connect provider.
func NewOIDC(c OIDCConfig) *OIDC {
	return &OIDC{cfg: c, client: newHTTPClient(c.Timeout)}
}

func (o *OIDC) discover(ctx context.Context) (*oidcEndpoints, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.d != nil {
		return o.d, nil
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, o.client), o.cfg.Issuer)
	if err != nil {
		return nil, gatehouse.ProviderError(o.cfg.Name, fmt.Errorf("discovery: %w", err))
	}
	var meta struct {
		AuthMethods []string `json:"token_endpoint_auth_methods_supported"`
	}
	if err := p.Claims(&meta); err != nil {
		return nil, gatehouse.ProviderError(o.cfg.Name, fmt.Errorf("discovery: %w", err))
	}
	endpoint := p.Endpoint()
	if endpoint.AuthURL == "" || endpoint.TokenURL == "" {
		return nil, gatehouse.ProviderError(o.cfg.Name, errors.New("discovery: no authorization or token endpoint"))
	}
	endpoint.AuthStyle = authStyle(meta.AuthMethods)
	o.d = &oidcEndpoints{
		provider: p,
		// The key set outlives this request: it must not inherit its cancellation.
		verifier: p.VerifierContext(oidc.ClientContext(context.Background(), o.client), &oidc.Config{ClientID: o.cfg.ClientID}),
		conf: oauth2.Config{
			ClientID:     o.cfg.ClientID,
			ClientSecret: o.cfg.ClientSecret,
			Endpoint:     endpoint,
			Scopes:       o.cfg.Scopes,
		},
	}
	return o.d, nil
}

// authStyle picks how to present the client secret from what discovery says the provider accepts;
// client_secret_basic is the default of OpenID Connect Discovery §3.
func authStyle(methods []string) oauth2.AuthStyle {
	if len(methods) == 0 || slices.Contains(methods, "client_secret_basic") {
		return oauth2.AuthStyleInHeader
	}
	if slices.Contains(methods, "client_secret_post") {
		return oauth2.AuthStyleInParams
	}
	return oauth2.AuthStyleInHeader
}

func (o *OIDC) AuthCodeURL(ctx context.Context, r gatehouse.AuthCodeRequest) (string, error) {
	ctx, cancel := withBudget(ctx, o.cfg.Timeout)
	defer cancel()
	d, err := o.discover(ctx)
	if err != nil {
		return "", err
	}
	conf := d.conf
	conf.RedirectURL = r.RedirectURI
	return conf.AuthCodeURL(r.State, authCodeOptions(r, true)...), nil
}

// oidcClaims are the standard claims Gatehouse uses (OpenID Connect Core §5.1).
type oidcClaims struct {
	Email             string   `json:"email"`
	EmailVerified     flexBool `json:"email_verified"`
	Name              string   `json:"name"`
	GivenName         string   `json:"given_name"`
	FamilyName        string   `json:"family_name"`
	PreferredUsername string   `json:"preferred_username"`
	Picture           string   `json:"picture"`
}

func (c *oidcClaims) displayName() string {
	if c.Name != "" {
		return c.Name
	}
	if n := strings.TrimSpace(c.GivenName + " " + c.FamilyName); n != "" {
		return n
	}
	return c.PreferredUsername
}

func (o *OIDC) Exchange(ctx context.Context, r gatehouse.CodeExchange) (*gatehouse.ProviderIdentity, error) {
	ctx, cancel := withBudget(ctx, o.cfg.Timeout)
	defer cancel()
	d, err := o.discover(ctx)
	if err != nil {
		return nil, err
	}
	tok, err := exchange(ctx, o.cfg.Name, o.client, d.conf, r)
	if err != nil {
		return nil, err
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, gatehouse.ProviderError(o.cfg.Name, errors.New("the token response has no id_token"))
	}
	ctx = oidc.ClientContext(ctx, o.client)
	idt, err := d.verifier.Verify(ctx, raw)
	if err != nil {
		return nil, gatehouse.ProviderError(o.cfg.Name, fmt.Errorf("ID token: %w", err))
	}
	// The nonce ties the ID token to the authorization request of this state: another request's
	// code, injected into this callback, is refused.
	if r.Nonce != "" && subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(r.Nonce)) != 1 {
		return nil, gatehouse.InvalidOAuthCode(fmt.Errorf("%s: ID token nonce does not match the request", o.cfg.Name))
	}
	var c oidcClaims
	if err := idt.Claims(&c); err != nil {
		return nil, gatehouse.ProviderError(o.cfg.Name, fmt.Errorf("ID token claims: %w", err))
	}
	if c.Email == "" && d.provider.UserInfoEndpoint() != "" {
		ui, err := d.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			return nil, gatehouse.ProviderError(o.cfg.Name, fmt.Errorf("userinfo: %w", err))
		}
		// OpenID Connect Core §5.3.2: userinfo about another subject must not be used.
		if ui.Subject != idt.Subject {
			return nil, gatehouse.ProviderError(o.cfg.Name, errors.New("userinfo is about another subject than the ID token"))
		}
		var uc oidcClaims
		if err := ui.Claims(&uc); err != nil {
			return nil, gatehouse.ProviderError(o.cfg.Name, fmt.Errorf("userinfo claims: %w", err))
		}
		c.Email, c.EmailVerified = ui.Email, flexBool(ui.EmailVerified)
		if c.displayName() == "" {
			c.Name, c.GivenName, c.FamilyName, c.PreferredUsername = uc.Name, uc.GivenName, uc.FamilyName, uc.PreferredUsername
		}
		if c.Picture == "" {
			c.Picture = uc.Picture
		}
	}
	return &gatehouse.ProviderIdentity{
		Subject:       idt.Subject,
		Email:         c.Email,
		EmailVerified: bool(c.EmailVerified),
		Name:          c.displayName(),
		AvatarURL:     c.Picture,
	}, nil
}
