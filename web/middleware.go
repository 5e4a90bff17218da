package web

import (
	"net/http"
)

// contentSecurityPolicy allows only this origin's own scripts and styles: no inline script can
// run, so markup injected into a page could not act even if escaping ever failed.
// img-src allows data: images: the QR code of an authenticator app's setup travels inside its page.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"

// securityHeaders are the dashboard's own headers; the API keeps its stricter ones. The
// Referrer-Policy is same-origin rather than no-referrer: with no-referrer, browsers send
// "Origin: null" on form posts, which the cross-origin check would have to trust or refuse blindly.
var securityHeaders = map[string]string{
	"Content-Security-Policy":    contentSecurityPolicy,
	"X-Content-Type-Options":     "nosniff",
	"X-Frame-Options":            "DENY",
	"Referrer-Policy":            "same-origin",
	"Cross-Origin-Opener-Policy": "same-origin",
	"Permissions-Policy":         "camera=(), microphone=(), geolocation=(), payment=()",
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
