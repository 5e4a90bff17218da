package gatehouse

import (
	"context"
	"time"
)

// BreachChecker says whether a password is known from data breaches. The configured one
// (GATEHOUSE_BREACH_CHECK: the embedded common-password list, an offline filter file, or the
// online range API) is consulted for every new password and, to advise a change, at login.
type BreachChecker interface {
	// Breached reports whether password appears in the checker's breach data. An error means
	// no answer could be had (an outage of the online API in fail-closed mode).
	Breached(ctx context.Context, password string) (bool, error)
}

// MessagePasswordBreached is the field message of a password refused as breached.
const MessagePasswordBreached = "This password has appeared in a data breach; choose another."

// ErrBreachCheckUnavailable refuses a new password while the breach check cannot answer and
// GATEHOUSE_BREACH_FAIL is closed.
var ErrBreachCheckUnavailable = &Error{Kind: KindUnavailable, Code: "breach_check_unavailable",
	Message: "Passwords cannot be checked against known breaches right now; retry shortly.", RetryAfter: 5 * time.Second}

// passwordBreached is the 422 for field: a validation problem with its own code.
func passwordBreached(field string) *Error {
	return &Error{Kind: KindInvalid, Code: "password_breached", Message: MessagePasswordBreached,
		Fields: []FieldError{{Field: field, Message: MessagePasswordBreached}}}
}

// checkBreached refuses a new password the breach checker knows. It runs after the policy, so
// a password the policy refuses is never sent anywhere.
func (s *AuthService) checkBreached(ctx context.Context, field, password string) error {
	if s.breach == nil {
		return nil
	}
	found, err := s.breach.Breached(ctx, password)
	if err != nil {
		return err
	}
	if found {
		return passwordBreached(field)
	}
	return nil
}

// loginBreached reports whether a password that just signed in is known from breaches, to ask
// the user to change it. It never stops a login: an unanswered check counts as not breached.
func (s *AuthService) loginBreached(ctx context.Context, password string) bool {
	if s.breach == nil {
		return false
	}
	found, err := s.breach.Breached(ctx, password)
	if err != nil {
		s.log.WarnContext(ctx, "breached-password check at login unavailable", "error", err)
		return false
	}
	return found
}

// issueLogin issues a password login's tokens, flagged when the password is known from breaches.
func (s *AuthService) issueLogin(ctx context.Context, u *User, sess *Session, refresh, password string) (*TokenSet, error) {
	ts, err := s.issue(ctx, u, sess, refresh)
	if err != nil {
		return nil, err
	}
	ts.PasswordBreached = s.loginBreached(ctx, password)
	return ts, nil
}
