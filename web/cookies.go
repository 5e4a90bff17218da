package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
)

// cookieNames are the dashboard's cookies. Over HTTPS they carry the __Host- prefix, which the
// browser only accepts with Secure, Path=/ and no Domain: a sibling subdomain cannot plant or
// overwrite them.
type cookieNames struct {
	session, csrf, oauth string
	// newKey names the one-time slot of a key just created (see reveals); never the key itself.
	newKey string
	// newSecret names the one-time slot of a new OAuth client's secret.
	newSecret string
	// reauth marks a sign-in that an authorization request demanded (prompt=login, max_age).
	reauth string
	// stash holds an admin's own session while the browser impersonates a user.
	stash string
}

func newCookieNames(secure bool) cookieNames {
	prefix := ""
	if secure {
		prefix = "__Host-"
	}
	return cookieNames{session: prefix + "gatehouse_session", csrf: prefix + "gatehouse_csrf", oauth: prefix + "gatehouse_oauth",
		newKey: prefix + "gatehouse_new_key", newSecret: prefix + "gatehouse_new_secret", reauth: prefix + "gatehouse_reauth",
		stash: prefix + "gatehouse_admin_session"}
}

// sessionCookieVersion starts every session cookie, so the format can change without misreading
// old cookies.
const sessionCookieVersion = "v1"

// encodeSession packs the refresh token and the access token in one cookie value. The refresh
// token is base64url (no dots), so the first two dots split it unambiguously from the JWT. An
// impersonation session has no refresh token: its slot is empty.
func encodeSession(ts *gatehouse.TokenSet) string {
	return sessionCookieVersion + "." + ts.RefreshToken + "." + ts.AccessToken
}

func decodeSession(value string) (access, refresh string, ok bool) {
	version, rest, ok := strings.Cut(value, ".")
	if !ok || version != sessionCookieVersion {
		return "", "", false
	}
	refresh, access, ok = strings.Cut(rest, ".")
	if !ok || access == "" {
		return "", "", false
	}
	return access, refresh, true
}

func (s *server) cookie(name, value string, maxAge time.Duration) *http.Cookie {
	c := &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode}
	switch {
	case maxAge > 0:
		c.MaxAge = int(maxAge / time.Second)
	case maxAge < 0:
		c.MaxAge = -1
	}
	return c
}

// startSession keeps a new session in the browser. The CSRF secret is replaced at the same time,
// so a secret planted before sign-in is worth nothing after it; an admin's session set aside by an
// impersonation is forgotten (a sign-in replaces whoever was signed in).
func (s *server) startSession(w http.ResponseWriter, ts *gatehouse.TokenSet) {
	http.SetCookie(w, s.cookie(s.cookies.session, encodeSession(ts), s.Config.SessionMaxAge))
	http.SetCookie(w, s.cookie(s.cookies.stash, "", -1))
	s.newCSRFSecret(w)
}

// renewSession stores refreshed tokens of the same session.
func (s *server) renewSession(w http.ResponseWriter, ts *gatehouse.TokenSet) {
	http.SetCookie(w, s.cookie(s.cookies.session, encodeSession(ts), s.Config.SessionMaxAge))
}

// clearSession signs the browser out, and forgets an admin's session set aside during an
// impersonation (impersonate_pages.go) with it.
func (s *server) clearSession(w http.ResponseWriter) {
	http.SetCookie(w, s.cookie(s.cookies.session, "", -1))
	http.SetCookie(w, s.cookie(s.cookies.stash, "", -1))
}
