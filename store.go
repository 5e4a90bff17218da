package gatehouse

import (
	"context"
	"time"
)

// Store is where Gatehouse keeps its state. Each implementation (sqlite, postgres) passes the
// conformance suite in storetest.
type Store interface {
	StoreReader
	// Tx runs fn in one transaction: all of its writes happen or none do. A row that fn locks
	// (LockSession) stays locked against other transactions until fn returns.
	Tx(ctx context.Context, fn func(tx StoreTx) error) error
	// CommitRotation is StoreTx.RotateRefreshToken as a transaction of its own, in a single
	// statement where the database allows it: the common refresh needs no lock held across
	// round trips. (Like Tx, never call it inside a transaction.)
	CommitRotation(ctx context.Context, r Rotation) error
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	Close() error
}

// StoreTx is a transaction in progress.
type StoreTx interface {
	StoreReader
	StoreWriter
}

// StoreReader reads. Lookups of a missing row return ErrNotFound. Each capability adds its own
// reader interface (declared beside its rules) to this list.
type StoreReader interface {
	AccountReader
	APIKeyReader
	CreditReader
	AuditReader
	OAuthReader
	EmailReader
	AuthServerReader
	DeviceCodeReader
	ExchangeReader
	MachineReader
	MFAReader
	PasskeyReader
	EmailSignInReader
	OrgReader
}

// StoreWriter writes; only a transaction can. Each capability adds its own writer interface here.
type StoreWriter interface {
	AccountWriter
	APIKeyWriter
	CreditWriter
	AuditWriter
	RateLimitWriter
	OAuthWriter
	EmailWriter
	AuthServerWriter
	DeviceCodeWriter
	ExchangeWriter
	MachineWriter
	MFAWriter
	EmailSignInWriter
	PasskeyWriter
	OrgWriter
}

// Rotation is what spending a refresh token writes.
type Rotation struct {
	SpentHash     []byte
	SpentAt       time.Time
	SuccessorSalt []byte // how the successor was derived from the spent token
	// The user and session as the refresh read them: the spend happens only if they still hold
	// (the user's updated_at and second-factor state, the session's organization and role).
	UserUpdatedAt  time.Time
	UserMFAEnabled bool
	OrgID, OrgRole string
	Successor      *RefreshToken
	Event          *AuditEvent
	Use            *SessionUse // the session's last use, to record; nil to leave it
}

// SessionUse is when and from where a session was last used.
type SessionUse struct {
	At            time.Time
	IP, UserAgent string
}

// AccountReader reads users, sessions, refresh tokens and signing keys.
type AccountReader interface {
	UserByID(ctx context.Context, id string) (*User, error)
	UserByEmail(ctx context.Context, email string) (*User, error)
	// ListUsers returns up to limit users ordered by ID, starting after the ID afterID ("" for the start).
	ListUsers(ctx context.Context, afterID string, limit int) ([]*User, error)
	SessionByID(ctx context.Context, id string) (*Session, error)
	// ListActiveSessions returns the user's sessions that are neither revoked nor expired at now, newest first.
	ListActiveSessions(ctx context.Context, userID string, now time.Time) ([]*Session, error)
	RefreshTokenByHash(ctx context.Context, hash []byte) (*RefreshToken, error)
	// RefreshTokenSession finds a refresh token with its session and the session's user.
	RefreshTokenSession(ctx context.Context, hash []byte) (*RefreshToken, *Session, *User, error)
	SigningKeys(ctx context.Context) ([]SigningKey, error)
}

// AccountWriter writes users, sessions, refresh tokens and signing keys.
type AccountWriter interface {
	// CreateUser inserts u; ErrEmailTaken when its email is already registered.
	CreateUser(ctx context.Context, u *User) error
	// LockUser reads a user and locks its row until the transaction ends. Every transaction that
	// writes a user row reads it with LockUser first: UpdateUser writes the whole row back, so a
	// row read without the lock could undo a change committed meanwhile (a takeover, a disable).
	LockUser(ctx context.Context, id string) (*User, error)
	// UpdateUser overwrites the mutable fields of u (name, password hash, verified, role, active, avatar).
	UpdateUser(ctx context.Context, u *User) error
	CreateSession(ctx context.Context, s *Session) error
	// LockRefreshToken is RefreshTokenSession, and locks its session until the transaction ends, and
	// returns the token as it stands under that lock, with the session and the session's user.
	LockRefreshToken(ctx context.Context, hash []byte) (*RefreshToken, *Session, *User, error)
	// LockSession reads a session and locks it until the transaction ends.
	LockSession(ctx context.Context, id string) (*Session, error)
	RevokeSession(ctx context.Context, id string, at time.Time) error
	// RevokeUserSessions revokes every active session of the user except exceptID and returns the revoked IDs.
	RevokeUserSessions(ctx context.Context, userID, exceptID string, at time.Time) ([]string, error)
	// RevokeImpersonations revokes every active impersonation session (a first-party session
	// whose actor is the admin) that adminID opened, and returns the revoked IDs.
	RevokeImpersonations(ctx context.Context, adminID string, at time.Time) ([]string, error)
	CreateRefreshToken(ctx context.Context, t *RefreshToken) error
	// RotateRefreshToken spends a refresh token and stores its successor together with the audit
	// event of the exchange (and the session's last use, when given). It checks again as it writes
	// that the token is unspent and unexpired, its session neither revoked nor expired, its user
	// active and unchanged since UserUpdatedAt (the access token carries the user's role and
	// email): ErrNotFound, with nothing written, when any of that no longer holds.
	RotateRefreshToken(ctx context.Context, r Rotation) error
	CreateSigningKey(ctx context.Context, k SigningKey) error
	// ReplaceSigningKeyPrivate rewrites the stored private key (to seal it); the key stays the same.
	ReplaceSigningKeyPrivate(ctx context.Context, id string, private []byte) error
}

// PasswordHasher hashes and verifies passwords on a bounded pool; ErrBusy when the pool is saturated.
type PasswordHasher interface {
	Hash(ctx context.Context, password string) (string, error)
	// Verify compares in constant time. needsRehash reports parameters weaker than the current ones.
	Verify(ctx context.Context, password, encoded string) (ok, needsRehash bool, err error)
	// VerifyDummy costs what Verify costs, for requests that have no hash to compare against.
	VerifyDummy(ctx context.Context, password string) error
}

// PasswordPolicy returns a human-readable reason a new password is refused, or "".
type PasswordPolicy interface {
	Check(password string) string
}

// AccessTokens signs and verifies access tokens.
type AccessTokens interface {
	Sign(ctx context.Context, c AccessClaims) (string, error)
	// Verify checks signature, algorithm, type, issuer, audience and expiry. Any failure is
	// ErrUnauthenticated. The audience must be exactly one of the server's own: the first-party
	// audience or the URI of Gatehouse's own API as an OAuth resource.
	Verify(ctx context.Context, token string) (*AccessClaims, error)
	// VerifyAnyAudience is Verify for a token meant for any resource (introspection, userinfo):
	// the token must still carry exactly one audience.
	VerifyAnyAudience(ctx context.Context, token string) (*AccessClaims, error)
	// SignIDToken issues an OpenID Connect ID token.
	SignIDToken(ctx context.Context, c IDClaims) (string, error)
}
