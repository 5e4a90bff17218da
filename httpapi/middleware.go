package httpapi

import (
	"log/slog"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse"
)

// recoverPanics turns a panic into a bare 500; the log gets the value and stack, never the request.
func recoverPanics(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.ErrorContext(r.Context(), "panic serving request", "method", r.Method, "path", r.URL.Path,
					"panic", v, "stack", string(debug.Stack()))
				writeProblem(w, http.StatusInternalServerError, "internal_error", "Something went wrong on our side.", nil)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// accessLog logs one line per request and feeds the metrics. It logs the path only: query
// strings can carry tokens.
func accessLog(log *slog.Logger, metrics RequestObserver, next http.Handler) http.Handler {
	return AccessLog(log, metrics, "", next)
}

// AccessLog logs one line per request (at debug level; warn for a 5xx) and feeds the metrics,
// for the API and for the other handlers of the server, which name themselves with edge ("web").
// It logs the path only: query strings can carry tokens.
func AccessLog(log *slog.Logger, metrics RequestObserver, edge string, next http.Handler) http.Handler {
	msg, prefix := "request", ""
	if edge != "" {
		msg, prefix = edge+" request", edge+" "
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		if metrics != nil {
			metrics.ObserveRequest(prefix+r.Pattern, r.Method, sw.status, time.Since(start))
		}
		level := slog.LevelDebug
		if sw.status >= 500 {
			level = slog.LevelWarn
		}
		log.LogAttrs(r.Context(), level, msg,
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", sw.status),
			slog.Int("bytes", sw.bytes),
			slog.Duration("duration", time.Since(start)),
			slog.String("remote", r.RemoteAddr),
		)
	})
}

// withClient attaches the caller's address and user agent to the request context, for the
// audit log.
func withClient(trusted []netip.Prefix, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(gatehouse.WithClient(r.Context(), clientOf(r, trusted))))
	})
}

// securityHeaders sets the headers every response carries. HSTS goes out when the request came
// over TLS or the public URL is HTTPS (TLS ending at a proxy in front).
func securityHeaders(https bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		h.Set("Referrer-Policy", "no-referrer")
		if r.TLS != nil || https {
			h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
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
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
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
			writeProblem(w, http.StatusMethodNotAllowed, "method_not_allowed", "This method is not allowed on this path.", nil)
		case http.StatusNotFound, 0:
			writeProblem(w, http.StatusNotFound, "not_found", "No such endpoint.", nil)
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
