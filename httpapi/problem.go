package httpapi

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gatehouse/gatehouse"
)

// problem is an RFC 9457 problem document.
type problem struct {
	Type      string                 `json:"type"`
	Title     string                 `json:"title"`
	Status    int                    `json:"status"`
	Detail    string                 `json:"detail"`
	ErrorCode string                 `json:"error_code"`
	Errors    []gatehouse.FieldError `json:"errors,omitempty"`
}

var statusOfKind = map[gatehouse.ErrorKind]int{
	gatehouse.KindInternal:        http.StatusInternalServerError,
	gatehouse.KindBadRequest:      http.StatusBadRequest,
	gatehouse.KindInvalid:         http.StatusUnprocessableEntity,
	gatehouse.KindUnauthorized:    http.StatusUnauthorized,
	gatehouse.KindForbidden:       http.StatusForbidden,
	gatehouse.KindNotFound:        http.StatusNotFound,
	gatehouse.KindConflict:        http.StatusConflict,
	gatehouse.KindRateLimited:     http.StatusTooManyRequests,
	gatehouse.KindUnavailable:     http.StatusServiceUnavailable,
	gatehouse.KindBadGateway:      http.StatusBadGateway,
	gatehouse.KindPaymentRequired: http.StatusPaymentRequired,
}

// StatusOf is the HTTP status of an error kind, for every edge that answers HTTP (the dashboard
// answers with pages, but with the API's statuses).
func StatusOf(k gatehouse.ErrorKind) int { return statusOfKind[k] }

// SetRetryAfter tells the client to wait d, in whole seconds rounded up.
func SetRetryAfter(h http.Header, d time.Duration) {
	h.Set("Retry-After", strconv.Itoa(int((d+time.Second-1)/time.Second)))
}

// httpError is an error that only exists at the HTTP edge (bad framing, wrong media type).
type httpError struct {
	status int
	code   string
	detail string
}

func (e *httpError) Error() string { return e.code }

// writeError answers with the problem document for err. Internal errors are logged with their
// cause and shown to the client only as a bare 500.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	if log == nil {
		log = slog.Default()
	}
	var he *httpError
	if errors.As(err, &he) {
		writeProblem(w, he.status, he.code, he.detail, nil)
		return
	}
	var ge *gatehouse.Error
	if !errors.As(err, &ge) {
		log.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "error", err)
		writeProblem(w, http.StatusInternalServerError, "internal_error", "Something went wrong on our side.", nil)
		return
	}
	status := statusOfKind[ge.Kind]
	if ge.Kind == gatehouse.KindInternal {
		log.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "error", err)
		writeProblem(w, status, "internal_error", "Something went wrong on our side.", nil)
		return
	}
	if ge.Kind == gatehouse.KindUnavailable && ge.Err != nil {
		log.WarnContext(r.Context(), "dependency unavailable", "path", r.URL.Path, "error", ge.Err)
	}
	if ge.RetryAfter > 0 {
		SetRetryAfter(w.Header(), ge.RetryAfter)
	}
	writeProblem(w, status, ge.Code, ge.Message, ge.Fields)
}

func writeProblem(w http.ResponseWriter, status int, code, detail string, fields []gatehouse.FieldError) {
	if status == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse"`)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = encodeJSON(w, problem{
		Type:      "about:blank",
		Title:     http.StatusText(status),
		Status:    status,
		Detail:    detail,
		ErrorCode: code,
		Errors:    fields,
	})
}
