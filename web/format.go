package web

import (
	"strconv"
	"strings"
	"unicode"

	"github.com/gatehouse/gatehouse"
)

// initials stands in for a picture: an avatar URL points elsewhere, and the dashboard's
// Content-Security-Policy loads images from this origin only.
func initials(u *gatehouse.User) string {
	words := strings.Fields(u.Name)
	var out []rune
	for _, w := range words {
		r := []rune(w)
		if unicode.IsLetter(r[0]) || unicode.IsDigit(r[0]) {
			out = append(out, unicode.ToUpper(r[0]))
		}
		if len(out) == 2 {
			break
		}
	}
	if len(out) == 0 && u.Email != "" {
		out = append(out, unicode.ToUpper([]rune(u.Email)[0]))
	}
	return string(out)
}

// formatNumber writes an integer with thousands separators.
func formatNumber(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// eventLabels say what each audit event means in words.
var eventLabels = map[string]string{
	"user.registered":      "Account created",
	"login.succeeded":      "Signed in",
	"login.failed":         "Sign-in failed",
	"token.refreshed":      "Session refreshed",
	"token.reuse_detected": "Refresh token reused: session revoked",
	"session.logged_out":   "Signed out",
	"session.revoked":      "Session revoked",
	"password.changed":     "Password changed",
	"password.reset":       "Password reset",
	"email.verified":       "Email verified",
	"oauth.linked":         "Provider linked",
	"api_key.created":      "API key created",
	"api_key.revoked":      "API key revoked",
	"user.role_changed":    "Role changed",
	"user.disabled":        "Account disabled",
	"user.enabled":         "Account enabled",
	"user.profile_updated": "Profile updated",
	"credits.granted":      "Credits granted",
	"rate_limited":         "Rate limited",
}

func eventLabel(typ string) string {
	if l, ok := eventLabels[typ]; ok {
		return l
	}
	return typ
}

// device names the browser and system of a user agent, enough for a person to recognise their
// own devices in the session list.
func device(ua string) string {
	if ua == "" {
		return "Unknown device"
	}
	browser := "Unknown browser"
	for _, b := range []struct{ token, name string }{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"HeadlessChrome/", "Headless Chrome"},
		{"Chromium/", "Chromium"}, {"Chrome/", "Chrome"}, {"Safari/", "Safari"},
		{"curl/", "curl"}, {"python-requests/", "Python requests"}, {"Go-http-client/", "Go HTTP client"},
		{"node", "Node.js"}, {"axios/", "axios"},
	} {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	system := ""
	for _, o := range []struct{ token, name string }{
		{"Android", "Android"}, {"iPhone", "iPhone"}, {"iPad", "iPad"}, {"Windows", "Windows"},
		{"Mac OS X", "macOS"}, {"Macintosh", "macOS"}, {"CrOS", "ChromeOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, o.token) {
			system = o.name
			break
		}
	}
	if system == "" {
		return browser
	}
	return browser + " on " + system
}
