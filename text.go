package gatehouse

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// cleanText makes client-supplied text safe to store: valid UTF-8, no NUL, at most max bytes
// cut on a character boundary. Databases refuse NUL and broken UTF-8, and a refused audit row
// must never be what stops a security action.
func cleanText(s string, max int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// CountNoun writes n and a noun, plural unless n is one: "1 session", "2 API keys".
func CountNoun(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
