package web

import (
	"net/http"
	"net/netip"
	"runtime/debug"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/httpapi"
)

// contentSecurityPolicy allows only this origin's own scripts and styles: no inline script can
// run, so markup injected into a page could not act even if escaping ever failed.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"

// securityHeaders sets the dashboard's own headers; the API keeps its stricter ones.
func securityHeaders(https bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		// same-origin rather than no-referrer: with no-referrer, browsers send "Origin: null" on
		// form posts, which the cross-origin check would have to trust or refuse blindly.
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		if r.TLS != nil || https {
			h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}

// maxFormBytes bounds a form body; the largest form (a profile) is far below it.
const maxFormBytes = 64 << 10

func limitForm(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		}
		next.ServeHTTP(w, r)
	})
}

// withClient attaches the caller's address and user agent, seen exactly as the API sees them, so
// the audit log records dashboard actions like API calls.
func withClient(trusted []netip.Prefix, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := httpapi.ClientOf(r, trusted)
		next.ServeHTTP(w, r.WithContext(gatehouse.WithClient(r.Context(), c)))
	})
}

// recoverPanics turns a panic into the 500 page; the log gets the value and the stack.
func (s *server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.Log.ErrorContext(r.Context(), "panic serving dashboard page", "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
				s.errorPage(w, r, &visit{}, http.StatusInternalServerError, "Something went wrong", "Something went wrong on our side. Try again in a moment.")
			}
		}()
		next.ServeHTTP(w, r)
	})
}
