package gatehouse

import (
	"context"
	"net/url"
	"strings"
)

// ProfileUpdate carries the fields a user may change; nil leaves a field alone.
type ProfileUpdate struct {
	Name      *string
	AvatarURL **string // a nil inner pointer clears the avatar
}

// UpdateProfile changes the caller's name or avatar.
func (s *AuthService) UpdateProfile(ctx context.Context, p *Principal, up ProfileUpdate) (*User, error) {
	var fields []FieldError
	if up.Name != nil {
		n := strings.TrimSpace(*up.Name)
		up.Name = &n
		if fe := ValidateName(n); fe != nil {
			fields = append(fields, *fe)
		}
	}
	if up.AvatarURL != nil && *up.AvatarURL != nil {
		if fe := validateAvatarURL(**up.AvatarURL); fe != nil {
			fields = append(fields, *fe)
		}
	}
	if len(fields) > 0 {
		return nil, Invalid(fields...)
	}
	var u *User
	err := s.tx(ctx, func(tx StoreTx) error {
		var err error
		if u, err = s.lockCaller(ctx, tx, p); err != nil {
			return err
		}
		if up.Name != nil {
			u.Name = *up.Name
		}
		if up.AvatarURL != nil {
			u.AvatarURL = *up.AvatarURL
		}
		u.UpdatedAt = s.now()
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		return s.auditTx(ctx, tx, p.Client, EventProfileUpdated, u.ID, OutcomeSuccess, "")
	})
	if err != nil {
		return nil, err
	}
	s.cache.invalidateUser(p.User.ID)
	return u, nil
}

func validateAvatarURL(raw string) *FieldError {
	fail := &FieldError{Field: "avatar_url", Message: "Avatar URL must be an absolute http(s) URL of at most 2048 characters."}
	if len(raw) > 2048 {
		return fail
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return fail
	}
	return nil
}

// ChangePassword replaces the caller's password after checking the current one, and revokes
// every other session of the user. The caller must have signed in within StepUpMaxAge.
func (s *AuthService) ChangePassword(ctx context.Context, p *Principal, current, next string) error {
	if err := s.forbidImpersonated(ctx, p, "password change"); err != nil {
		return err
	}
	if err := s.requireRecentAuth(ctx, p); err != nil {
		return err
	}
	u, err := s.store.UserByID(ctx, p.User.ID)
	if err != nil {
		return notFoundAsUnauthenticated(err)
	}
	if !u.HasPassword() {
		return Invalid(FieldError{Field: "current_password", Message: "This account has no password yet; use forgot-password to set one."})
	}
	// A wrong current password is a failed login: it shares the account's failure limit, so a
	// stolen session cannot be used to guess the password at leisure.
	ticket, err := s.limiter.Take(ctx, s.rules.LoginAccount, hashedSubject(u.Email))
	if err != nil {
		return err
	}
	ok, _, err := s.hasher.Verify(ctx, current, u.PasswordHash)
	if err == nil && ok {
		s.limiter.Refund(ctx, ticket)
	}
	if err != nil || !ok {
		if err != nil && ErrorKindOf(err) == KindUnavailable {
			s.limiter.Refund(ctx, ticket)
			return err
		}
		return Invalid(FieldError{Field: "current_password", Message: "The current password is incorrect."})
	}
	if msg := s.policy.Check(next); msg != "" {
		return Invalid(FieldError{Field: "new_password", Message: msg})
	}
	if err := s.checkBreached(ctx, "new_password", next); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, next)
	if err != nil {
		return err
	}
	checked := u.PasswordHash
	var revoked []string
	err = s.tx(ctx, func(tx StoreTx) error {
		u, err := s.lockCaller(ctx, tx, p)
		if err != nil {
			return err
		}
		// The current password was checked before this transaction; if the account's password
		// changed since (another change, a reset, a provider sign-in that removed it), the check
		// proved nothing about the password there is now.
		if u.PasswordHash != checked {
			return Invalid(FieldError{Field: "current_password", Message: "The current password is incorrect."})
		}
		now := s.now()
		u.PasswordHash = hash
		u.UpdatedAt = now
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		if revoked, err = tx.RevokeUserSessions(ctx, u.ID, p.SessionID, now); err != nil {
			return err
		}
		if err := s.auditTx(ctx, tx, p.Client, EventPasswordChanged, u.ID, OutcomeSuccess, CountNoun(len(revoked), "other session")+" revoked"); err != nil || s.email == nil {
			return err
		}
		// Tell the mailbox owner, so a change they did not make does not go unnoticed.
		return s.queueEmail(ctx, tx, EmailPasswordChanged, EmailData{Email: u.Email}, "", now)
	})
	if err != nil {
		return err
	}
	s.cache.invalidateSessions(revoked...)
	s.cache.invalidateUser(p.User.ID)
	if s.email != nil {
		s.email.wake()
	}
	s.log.InfoContext(ctx, "password changed", "user_id", p.User.ID, "sessions_revoked", len(revoked))
	return nil
}
