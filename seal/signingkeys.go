package seal

import (
	"bytes"
	"context"
	"fmt"

	"github.com/gatehouse/gatehouse"
)

// sealedPrefix marks a private key stored sealed.
var sealedPrefix = []byte("gatehouse-sealed-v1:")

// SigningKeys reads signing keys from a store, opening the sealed ones, so that a stolen database
// or backup holds no usable private key. It is the key source of token.Issuer.
type SigningKeys struct {
	store gatehouse.Store
	box   *Box
	// source says where the box's key comes from, for the message that says it is the wrong one.
	source string
}

// NewSigningKeys seals and opens the signing keys of store with box (a key derived for signing
// keys alone); source names where that key comes from ("GATEHOUSE_ENCRYPTION_KEY", a key file).
func NewSigningKeys(store gatehouse.Store, box *Box, source string) *SigningKeys {
	return &SigningKeys{store: store, box: box, source: source}
}

// SigningKeys returns every stored key, opened. A key sealed with another key stops everything
// (the start, or a reload, which keeps the keys it had) rather than let this instance mint a key
// of its own that its peers could not open. A key in plain text (written by an earlier version)
// is returned as it is; SealExisting seals it.
func (s *SigningKeys) SigningKeys(ctx context.Context) ([]gatehouse.SigningKey, error) {
	keys, err := s.store.SigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	for i, k := range keys {
		if !bytes.HasPrefix(k.Private, sealedPrefix) {
			continue
		}
		plain, err := s.box.Open(k.Private[len(sealedPrefix):], []byte(k.ID))
		if err != nil {
			return nil, fmt.Errorf("signing key %s is sealed with another key than %s: set GATEHOUSE_ENCRYPTION_KEY to the key that sealed it, the same on every instance and command sharing this database", k.ID, s.source)
		}
		keys[i].Private = plain
	}
	return keys, nil
}

// Sealed returns the form of k's private key the store keeps.
func (s *SigningKeys) Sealed(k gatehouse.SigningKey) ([]byte, error) {
	out, err := s.box.Seal(k.Private, []byte(k.ID))
	if err != nil {
		return nil, err
	}
	return append(append([]byte{}, sealedPrefix...), out...), nil
}

// SealExisting seals the keys stored in plain text (by an earlier version) and reports how many.
func (s *SigningKeys) SealExisting(ctx context.Context) (n int, err error) {
	err = s.store.Tx(ctx, func(tx gatehouse.StoreTx) error {
		n = 0
		keys, err := tx.SigningKeys(ctx)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if bytes.HasPrefix(k.Private, sealedPrefix) {
				continue
			}
			private, err := s.Sealed(k)
			if err != nil {
				return err
			}
			if err := tx.ReplaceSigningKeyPrivate(ctx, k.ID, private); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}
