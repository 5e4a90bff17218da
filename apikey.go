package gatehouse

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
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
	UserID     string // the owner, or for an organization key the member who created it
	Name       string
	Prefix     string
	Hash       []byte
	Scopes     []string
	CreatedAt  time.Time
	ExpiresAt  *time.Time
	LastUsedAt *time.Time
	UseCount   int64
	RevokedAt  *time.Time

	// OrgID is the organization that owns the key (orgkeys.go); empty for a user's own key.
	OrgID string
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

// API key lifetimes.
const (
	DefaultAPIKeyLifetimeDays = 90
	MaxAPIKeyLifetimeDays     = 3650
)

// NewAPIKeyInput is what a key is created with. A nil ExpiresInDays means the default; 0 means
// never, which only admins may ask for.
type NewAPIKeyInput struct {
	Name          string
	Scopes        []string
	ExpiresInDays *int
}

var errScopeNotAllowed = &Error{Kind: KindForbidden, Code: "scope_not_allowed", Message: "A key cannot have more rights than the credential that creates it."}

// CreateAPIKey creates a key for the caller and returns it with its secret, shown only now.
func (s *AuthService) CreateAPIKey(ctx context.Context, p *Principal, in NewAPIKeyInput) (*APIKey, string, error) {
	if err := s.forbidImpersonated(ctx, p, "API key creation"); err != nil {
		return nil, "", err
	}
	name := strings.TrimSpace(in.Name)
	var fields []FieldError
	if f := validateLabelName(name); f != nil {
		fields = append(fields, *f)
	}
	scopes := in.Scopes
	if scopes == nil {
		scopes = DefaultKeyScopes
	}
	seen := map[string]bool{}
	var clean []string
	for _, sc := range scopes {
		if !ValidScope(sc) {
			fields = append(fields, FieldError{Field: "scopes", Message: "Unknown scope " + quoteShort(sc) + "."})
			continue
		}
		if !seen[sc] {
			seen[sc] = true
			clean = append(clean, sc)
		}
	}
	days := DefaultAPIKeyLifetimeDays
	if in.ExpiresInDays != nil {
		days = *in.ExpiresInDays
	}
	if days < 0 || days > MaxAPIKeyLifetimeDays {
		fields = append(fields, FieldError{Field: "expires_in_days", Message: "expires_in_days must be from 0 to 3650."})
	} else if days == 0 && (!p.User.IsAdmin() || (p.APIKey != nil && (p.APIKey.ExpiresAt != nil || !p.Allows(ScopeAdmin)))) {
		fields = append(fields, FieldError{Field: "expires_in_days", Message: "Only admins (or their never-expiring admin keys) may create keys that never expire."})
	}
	if len(fields) > 0 {
		return nil, "", Invalid(fields...)
	}
	// An app the user connected through OAuth never mints the user's long-lived keys.
	if p.ClientID != "" {
		return nil, "", errScopeNotAllowed
	}
	for _, sc := range clean {
		// Neither the owner's role nor, when a key creates a key, the creating key's scopes may be exceeded.
		if !slices.Contains(scopesAllowedFor(p.User), sc) || (p.APIKey != nil && !p.Allows(sc)) {
			return nil, "", errScopeNotAllowed
		}
		// An admin session that may not act as an admin (GATEHOUSE_ADMIN_REQUIRE_MFA) may not
		// mint a key that would.
		if sc == ScopeAdmin && p.AdminNeedsMFA {
			return nil, "", ErrAdminNeedsMFA
		}
	}
	// A key with admin powers outlives the session that mints it: a session signed in long ago
	// (perhaps left open, perhaps stolen) must sign in again first.
	if slices.Contains(clean, ScopeAdmin) {
		if err := s.requireRecentAuth(ctx, p); err != nil {
			return nil, "", err
		}
	}
	now := s.now()
	secret := NewAPIKeySecret()
	k := &APIKey{
		ID:        NewID(),
		UserID:    p.User.ID,
		Name:      name,
		Prefix:    secret[:apiKeyDisplayLen],
		Hash:      HashToken(secret),
		Scopes:    clean,
		CreatedAt: now,
	}
	if clean == nil {
		k.Scopes = []string{}
	}
	if days > 0 {
		exp := now.Add(time.Duration(days) * 24 * time.Hour)
		// A key minted by a key never outlives it: a leaked key cannot extend its own reign.
		if p.APIKey != nil && p.APIKey.ExpiresAt != nil && p.APIKey.ExpiresAt.Before(exp) {
			exp = *p.APIKey.ExpiresAt
		}
		k.ExpiresAt = &exp
	}
	if err := s.tx(ctx, func(tx StoreTx) error {
		if _, err := s.lockCaller(ctx, tx, p); err != nil {
			return err
		}
		if err := tx.CreateAPIKey(ctx, k); err != nil {
			return err
		}
		return s.auditTx(ctx, tx, p.Client, EventAPIKeyCreated, k.UserID, OutcomeSuccess, "key "+k.ID+" ("+k.Prefix+") scopes: "+strings.Join(k.Scopes, " "))
	}); err != nil {
		return nil, "", err
	}
	s.log.InfoContext(ctx, "api key created", "user_id", k.UserID, "key_id", k.ID, "prefix", k.Prefix)
	return k, secret, nil
}

func quoteShort(s string) string {
	if len(s) > 40 {
		s = s[:40]
	}
	return `"` + strings.ToValidUTF8(s, "") + `"`
}

// ListAPIKeys returns the caller's live keys.
func (s *AuthService) ListAPIKeys(ctx context.Context, p *Principal) ([]*APIKey, error) {
	keys, err := s.store.ListAPIKeys(ctx, p.User.ID)
	if err != nil {
		return nil, err
	}
	// Uses not yet written to the database still show.
	for _, k := range keys {
		s.usage.overlay(k)
	}
	return keys, nil
}

// RevokeAPIKey revokes one of the caller's keys; another user's key is reported as not found.
// The tokens exchanged from the key (token exchange) are revoked with it.
func (s *AuthService) RevokeAPIKey(ctx context.Context, p *Principal, id string) error {
	if err := s.forbidImpersonated(ctx, p, "API key revocation"); err != nil {
		return err
	}
	var exchanged []string
	err := s.tx(ctx, func(tx StoreTx) error {
		k, err := tx.APIKeyByID(ctx, id)
		if err != nil {
			return err
		}
		if k.UserID != p.User.ID || k.OrgID != "" || k.RevokedAt != nil {
			return ErrNotFound
		}
		if exchanged, err = s.revokeKeyTx(ctx, tx, k); err != nil {
			return err
		}
		return s.auditTx(ctx, tx, p.Client, EventAPIKeyRevoked, k.UserID, OutcomeSuccess, "key "+k.ID+" ("+k.Prefix+")")
	})
	if err != nil {
		return err
	}
	s.cache.invalidateKeys()
	s.cache.invalidateSessions(exchanged...)
	s.log.InfoContext(ctx, "api key revoked", "user_id", p.User.ID, "key_id", id)
	return nil
}

// RevokeAPIKeyByID revokes any key (operators, the CLI).
func (s *AuthService) RevokeAPIKeyByID(ctx context.Context, id string) (*APIKey, error) {
	var k *APIKey
	var exchanged []string
	err := s.tx(ctx, func(tx StoreTx) error {
		var err error
		if k, err = tx.APIKeyByID(ctx, id); err != nil {
			return err
		}
		if k.RevokedAt != nil {
			return nil
		}
		if exchanged, err = s.revokeKeyTx(ctx, tx, k); err != nil {
			return err
		}
		return s.auditTx(ctx, tx, Operator.Client, EventAPIKeyRevoked, k.UserID, OutcomeSuccess, "key "+k.ID+" ("+k.Prefix+") by an operator")
	})
	if err != nil {
		return nil, err
	}
	s.cache.invalidateKeys()
	s.cache.invalidateSessions(exchanged...)
	return k, nil
}

// revokeKeyTx revokes a key and the sessions exchanged from it. The owner's row is locked first,
// as a token exchange locks it, so an exchange in flight either sees the key revoked or has
// created its session before the sessions of the key are revoked.
func (s *AuthService) revokeKeyTx(ctx context.Context, tx StoreTx, k *APIKey) ([]string, error) {
	if _, err := tx.LockUser(ctx, k.UserID); err != nil {
		return nil, err
	}
	now := s.now()
	if err := tx.RevokeAPIKey(ctx, k.ID, now); err != nil {
		return nil, err
	}
	return tx.RevokeKeySessions(ctx, k.ID, now)
}

// APIKeysByPrefix returns the keys, revoked ones included, whose displayed prefix (what key
// listings show: "ak_" and 8 characters) is prefix (operators, the CLI).
func (s *AuthService) APIKeysByPrefix(ctx context.Context, prefix string) ([]*APIKey, error) {
	if !IsAPIKeyPrefix(prefix) {
		return nil, nil
	}
	return s.store.APIKeysByPrefix(ctx, prefix)
}

// APIKeyBySecret finds a key, revoked or not, from the whole key (an operator revoking a leaked key).
func (s *AuthService) APIKeyBySecret(ctx context.Context, secret string) (*APIKey, error) {
	if !WellFormedAPIKey(secret) {
		return nil, ErrNotFound
	}
	return s.store.APIKeyByHash(ctx, HashToken(secret))
}

// IsAPIKeyPrefix reports whether v looks like the prefix key listings show.
func IsAPIKeyPrefix(v string) bool {
	if len(v) != apiKeyDisplayLen || !strings.HasPrefix(v, apiKeyPrefix) {
		return false
	}
	for _, c := range v[len(apiKeyPrefix):] {
		if !strings.ContainsRune(base62, c) {
			return false
		}
	}
	return true
}

// ListAPIKeysOf returns a user's live keys (operators, the CLI).
func (s *AuthService) ListAPIKeysOf(ctx context.Context, userID string) ([]*APIKey, error) {
	return s.ListAPIKeys(ctx, &Principal{User: &User{ID: userID}})
}

// AuthenticateAPIKey checks a key: its shape and checksum first (no lookup for a mistyped key),
// then its hash, its expiry and revocation, and its owner's standing. Its scopes are cut down to
// what the owner may still do. record counts the use (batched, never a write per request).
func (s *AuthService) AuthenticateAPIKey(ctx context.Context, secret string, record bool) (*Principal, error) {
	if !WellFormedAPIKey(secret) {
		return nil, ErrUnauthenticated
	}
	now := s.now()
	hash := sha256.Sum256([]byte(secret))
	k, u, err := s.loadKey(ctx, hash, now)
	if err != nil {
		return nil, err
	}
	if k.OrgID != "" {
		// An organization's key answers to the organization, not to the member who created it.
		if !k.Usable(now) {
			return nil, ErrUnauthenticated
		}
		if record {
			s.usage.add(k.ID, now)
		}
		return &Principal{User: u, APIKey: k, Scopes: orgKeyScopes(k)}, nil
	}
	if !k.Usable(now) || !u.IsActive {
		return nil, ErrUnauthenticated
	}
	if record {
		s.usage.add(k.ID, now)
	}
	return &Principal{User: u, APIKey: k, Scopes: effectiveScopes(k, u)}, nil
}

func (s *AuthService) loadKey(ctx context.Context, hash [32]byte, now time.Time) (*APIKey, *User, error) {
	if k, ok := s.cache.key(hash, now); ok {
		if u, ok := s.cache.user(k.UserID, now); ok {
			return &k, &u, nil
		}
	}
	generation := s.cache.currentGeneration()
	k, err := s.store.APIKeyByHash(ctx, hash[:])
	if err != nil {
		return nil, nil, notFoundAsUnauthenticated(err)
	}
	u, err := s.store.UserByID(ctx, k.UserID)
	if err != nil {
		return nil, nil, notFoundAsUnauthenticated(err)
	}
	s.cache.storeKey(generation, hash, k, u, now)
	return k, u, nil
}
