package web

import (
	"fmt"
	"html"
	"html/template"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/gatehouse/gatehouse"
)

// The dashboard writes every date one way, through timeElement: "14 May 2026", and where the time
// of day matters "14 May 2026, 09:30 UTC". app.js rewrites the latter in the visitor's own time
// zone in the same shape ("14 May 2026, 11:30 CEST"); the UTC text stays as its tooltip.
const (
	dateLayout     = "2 Jan 2006"
	dateTimeLayout = "2 Jan 2006, 15:04 UTC"
)

// formatTime writes t in the dashboard's one date format, with the time of day or without.
func formatTime(t time.Time, clock bool) string {
	if clock {
		return t.UTC().Format(dateTimeLayout)
	}
	return t.UTC().Format(dateLayout)
}

// timeElement is a <time> element for t in the dashboard's date format: the templates' date and
// dateTime. A date with a time of day is marked data-local for app.js.
func timeElement(t time.Time, clock bool) template.HTML {
	local := ""
	if clock {
		local = " data-local"
	}
	return template.HTML(`<time datetime="` + html.EscapeString(t.UTC().Format(time.RFC3339)) + `"` + local + `>` +
		html.EscapeString(formatTime(t, clock)) + `</time>`)
}

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

// countNoun writes a count of things as people read it: "1 session", "2 sessions", "2,000
// accounts"; "0 sessions". The plural is the noun and "s" unless given.
func countNoun(n int64, noun string, plural ...string) string {
	if n == 1 || n == -1 {
		return formatNumber(n) + " " + noun
	}
	if len(plural) > 0 {
		return formatNumber(n) + " " + plural[0]
	}
	return formatNumber(n) + " " + noun + "s"
}

// countArg is a template's count, of whichever integer type the data holds.
func countArg(n any) int64 {
	switch x := n.(type) {
	case int:
		return int64(x)
	case int64:
		return x
	case int32:
		return int64(x)
	case uint:
		return int64(x)
	case uint32:
		return int64(x)
	case uint64:
		return int64(x)
	}
	panic(fmt.Sprintf("web: count of %T", n))
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
	"user.registered":          "Account created",
	"login.succeeded":          "Signed in",
	"login.failed":             "Sign-in failed",
	"token.refreshed":          "Session refreshed",
	"token.reuse_detected":     "Refresh token reused: session revoked",
	"session.logged_out":       "Signed out",
	"session.revoked":          "Session revoked",
	"password.changed":         "Password changed",
	"password.reset":           "Password reset",
	"email.verified":           "Email verified",
	"email_signin.requested":   "Sign-in code emailed",
	"email_signin.locked":      "Sign-in code locked after wrong tries",
	"oauth.linked":             "Provider linked",
	"oauth.token_exchanged":    "Token exchanged (RFC 8693)",
	"oauth.delegation_granted": "Agent allowed to act for you",
	"oauth.delegation_denied":  "Agent refused",
	"api_key.created":          "API key created",
	"api_key.revoked":          "API key revoked",
	"user.role_changed":        "Role changed",
	"user.disabled":            "Account disabled",
	"user.enabled":             "Account enabled",
	"user.profile_updated":     "Profile updated",
	"credits.granted":          "Credits granted",
	"rate_limited":             "Rate limited",
	"impersonation.started":    "Impersonation started",
	"impersonation.refused":    "Refused in an impersonation",
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
