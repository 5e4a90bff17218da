package httpkit

import (
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"
)

// RequestObserver is told of every request, for metrics.
type RequestObserver interface {
	ObserveRequest(route, method string, status int, d time.Duration)
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

// AccessLog logs one line per request (at debug level; warn for a 5xx) and feeds the metrics. An
// edge other than the API names itself with edge ("web"), which prefixes its message and route
// labels. It logs the path only: query strings can carry tokens. It reads the pattern the router
// sets on the request it is handed, so nothing between the two may replace the request.
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

// Recover turns a panic into the edge's own 500 answer (fail writes it); the log gets the value
// and the stack, never the request body. http.ErrAbortHandler goes on up, as net/http expects.
func Recover(log *slog.Logger, fail func(w http.ResponseWriter, r *http.Request), next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.ErrorContext(r.Context(), "panic serving request", "method", r.Method, "path", r.URL.Path,
					"panic", v, "stack", string(debug.Stack()))
				fail(w, r)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// SecurityHeaders sets headers (each edge has its own set) on every response, and HSTS when the
// request came over TLS or the public URL is HTTPS. The values are built once and shared by every
// response (read-only, and full so that Header.Add copies rather than appends in place): setting
// them is a map assignment per header instead of an allocation.
func SecurityHeaders(headers map[string]string, https bool, next http.Handler) http.Handler {
	set, hsts := sharedHeaders(headers, https), sharedHeaders(map[string]string{hstsKey: hstsValue}, false)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for _, kv := range set {
			h[kv.key] = kv.value
		}
		if r.TLS != nil && !https {
			h[hsts[0].key] = hsts[0].value
		}
		next.ServeHTTP(w, r)
	})
}

const (
	hstsKey   = "Strict-Transport-Security"
	hstsValue = "max-age=31536000; includeSubDomains"
)

type sharedHeader struct {
	key   string
	value []string
}

// sharedHeaders is headers (plus HSTS with https) with canonical keys and one-element values of
// capacity one.
func sharedHeaders(headers map[string]string, https bool) []sharedHeader {
	out := make([]sharedHeader, 0, len(headers)+1)
	for k, v := range headers {
		out = append(out, sharedHeader{http.CanonicalHeaderKey(k), []string{v}[:1:1]})
	}
	if https {
		out = append(out, sharedHeader{hstsKey, []string{hstsValue}[:1:1]})
	}
	return out
}

// SetSecurityHeaders sets headers on h, and HSTS when r came over TLS or the public URL is HTTPS,
// for an answer written outside the SecurityHeaders middleware.
func SetSecurityHeaders(h http.Header, r *http.Request, headers map[string]string, https bool) {
	for k, v := range headers {
		h.Set(k, v)
	}
	if r.TLS != nil || https {
		h.Set(hstsKey, hstsValue)
	}
}
