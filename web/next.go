package web

import (
	"net/url"
	"strings"
)

// maxNextLength bounds the return path carried through the sign-in page. An OAuth authorization
// request (/oauth2/authorize?client_id=...&redirect_uri=...&state=...) must fit, and so must the
// provider sign-in's cookie that carries it (base64, under the browsers' 4 KB per cookie).
const maxNextLength = 2048

// safeNext returns next when it is a path on this site, and "" otherwise. Anything a browser
// could read as another origin is refused: a scheme or host, a protocol-relative "//host",
// backslashes (which browsers treat as slashes), and control characters.
func safeNext(next string) string {
	if next == "" || len(next) > maxNextLength || next[0] != '/' {
		return ""
	}
	if strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\") {
		return ""
	}
	for i := 0; i < len(next); i++ {
		if next[i] < 0x20 || next[i] == 0x7f {
			return ""
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return ""
	}
	// A percent-encoded slash or backslash in the first segment can turn into "//" after decoding
	// by a proxy or framework further on; there is no dashboard path that needs one.
	if p := u.Path; strings.HasPrefix(p, "//") || strings.Contains(p, "\\") {
		return ""
	}
	return next
}

// afterSignIn is where a sign-in goes: the requested page, or the account.
func afterSignIn(next string) string {
	if n := safeNext(next); n != "" {
		return n
	}
	return "/account"
}
