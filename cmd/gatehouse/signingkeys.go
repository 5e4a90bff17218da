package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/seal"
)

// masterKey is the key, kept outside the database, that seals the secrets the database keeps
// (signing keys, the tokens of queued emails): GATEHOUSE_ENCRYPTION_KEY, or else the key file in
// the data directory, created on first use. Each use gets a key of its own derived from it.
type masterKey struct {
	key []byte
	// source says where the key comes from, for the message that says it is the wrong one.
	source string
}

// loadMasterKey reads (or creates) the master key. Instances sharing a PostgreSQL database need
// the same one, so on PostgreSQL an instance that uses its own key file says so.
func loadMasterKey(cfg *config, log *slog.Logger) (*masterKey, error) {
	key, fromFile, err := seal.LoadKey(cfg.EncryptionKey, cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("encryption key: %w", err)
	}
	if !fromFile {
		return &masterKey{key: key, source: "GATEHOUSE_ENCRYPTION_KEY"}, nil
	}
	path := filepath.Join(cfg.DataDir, seal.KeyFileName)
	if cfg.isPostgres() {
		log.Warn("GATEHOUSE_ENCRYPTION_KEY is unset: signing keys and queued emails are sealed with this instance's key file " + path +
			"; every instance sharing the database needs the same key: set GATEHOUSE_ENCRYPTION_KEY to that file's content on all of them")
	}
	return &masterKey{key: key, source: "the key file " + path + " (GATEHOUSE_ENCRYPTION_KEY is unset)"}, nil
}

// box returns a Box under a key derived from the master key for purpose alone, so that no two
// uses ever share a key.
func (m *masterKey) box(purpose string) (*seal.Box, error) {
	derived, err := seal.Derive(m.key, purpose)
	if err != nil {
		return nil, err
	}
	return seal.New(derived)
}

// sealedPrefix marks a private key stored sealed.
var sealedPrefix = []byte("gatehouse-sealed-v1:")

// signingKeySource reads signing keys from the store, opening the sealed ones, so that a stolen
// database or backup holds no usable private key.
type signingKeySource struct {
	store  gatehouse.Store
	box    *seal.Box
	source string // where box's key comes from (masterKey.source)
}

func newSigningKeySource(store gatehouse.Store, mk *masterKey) (*signingKeySource, error) {
	box, err := mk.box("signing keys")
	if err != nil {
		return nil, err
	}
	return &signingKeySource{store: store, box: box, source: mk.source}, nil
}

// SigningKeys returns every stored key, opened. A key sealed with another master key stops
// everything (the start, or a reload, which keeps the keys it had) rather than let this instance
// mint a key of its own that its peers could not open. A key in plain text (written by an
// earlier version) is returned as it is; the next start seals it.
func (s *signingKeySource) SigningKeys(ctx context.Context) ([]gatehouse.SigningKey, error) {
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

// sealed returns the form of a private key the store keeps.
func (s *signingKeySource) sealed(k gatehouse.SigningKey) ([]byte, error) {
	out, err := s.box.Seal(k.Private, []byte(k.ID))
	if err != nil {
		return nil, err
	}
	return append(append([]byte{}, sealedPrefix...), out...), nil
}

// sealExisting seals the keys stored in plain text (by an earlier version) and reports how many.
func (s *signingKeySource) sealExisting(ctx context.Context) (n int, err error) {
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
			private, err := s.sealed(k)
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
