package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"

	"github.com/gatehouse/gatehouse"
)

// CSRF protection has two layers. First, Go's CrossOriginProtection refuses a form post whose
// Sec-Fetch-Site or Origin says it came from another site. Second, every form carries a token
// derived from a random secret that lives only in an HttpOnly cookie (double submit): another site
// can make the browser send the cookie but can neither read it nor the page, so it cannot write
// the matching token. The secret needs no server-side key, so it works the same on every instance
// and across restarts; it is replaced at sign-in and sign-out.

const (
	csrfField       = "csrf_token"
	csrfSecretBytes = 32
	// csrfMaxAge outlives any session, so a form left open never fails for a cookie that expired.
	csrfMaxAge = 400 * 24 * 60 * 60
)

func csrfToken(secret []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("gatehouse dashboard csrf v1"))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// csrfSecret returns the browser's secret, or nil when it has none (or a malformed one).
func (s *server) csrfSecret(r *http.Request) []byte {
	c, err := r.Cookie(s.cookies.csrf)
	if err != nil {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || len(b) != csrfSecretBytes {
		return nil
	}
	return b
}

// newCSRFSecret gives the browser a fresh secret and returns it.
func (s *server) newCSRFSecret(w http.ResponseWriter) []byte {
	secret := gatehouse.RandomBytes(csrfSecretBytes)
	c := s.cookie(s.cookies.csrf, base64.RawURLEncoding.EncodeToString(secret), 0)
	c.MaxAge = csrfMaxAge
	http.SetCookie(w, c)
	return secret
}

var errCSRF = &gatehouse.Error{Kind: gatehouse.KindForbidden, Code: "csrf_failed",
	Message: "This form has expired or did not come from this site. Reload the page and try again."}

// checkCSRF admits a state-changing request only from this site's own forms.
func (s *server) checkCSRF(r *http.Request) error {
	if err := s.origin.Check(r); err != nil {
		return errCSRF
	}
	secret := s.csrfSecret(r)
	if secret == nil {
		return errCSRF
	}
	got := r.PostFormValue(csrfField)
	if !hmac.Equal([]byte(got), []byte(csrfToken(secret))) {
		return errCSRF
	}
	return nil
}
