package gatehouseauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// maxJWKSBytes bounds the JWKS document read.
const maxJWKSBytes = 1 << 20

// noKeysRetryInterval is the least time between two attempts to load the JWKS while none has
// ever been loaded (the issuer was unreachable at start).
const noKeysRetryInterval = time.Second

// supportedAlgs are the JWS algorithms a key may be published for: asymmetric ones only, so
// "none" and HMAC (whose key would be public) can never verify anything.
var supportedAlgs = []jose.SignatureAlgorithm{
	jose.ES256, jose.ES384, jose.ES512,
	jose.RS256, jose.RS384, jose.RS512,
	jose.PS256, jose.PS384, jose.PS512,
	jose.EdDSA,
}

type publicKey struct {
	key any // *ecdsa.PublicKey, *rsa.PublicKey or ed25519.PublicKey
	alg jose.SignatureAlgorithm
}

type keySet struct {
	byID      map[string]publicKey
	fetchedAt time.Time
}

// key returns the public key named kid, fetching the JWKS when it is not cached yet, when the
// kid is unknown (at most once per UnknownKeyRefetchInterval), or when the set is older than
// JWKSMaxAge.
func (v *Verifier) key(ctx context.Context, kid string) (publicKey, error) {
	now := v.now()
	ks := v.keys.Load()
	if ks != nil {
		k, ok := ks.byID[kid]
		if ok && now.Sub(ks.fetchedAt) < v.jwksMaxAge {
			return k, nil
		}
		if ok {
			// Stale but usable: refresh unless another request already is, and carry on
			// with the old set if the refresh fails.
			if v.fetchMu.TryLock() {
				if cur := v.keys.Load(); cur == ks {
					v.lastFetch = now
					if err := v.fetchKeys(ctx, now); err != nil {
						v.log.Error("gatehouseauth: refreshing the JWKS failed; keeping the cached keys", "url", v.jwksURL, "err", err)
					}
				}
				v.fetchMu.Unlock()
			}
			if cur := v.keys.Load(); cur != nil {
				if k2, ok2 := cur.byID[kid]; ok2 {
					return k2, nil
				}
				return publicKey{}, invalid("the token's signing key is no longer published")
			}
			return k, nil
		}
	}

	v.fetchMu.Lock()
	defer v.fetchMu.Unlock()
	// Another request may have fetched while this one waited.
	if cur := v.keys.Load(); cur != nil {
		if k, ok := cur.byID[kid]; ok {
			return k, nil
		}
		if cur != ks {
			return publicKey{}, invalid("unknown signing key")
		}
	}
	ks = v.keys.Load()
	interval := UnknownKeyRefetchInterval
	if ks == nil {
		interval = noKeysRetryInterval
	}
	if !v.lastFetch.IsZero() && now.Sub(v.lastFetch) < interval && now.Sub(v.lastFetch) >= 0 {
		if ks == nil {
			return publicKey{}, unavailable("the issuer's keys could not be loaded", nil)
		}
		return publicKey{}, invalid("unknown signing key")
	}
	v.lastFetch = now
	if err := v.fetchKeys(ctx, now); err != nil {
		v.log.Error("gatehouseauth: fetching the JWKS failed", "url", v.jwksURL, "err", err)
		if v.keys.Load() == nil {
			return publicKey{}, unavailable("the issuer's keys could not be loaded", err)
		}
		return publicKey{}, invalid("unknown signing key")
	}
	if k, ok := v.keys.Load().byID[kid]; ok {
		return k, nil
	}
	return publicKey{}, invalid("unknown signing key")
}

// fetchKeys loads the JWKS and installs it. The caller holds fetchMu.
func (v *Verifier) fetchKeys(ctx context.Context, now time.Time) error {
	// A client that hangs up must not spoil a fetch other requests are waiting for.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.jwksURL, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := v.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", v.jwksURL, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return err
	}
	if len(body) > maxJWKSBytes {
		return errors.New("JWKS document too large")
	}
	byID, err := parseJWKS(body)
	if err != nil {
		return err
	}
	old := v.keys.Swap(&keySet{byID: byID, fetchedAt: now})
	if old != nil {
		// Tokens verified with a key that is no longer published must not outlive it in the cache.
		var gone []string
		for kid := range old.byID {
			if _, ok := byID[kid]; !ok {
				gone = append(gone, kid)
			}
		}
		if len(gone) > 0 {
			v.tokens.dropKeys(gone)
		}
	}
	return nil
}

// parseJWKS keeps the usable signature keys of a JWKS document: public, asymmetric, with a
// kid, "use" absent or "sig", and an algorithm that fits the key. Keys it cannot use are
// skipped rather than failing the whole set, so that a new kind of key published next to the
// current ones does not stop verification.
func parseJWKS(body []byte) (map[string]publicKey, error) {
	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("JWKS is not JSON: %w", err)
	}
	if raw.Keys == nil {
		return nil, errors.New(`JWKS has no "keys" array`)
	}
	byID := make(map[string]publicKey, len(raw.Keys))
	for _, r := range raw.Keys {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(r); err != nil {
			continue // an unsupported key type, or a malformed key
		}
		if k.KeyID == "" || !k.IsPublic() || !k.Valid() || (k.Use != "" && k.Use != "sig") {
			continue
		}
		alg, ok := keyAlg(k.Key, k.Algorithm)
		if !ok {
			continue
		}
		if _, dup := byID[k.KeyID]; dup {
			// Two keys under one kid: neither can be trusted to be the one meant.
			byID[k.KeyID] = publicKey{}
			continue
		}
		byID[k.KeyID] = publicKey{key: k.Key, alg: alg}
	}
	for kid, k := range byID {
		if k.key == nil {
			delete(byID, kid)
		}
	}
	return byID, nil
}

// keyAlg is the algorithm a key verifies: its "alg" when published (and only if it fits the
// key), otherwise the one its type implies (EC curves and Ed25519 imply exactly one; RSA
// keys without "alg" are taken as RS256).
func keyAlg(key any, published string) (jose.SignatureAlgorithm, bool) {
	var implied []jose.SignatureAlgorithm
	switch k := key.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			implied = []jose.SignatureAlgorithm{jose.ES256}
		case elliptic.P384():
			implied = []jose.SignatureAlgorithm{jose.ES384}
		case elliptic.P521():
			implied = []jose.SignatureAlgorithm{jose.ES512}
		}
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return "", false
		}
		implied = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512}
	case ed25519.PublicKey:
		implied = []jose.SignatureAlgorithm{jose.EdDSA}
	}
	if len(implied) == 0 {
		return "", false
	}
	if published == "" {
		return implied[0], true
	}
	for _, a := range implied {
		if string(a) == published {
			return a, true
		}
	}
	return "", false
}
