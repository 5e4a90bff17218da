package gatehouse

import (
	"context"
	"crypto/sha256"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

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
	name := strings.TrimSpace(in.Name)
	var fields []FieldError
	if name == "" || utf8.RuneCountInString(name) > 100 || !utf8.ValidString(name) {
		fields = append(fields, FieldError{Field: "name", Message: "Name is required and must be at most 100 characters."})
	} else if hasInvisible(name) {
		fields = append(fields, FieldError{Field: "name", Message: "Name must not contain control, format or other invisible characters."})
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
	for _, sc := range clean {
		// Neither the owner's role nor, when a key creates a key, the creating key's scopes may be exceeded.
		if !slices.Contains(scopesAllowedFor(p.User), sc) || (p.APIKey != nil && !p.Allows(sc)) {
			return nil, "", errScopeNotAllowed
		}
	}
	now := s.now()
	secret := NewAPIKeySecret()
	k := &APIKey{
		ID:        NewID(now),
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
		if err := tx.CreateAPIKey(ctx, k); err != nil {
			return err
		}
		return s.auditTx(ctx, tx, EventAPIKeyCreated, k.UserID, OutcomeSuccess, "key "+k.ID+" ("+k.Prefix+") scopes: "+strings.Join(k.Scopes, " "))
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
func (s *AuthService) RevokeAPIKey(ctx context.Context, p *Principal, id string) error {
	err := s.tx(ctx, func(tx StoreTx) error {
		k, err := tx.APIKeyByID(ctx, id)
		if err != nil {
			return err
		}
		if k.UserID != p.User.ID || k.RevokedAt != nil {
			return ErrNotFound
		}
		if err := tx.RevokeAPIKey(ctx, id, s.now()); err != nil {
			return err
		}
		return s.auditTx(ctx, tx, EventAPIKeyRevoked, k.UserID, OutcomeSuccess, "key "+k.ID+" ("+k.Prefix+")")
	})
	if err != nil {
		return err
	}
	s.cache.invalidateKeys()
	s.log.InfoContext(ctx, "api key revoked", "user_id", p.User.ID, "key_id", id)
	return nil
}

// RevokeAPIKeyByID revokes any key (operators, the CLI).
func (s *AuthService) RevokeAPIKeyByID(ctx context.Context, id string) (*APIKey, error) {
	var k *APIKey
	err := s.tx(ctx, func(tx StoreTx) error {
		var err error
		if k, err = tx.APIKeyByID(ctx, id); err != nil {
			return err
		}
		if k.RevokedAt != nil {
			return nil
		}
		if err := tx.RevokeAPIKey(ctx, id, s.now()); err != nil {
			return err
		}
		return s.auditTx(ctx, tx, EventAPIKeyRevoked, k.UserID, OutcomeSuccess, "key "+k.ID+" ("+k.Prefix+") by an operator")
	})
	if err != nil {
		return nil, err
	}
	s.cache.invalidateKeys()
	return k, nil
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
