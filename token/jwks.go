package token

import (
	"context"
	"encoding/json"
	"fmt"
	jose "github.com/go-jose/go-jose/v4"
	"slices"
	"time"
)

// jwksMaxAge bounds how stale the published key set can be; the endpoint may be polled by every
// relying party, so the store is read at most this often.
const jwksMaxAge = time.Second

type jwksCache struct {
	body []byte
	at   time.Time
}

// JWKS returns the RFC 7517 key set of the public keys that verifiers must accept, newest first.
//
// It reads the store itself rather than the loaded keys, so that a key added by the rotate
// command is published at once, before any instance signs with it. If the store cannot be read
// it serves the loaded keys: a key set that lacks only a key nobody signs with yet is better than
// an error that makes relying parties reject every token.
func (i *Issuer) JWKS(ctx context.Context) ([]byte, error) {
	if i.cfgErr != nil {
		return nil, i.cfgErr
	}
	now := i.cfg.Now()
	if c := i.jwks.Load(); c != nil {
		if age := now.Sub(c.at); age >= 0 && age < jwksMaxAge {
			return slices.Clone(c.body), nil
		}
	}

	keys, err := i.storedKeys(ctx, now)
	if err != nil {
		ks := i.keys.Load()
		if ks == nil {
			return nil, err
		}
		i.cfg.Log.Error("token: reading signing keys for the JWKS failed; publishing the loaded keys", "err", err)
		keys = ks.keys
	}

	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(keys))}
	for _, k := range keys {
		if !k.publishedAt(now) {
			continue
		}
		j, err := publicJWK(k.public, k.id, i.cfg.Algorithm)
		if err != nil {
			return nil, err
		}
		set.Keys = append(set.Keys, j)
	}
	body, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("token: encoding the JWKS: %w", err)
	}
	i.jwks.Store(&jwksCache{body: body, at: now})
	return slices.Clone(body), nil
}

func (i *Issuer) storedKeys(ctx context.Context, now time.Time) ([]*publishedKey, error) {
	stored, err := i.src.SigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("token: reading signing keys: %w", err)
	}
	// Unusable keys are left for Reload to report, so that they are logged once per reload.
	keys, _, err := publish(stored, i.cfg.Algorithm, i.cfg.TTL, now)
	return keys, err
}
