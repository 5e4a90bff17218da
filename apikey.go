package gatehouse

import (
	"context"
	"crypto/rand"
	"hash/crc32"
	"math/big"
	"slices"
	"strings"
	"time"
)

// Scopes an API key can carry. A session (access token) has every scope its role allows.
const (
	ScopeProfileRead      = "profile:read"
	ScopeCreditsRead      = "credits:read"
	ScopeCreditsWrite     = "credits:write"
	ScopeKeysRead         = "keys:read"
	ScopeKeysWrite        = "keys:write"
	ScopeTokensIntrospect = "tokens:introspect"
	ScopeAdmin            = "admin" // only for admins, and only while they are admins
)

// AllScopes lists every scope, in a stable order.
var AllScopes = []string{ScopeProfileRead, ScopeCreditsRead, ScopeCreditsWrite, ScopeKeysRead, ScopeKeysWrite, ScopeTokensIntrospect, ScopeAdmin}

// DefaultKeyScopes are what a key gets when its creator names none: enough for the guide's
// simplest path (read the profile and the credit balance), nothing that writes.
var DefaultKeyScopes = []string{ScopeProfileRead, ScopeCreditsRead}

// APIKey is a long-lived credential for servers, agents, SDKs and MCP tools. Only a hash of the
// key is stored; Prefix is what listings show so a user can tell keys apart.
type APIKey struct {
	ID         string
	UserID     string
	Name       string
	Prefix     string
	Hash       []byte
	Scopes     []string
	CreatedAt  time.Time
	ExpiresAt  *time.Time
	LastUsedAt *time.Time
	UseCount   int64
	RevokedAt  *time.Time
}

// Usable reports whether the key itself (not its owner) is still good at now.
func (k *APIKey) Usable(now time.Time) bool {
	return k.RevokedAt == nil && (k.ExpiresAt == nil || now.Before(*k.ExpiresAt))
}

// APIKeyReader reads API keys.
type APIKeyReader interface {
	APIKeyByHash(ctx context.Context, hash []byte) (*APIKey, error)
	APIKeyByID(ctx context.Context, id string) (*APIKey, error)
	// ListAPIKeys returns the user's keys that are not revoked, newest first.
	ListAPIKeys(ctx context.Context, userID string) ([]*APIKey, error)
	// APIKeysByPrefix returns every key, revoked ones included, whose displayed prefix is prefix.
	APIKeysByPrefix(ctx context.Context, prefix string) ([]*APIKey, error)
}

// APIKeyWriter writes API keys.
type APIKeyWriter interface {
	CreateAPIKey(ctx context.Context, k *APIKey) error
	RevokeAPIKey(ctx context.Context, id string, at time.Time) error
	// RevokeUserAPIKeys revokes every live key of the user and says how many.
	RevokeUserAPIKeys(ctx context.Context, userID string, at time.Time) (int, error)
	// RecordAPIKeyUse adds uses to a key's counter and moves its last use forward.
	RecordAPIKeyUse(ctx context.Context, id string, uses int64, lastUsed time.Time) error
}

// The key format: "ak_", 32 random base62 characters, then a 6-character base62 CRC32 of the
// random part, so secret scanners and the server can reject a mistyped key without a lookup.
const (
	apiKeyPrefix      = "ak_"
	apiKeyRandomLen   = 32
	apiKeyChecksumLen = 6
	apiKeyLen         = len(apiKeyPrefix) + apiKeyRandomLen + apiKeyChecksumLen
	// apiKeyDisplayLen is how much of a key listings show: the prefix and 8 random characters,
	// 48 bits that identify a key without helping anyone guess the rest.
	apiKeyDisplayLen = len(apiKeyPrefix) + 8
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// NewAPIKeySecret returns a fresh key in the documented format.
func NewAPIKeySecret() string {
	var b strings.Builder
	b.Grow(apiKeyLen)
	b.WriteString(apiKeyPrefix)
	random := make([]byte, apiKeyRandomLen)
	max := big.NewInt(int64(len(base62)))
	for i := range random {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic("gatehouse: crypto/rand failed: " + err.Error())
		}
		random[i] = base62[n.Int64()]
	}
	b.Write(random)
	b.WriteString(apiKeyChecksum(random))
	return b.String()
}

func apiKeyChecksum(random []byte) string {
	sum := crc32.ChecksumIEEE(random)
	out := make([]byte, apiKeyChecksumLen)
	for i := apiKeyChecksumLen - 1; i >= 0; i-- {
		out[i] = base62[sum%62]
		sum /= 62
	}
	return string(out)
}

// LooksLikeAPIKey reports whether a credential is meant as an API key (by its prefix, never by
// its length), so it is routed to key checks rather than JWT parsing.
func LooksLikeAPIKey(s string) bool { return strings.HasPrefix(s, apiKeyPrefix) }

// WellFormedAPIKey checks a key's shape and checksum without any lookup.
func WellFormedAPIKey(s string) bool {
	if len(s) != apiKeyLen || !strings.HasPrefix(s, apiKeyPrefix) {
		return false
	}
	random := s[len(apiKeyPrefix) : len(apiKeyPrefix)+apiKeyRandomLen]
	for i := 0; i < len(random); i++ {
		if strings.IndexByte(base62, random[i]) < 0 {
			return false
		}
	}
	return s[len(apiKeyPrefix)+apiKeyRandomLen:] == apiKeyChecksum([]byte(random))
}

// ValidScope reports whether s is a known scope.
func ValidScope(s string) bool { return slices.Contains(AllScopes, s) }

// scopesAllowedFor is what a user's role lets its keys carry.
func scopesAllowedFor(u *User) []string {
	if u.IsAdmin() {
		return AllScopes
	}
	return AllScopes[:len(AllScopes)-1]
}

// effectiveScopes are the key's scopes that its owner still has: demoting an admin takes the
// admin scope away from its keys at once.
func effectiveScopes(k *APIKey, owner *User) []string {
	allowed := scopesAllowedFor(owner)
	out := make([]string, 0, len(k.Scopes))
	for _, s := range k.Scopes {
		if slices.Contains(allowed, s) {
			out = append(out, s)
		}
	}
	return out
}
