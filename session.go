package gatehouse

import "time"

// Session is one sign-in on one device: the unit that refresh tokens belong to and that
// logout revokes. Its access tokens carry its ID in the "sid" claim.
type Session struct {
	ID         string
	UserID     string
	CreatedAt  time.Time
	LastUsedAt time.Time
	ExpiresAt  time.Time // absolute lifetime: no refresh extends a session past it
	UserAgent  string
	IP         string
	RevokedAt  *time.Time
}

// Active reports whether the session can still be used at now.
func (s *Session) Active(now time.Time) bool {
	return s.RevokedAt == nil && now.Before(s.ExpiresAt)
}

// RefreshToken is the stored form of an opaque refresh token: only its hash is kept.
// A spent token remembers how its successor was derived, so that a client retrying within the
// reuse interval receives the same successor without the server keeping any token in plain text.
type RefreshToken struct {
	Hash      []byte // SHA-256 of the token
	SessionID string
	CreatedAt time.Time
	ExpiresAt time.Time // idle lifetime
	SpentAt   *time.Time
	// SuccessorSalt is the random value that, combined with the plain token, derives its successor.
	SuccessorSalt []byte
}

// AccessClaims are the claims of an access token that the domain cares about.
type AccessClaims struct {
	ID            string // jti
	Subject       string // user id
	SessionID     string
	Email         string
	EmailVerified bool
	Role          string
	IssuedAt      time.Time
	ExpiresAt     time.Time
}

// SigningKey is a key pair that signs access tokens. Private is PKCS#8 DER.
type SigningKey struct {
	ID        string // kid
	Algorithm string // ES256, RS256 or EdDSA
	Private   []byte
	CreatedAt time.Time
}
