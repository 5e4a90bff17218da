package gatehouse

import (
	"context"
	"slices"
	"strings"
	"time"
)

// Organization API keys belong to the organization, not to the member who created them: they
// survive the creator's departure (and the creator's account being disabled), and stop only when
// revoked, expired, or the organization is deleted. They reach the organization's credits and
// nothing of any user's.

// OrgKeyScopes are the scopes an organization key may carry, each needing the organization
// permission of the same name in the creator's role.
var OrgKeyScopes = []string{ScopeCreditsRead, ScopeCreditsWrite}

// DefaultOrgKeyScopes are an organization key's scopes when its creator names none.
var DefaultOrgKeyScopes = []string{ScopeCreditsRead}

// orgKeyScopePermission is the organization permission that lets a member give a key a scope.
var orgKeyScopePermission = map[string]string{ScopeCreditsRead: PermCreditsRead, ScopeCreditsWrite: PermCreditsWrite}

// orgKeyScopes are the scopes of an organization key that organization keys may carry.
func orgKeyScopes(k *APIKey) []string {
	out := make([]string, 0, len(k.Scopes))
	for _, s := range k.Scopes {
		if slices.Contains(OrgKeyScopes, s) {
			out = append(out, s)
		}
	}
	return out
}

// CreateOrgAPIKey creates a key of the organization (keys:write), with scopes capped by the
// creator's permissions in the organization, and returns it with its secret, shown only now.
func (o *OrgService) CreateOrgAPIKey(ctx context.Context, p *Principal, orgID string, in NewAPIKeyInput) (*APIKey, string, error) {
	name := strings.TrimSpace(in.Name)
	var fields []FieldError
	if f := validateLabelName(name); f != nil {
		fields = append(fields, *f)
	}
	scopes := in.Scopes
	if scopes == nil {
		scopes = DefaultOrgKeyScopes
	}
	clean := []string{}
	for _, sc := range scopes {
		if !slices.Contains(OrgKeyScopes, sc) {
			fields = append(fields, FieldError{Field: "scopes", Message: "Organization keys may carry only credits:read and credits:write, not " + quoteShort(sc) + "."})
			continue
		}
		if !slices.Contains(clean, sc) {
			clean = append(clean, sc)
		}
	}
	days := DefaultAPIKeyLifetimeDays
	if in.ExpiresInDays != nil {
		days = *in.ExpiresInDays
	}
	if days < 1 || days > MaxAPIKeyLifetimeDays {
		fields = append(fields, FieldError{Field: "expires_in_days", Message: "expires_in_days must be from 1 to 3650 for organization keys."})
	}
	if len(fields) > 0 {
		return nil, "", Invalid(fields...)
	}
	now := o.auth.now()
	secret := NewAPIKeySecret()
	exp := now.Add(time.Duration(days) * 24 * time.Hour)
	k := &APIKey{ID: NewID(), UserID: p.User.ID, OrgID: orgID, Name: name, Prefix: secret[:apiKeyDisplayLen],
		Hash: HashToken(secret), Scopes: clean, CreatedAt: now, ExpiresAt: &exp}
	err := o.change(ctx, p, "organization API key creation", func(tx StoreTx) error {
		a, err := o.access(ctx, tx, p, orgID, PermKeysWrite)
		if err != nil {
			return err
		}
		for _, sc := range clean {
			if !a.Can(orgKeyScopePermission[sc]) {
				return errScopeNotAllowed
			}
		}
		if err := tx.CreateAPIKey(ctx, k); err != nil {
			return err
		}
		return o.auditOrgTx(ctx, tx, p, EventOrgKeyCreated, orgID, "key "+k.ID+" ("+k.Prefix+") scopes: "+strings.Join(k.Scopes, " "))
	})
	if err != nil {
		return nil, "", err
	}
	return k, secret, nil
}

// ListOrgAPIKeys returns the organization's live keys (keys:read).
func (o *OrgService) ListOrgAPIKeys(ctx context.Context, p *Principal, orgID string) ([]*APIKey, error) {
	if _, err := o.access(ctx, nil, p, orgID, PermKeysRead); err != nil {
		return nil, err
	}
	keys, err := o.auth.store.ListOrgAPIKeys(ctx, orgID)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		o.auth.usage.overlay(k)
	}
	return keys, nil
}

// RevokeOrgAPIKey revokes a key of the organization (keys:write); it stops working at once.
func (o *OrgService) RevokeOrgAPIKey(ctx context.Context, p *Principal, orgID, keyID string) error {
	var exchanged []string
	err := o.change(ctx, p, "organization API key revocation", func(tx StoreTx) error {
		if _, err := o.access(ctx, tx, p, orgID, PermKeysWrite); err != nil {
			return err
		}
		k, err := tx.APIKeyByID(ctx, keyID)
		if isNotFound(err) || (err == nil && (k.OrgID != orgID || k.RevokedAt != nil)) {
			return ErrNotFound
		} else if err != nil {
			return err
		}
		// Unlike a user's key, the creator's row is not locked: organization keys are never
		// exchanged for tokens (authserver_exchange.go), and locking a member's row while the
		// organization's is held would order the locks against the member's own changes.
		now := o.auth.now()
		if err := tx.RevokeAPIKey(ctx, k.ID, now); err != nil {
			return err
		}
		if exchanged, err = tx.RevokeKeySessions(ctx, k.ID, now); err != nil {
			return err
		}
		return o.auditOrgTx(ctx, tx, p, EventOrgKeyRevoked, orgID, "key "+k.ID+" ("+k.Prefix+")")
	})
	if err != nil {
		return err
	}
	o.auth.cache.invalidateKeys()
	o.auth.cache.invalidateSessions(exchanged...)
	return nil
}
