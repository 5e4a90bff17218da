package gatehouse

import (
	"context"
	"strings"
)

// UserPage is one page of a user listing.
type UserPage struct {
	Users      []*User
	NextCursor string // empty on the last page
}

// MaxPageSize bounds listings.
const MaxPageSize = 200

// ListUsers returns users in creation order, starting after cursor.
func (s *AuthService) ListUsers(ctx context.Context, cursor string, limit int) (*UserPage, error) {
	if limit <= 0 {
		limit = 50
	}
	if limit > MaxPageSize {
		limit = MaxPageSize
	}
	if len(cursor) > 64 || strings.ContainsAny(cursor, "'\"\\") {
		return nil, Invalid(FieldError{Field: "cursor", Message: "The cursor is invalid."})
	}
	users, err := s.store.ListUsers(ctx, cursor, limit+1)
	if err != nil {
		return nil, err
	}
	page := &UserPage{Users: users}
	if len(users) > limit {
		page.Users = users[:limit]
		page.NextCursor = users[limit-1].ID
	}
	return page, nil
}

// AdminUserUpdate carries what an admin may change on an account; nil leaves a field alone.
type AdminUserUpdate struct {
	Role     *string
	IsActive *bool
}

// UpdateUser changes a user's role or active flag, for the admin by (or Operator). Disabling revokes every session and API key at
// once; enabling again revives neither.
func (s *AuthService) UpdateUser(ctx context.Context, by *Principal, userID string, up AdminUserUpdate) (*User, error) {
	if up.Role != nil && !ValidRole(*up.Role) {
		return nil, Invalid(FieldError{Field: "role", Message: "Role must be user or admin."})
	}
	var u *User
	var revoked []string
	err := s.tx(ctx, func(tx StoreTx) error {
		var err error
		if u, err = tx.LockUser(ctx, userID); err != nil {
			return err
		}
		now := s.now()
		wasAdmin := u.IsAdmin() && u.IsActive
		if up.Role != nil && *up.Role != u.Role {
			if err := s.auditTx(ctx, tx, by.Client, EventRoleChanged, u.ID, OutcomeSuccess, u.Role+" -> "+*up.Role+by.actor()); err != nil {
				return err
			}
			u.Role = *up.Role
		}
		if up.IsActive != nil && *up.IsActive != u.IsActive {
			u.IsActive = *up.IsActive
			detail := ""
			if !u.IsActive {
				// Disabling ends every session and kills the keys, rather than suspending them:
				// enabling the account again must not revive credentials nobody re-issued.
				if revoked, err = tx.RevokeUserSessions(ctx, u.ID, "", now); err != nil {
					return err
				}
				keys, err := tx.RevokeUserAPIKeys(ctx, u.ID, now)
				if err != nil {
					return err
				}
				detail = CountNoun(len(revoked), "session") + " and " + CountNoun(keys, "API key") + " revoked"
			}
			typ := EventAccountDisabled
			if u.IsActive {
				typ = EventAccountEnabled
			}
			if err := s.auditTx(ctx, tx, by.Client, typ, u.ID, OutcomeSuccess, strings.TrimPrefix(detail+by.actor(), " ")); err != nil {
				return err
			}
		}
		if wasAdmin && (!u.IsAdmin() || !u.IsActive) {
			// An admin no longer: the impersonation sessions they opened end for good (they
			// would not come back with the role).
			ended, err := tx.RevokeImpersonations(ctx, u.ID, now)
			if err != nil {
				return err
			}
			revoked = append(revoked, ended...)
		}
		u.UpdatedAt = now
		return tx.UpdateUser(ctx, u)
	})
	if err != nil {
		return nil, err
	}
	if up.IsActive != nil && !*up.IsActive {
		s.cache.invalidateKeys()
	}
	s.cache.invalidateSessions(revoked...)
	s.cache.invalidateUser(userID)
	return u, nil
}

// UserByEmail finds an account by address.
func (s *AuthService) UserByEmail(ctx context.Context, email string) (*User, error) {
	return s.store.UserByEmail(ctx, NormalizeEmail(email))
}

// User returns an account by id.
func (s *AuthService) User(ctx context.Context, id string) (*User, error) {
	return s.store.UserByID(ctx, id)
}

// FirstAdmin returns the oldest admin account, or nil when there is none.
func (s *AuthService) FirstAdmin(ctx context.Context) (*User, error) {
	after := ""
	for {
		users, err := s.store.ListUsers(ctx, after, MaxPageSize)
		if err != nil {
			return nil, err
		}
		for _, u := range users {
			if u.IsAdmin() {
				return u, nil
			}
		}
		if len(users) < MaxPageSize {
			return nil, nil
		}
		after = users[len(users)-1].ID
	}
}
