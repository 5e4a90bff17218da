package gatehouse

import (
	"context"
	"errors"
)

// Login checks an email and password and starts a session. Unknown emails, accounts without a
// password and wrong passwords all cost one password hash and fail with the same error, so neither
// the answer nor its timing reveals whether an account exists.
func (s *AuthService) Login(ctx context.Context, email, password string, client Client) (*TokenSet, error) {
	email = NormalizeEmail(email)
	if email == "" || password == "" || len(password) > 4*1024 {
		if err := s.hasher.VerifyDummy(ctx, password); err != nil {
			return nil, err
		}
		return nil, ErrInvalidCredentials
	}
	u, err := s.store.UserByEmail(ctx, email)
	if err != nil && !isNotFound(err) {
		return nil, err
	}
	if u == nil || !u.HasPassword() {
		if err := s.hasher.VerifyDummy(ctx, password); err != nil {
			return nil, err
		}
		return nil, ErrInvalidCredentials
	}
	ok, needsRehash, err := s.hasher.Verify(ctx, password, u.PasswordHash)
	if errors.Is(err, ErrBusy) {
		return nil, err
	}
	if err != nil {
		s.log.ErrorContext(ctx, "stored password hash is unreadable", "user_id", u.ID, "error", err)
		return nil, ErrInvalidCredentials
	}
	if !ok {
		return nil, ErrInvalidCredentials
	}
	if !u.IsActive {
		return nil, ErrAccountDisabled
	}
	if s.cfg.RequireEmailVerification && !u.EmailVerified {
		return nil, ErrEmailNotVerified
	}
	now := s.now()
	if needsRehash {
		// Upgrading the hash is best effort: the login succeeds even if it fails.
		if hash, err := s.hasher.Hash(ctx, password); err == nil {
			u.PasswordHash = hash
			u.UpdatedAt = now
			if err := s.tx(ctx, func(tx StoreTx) error { return tx.UpdateUser(ctx, u) }); err != nil {
				s.log.WarnContext(ctx, "password hash upgrade failed", "user_id", u.ID, "error", err)
			}
		}
	}
	var sess *Session
	var refresh string
	err = s.tx(ctx, func(tx StoreTx) error {
		sess, refresh, err = s.startSession(ctx, tx, u, client, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.issue(ctx, u, sess.ID, refresh)
}
