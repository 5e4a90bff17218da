package gatehouse

import (
	"context"
	"time"
)

// queueVerification creates a verification token for u and queues the email that carries it, in
// tx. Registration calls it in the transaction that creates the account.
func (s *AuthService) queueVerification(ctx context.Context, tx StoreTx, u *User, resend bool, now time.Time) error {
	ttl := s.email.cfg.VerifyTokenTTL
	token, err := s.newEmailToken(ctx, tx, u, PurposeVerify, ttl, resend, now)
	if err != nil {
		return err
	}
	return s.queueEmail(ctx, tx, EmailVerify, EmailData{Email: u.Email, Link: s.email.cfg.AppURL + "/verify-email?token={token}", ExpiresIn: ttl}, token, now)
}

// VerifyResult tells a first verification from a repeated one.
type VerifyResult struct {
	AlreadyVerified bool
}

// VerifyEmail redeems a verification token and marks the account's address verified.
//
// Tokens are single-use, but following the same link twice is not an error: mail scanners and
// browsers often open a link before (or after) the person does. A used token is answered with
// success again while it has not expired, was redeemed (not merely made obsolete: those are
// deleted), and the account is still verified for the very address it was sent to. Anything else
// that is not a fresh token is ErrInvalidEmailToken.
func (s *AuthService) VerifyEmail(ctx context.Context, token string, client Client) (*VerifyResult, error) {
	if s.email == nil {
		return nil, errEmailDisabled
	}
	if !validEmailTokenShape(token) {
		return nil, ErrInvalidEmailToken
	}
	hash := HashToken(token)
	var res VerifyResult
	var userID string
	err := s.tx(ctx, func(tx StoreTx) error {
		t, err := tx.EmailTokenByHash(ctx, hash)
		if isNotFound(err) {
			return ErrInvalidEmailToken
		} else if err != nil {
			return err
		}
		now := s.now()
		if t.Purpose != PurposeVerify || !now.Before(t.ExpiresAt) {
			return ErrInvalidEmailToken
		}
		userID = t.UserID
		err = tx.UseEmailToken(ctx, hash, now)
		if isNotFound(err) {
			// Used before, perhaps by a concurrent request that has just committed: read again.
			u, err := tx.UserByID(ctx, t.UserID)
			if err != nil || !u.EmailVerified || u.Email != t.Email {
				return ErrInvalidEmailToken
			}
			t, err = tx.EmailTokenByHash(ctx, hash)
			if err != nil || t.UsedAt == nil {
				return ErrInvalidEmailToken
			}
			res.AlreadyVerified = true
			return nil
		} else if err != nil {
			return err
		}
		// Conditional on the address: a token sent to an address the account no longer has is dead.
		if err := tx.SetEmailVerified(ctx, t.UserID, t.Email, now); isNotFound(err) {
			return ErrInvalidEmailToken
		} else if err != nil {
			return err
		}
		if err := tx.DeleteEmailTokens(ctx, t.UserID, PurposeVerify, hash); err != nil {
			return err
		}
		if s.cfg.OrgAutoJoin {
			if err := s.autoJoinTx(ctx, tx, client, t.UserID, t.Email, now); err != nil {
				return err
			}
		}
		return s.auditTx(ctx, tx, client, EventEmailVerified, t.UserID, OutcomeSuccess, "")
	})
	if err != nil {
		return nil, err
	}
	if !res.AlreadyVerified {
		s.cache.invalidateUser(userID)
		s.log.InfoContext(ctx, "email verified", "user_id", userID)
	}
	return &res, nil
}

// ResendVerification sends the caller a new verification email, at most once per ResendInterval
// and at most ResendEmail's limit per address (an account registered with someone else's address
// must not become a way to mail them without end). The email sent at registration does not
// count, so the first resend always goes through.
func (s *AuthService) ResendVerification(ctx context.Context, p *Principal) error {
	if s.email == nil {
		return errEmailDisabled
	}
	ticket, err := s.limiter.Take(ctx, s.rules.ResendEmail, hashedSubject(p.User.Email))
	if err != nil {
		return err
	}
	err = s.tx(ctx, func(tx StoreTx) error {
		u, err := s.lockCaller(ctx, tx, p)
		if err != nil {
			return err
		}
		if u.EmailVerified {
			return ErrEmailAlreadyVerified
		}
		now := s.now()
		last, err := tx.LastResendAt(ctx, u.ID)
		if err != nil && !isNotFound(err) {
			return err
		}
		if err == nil {
			if wait := last.Add(s.email.cfg.ResendInterval).Sub(now); wait > 0 {
				return &Error{Kind: KindRateLimited, Code: "rate_limited",
					Message: "A verification email was sent recently; wait before asking for another.", RetryAfter: wait}
			}
		}
		return s.queueVerification(ctx, tx, u, true, now)
	})
	if err != nil {
		s.limiter.Refund(ctx, ticket) // nothing was sent
		return err
	}
	s.email.wake()
	return nil
}
