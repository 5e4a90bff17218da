package httpapi

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/httpkit"
)

// problem is an RFC 9457 problem document.
type problem struct {
	Type      string                 `json:"type"`
	Title     string                 `json:"title"`
	Status    int                    `json:"status"`
	Detail    string                 `json:"detail"`
	ErrorCode string                 `json:"error_code"`
	Errors    []gatehouse.FieldError `json:"errors,omitempty"`
	// MFAToken and Factors answer a sign-in that needs a second factor (mfa_required).
	MFAToken string   `json:"mfa_token,omitempty"`
	Factors  []string `json:"factors,omitempty"`
}

// httpError is an error that only exists at the HTTP edge (bad framing, wrong media type).
type httpError struct {
	status int
	code   string
	detail string
}

func (e *httpError) Error() string { return e.code }

// writeError answers with the problem document for err (on the authorization server's paths,
// with the RFC 6749 error body instead). Internal errors are logged with their
// cause and shown to the client only as a bare 500.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	if isOAuthPath(r.URL.Path) {
		writeOAuthError(w, r, log, err)
		return
	}
	if log == nil {
		log = slog.Default()
	}
	var he *httpError
	if errors.As(err, &he) {
		writeProblem(w, he.status, he.code, he.detail, nil)
		return
	}
	var mfa *gatehouse.MFARequiredError
	if errors.As(err, &mfa) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse"`)
		w.Header().Set("Content-Type", "application/problem+json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusUnauthorized)
		_ = encodeJSON(w, problem{Type: "about:blank", Title: http.StatusText(http.StatusUnauthorized), Status: http.StatusUnauthorized,
			Detail: gatehouse.ErrMFARequired.Message, ErrorCode: gatehouse.ErrMFARequired.Code, MFAToken: mfa.Token, Factors: mfa.Factors})
		return
	}
	var ge *gatehouse.Error
	if !errors.As(err, &ge) {
		log.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "error", err)
		writeProblem(w, http.StatusInternalServerError, "internal_error", "Something went wrong on our side.", nil)
		return
	}
	status := httpkit.StatusOf(ge.Kind)
	if ge.Kind == gatehouse.KindInternal {
		log.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "error", err)
		writeProblem(w, status, "internal_error", "Something went wrong on our side.", nil)
		return
	}
	if ge.Kind == gatehouse.KindUnavailable && ge.Err != nil {
		log.WarnContext(r.Context(), "dependency unavailable", "path", r.URL.Path, "error", ge.Err)
	}
	if ge.RetryAfter > 0 {
		httpkit.SetRetryAfter(w.Header(), ge.RetryAfter)
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
