// Package gatehousetest runs a stand-in Gatehouse issuer on a loopback port, for the tests of
// servers protected with gatehouseauth: it publishes a JWKS at /.well-known/jwks.json, mints
// access tokens signed the way Gatehouse signs them (ES256, header typ at+jwt and kid = the
// key's RFC 7638 thumbprint; claims iss, sub, aud, exp, iat, jti, sid, client_id, scope), and
// answers POST /api/v1/auth/introspect (RFC 7662) for the tokens it minted and the API keys
// it was given. It is for tests only: its keys live in memory and nothing is persisted.
package gatehousetest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Issuer is a running stand-in issuer. Its methods are safe for concurrent use.
type Issuer struct {
	// URL is the issuer ("iss"), the server's base URL without a trailing slash.
	URL string
	// IntrospectionKey is the API key the introspection endpoint wants in X-API-Key.
	IntrospectionKey string

	srv *httptest.Server
	now func() time.Time

	mu       sync.Mutex
	keys     []*signingKey // newest first; keys[0] signs
	minted   map[[32]byte]Claims
	revoked  map[string]bool // session ids
	apiKeys  map[[32]byte]APIKey
	jwksHits atomic.Int64
	introHit atomic.Int64
}

type signingKey struct {
	kid  string
	priv *ecdsa.PrivateKey
}

// Claims are what a minted token says. Zero fields get Gatehouse's usual values: Issuer the
// issuer's URL, Subject "user-1", SessionID "session-1", ID random, IssuedAt now, ExpiresAt
// IssuedAt + 15 minutes. Audience is required (a string; Audiences, when set, is written as
// an array instead).
type Claims struct {
	Issuer    string
	Subject   string
	Audience  string
	Audiences []string
	ClientID  string
	Scope     string
	SessionID string
	Email     string
	ID        string
	IssuedAt  time.Time
	ExpiresAt time.Time
	NotBefore time.Time
	// Type is the header "typ"; default "at+jwt".
	Type string
	// Extra claims, added as they are.
	Extra map[string]any
}

// APIKey is what introspection answers for an API key given to AddAPIKey.
type APIKey struct {
	Subject   string
	KeyID     string
	Scope     string
	Email     string
	ExpiresAt time.Time
}

// NewIssuer starts an issuer with one ES256 key. now is its clock (nil: time.Now); pass the
// same clock as the verifier's to keep tests free of sleeps.
func NewIssuer(now func() time.Time) *Issuer {
	if now == nil {
		now = time.Now
	}
	i := &Issuer{
		now:     now,
		minted:  map[[32]byte]Claims{},
		revoked: map[string]bool{},
		apiKeys: map[[32]byte]APIKey{},
	}
	i.IntrospectionKey = "ak_" + randomHex(16)
	i.keys = []*signingKey{newKey()}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/jwks.json", i.serveJWKS)
	mux.HandleFunc("GET /.well-known/openid-configuration", i.serveDiscovery)
	mux.HandleFunc("POST /api/v1/auth/introspect", i.serveIntrospect)
	i.srv = httptest.NewServer(mux)
	i.URL = i.srv.URL
	return i
}

// Close stops the server.
func (i *Issuer) Close() { i.srv.Close() }

// Client is an HTTP client for the issuer's server.
func (i *Issuer) Client() *http.Client { return i.srv.Client() }

// KeyID is the kid of the current signing key.
func (i *Issuer) KeyID() string {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.keys[0].kid
}

// Rotate adds a new signing key, which signs from now on; the old keys stay published.
// It returns the new kid.
func (i *Issuer) Rotate() string {
	k := newKey()
	i.mu.Lock()
	defer i.mu.Unlock()
	i.keys = append([]*signingKey{k}, i.keys...)
	return k.kid
}

// Withdraw stops publishing the key kid.
func (i *Issuer) Withdraw(kid string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	for n, k := range i.keys {
		if k.kid == kid {
			i.keys = append(i.keys[:n:n], i.keys[n+1:]...)
			return
		}
	}
}

// JWKSRequests counts the GETs of the JWKS so far.
func (i *Issuer) JWKSRequests() int { return int(i.jwksHits.Load()) }

// IntrospectionRequests counts the introspection calls so far.
func (i *Issuer) IntrospectionRequests() int { return int(i.introHit.Load()) }

// RevokeSession makes introspection answer inactive for every token of session sid, as a
// logout does.
func (i *Issuer) RevokeSession(sid string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.revoked[sid] = true
}

// AddAPIKey makes introspection answer active for key.
func (i *Issuer) AddAPIKey(key string, k APIKey) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.apiKeys[sha256.Sum256([]byte(key))] = k
}

// RevokeAPIKey makes introspection answer inactive for key.
func (i *Issuer) RevokeAPIKey(key string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	delete(i.apiKeys, sha256.Sum256([]byte(key)))
}

// Mint signs an access token with the current key.
func (i *Issuer) Mint(c Claims) string {
	i.mu.Lock()
	k := i.keys[0]
	i.mu.Unlock()
	return i.MintWith(k.kid, c)
}

// MintWith signs an access token with the published key kid (it panics if there is none).
func (i *Issuer) MintWith(kid string, c Claims) string {
	i.mu.Lock()
	var key *signingKey
	for _, k := range i.keys {
		if k.kid == kid {
			key = k
		}
	}
	i.mu.Unlock()
	if key == nil {
		panic("gatehousetest: no key " + kid)
	}
	c = i.fill(c)
	payload := map[string]any{
		"iss": c.Issuer, "sub": c.Subject, "exp": c.ExpiresAt.Unix(), "iat": c.IssuedAt.Unix(),
		"jti": c.ID, "sid": c.SessionID,
	}
	if c.Audiences != nil {
		payload["aud"] = c.Audiences
	} else {
		payload["aud"] = c.Audience
	}
	if c.ClientID != "" {
		payload["client_id"] = c.ClientID
	}
	if c.Scope != "" {
		payload["scope"] = c.Scope
	}
	if c.Email != "" {
		payload["email"], payload["email_verified"] = c.Email, true
	}
	if !c.NotBefore.IsZero() {
		payload["nbf"] = c.NotBefore.Unix()
	}
	for name, v := range c.Extra {
		payload[name] = v
	}
	body, err := json.Marshal(payload)
	if err != nil {
		panic(err)
	}
	opts := (&jose.SignerOptions{}).WithType(jose.ContentType(c.Type)).WithHeader(jose.HeaderKey("kid"), key.kid)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key.priv}, opts)
	if err != nil {
		panic(err)
	}
	jws, err := signer.Sign(body)
	if err != nil {
		panic(err)
	}
	token, err := jws.CompactSerialize()
	if err != nil {
		panic(err)
	}
	i.mu.Lock()
	i.minted[sha256.Sum256([]byte(token))] = c
	i.mu.Unlock()
	return token
}

func (i *Issuer) fill(c Claims) Claims {
	if c.Issuer == "" {
		c.Issuer = i.URL
	}
	if c.Subject == "" {
		c.Subject = "user-1"
	}
	if c.SessionID == "" {
		c.SessionID = "session-1"
	}
	if c.ID == "" {
		c.ID = randomHex(16)
	}
	if c.IssuedAt.IsZero() {
		c.IssuedAt = i.now()
	}
	if c.ExpiresAt.IsZero() {
		c.ExpiresAt = c.IssuedAt.Add(15 * time.Minute)
	}
	if c.Type == "" {
		c.Type = "at+jwt"
	}
	return c
}

func (i *Issuer) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	i.jwksHits.Add(1)
	i.mu.Lock()
	set := jose.JSONWebKeySet{}
	for _, k := range i.keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.priv.PublicKey, KeyID: k.kid, Algorithm: "ES256", Use: "sig"})
	}
	i.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(set)
}

func (i *Issuer) serveDiscovery(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"issuer":                 i.URL,
		"jwks_uri":               i.URL + "/.well-known/jwks.json",
		"introspection_endpoint": i.URL + "/api/v1/auth/introspect",
	})
}

// serveIntrospect answers as Gatehouse does: 401 without the right X-API-Key, 422 without a
// token, {active:false} for anything it does not vouch for.
func (i *Issuer) serveIntrospect(w http.ResponseWriter, r *http.Request) {
	i.introHit.Add(1)
	got := r.Header.Get("X-API-Key")
	if subtle.ConstantTimeCompare([]byte(got), []byte(i.IntrospectionKey)) != 1 {
		w.Header().Set("WWW-Authenticate", "Bearer")
		http.Error(w, `{"status":401,"detail":"invalid API key","error_code":"invalid_api_key"}`, http.StatusUnauthorized)
		return
	}
	var in struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in); err != nil || in.Token == "" {
		http.Error(w, `{"status":422,"detail":"token is required","error_code":"validation_failed"}`, http.StatusUnprocessableEntity)
		return
	}
	now := i.now()
	out := map[string]any{"active": false}
	sum := sha256.Sum256([]byte(in.Token))
	i.mu.Lock()
	if strings.HasPrefix(in.Token, "ak_") {
		if k, ok := i.apiKeys[sum]; ok && (k.ExpiresAt.IsZero() || now.Before(k.ExpiresAt)) {
			out = map[string]any{"active": true, "token_type": "api_key", "sub": k.Subject, "key_id": k.KeyID,
				"scope": k.Scope, "iss": i.URL}
			if k.Email != "" {
				out["email"] = k.Email
			}
			if !k.ExpiresAt.IsZero() {
				out["exp"] = k.ExpiresAt.Unix()
			}
		}
	} else if c, ok := i.minted[sum]; ok && now.Before(c.ExpiresAt) && !i.revoked[c.SessionID] {
		out = map[string]any{"active": true, "token_type": "access_token", "sub": c.Subject, "sid": c.SessionID,
			"scope": c.Scope, "exp": c.ExpiresAt.Unix(), "iat": c.IssuedAt.Unix(), "iss": i.URL}
	}
	i.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(out)
}

func newKey() *signingKey {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	j := jose.JSONWebKey{Key: &priv.PublicKey}
	sum, err := j.Thumbprint(crypto.SHA256)
	if err != nil {
		panic(err)
	}
	return &signingKey{kid: base64.RawURLEncoding.EncodeToString(sum), priv: priv}
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("gatehousetest: %v", err))
	}
	return hex.EncodeToString(b)
}
