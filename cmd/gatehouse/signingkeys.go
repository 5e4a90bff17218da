package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/seal"
)

// sealedPrefix marks a private key stored sealed with GATEHOUSE_ENCRYPTION_KEY.
var sealedPrefix = []byte("gatehouse-sealed-v1:")

// signingKeySource reads signing keys from the store, opening the sealed ones. With
// GATEHOUSE_ENCRYPTION_KEY set, a stolen database or backup holds no usable private key.
type signingKeySource struct {
	store gatehouse.Store
	box   *seal.Box // nil when GATEHOUSE_ENCRYPTION_KEY is unset
}

func (s *signingKeySource) SigningKeys(ctx context.Context) ([]gatehouse.SigningKey, error) {
	keys, err := s.store.SigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	for i, k := range keys {
		if !bytes.HasPrefix(k.Private, sealedPrefix) {
			continue
		}
		if s.box == nil {
			// Refuse loudly rather than let a server mint a new key and strand every session.
			return nil, fmt.Errorf("signing key %s is sealed: set GATEHOUSE_ENCRYPTION_KEY", k.ID)
		}
		plain, err := s.box.Open(k.Private[len(sealedPrefix):], []byte(k.ID))
		if err != nil {
			return nil, fmt.Errorf("signing key %s: cannot open it with GATEHOUSE_ENCRYPTION_KEY (wrong key?)", k.ID)
		}
		keys[i].Private = plain
	}
	return keys, nil
}

// sealed returns the form of a private key the store keeps.
func (s *signingKeySource) sealed(k gatehouse.SigningKey) ([]byte, error) {
	if s.box == nil {
		return k.Private, nil
	}
	out, err := s.box.Seal(k.Private, []byte(k.ID))
	if err != nil {
		return nil, err
	}
	return append(append([]byte{}, sealedPrefix...), out...), nil
}

// sealExisting seals keys stored before GATEHOUSE_ENCRYPTION_KEY was set.
func (s *signingKeySource) sealExisting(ctx context.Context) error {
	if s.box == nil {
		return nil
	}
	return s.store.Tx(ctx, func(tx gatehouse.StoreTx) error {
		keys, err := tx.SigningKeys(ctx)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if bytes.HasPrefix(k.Private, sealedPrefix) {
				continue
			}
			private, err := s.sealed(k)
			if err != nil {
				return err
			}
			if err := tx.ReplaceSigningKeyPrivate(ctx, k.ID, private); err != nil {
				return err
			}
		}
		return nil
	})
}

// encryptionBox parses GATEHOUSE_ENCRYPTION_KEY; nil when unset.
func encryptionBox(value string) (*seal.Box, error) {
	if value == "" {
		return nil, nil
	}
	key, err := seal.ParseKey(value)
	if err != nil {
		return nil, &configError{"GATEHOUSE_ENCRYPTION_KEY", "(hidden)", err.Error()}
	}
	// A key of its own, derived from the master key, so that the outbox's use of the same
	// variable and this one never share a key.
	derived, err := seal.Derive(key, "signing keys")
	if err != nil {
		return nil, errors.New("GATEHOUSE_ENCRYPTION_KEY: " + err.Error())
	}
	box, err := seal.New(derived)
	if err != nil {
		return nil, errors.New("GATEHOUSE_ENCRYPTION_KEY: " + err.Error())
	}
	return box, nil
}
