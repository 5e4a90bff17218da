package gatehouse

import (
	"errors"
	"fmt"
	"time"
)

// ErrorKind classifies a domain error; each edge maps it to its own vocabulary
// (the HTTP API to a status code, the CLI to an exit message).
type ErrorKind int

const (
	KindInternal     ErrorKind = iota // a bug or an unexpected failure: never a client's fault
	KindBadRequest                    // malformed input, or a token/code that is invalid, expired or used
	KindInvalid                       // well-formed input that breaks a validation rule (422)
	KindUnauthorized                  // missing or bad credentials
	KindForbidden                     // authenticated but not allowed
	KindNotFound
	KindConflict
	KindRateLimited
	KindUnavailable // a dependency (database, hash pool) cannot serve now; retry later
	KindBadGateway  // an upstream provider failed
	KindPaymentRequired
)

// FieldError names one invalid input field.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is the error type every rule of the domain returns to its callers.
// Code is a stable snake_case identifier that clients may switch on.
type Error struct {
	Kind       ErrorKind
	Code       string
	Message    string
	Fields     []FieldError
	RetryAfter time.Duration
	Err        error // the underlying cause, for logs only; never shown to clients
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is match by code: a copy of a sentinel with its own message or cause (a store
// outage that says the database timed out) still is that error.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code != "" && t.Code == e.Code
}

// Errorf builds an Error of the given kind and code.
func Errorf(kind ErrorKind, code, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid builds a validation error for one or more fields.
func Invalid(fields ...FieldError) *Error {
	msg := "The request is invalid."
	if len(fields) == 1 {
		msg = fields[0].Message
	}
	return &Error{Kind: KindInvalid, Code: "validation_failed", Message: msg, Fields: fields}
}

// ErrorKindOf returns the kind of err, KindInternal when it is not an *Error.
func ErrorKindOf(err error) ErrorKind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// ErrorCodeOf returns the stable code of err, "internal_error" when it is not an *Error.
func ErrorCodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return "internal_error"
}

// Errors that more than one package returns, so callers can compare with errors.Is.
var (
	ErrNotFound            = &Error{Kind: KindNotFound, Code: "not_found", Message: "Not found."}
	ErrEmailTaken          = &Error{Kind: KindConflict, Code: "email_already_registered", Message: "This email address is already registered."}
	ErrInvalidCredentials  = &Error{Kind: KindUnauthorized, Code: "invalid_credentials", Message: "Incorrect email or password"}
	ErrUnauthenticated     = &Error{Kind: KindUnauthorized, Code: "unauthorized", Message: "Missing, invalid or expired credentials."}
	ErrInvalidRefreshToken = &Error{Kind: KindUnauthorized, Code: "invalid_refresh_token", Message: "The refresh token is invalid, expired or revoked."}
	ErrForbidden           = &Error{Kind: KindForbidden, Code: "forbidden", Message: "You are not allowed to do this."}
	ErrAccountDisabled     = &Error{Kind: KindForbidden, Code: "account_disabled", Message: "This account is disabled."}
	ErrEmailNotVerified    = &Error{Kind: KindForbidden, Code: "email_not_verified", Message: "Verify your email address before signing in."}
	ErrBusy                = &Error{Kind: KindUnavailable, Code: "server_busy", Message: "The server is busy; retry shortly.", RetryAfter: time.Second}
	ErrStoreUnavailable    = &Error{Kind: KindUnavailable, Code: "database_unavailable", Message: "The database is unavailable; retry shortly.", RetryAfter: 2 * time.Second}
)
