package gatehouse

import (
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Roles a user can have. A user has exactly one; the token response also lists it in "roles".
const (
	RoleUser  = "user"
	RoleAdmin = "admin"
)

// User is an account.
type User struct {
	ID            string
	Email         string // normalised: trimmed and lower-cased
	Name          string
	PasswordHash  string // PHC string; empty for accounts that have no password (OAuth-only)
	EmailVerified bool
	Role          string
	IsActive      bool
	AvatarURL     *string
	CreatedAt     time.Time
	UpdatedAt     time.Time
	// MFAEnabled: the user has a confirmed second factor. The store keeps it in the transaction of
	// every change of factors (MFAWriter); UpdateUser never writes it.
	MFAEnabled bool
}

// HasPassword reports whether the user can sign in with a password.
func (u *User) HasPassword() bool { return u.PasswordHash != "" }

// IsAdmin reports whether the user has the admin role.
func (u *User) IsAdmin() bool { return u.Role == RoleAdmin }

// NormalizeEmail trims an address and lower-cases it: the form in which emails are stored and
// compared, so that "ZOË@EXÄMPLE.COM" is the account of "zoë@exämple.com". A letter outside ASCII
// whose case mapping lands in ASCII (LATIN CAPITAL LETTER I WITH DOT ABOVE to "i", KELVIN SIGN to
// "k") is left as it is, never folded into an ASCII address; ValidateEmail then refuses it. No
// Unicode normalisation form is applied: NFC itself maps KELVIN SIGN to "K". ValidateEmail
// refuses what is not already in NFKC form instead.
func NormalizeEmail(email string) string {
	email = strings.TrimSpace(email)
	return strings.Map(func(r rune) rune {
		if r < utf8.RuneSelf {
			if 'A' <= r && r <= 'Z' {
				return r + 'a' - 'A'
			}
			return r
		}
		if l := unicode.ToLower(r); l >= utf8.RuneSelf {
			return l
		}
		return r
	}, email)
}

// casesIntoASCII reports a letter outside ASCII whose upper or lower case is an ASCII letter
// (İ, ı, KELVIN SIGN, LONG S): in an address it would read as, or fold into, another address.
func casesIntoASCII(r rune) bool {
	return r >= utf8.RuneSelf && (unicode.ToLower(r) < utf8.RuneSelf || unicode.ToUpper(r) < utf8.RuneSelf)
}

// invisible reports runes that show as nothing, or as something else, and so let one identity pose
// as another in listings and logs: control characters (C0, DEL, C1), format characters (zero-width
// spaces and joiners, bidi overrides and isolates, the BOM, soft hyphens, tag characters), private
// use and surrogate code points, line and paragraph separators, noncharacters, and the other
// default-ignorable code points (COMBINING GRAPHEME JOINER, Hangul fillers, variation selectors).
func invisible(r rune) bool {
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs, unicode.Zl, unicode.Zp,
		unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector) ||
		(r >= 0xFDD0 && r <= 0xFDEF) || r&0xFFFE == 0xFFFE
}

// hasInvisible reports whether s holds an invisible rune.
func hasInvisible(s string) bool { return strings.IndexFunc(s, invisible) >= 0 }

// hasInvisibleInName is hasInvisible for display names, which may carry the emoji presentation
// selectors (U+FE0E, U+FE0F) right after a symbol: "❤️" needs one, and after a symbol it cannot make
// one name look like another.
func hasInvisibleInName(name string) bool {
	prev := rune(-1)
	for _, r := range name {
		if (r == 0xFE0E || r == 0xFE0F) && prev >= 0 && unicode.Is(unicode.S, prev) {
			prev = r
			continue
		}
		if invisible(r) {
			return true
		}
		prev = r
	}
	return false
}

// ValidateEmail checks that a normalised address is a plain addr-spec a mail server would accept.
func ValidateEmail(email string) *FieldError {
	fail := &FieldError{Field: "email", Message: "Enter a valid email address."}
	// U+FFFD is what JSON decoding leaves of invalid UTF-8: the client sent bytes, not an address.
	// An address must also be in NFKC form, which refuses compatibility look-alikes (KELVIN SIGN,
	// full-width letters, ligatures) that would pass for another address.
	if email == "" || len(email) > 254 || !utf8.ValidString(email) || strings.ContainsRune(email, utf8.RuneError) ||
		hasInvisible(email) || strings.IndexFunc(email, casesIntoASCII) >= 0 || !norm.NFKC.IsNormalString(email) {
		return fail
	}
	addr, err := mail.ParseAddress(email)
	// ParseAddress also accepts "Name <a@b>"; only a bare address that round-trips is allowed.
	if err != nil || addr.Address != email || addr.Name != "" {
		return fail
	}
	at := strings.LastIndexByte(email, '@')
	local, domain := email[:at], email[at+1:]
	if local == "" || len(local) > 64 || domain == "" || strings.HasPrefix(domain, ".") ||
		strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") || strings.ContainsAny(email, " \t\r\n<>()[]\\,;:\"") {
		return fail
	}
	return nil
}

// ValidRole reports whether role is one Gatehouse knows.
func ValidRole(role string) bool { return role == RoleUser || role == RoleAdmin }

// MaxNameLength bounds display names, in code points.
const MaxNameLength = 200

// ValidateName checks a display name.
func ValidateName(name string) *FieldError {
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxNameLength {
		return &FieldError{Field: "name", Message: "Name must be at most 200 characters."}
	}
	if hasInvisibleInName(name) {
		return &FieldError{Field: "name", Message: "Name must not contain control, format or other invisible characters."}
	}
	return nil
}
