package gatehouse

import (
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
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

// NormalizeEmail trims and lower-cases an address, the form in which emails are stored and compared.
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// ValidateEmail checks that a normalised address is a plain addr-spec a mail server would accept.
func ValidateEmail(email string) *FieldError {
	fail := &FieldError{Field: "email", Message: "Enter a valid email address."}
	// U+FFFD is what JSON decoding leaves of invalid UTF-8: the client sent bytes, not an address.
	if email == "" || len(email) > 254 || !utf8.ValidString(email) || strings.ContainsRune(email, utf8.RuneError) {
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
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return &FieldError{Field: "name", Message: "Name must not contain control characters."}
		}
	}
	return nil
}
