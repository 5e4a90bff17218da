package httpapi

import (
	"net/http"
	"strings"
	"unicode/utf8"
)

// SecurityHeaders are the headers every API response carries: no content of any kind may load.
// Read-only; exported for the edge that answers API requests before the API sees them.
var SecurityHeaders = map[string]string{
	"X-Content-Type-Options":  "nosniff",
	"X-Frame-Options":         "DENY",
	"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
	"Referrer-Policy":         "no-referrer",
}

// cleanRequestText refuses a path or query that decodes to NUL or invalid UTF-8: no identifier
// or filter of the API contains either, and databases refuse them with errors of their own.
func cleanRequestText(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bad := func(s string) bool { return !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 }
		if bad(r.URL.Path) {
			writeProblem(w, http.StatusBadRequest, "invalid_request_encoding", "The path contains bytes that are not text.", nil)
			return
		}
		if r.URL.RawQuery == "" {
			next.ServeHTTP(w, r)
			return
		}
		for k, vs := range r.URL.Query() {
			for _, v := range vs {
				if bad(k) || bad(v) {
					writeProblem(w, http.StatusBadRequest, "invalid_request_encoding", "The query string contains bytes that are not text.", nil)
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > maxBodyBytes {
			writeError(w, r, nil, errBodyTooLarge)
			return
		}
		if r.Body != nil && r.Body != http.NoBody { // the server's own body-less request needs no limit
			r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		}
		next.ServeHTTP(w, r)
	})
}

// problemOnMuxErrors answers the router's own 404 and 405 with problem documents.
func problemOnMuxErrors(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		rec := &headerRecorder{header: http.Header{}}
		h.ServeHTTP(rec, r)
		switch rec.status {
		case http.StatusMethodNotAllowed:
			w.Header().Set("Allow", rec.header.Get("Allow"))
			writeError(w, r, nil, &httpError{http.StatusMethodNotAllowed, "method_not_allowed", "This method is not allowed on this path."})
		case http.StatusNotFound, 0:
			writeError(w, r, nil, &httpError{http.StatusNotFound, "not_found", "No such endpoint."})
		default:
			// A redirect the router chose (a cleaned path): pass it on as it is.
			for k, v := range rec.header {
				if strings.EqualFold(k, "Location") {
					w.Header()[k] = v
				}
			}
			w.WriteHeader(rec.status)
		}
	})
}

type headerRecorder struct {
	header http.Header
	status int
}

func (h *headerRecorder) Header() http.Header { return h.header }
func (h *headerRecorder) Write(b []byte) (int, error) {
	if h.status == 0 {
		h.status = http.StatusOK
	}
	return len(b), nil
}
func (h *headerRecorder) WriteHeader(code int) {
	if h.status == 0 {
		h.status = code
	}
}
