package gatehouse

import (
	"context"
	"time"
)

// forgotWorkTimeout bounds the work a forgot-password request leaves running after it answered.
const forgotWorkTimeout = 30 * time.Second

// ForgotPassword emails a reset link to the account with this address, if there is one that can
// use it. The answer is the same whether or not there is: the same result (only a malformed
// address or an unreachable database is an error, and those do not depend on the account), and
// the same time. Every request takes ForgotPasswordFloor; the work, which for a real account
// includes writing the token and the email, runs during that wait, and a request whose work
// outlasts it is answered at the floor all the same while the work carries on.
func (s *AuthService) ForgotPassword(ctx context.Context, email string) error {
	if s.email == nil {
		return errEmailDisabled
	}
	email = NormalizeEmail(email)
	if fe := ValidateEmail(email); fe != nil {
		return Invalid(*fe)
	}
	return s.atFloor(ctx, func(ctx context.Context) error { return s.forgotPassword(ctx, email) })
}

// atFloor runs work so that the answer takes ForgotPasswordFloor whatever the work is: the work
// runs during that wait, and when it outlasts it the answer is given at the floor all the same
// (nil) while the work carries on, bounded by forgotWorkTimeout. Requests whose work depends on
// whether an account exists (forgot-password, the email sign-in) answer through it.
func (s *AuthService) atFloor(ctx context.Context, work func(context.Context) error) error {
	floor := time.NewTimer(s.email.cfg.ForgotPasswordFloor)
	defer floor.Stop()
	done := make(chan error, 1)
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), forgotWorkTimeout)
	go func() {
		defer cancel()
		done <- work(wctx)
	}()
	<-floor.C
	select {
	case err := <-done:
		return err
	default:
		return nil
	}
}

// forgotPassword does the work of ForgotPassword. It returns only the outcome of the account
// lookup, which is the same for every address; later failures are logged, never returned, since
// they could only happen for real accounts.
func (s *AuthService) forgotPassword(ctx context.Context, email string) error {
	// Past the per-address limit nothing is sent, and the answer does not change: a mailbox
	// cannot be flooded, and the limit reveals nothing about the account.
	if _, err := s.limiter.Take(ctx, s.rules.ForgotEmail, hashedSubject(email)); err != nil {
		return nil
	}
	u, err := s.store.UserByEmail(ctx, email)
	if isNotFound(err) {
		return nil
	} else if err != nil {
		return err
	}
	if !u.IsActive {
		return nil
	}
	err = s.tx(ctx, func(tx StoreTx) error {
		u, err := tx.LockUser(ctx, u.ID)
		if err != nil {
			return err
		}
		now := s.now()
		ttl := s.email.cfg.ResetTokenTTL
		token, err := s.newEmailToken(ctx, tx, u, PurposeReset, ttl, false, now)
		if err != nil {
			return err
		}
		return s.queueEmail(ctx, tx, EmailReset, EmailData{Email: u.Email, Link: s.email.cfg.AppURL + "/reset-password?token={token}", ExpiresIn: ttl}, token, now)
	})
	if err != nil {
		s.log.ErrorContext(ctx, "password reset email not queued", "user_id", u.ID, "error", err)
		return nil
	}
	s.email.wake()
	return nil
}

// ResetPassword sets a new password with a reset token. It does not sign the user in.
//
// The token is checked first without spending it, so that a password the policy refuses can be
// corrected with the same link; then the new password is hashed; then one transaction spends the
// token with a conditional update (of concurrent resets with one token exactly one gets past it),
// sets the password, deletes the user's other reset tokens, revokes every session and queues the
// "password changed" notice. Redeeming a reset link proves control of the mailbox, so it also
// verifies the address.
func (s *AuthService) ResetPassword(ctx context.Context, token, newPassword string, client Client) error {
	if s.email == nil {
		return errEmailDisabled
	}
	if !validEmailTokenShape(token) {
		return ErrInvalidEmailToken
	}
	hash := HashToken(token)
	t, err := s.store.EmailTokenByHash(ctx, hash)
	if isNotFound(err) {
		return ErrInvalidEmailToken
	} else if err != nil {
		return err
	}
	if t.Purpose != PurposeReset || t.UsedAt != nil || !s.now().Before(t.ExpiresAt) {
		return ErrInvalidEmailToken
	}
	if msg := s.policy.Check(newPassword); msg != "" {
		return Invalid(FieldError{Field: "new_password", Message: msg})
	}
	if err := s.checkBreached(ctx, "new_password", newPassword); err != nil {
		return err
	}
	encoded, err := s.hasher.Hash(ctx, newPassword)
	if err != nil {
		return err
	}
	var revoked []string
	err = s.tx(ctx, func(tx StoreTx) error {
		now := s.now()
		if err := tx.UseEmailToken(ctx, hash, now); isNotFound(err) {
			return ErrInvalidEmailToken
		} else if err != nil {
			return err
		}
		u, err := tx.LockUser(ctx, t.UserID)
		if isNotFound(err) {
			return ErrInvalidEmailToken
		} else if err != nil {
			return err
		}
		if u.Email != t.Email || !u.IsActive {
			return ErrInvalidEmailToken
		}
		u.PasswordHash = encoded
		u.EmailVerified = true
		u.UpdatedAt = now
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		if err := tx.DeleteEmailTokens(ctx, u.ID, PurposeReset, hash); err != nil {
			return err
		}
		if revoked, err = tx.RevokeUserSessions(ctx, u.ID, "", now); err != nil {
			return err
		}
		// A reset is how an owner takes an account back: whatever the intruder set up goes too.
		keys, err := tx.RevokeUserAPIKeys(ctx, u.ID, now)
		if err != nil {
			return err
		}
		// ... and the apps connected in the meantime lose their consent.
		if _, err := tx.DeleteGrants(ctx, GrantFilter{UserID: u.ID}); err != nil {
			return err
		}
		if err := s.auditTx(ctx, tx, client, EventPasswordReset, u.ID, OutcomeSuccess,
			CountNoun(len(revoked), "session")+" and "+CountNoun(keys, "API key")+" revoked"); err != nil {
			return err
		}
		return s.queueEmail(ctx, tx, EmailPasswordChanged, EmailData{Email: u.Email}, "", now)
	})
	if err != nil {
		return err
	}
	s.limiter.Clear(ctx, s.rules.LoginAccount, hashedSubject(t.Email))
	s.cache.invalidateKeys()
	s.cache.invalidateSessions(revoked...)
	s.cache.invalidateUser(t.UserID)
	s.email.wake()
	s.log.InfoContext(ctx, "password reset", "user_id", t.UserID, "sessions_revoked", len(revoked))
	return nil
}
