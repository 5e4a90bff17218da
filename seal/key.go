package seal

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeyFileName is the key file in the data directory. It is named for its first use, the outbox;
// the signing keys are sealed under a key derived from it too.
const KeyFileName = "outbox.key"

// LoadKey returns the sealing key: envValue (base64 of KeySize bytes) when it is set, so that
// every instance sharing a database can be given the same key; otherwise the key file in dataDir,
// created owner-only on first use. fromFile reports which.
func LoadKey(envValue, dataDir string) (key []byte, fromFile bool, err error) {
	if v := strings.TrimSpace(envValue); v != "" {
		key, err := ParseKey(v)
		if err != nil {
			return nil, false, err
		}
		return key, false, nil
	}
	key, err = loadOrCreateFile(filepath.Join(dataDir, KeyFileName))
	return key, true, err
}

// ParseKey decodes a key written as base64 (padded or not).
func ParseKey(s string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		key, err = base64.RawStdEncoding.DecodeString(s)
	}
	if err != nil || len(key) != KeySize {
		return nil, fmt.Errorf("want the base64 encoding of %d random bytes (openssl rand -base64 %d)", KeySize, KeySize)
	}
	return key, nil
}

// loadOrCreateFile reads the key file, or creates it with a new random key. Of two processes
// starting at once, the loser of the creation reads the winner's key.
func loadOrCreateFile(path string) ([]byte, error) {
	for range 2 {
		data, err := os.ReadFile(path)
		if err == nil {
			key, err := ParseKey(strings.TrimSpace(string(data)))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			return key, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, err
		}
		key := make([]byte, KeySize)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		if err := writeNew(path, []byte(base64.StdEncoding.EncodeToString(key)+"\n")); errors.Is(err, fs.ErrExist) {
			continue
		} else if err != nil {
			return nil, err
		}
		return key, nil
	}
	return nil, fmt.Errorf("%s: created and removed concurrently", path)
}

// writeNew writes a complete file at path only if none exists: it is written and synced under a
// temporary name, then hard-linked into place, which fails if path exists. A reader never sees a
// half-written key, and a key is on disk before any message sealed with it is.
func writeNew(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".outbox-key-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Link(tmp, path)
}
