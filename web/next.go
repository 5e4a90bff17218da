package web

import "github.com/gatehouse/gatehouse"

// safeNext returns next when it is a path on this site, and "" otherwise (gatehouse.LocalPath:
// no scheme, host, "//host", backslash or control character; at most 2048 bytes, which an OAuth
// authorization request and the provider sign-in's cookie that carries it must fit).
func safeNext(next string) string { return gatehouse.LocalPath(next) }

// afterSignIn is where a sign-in goes: the requested page, or the account.
func afterSignIn(next string) string {
	if n := safeNext(next); n != "" {
		return n
	}
	return "/account"
}
