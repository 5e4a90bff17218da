package main

import (
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
// the same one, so on PostgreSQL a serving instance that uses its own key file says so (a command
// that cannot open the keys says what to do in its error).
func loadMasterKey(cfg *config, log *slog.Logger, serving bool) (*masterKey, error) {
	key, fromFile, err := seal.LoadKey(cfg.EncryptionKey, cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("encryption key: %w", err)
	}
	if !fromFile {
		return &masterKey{key: key, source: "GATEHOUSE_ENCRYPTION_KEY"}, nil
	}
	path := filepath.Join(cfg.DataDir, seal.KeyFileName)
	if cfg.isPostgres() && serving {
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

// signingKeys is the signing-key source of the token issuer: the store's keys, sealed with a key
// derived from the master key for signing keys alone.
func signingKeys(store gatehouse.Store, mk *masterKey) (*seal.SigningKeys, error) {
	box, err := mk.box("signing keys")
	if err != nil {
		return nil, err
	}
	return seal.NewSigningKeys(store, box, mk.source), nil
}
