package gatehouse

import (
	"context"
	"errors"
)

// Login checks an email and password and starts a session. Unknown emails, accounts without a
// password and wrong passwords all cost one password hash and fail with the same error, so neither
// the answer nor its timing reveals whether an account exists.
//
// Every attempt first takes a slot of the account's failure limit (counted even for emails that
// match no account); a successful login gives it back. Once the limit is reached, every attempt on
// that account is refused until the window passes, the right password included.
func (s *AuthService) Login(ctx context.Context, email, password string, client Client) (*TokenSet, error) {
	email = NormalizeEmail(email)
	ctx = WithClient(ctx, client)
	// Something that is not an address (a password typed in the wrong field, say) is neither
	// looked up, nor used as a rate-limit key, nor written to the audit log.
	shown := email
	if ValidateEmail(email) != nil {
		email, shown = "", "(not an email address)"
	}
	ticket, err := s.limiter.Take(ctx, s.rules.LoginAccount, hashedSubject(email))
	if err != nil {
		if ErrorKindOf(err) == KindRateLimited {
			s.audit(ctx, EventLoginFailed, "", OutcomeFailure, "account locked by the failure limit: "+shown)
		}
		return nil, err
	}
	u, err := s.checkPassword(ctx, email, password)
	if err != nil {
		if ErrorKindOf(err) != KindUnavailable {
			userID := ""
			if u != nil {
				userID = u.ID
			}
			s.audit(ctx, EventLoginFailed, userID, OutcomeFailure, ErrorCodeOf(err)+": "+shown)
		} else {
			// The attempt was never judged: it must not count against the account.
			s.limiter.Refund(ctx, ticket)
		}
		return nil, err
	}
	s.limiter.Refund(ctx, ticket)
	now := s.now()
	var sess *Session
	var refresh string
	err = s.tx(ctx, func(tx StoreTx) error {
		var err error
		if sess, refresh, err = s.startSession(ctx, tx, u, client, now); err != nil {
			return err
		}
		return s.auditTx(ctx, tx, EventLoginSucceeded, u.ID, OutcomeSuccess, "")
	})
	if err != nil {
		return nil, err
	}
	return s.issue(ctx, u, sess.ID, refresh)
}

// checkPassword returns the account whose password this is, or ErrInvalidCredentials after the
// same work whatever went wrong. A disabled or unverified account is reported only when the
// password was right. The user is returned with those errors, for the audit log.
func (s *AuthService) checkPassword(ctx context.Context, email, password string) (*User, error) {
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
		return u, ErrInvalidCredentials
	}
	if !ok {
		return u, ErrInvalidCredentials
	}
	if !u.IsActive {
		return u, ErrAccountDisabled
	}
	if s.cfg.RequireEmailVerification && !u.EmailVerified {
		return u, ErrEmailNotVerified
	}
	if needsRehash {
		// Upgrading the hash is best effort: the login succeeds even if it fails.
		if hash, err := s.hasher.Hash(ctx, password); err == nil {
			u.PasswordHash = hash
			u.UpdatedAt = s.now()
			if err := s.tx(ctx, func(tx StoreTx) error { return tx.UpdateUser(ctx, u) }); err != nil {
				s.log.WarnContext(ctx, "password hash upgrade failed", "user_id", u.ID, "error", err)
			}
		}
	}
	return u, nil
}
