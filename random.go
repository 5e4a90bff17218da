package gatehouse

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"github.com/google/uuid"
)

// NewID returns a UUIDv7 (RFC 9562): random, yet ordered by creation time, which keeps B-tree
// inserts local and gives cursor pagination and the audit log a stable creation order. google/uuid
// keeps a counter within each millisecond, so IDs made by one process sort in the order they were
// made even when they share a millisecond.
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

// RandomToken returns n random bytes encoded as unpadded base64url.
func RandomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// RandomBytes returns n random bytes.
func RandomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// HashToken is how every opaque secret (refresh token, email token, API key) is stored: SHA-256.
// The secrets carry at least 128 bits of randomness, so a fast hash is enough; no salt is needed
// because nothing is guessable.
func HashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// refreshTokenBytes is the randomness of a refresh token: 256 bits.
const refreshTokenBytes = 32
