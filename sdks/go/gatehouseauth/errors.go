package gatehouseauth

import (
	"errors"
	"slices"
)

// The kinds of failure. Every error that a Verifier returns matches exactly one of them with
// errors.Is; [Verifier.WriteError] turns each into its HTTP answer.
var (
	// ErrNoToken: the request carries no credential this server reads (401 without an error
	// code, per RFC 6750 §3.1). Tokens in the query string or the body are not read.
	ErrNoToken = errors.New("gatehouseauth: no access token")
	// ErrInvalidToken: a credential was presented but is malformed, expired, not signed by
	// the issuer, issued for another resource, revoked… (401 error="invalid_token").
	ErrInvalidToken = errors.New("gatehouseauth: invalid access token")
	// ErrInvalidRequest: the request carries credentials in more than one way (400
	// error="invalid_request").
	ErrInvalidRequest = errors.New("gatehouseauth: invalid request")
	// ErrInsufficientScope: the token is good but lacks a scope the operation needs (403
	// error="insufficient_scope").
	ErrInsufficientScope = errors.New("gatehouseauth: insufficient scope")
	// ErrUnavailable: the issuer's keys or its introspection endpoint could not be reached, so
	// the credential could be neither accepted nor refused (503).
	ErrUnavailable = errors.New("gatehouseauth: authorization server unavailable")
)

// Error is the error type behind the kinds above: Kind is one of them, Reason a short fixed
// description safe to show to the client (it never contains the token), Scopes the scopes the
// operation needs (for ErrInsufficientScope), Err the underlying cause if any (not shown).
type Error struct {
	Kind   error
	Reason string
	Scopes []string
	Err    error
}

func (e *Error) Error() string {
	s := e.Kind.Error()
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap lets errors.Is match both the kind and the cause.
func (e *Error) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Kind, e.Err}
	}
	return []error{e.Kind}
}

func invalid(reason string) error { return &Error{Kind: ErrInvalidToken, Reason: reason} }

func invalidCause(reason string, err error) error {
	return &Error{Kind: ErrInvalidToken, Reason: reason, Err: err}
}

func unavailable(reason string, err error) error {
	return &Error{Kind: ErrUnavailable, Reason: reason, Err: err}
}

func insufficientScope(needed []string) error {
	return &Error{Kind: ErrInsufficientScope, Reason: "the token lacks a scope this operation needs",
		Scopes: slices.Clone(needed)}
}
