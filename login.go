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
	// Something that is not an address (a password typed in the wrong field, say) is neither
	// looked up, nor used as a rate-limit key, nor written to the audit log.
	shown := email
	if ValidateEmail(email) != nil {
		email, shown = "", "(not an email address)"
	}
	ticket, err := s.limiter.Take(ctx, s.rules.LoginAccount, hashedSubject(email))
	if err != nil {
		if ErrorKindOf(err) == KindRateLimited {
			s.audit(ctx, client, EventLoginFailed, "", OutcomeFailure, "account locked by the failure limit: "+shown)
		}
		return nil, err
	}
	u, upgraded, err := s.checkPassword(ctx, email, password)
	if err != nil {
		if ErrorKindOf(err) != KindUnavailable {
			userID := ""
			if u != nil {
				userID = u.ID
			}
			s.audit(ctx, client, EventLoginFailed, userID, OutcomeFailure, ErrorCodeOf(err)+": "+shown)
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
	var mfaReq *MFARequiredError
	err = s.tx(ctx, func(tx StoreTx) error {
		// The password was checked before this transaction. Under the account's lock it must
		// still be the account's password, and the account still open to it: a provider sign-in
		// that removed the password, a reset or a disable that committed meanwhile wins.
		cur, err := tx.LockUser(ctx, u.ID)
		if err != nil {
			return notFoundAsInvalidCredentials(err)
		}
		if cur.PasswordHash != u.PasswordHash || !cur.IsActive || (s.cfg.RequireEmailVerification && !cur.EmailVerified) {
			return ErrInvalidCredentials
		}
		u = cur
		if upgraded != "" {
			// Stored parameters weaker than the current ones: the hash is upgraded with the login.
			u.PasswordHash, u.UpdatedAt = upgraded, now
			if err := tx.UpdateUser(ctx, u); err != nil {
				return err
			}
		}
		// A second factor enrolled: the password was right, and the sign-in waits for a code.
		if mfaReq, err = s.mfaChallengeTx(ctx, tx, u, AMRPassword, client, now); err != nil || mfaReq != nil {
			return err
		}
		if sess, refresh, err = s.startSession(ctx, tx, u, client, now, []string{AMRPassword}); err != nil {
			return err
		}
		return s.auditTx(ctx, tx, client, EventLoginSucceeded, u.ID, OutcomeSuccess, "")
	})
	if err != nil {
		if errors.Is(err, ErrInvalidCredentials) {
			s.audit(ctx, client, EventLoginFailed, u.ID, OutcomeFailure, "account changed during the login: "+shown)
		}
		return nil, err
	}
	if mfaReq != nil {
		return nil, mfaReq
	}
	return s.issueLogin(ctx, u, sess, refresh, password)
}

func notFoundAsInvalidCredentials(err error) error {
	if isNotFound(err) {
		return ErrInvalidCredentials
	}
	return err
}

// checkPassword returns the account whose password this is, or ErrInvalidCredentials after the
// same work whatever went wrong. A disabled or unverified account is reported only when the
// password was right. The user is returned with those errors, for the audit log. upgraded, when
// not empty, is a hash of the password with the current parameters, for the login to store in
// place of a weaker one (best effort: a failure to compute it is no failure of the login).
func (s *AuthService) checkPassword(ctx context.Context, email, password string) (u *User, upgraded string, err error) {
	if email == "" || password == "" || len(password) > 4*1024 {
		if err := s.hasher.VerifyDummy(ctx, password); err != nil {
			return nil, "", err
		}
		return nil, "", ErrInvalidCredentials
	}
	u, err = s.store.UserByEmail(ctx, email)
	if err != nil && !isNotFound(err) {
		return nil, "", err
	}
	if u == nil || !u.HasPassword() {
		if err := s.hasher.VerifyDummy(ctx, password); err != nil {
			return nil, "", err
		}
		return nil, "", ErrInvalidCredentials
	}
	ok, needsRehash, err := s.hasher.Verify(ctx, password, u.PasswordHash)
	if errors.Is(err, ErrBusy) {
		return nil, "", err
	}
	if err != nil {
		s.log.ErrorContext(ctx, "stored password hash is unreadable", "user_id", u.ID, "error", err)
		return u, "", ErrInvalidCredentials
	}
	if !ok {
		return u, "", ErrInvalidCredentials
	}
	if !u.IsActive {
		return u, "", ErrAccountDisabled
	}
	if s.cfg.RequireEmailVerification && !u.EmailVerified {
		return u, "", ErrEmailNotVerified
	}
	if needsRehash {
		if hash, err := s.hasher.Hash(ctx, password); err == nil {
			upgraded = hash
		} else {
			s.log.WarnContext(ctx, "password hash upgrade failed", "user_id", u.ID, "error", err)
		}
	}
	return u, upgraded, nil
}
