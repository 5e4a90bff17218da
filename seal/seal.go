// Package seal encrypts small secrets for storage (AES-256-GCM) under a key that is kept outside
// the database, so that a copy of the database alone reveals none of them.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// KeySize is the length of a key: AES-256.
const KeySize = 32

// Box seals and opens with one key. It implements gatehouse.SecretSealer.
type Box struct {
	aead  cipher.AEAD
	keyID string
}

// New makes a Box for a KeySize-byte key.
func New(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("seal: key is %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	// A hash under a label of its own: it names the key and cannot be turned back into it.
	id := sha256.Sum256(append([]byte("gatehouse seal key id v1\x00"), key...))
	return &Box{aead: aead, keyID: hex.EncodeToString(id[:8])}, nil
}

// KeyID names the key without revealing it.
func (b *Box) KeyID() string { return b.keyID }

// Seal encrypts plaintext; additionalData (such as the id of the row that stores the result) is
// authenticated, so a sealed value moved to another row does not open. The random 96-bit nonce
// is prepended.
func (b *Box) Seal(plaintext, additionalData []byte) ([]byte, error) {
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plaintext)+b.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return b.aead.Seal(nonce, nonce, plaintext, additionalData), nil
}

// ErrOpen means a sealed value was made with another key or additional data, or was altered.
var ErrOpen = errors.New("seal: cannot open: wrong key, wrong additional data or altered")

// Open decrypts what Seal returned with the same additional data.
func (b *Box) Open(sealed, additionalData []byte) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < n+b.aead.Overhead() {
		return nil, ErrOpen
	}
	plain, err := b.aead.Open(nil, sealed[:n], sealed[n:], additionalData)
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}

// Derive returns a key of its own for one purpose, from a master key (HKDF-SHA256). One master
// key (GATEHOUSE_ENCRYPTION_KEY) can then serve several uses without a value sealed for one ever
// opening as another.
func Derive(master []byte, purpose string) ([]byte, error) {
	return hkdf.Key(sha256.New, master, nil, "gatehouse seal v1: "+purpose, KeySize)
}
