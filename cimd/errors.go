package cimd

// Error is the one error type Fetch returns. Reason is a short English sentence that is safe to
// send to the client as an OAuth error_description: it names at most the client_id's own host
// (which the client chose), never a resolved address, a response body or a Go error string.
// The underlying cause, when there is one, is kept for logs and reachable with errors.Unwrap /
// errors.As; it may name internal addresses and must not be shown to the client.
type Error struct {
	Reason string
	cause  error
}

// Error returns "cimd: " followed by Reason; it never includes the cause.
func (e *Error) Error() string { return "cimd: " + e.Reason }

// Unwrap returns the underlying cause (for logs), or nil.
func (e *Error) Unwrap() error { return e.cause }

func fail(reason string) *Error { return &Error{Reason: reason} }

func failWith(reason string, cause error) *Error { return &Error{Reason: reason, cause: cause} }
