package gatehouse

import (
	"context"
	"time"
)

// EmailPurpose says what an email token may be redeemed for. A token of one purpose is never
// accepted for the other.
type EmailPurpose string

const (
	PurposeVerify EmailPurpose = "verify"
	PurposeReset  EmailPurpose = "reset"
)

// EmailToken is the stored form of a token sent by email: only its hash is kept.
type EmailToken struct {
	Hash    []byte // HashToken of the token
	Purpose EmailPurpose
	UserID  string
	// Email is the address the token was sent to. A token proves control of that mailbox only, so
	// it is dead once the account's address is another.
	Email     string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time // set when redeemed; tokens made obsolete are deleted, never marked used
	// Resend marks a verification token asked for through the resend endpoint, the only ones that
	// count against its once-a-minute limit.
	Resend bool
}

// EmailConfig holds the email rules' tunable numbers and the base of every link they send.
type EmailConfig struct {
	// AppURL is the base of links in emails, without a trailing slash. It comes from
	// configuration only: never from a request's Host or X-Forwarded-Host.
	AppURL         string
	VerifyTokenTTL time.Duration
	ResetTokenTTL  time.Duration
	// ResendInterval is the least time between two verification resends of one user.
	ResendInterval time.Duration
	// ForgotPasswordFloor is the least time a forgot-password request takes, so that the extra
	// work done for a real account does not show in the response time.
	ForgotPasswordFloor time.Duration
}

// DefaultEmailConfig is the contract's defaults.
var DefaultEmailConfig = EmailConfig{
	VerifyTokenTTL:      24 * time.Hour,
	ResetTokenTTL:       time.Hour,
	ResendInterval:      time.Minute,
	ForgotPasswordFloor: 250 * time.Millisecond,
}

// emailTokenBytes is the randomness of an email token: 256 bits, above the contract's 128.
const emailTokenBytes = 32

// maxEmailTokenLength bounds what is hashed; real tokens are 43 characters.
const maxEmailTokenLength = 256

// Errors of the email rules.
var (
	ErrInvalidEmailToken    = &Error{Kind: KindBadRequest, Code: "invalid_token", Message: "The link is invalid, expired or already used."}
	ErrEmailAlreadyVerified = &Error{Kind: KindConflict, Code: "email_already_verified", Message: "This email address is already verified."}
)

// EmailReader reads email tokens and the outbox.
type EmailReader interface {
	EmailTokenByHash(ctx context.Context, hash []byte) (*EmailToken, error)
	// LastResendAt returns when the user last asked for a verification resend; ErrNotFound if never.
	LastResendAt(ctx context.Context, userID string) (time.Time, error)
	// NextOutboxAttempt returns the earliest next_attempt_at of the messages waiting to be sent
	// that a worker holding keyID can send; ErrNotFound when there are none.
	NextOutboxAttempt(ctx context.Context, keyID string) (time.Time, error)
}

// EmailWriter writes email tokens and the outbox.
type EmailWriter interface {
	CreateEmailToken(ctx context.Context, t *EmailToken) error
	// UseEmailToken marks an unused, unexpired token used at `at`. It is the single check-and-mark
	// of a redemption: of concurrent callers with one token exactly one succeeds; the others get
	// ErrNotFound, as do callers with an unknown, used or expired token.
	UseEmailToken(ctx context.Context, hash []byte, at time.Time) error
	// DeleteEmailTokens removes the user's unused tokens of a purpose, except keepHash.
	DeleteEmailTokens(ctx context.Context, userID string, purpose EmailPurpose, keepHash []byte) error
	// SetEmailVerified marks the user verified if its address is still email; ErrNotFound otherwise.
	SetEmailVerified(ctx context.Context, userID, email string, at time.Time) error
	EnqueueEmail(ctx context.Context, m *OutboxMessage) error
	// ClaimOutbox takes up to limit messages due at now that a worker holding keyID can send, and
	// leases them until leaseUntil: no other worker takes them meanwhile, and a worker that dies
	// mid-send leaves them to be retried once the lease ends.
	ClaimOutbox(ctx context.Context, keyID string, now, leaseUntil time.Time, limit int) ([]*OutboxMessage, error)
	// MarkOutboxSent records a delivery and erases the message's sealed secret.
	MarkOutboxSent(ctx context.Context, id string, attempts int, at time.Time) error
	// MarkOutboxRetry records a failed attempt and when to try again.
	MarkOutboxRetry(ctx context.Context, id string, attempts int, next time.Time, lastError string) error
	// MarkOutboxFailed gives a message up for good and erases its sealed secret.
	MarkOutboxFailed(ctx context.Context, id string, attempts int, at time.Time, lastError string) error
	// ExpireOutbox gives up every unsent message created before createdBefore or whose link
	// expired by now, whoever's key sealed it, and returns their ids.
	ExpireOutbox(ctx context.Context, createdBefore, now time.Time) ([]string, error)
	// PurgeEmail deletes outbox messages finished before `before`, and tokens and email sign-ins
	// expired before it.
	PurgeEmail(ctx context.Context, before time.Time) error
}

// EmailKind names one email that Gatehouse sends, and its templates.
type EmailKind string

const (
	EmailVerify          EmailKind = "verify_email"
	EmailReset           EmailKind = "reset_password"
	EmailPasswordChanged EmailKind = "password_changed"
	EmailIdentityLinked  EmailKind = "identity_linked"
	// EmailSignIn carries a one-time code and a link that sign in without a password
	// (emailsignin.go).
	EmailSignInMail EmailKind = "email_sign_in"
)

// EmailKinds lists every kind, for template loading and checks.
var EmailKinds = []EmailKind{EmailVerify, EmailReset, EmailPasswordChanged, EmailIdentityLinked, EmailSignInMail}

// HasLink reports whether emails of the kind carry an action link; the others are notices.
func (k EmailKind) HasLink() bool { return k == EmailVerify || k == EmailReset || k == EmailSignInMail }

// HasCode reports whether emails of the kind carry a one-time code beside their link.
func (k EmailKind) HasCode() bool { return k == EmailSignInMail }

// EmailData is what templates may show. It deliberately leaves out the account's display name:
// anyone can register someone else's address with a name such as "Claim your prize at ...", and
// an email from us must not carry that text to the address owner.
type EmailData struct {
	Email     string        // the recipient
	AppURL    string        // GATEHOUSE_APP_URL
	Link      string        // the action link, on AppURL; empty for notices
	ExpiresIn time.Duration // how long Link works; 0 for notices
	Code      string        // a one-time code (email_sign_in only), valid as long as Link
	// Provider is the sign-in provider a notice is about, by its label ("GitHub"), and
	// CredentialsRevoked says that linking it removed the password and revoked the account's
	// sessions and API keys (identity_linked only).
	Provider           string
	CredentialsRevoked bool
}

// EmailContent is a rendered email.
type EmailContent struct {
	Subject string
	Text    string
	HTML    string
}

// EmailRenderer turns a kind and its data into an email.
type EmailRenderer interface {
	Render(kind EmailKind, data EmailData) (*EmailContent, error)
}

// SecretSealer encrypts the secrets an outbox message carries (its link's token) under a key kept
// outside the database, so that a copy of the database alone yields no usable link.
type SecretSealer interface {
	// KeyID names the key without revealing it; messages are only claimed by workers with the
	// same key, so instances configured with different keys never fail each other's messages.
	KeyID() string
	Seal(plaintext, additionalData []byte) ([]byte, error)
	Open(sealed, additionalData []byte) ([]byte, error)
}

// emailRules is what the email rules need beyond the AuthService's own dependencies.
type emailRules struct {
	renderer EmailRenderer
	sealer   SecretSealer
	wake     func()
	cfg      EmailConfig
}

// errEmailDisabled answers the email endpoints of a service that has no email configured (CLI
// tools, tests); serve always configures it.
var errEmailDisabled = &Error{Kind: KindUnavailable, Code: "email_unavailable", Message: "Email is not configured on this server."}
