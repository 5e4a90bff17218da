package token

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/gatehouse/gatehouse"
)

// Client assertions (private_key_jwt, RFC 7523 §2.2): the signature check, with the algorithm
// pinned to the key's. The rules about the claims (iss, sub, aud, exp, jti) are the domain's.

const (
	// keySetTTL is how long a key set fetched from a jwks_uri is used.
	keySetTTL = 5 * time.Minute
	// keySetRefetchEvery bounds the refetches that an unknown kid causes (a client that has
	// just rotated its keys) to one per key set in this time, since anyone can send a made-up kid.
	keySetRefetchEvery = 30 * time.Second
	// keySetFailureTTL is how long a failed fetch is remembered.
	keySetFailureTTL = 10 * time.Second
	keySetCacheSize  = 1000
	maxKeys          = 20
	maxKeySetBytes   = 64 << 10
	minRSABits       = 2048
)

// KeySetFetcher fetches a JWK Set from a client's jwks_uri; package cimd's FetchKeySet, whose
// guarded client refuses non-public addresses, redirects and oversized bodies.
type KeySetFetcher func(ctx context.Context, jwksURI string) ([]byte, error)

// AssertionVerifier verifies client assertions; it implements gatehouse.ClientAssertionVerifier.
type AssertionVerifier struct {
	fetch KeySetFetcher
	now   func() time.Time

	mu    sync.Mutex
	cache map[string]*cachedKeySet
}

type cachedKeySet struct {
	keys      []jose.JSONWebKey
	err       error
	fetchedAt time.Time
	forcedAt  time.Time // the last refetch an unknown kid caused
}

// NewAssertionVerifier returns a verifier that fetches jwks_uri key sets with fetch (nil: key sets
// by URL are refused) and reads the time from now (nil: time.Now).
func NewAssertionVerifier(fetch KeySetFetcher, now func() time.Time) *AssertionVerifier {
	if now == nil {
		now = time.Now
	}
	return &AssertionVerifier{fetch: fetch, now: now, cache: map[string]*cachedKeySet{}}
}

var assertionAlgs = func() []jose.SignatureAlgorithm {
	out := make([]jose.SignatureAlgorithm, 0, len(gatehouse.AssertionAlgorithms))
	for _, a := range gatehouse.AssertionAlgorithms {
		out = append(out, jose.SignatureAlgorithm(a))
	}
	return out
}()

// assertionError is a verification failure whose message is safe to show the client.
type assertionError struct{ msg string }

func (e *assertionError) Error() string { return e.msg }

func refuse(format string, args ...any) error { return &assertionError{fmt.Sprintf(format, args...)} }

// VerifyClientAssertion implements gatehouse.ClientAssertionVerifier.
func (v *AssertionVerifier) VerifyClientAssertion(ctx context.Context, assertion string, keys gatehouse.ClientKeys) (*gatehouse.ClientAssertion, error) {
	tok, err := jwt.ParseSigned(assertion, assertionAlgs)
	if err != nil {
		return nil, refuse("the client assertion is not a JWS signed with one of %s", strings.Join(gatehouse.AssertionAlgorithms, ", "))
	}
	if len(tok.Headers) != 1 {
		return nil, refuse("the client assertion must carry one signature")
	}
	h := tok.Headers[0]
	// Keys come from the client's registration only, never from the assertion itself.
	if h.JSONWebKey != nil || h.ExtraHeaders["jku"] != nil || h.ExtraHeaders["x5u"] != nil || h.ExtraHeaders["x5c"] != nil {
		return nil, refuse("the client assertion must not name its own key (jwk, jku, x5u, x5c)")
	}
	alg := h.Algorithm
	set, fromURI, err := v.keySet(ctx, keys, false)
	if err != nil {
		return nil, err
	}
	key, err := pickKey(set, h.KeyID, alg)
	if err != nil && fromURI && h.KeyID != "" {
		// The client may have rotated its keys since they were fetched.
		if set, _, err2 := v.keySet(ctx, keys, true); err2 == nil {
			key, err = pickKey(set, h.KeyID, alg)
		}
	}
	if err != nil {
		return nil, err
	}
	var c jwt.Claims
	if err := tok.Claims(key.Key, &c); err != nil {
		return nil, refuse("the client assertion's signature does not verify with the client's key")
	}
	out := &gatehouse.ClientAssertion{Issuer: c.Issuer, Subject: c.Subject, Audience: []string(c.Audience), ID: c.ID}
	if c.Expiry != nil {
		t := c.Expiry.Time()
		out.ExpiresAt = &t
	}
	if c.NotBefore != nil {
		t := c.NotBefore.Time()
		out.NotBefore = &t
	}
	if c.IssuedAt != nil {
		t := c.IssuedAt.Time()
		out.IssuedAt = &t
	}
	return out, nil
}

// pickKey is the key of set that signed with alg: the one named kid, or, without a kid, the one
// key whose algorithm is alg. The algorithm must be the key's: its "alg" when it has one, else
// one of its type's (an RSA key signs RS* and PS*, a P-256 key ES256, an Ed25519 key EdDSA).
func pickKey(set []jose.JSONWebKey, kid, alg string) (*jose.JSONWebKey, error) {
	var fits []*jose.JSONWebKey
	for i := range set {
		k := &set[i]
		if kid != "" && k.KeyID != kid {
			continue
		}
		if algFits(k, alg) {
			fits = append(fits, k)
		}
	}
	switch {
	case len(fits) == 1:
		return fits[0], nil
	case len(fits) > 1:
		return nil, refuse("several of the client's keys fit the client assertion: name one with kid")
	case kid != "":
		return nil, refuse("none of the client's keys has kid %q for algorithm %s", cut(kid, 64), cut(alg, 16))
	}
	return nil, refuse("none of the client's keys signs with %s", cut(alg, 16))
}

func cut(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.ToValidUTF8(s, "?")
}

// algFits reports whether key k signs with alg.
func algFits(k *jose.JSONWebKey, alg string) bool {
	if k.Algorithm != "" {
		return k.Algorithm == alg
	}
	return slices.Contains(algsOf(k.Key), alg)
}

// algsOf lists the algorithms a public key may sign client assertions with.
func algsOf(key any) []string {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return []string{"ES256"}
		case elliptic.P384():
			return []string{"ES384"}
		case elliptic.P521():
			return []string{"ES512"}
		}
	case ed25519.PublicKey:
		return []string{"EdDSA"}
	}
	return nil
}

// keySet returns the client's public keys: the stored set, or the set at its jwks_uri (cached;
// fresh reports a refetch, at most every keySetRefetchEvery).
func (v *AssertionVerifier) keySet(ctx context.Context, keys gatehouse.ClientKeys, fresh bool) ([]jose.JSONWebKey, bool, error) {
	if keys.JWKSURI == "" {
		if len(keys.JWKS) == 0 {
			return nil, false, refuse("the client has no keys")
		}
		set, err := parseKeySet(keys.JWKS, true)
		return set, false, err
	}
	if v.fetch == nil {
		return nil, true, refuse("this server does not fetch jwks_uri")
	}
	now := v.now()
	var forcedAt time.Time
	v.mu.Lock()
	e := v.cache[keys.JWKSURI]
	v.mu.Unlock()
	if e != nil {
		age := now.Sub(e.fetchedAt)
		forcedAt = e.forcedAt
		switch {
		case e.err != nil && age < keySetFailureTTL:
			return nil, true, e.err
		case e.err == nil && !fresh && age < keySetTTL:
			return e.keys, true, nil
		case e.err == nil && fresh && now.Sub(e.forcedAt) < keySetRefetchEvery:
			return e.keys, true, nil
		}
	}
	if fresh {
		forcedAt = now
	}
	body, err := v.fetch(ctx, keys.JWKSURI)
	var set []jose.JSONWebKey
	if err != nil {
		err = refuse("the client's jwks_uri could not be used: %s", reasonOf(err))
	} else {
		set, err = parseKeySet(body, true)
		if err != nil {
			err = refuse("the key set at the client's jwks_uri is not usable: %s", err.Error())
		}
	}
	v.mu.Lock()
	if len(v.cache) >= keySetCacheSize {
		for k := range v.cache { // evict one entry, whichever
			delete(v.cache, k)
			break
		}
	}
	v.cache[keys.JWKSURI] = &cachedKeySet{keys: set, err: err, fetchedAt: now, forcedAt: forcedAt}
	v.mu.Unlock()
	return set, true, err
}

// reasonOf is a fetch error's message: package cimd's errors are written for the client.
func reasonOf(err error) string {
	msg := err.Error()
	return strings.TrimPrefix(msg, "cimd: ")
}

// PublicKeySet implements gatehouse.ClientAssertionVerifier: a JWK or a JWK Set of public
// signing keys (RSA of 2048 bits or more, P-256/384/521, Ed25519), returned as a JWK Set.
func (v *AssertionVerifier) PublicKeySet(raw []byte) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > maxKeySetBytes {
		return nil, refuse("at most %d KiB of keys", maxKeySetBytes>>10)
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, refuse("not a JSON object: want a public JWK or a JWK Set")
	}
	if _, ok := probe["keys"]; !ok {
		raw = append(append([]byte(`{"keys":[`), raw...), ']', '}')
	}
	set, err := parseKeySet(raw, false)
	if err != nil {
		return nil, err
	}
	return json.Marshal(jose.JSONWebKeySet{Keys: set})
}

// parseKeySet reads a JWK Set of public signing keys. lenient skips keys it cannot use (a set
// fetched from a client's jwks_uri may hold encryption keys or types we do not support); strict
// refuses the set for any of them (what an admin registers).
func parseKeySet(raw []byte, lenient bool) ([]jose.JSONWebKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(raw, &set); err != nil || set.Keys == nil {
		return nil, refuse(`a JWK Set is a JSON object with a "keys" array`)
	}
	if len(set.Keys) > maxKeys {
		return nil, refuse("at most %d keys", maxKeys)
	}
	var out []jose.JSONWebKey
	for i, rawKey := range set.Keys {
		k, err := publicSigningKey(rawKey)
		if err != nil {
			if lenient {
				continue
			}
			return nil, refuse("key %d: %s", i+1, err.Error())
		}
		out = append(out, *k)
	}
	if len(out) == 0 {
		return nil, refuse("no usable public signing key")
	}
	return out, nil
}

var errPrivateKey = errors.New("holds private or symmetric key material; register the public key only")

func publicSigningKey(raw json.RawMessage) (*jose.JSONWebKey, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return nil, errors.New("not a JSON object")
	}
	for _, m := range []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"} {
		if _, ok := members[m]; ok {
			return nil, errPrivateKey
		}
	}
	var k jose.JSONWebKey
	if err := k.UnmarshalJSON(raw); err != nil {
		return nil, errors.New("not a valid JWK")
	}
	if !k.Valid() || !k.IsPublic() {
		return nil, errPrivateKey
	}
	if k.Use != "" && k.Use != "sig" {
		return nil, errors.New(`"use" is not "sig"`)
	}
	algs := algsOf(k.Key)
	if len(algs) == 0 {
		return nil, errors.New("unsupported key type: want RSA, EC P-256/P-384/P-521 or Ed25519")
	}
	if k.Algorithm != "" && !slices.Contains(algs, k.Algorithm) {
		return nil, fmt.Errorf("alg %q does not fit the key (want one of %s)", cut(k.Algorithm, 16), strings.Join(algs, ", "))
	}
	if rk, ok := k.Key.(*rsa.PublicKey); ok && rk.N.BitLen() < minRSABits {
		return nil, fmt.Errorf("RSA keys need at least %d bits", minRSABits)
	}
	return &k, nil
}
