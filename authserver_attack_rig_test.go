package gatehouse_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/sqlite"
	"github.com/gatehouse/gatehouse/token"
)

// The authorization server under attack, driven through the domain (the consent pages that issue
// codes over HTTP are not there yet): a real store, real keys, the real rules.

const attackIssuer = "https://gh.test"

// metadataDocs is a Client ID Metadata Document fetcher serving documents from memory.
type metadataDocs map[string]*gatehouse.ClientMetadataDocument

func (m metadataDocs) FetchClientMetadata(_ context.Context, id string) (*gatehouse.ClientMetadataDocument, error) {
	d, ok := m[id]
	if !ok {
		return nil, errors.New("no such document")
	}
	c := *d
	return &c, nil
}

type attackRig struct {
	t      *testing.T
	store  gatehouse.Store
	auth   *gatehouse.AuthService
	as     *gatehouse.AuthorizationServer
	docs   metadataDocs
	seq    atomic.Int64
	newAS  func(gatehouse.Store) (*gatehouse.AuthService, *gatehouse.AuthorizationServer)
	tokens *token.Issuer
}

func newAttackRig(t *testing.T) *attackRig {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "g.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return newAttackRigOn(t, store)
}

func newAttackRigOn(t *testing.T, store gatehouse.Store) *attackRig {
	t.Helper()
	tokens := newTestIssuer(t, store, attackIssuer, gatehouse.OwnAPIResource(attackIssuer))
	hasher := cheapHasher()
	docs := metadataDocs{}
	newAS := func(s gatehouse.Store) (*gatehouse.AuthService, *gatehouse.AuthorizationServer) {
		auth := newTestAuth(s, hasher, tokens)
		as := gatehouse.NewAuthorizationServer(gatehouse.AuthServerDeps{Auth: auth, Metadata: docs,
			Config: gatehouse.AuthServerConfig{Issuer: attackIssuer, DynamicRegistration: true}})
		return auth, as
	}
	auth, as := newAS(store)
	return &attackRig{t: t, store: store, auth: auth, as: as, docs: docs, newAS: newAS, tokens: tokens}
}

// user registers someone and returns their first-party sign-in and its principal.
func (r *attackRig) user(email string) (*gatehouse.TokenSet, *gatehouse.Principal) {
	r.t.Helper()
	ctx := context.Background()
	ts, err := r.auth.Register(ctx, gatehouse.RegisterInput{Email: email, Password: "correct horse battery staple", Name: strings.Split(email, "@")[0]}, gatehouse.Client{})
	if err != nil {
		r.t.Fatal(err)
	}
	p, err := r.auth.Authenticate(ctx, ts.AccessToken)
	if err != nil {
		r.t.Fatal(err)
	}
	return ts, p
}

// admin is an administrator's principal.
func (r *attackRig) admin() *gatehouse.Principal {
	r.t.Helper()
	ctx := context.Background()
	ts, p := r.user("admin" + time.Now().Format("150405.000000000") + "@example.com")
	role := gatehouse.RoleAdmin
	if _, err := r.auth.UpdateUser(ctx, gatehouse.Operator, p.User.ID, gatehouse.AdminUserUpdate{Role: &role}); err != nil {
		r.t.Fatal(err)
	}
	p, err := r.auth.Authenticate(ctx, ts.AccessToken)
	if err != nil {
		r.t.Fatal(err)
	}
	p.User.Role = role
	return p
}

// dcr registers a client the way anyone on the internet can (RFC 7591).
func (r *attackRig) dcr(authMethod string, redirect string) (*gatehouse.OAuthClient, string) {
	r.t.Helper()
	c, secret, err := r.as.RegisterClient(context.Background(), gatehouse.NewClientInput{Name: "App", RedirectURIs: []string{redirect},
		AuthMethod: authMethod, GrantTypes: []string{gatehouse.GrantAuthCode, gatehouse.GrantRefresh}}, gatehouse.Client{})
	if err != nil {
		r.t.Fatal(err)
	}
	return c, secret
}

func (r *attackRig) resource(uri string, scopes ...string) {
	r.t.Helper()
	if _, err := r.as.AddResource(context.Background(), gatehouse.Operator, gatehouse.NewResourceInput{URI: uri, Name: "Res", Scopes: scopes}); err != nil {
		r.t.Fatal(err)
	}
}

type pkce struct{ verifier, challenge string }

func newPKCE(seed string) pkce {
	v := base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat(seed, 48)[:48]))
	sum := sha256.Sum256([]byte(v))
	return pkce{verifier: v, challenge: base64.RawURLEncoding.EncodeToString(sum[:])}
}

// code runs an authorization request for client and approves it as the user of p, consenting.
func (r *attackRig) code(p *gatehouse.Principal, c *gatehouse.OAuthClient, redirect, resource, scope string) (string, pkce) {
	r.t.Helper()
	pk := newPKCE(string(rune('a' + r.seq.Add(1)%26)))
	req := gatehouse.AuthorizeRequest{ClientID: c.ID, RedirectURI: redirect, ResponseType: "code", Scope: scope,
		CodeChallenge: pk.challenge, CodeChallengeMethod: "S256", Nonce: "n"}
	if resource != "" {
		req.Resources = []string{resource}
	}
	a, err := r.as.Authorize(context.Background(), req)
	if err != nil {
		r.t.Fatalf("authorize: %v", err)
	}
	code, err := r.as.Approve(context.Background(), p, a, true)
	if err != nil {
		r.t.Fatalf("approve: %v", err)
	}
	return code, pk
}

func creds(c *gatehouse.OAuthClient, secret string) gatehouse.ClientCredentials {
	m := gatehouse.AuthMethodNone
	if secret != "" {
		m = gatehouse.AuthMethodBasic
	}
	return gatehouse.ClientCredentials{ClientID: c.ID, Secret: secret, Method: m}
}

func (r *attackRig) exchange(c *gatehouse.OAuthClient, secret, code, redirect string, pk pkce) (*gatehouse.OAuthTokens, error) {
	return r.as.Token(context.Background(), gatehouse.TokenRequest{GrantType: gatehouse.GrantAuthCode, Code: code, RedirectURI: redirect,
		CodeVerifier: pk.verifier, Credentials: creds(c, secret)}, gatehouse.Client{})
}

func (r *attackRig) mustExchange(c *gatehouse.OAuthClient, secret, code, redirect string, pk pkce) *gatehouse.OAuthTokens {
	r.t.Helper()
	out, err := r.exchange(c, secret, code, redirect, pk)
	if err != nil {
		r.t.Fatalf("exchange: %v", err)
	}
	return out
}

func (r *attackRig) refresh(c *gatehouse.OAuthClient, secret, rt string) (*gatehouse.OAuthTokens, error) {
	return r.as.Token(context.Background(), gatehouse.TokenRequest{GrantType: gatehouse.GrantRefresh, RefreshToken: rt,
		Credentials: creds(c, secret)}, gatehouse.Client{})
}
