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
}

// HasPassword reports whether the user can sign in with a password.
func (u *User) HasPassword() bool { return u.PasswordHash != "" }

// IsAdmin reports whether the user has the admin role.
func (u *User) IsAdmin() bool { return u.Role == RoleAdmin }

// NormalizeEmail trims an address and lower-cases its ASCII letters, the form in which emails are
// stored and compared. Only ASCII: Unicode case mapping sends other letters into ASCII (Go maps
// LATIN CAPITAL LETTER I WITH DOT ABOVE to "i", KELVIN SIGN to "k"), which would let a provider's
// "tİm@" sign into "tim@". Letters outside ASCII are compared as they are.
func NormalizeEmail(email string) string {
	email = strings.TrimSpace(email)
	for i := 0; i < len(email); i++ {
		if c := email[i]; 'A' <= c && c <= 'Z' {
			b := []byte(email)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return email
}

// invisible reports runes that show as nothing, or as something else, and so let one identity pose
// as another in listings and logs: control characters (C0, DEL, C1), format characters (zero-width
// spaces and joiners, bidi overrides and isolates, the BOM, soft hyphens, tag characters), private
// use and surrogate code points, line and paragraph separators, and noncharacters.
func invisible(r rune) bool {
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs, unicode.Zl, unicode.Zp) ||
		(r >= 0xFDD0 && r <= 0xFDEF) || r&0xFFFE == 0xFFFE
}

// hasInvisible reports whether s holds an invisible rune.
func hasInvisible(s string) bool { return strings.IndexFunc(s, invisible) >= 0 }

// ValidateEmail checks that a normalised address is a plain addr-spec a mail server would accept.
func ValidateEmail(email string) *FieldError {
	fail := &FieldError{Field: "email", Message: "Enter a valid email address."}
	// U+FFFD is what JSON decoding leaves of invalid UTF-8: the client sent bytes, not an address.
	// An address must also be in NFKC form, which refuses compatibility look-alikes (KELVIN SIGN,
	// full-width letters, ligatures) that would pass for another address.
	if email == "" || len(email) > 254 || !utf8.ValidString(email) || strings.ContainsRune(email, utf8.RuneError) ||
		hasInvisible(email) || !norm.NFKC.IsNormalString(email) {
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
	if hasInvisible(name) {
		return &FieldError{Field: "name", Message: "Name must not contain control, format or other invisible characters."}
	}
	return nil
}
