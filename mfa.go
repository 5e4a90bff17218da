package gatehouse

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"slices"
	"strings"
	"time"
)

// Multi-factor authentication: the stored factors, the store's interfaces, and what a login with
// a second factor enrolled answers. The rules are MFAService's (mfa_service.go); the part of a
// login that asks for the second factor is AuthService's (mfaChallengeTx), since every sign-in
// path passes through it.

// Authentication method references (RFC 8176) and assurance levels carried by access tokens.
const (
	AMRPassword = "pwd"
	AMROTP      = "otp"
	AMRMFA      = "mfa"
	AAL1        = "aal1"
	AAL2        = "aal2"
)

// Factor names as the mfa_required answer lists them.
const (
	FactorTOTP         = "totp"
	FactorRecoveryCode = "recovery_code"
)

// Audit events of MFA.
const (
	EventMFAEnabled       = "mfa.enabled"
	EventMFADisabled      = "mfa.disabled"
	EventMFAReset         = "mfa.reset"
	EventMFAChallenged    = "mfa.challenged"
	EventMFAVerifyFailed  = "mfa.failed"
	EventMFARecoveryUsed  = "mfa.recovery_code_used"
	EventMFACodesRenewed  = "mfa.recovery_codes_renewed"
	mfaChallengeTTL       = 5 * time.Minute
	mfaTokenBytes         = 32
	recoveryCodeCount     = 10
	recoveryCodeBytes     = 10 // 80 bits, 16 base32 characters
	maxMFACodeLength      = 64
	maxMFATokenLength     = 256
	totpStepSeconds       = 30
	totpIssuerFallback    = "Gatehouse"
	totpSecretAADPrefix   = "gatehouse totp secret v1\x00"
	recoveryCodeHashLabel = "gatehouse recovery code v1\x00"
)

// AAL is the assurance level a set of authentication methods gives.
func AAL(amr []string) string {
	if slices.Contains(amr, AMRMFA) {
		return AAL2
	}
	return AAL1
}

// TOTPFactor is a user's authenticator app. Secret is sealed (SecretSealer, the user id as
// additional data). A factor is pending until ConfirmedAt is set; LastStep is the last RFC 6238
// time step accepted, so that no code of that step or an earlier one is ever accepted again.
type TOTPFactor struct {
	UserID      string
	Secret      []byte
	CreatedAt   time.Time
	ConfirmedAt *time.Time
	LastStep    int64
}

// Confirmed reports whether the factor is in use (a pending one asks nothing at sign-in).
func (f *TOTPFactor) Confirmed() bool { return f != nil && f.ConfirmedAt != nil }

// MFAChallenge is a login whose first factor succeeded, waiting for the second: the mfa_token,
// stored as its hash. AMR is the first factor's method ("pwd"; empty for a provider sign-in).
type MFAChallenge struct {
	Hash      []byte
	UserID    string
	AMR       string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

// MFAReader reads factors.
type MFAReader interface {
	// TOTPFactorOf returns the user's TOTP factor, pending or confirmed; ErrNotFound when none.
	TOTPFactorOf(ctx context.Context, userID string) (*TOTPFactor, error)
	// SecondFactorsOf reports, in one query, whether the user has a confirmed TOTP factor and
	// whether any passkey.
	SecondFactorsOf(ctx context.Context, userID string) (totp, passkeys bool, err error)
	// MFAChallengeByHash finds a challenge by the hash of its mfa_token.
	MFAChallengeByHash(ctx context.Context, hash []byte) (*MFAChallenge, error)
	// RecoveryCodesLeft counts the user's unused recovery codes.
	RecoveryCodesLeft(ctx context.Context, userID string) (int, error)
}

// MFAWriter writes factors. Callers hold the user's row lock (LockUser). Every change of factors
// (these, and the passkeys' PasskeyWriter) also sets the user's MFAEnabled (whether a confirmed
// TOTP factor or a passkey is left), in the same transaction.
type MFAWriter interface {
	// PutTOTPFactor stores a pending factor, replacing any the user had.
	PutTOTPFactor(ctx context.Context, f *TOTPFactor) error
	// UseTOTPStep confirms the factor (when confirmAt is not nil) and records step as its last
	// accepted step, only if step is later than the one stored: one conditional statement, so of
	// concurrent uses of one code exactly one succeeds; ErrNotFound otherwise (a replay).
	UseTOTPStep(ctx context.Context, userID string, step int64, confirmAt *time.Time) error
	// DeleteMFAFactors removes the user's TOTP factor, recovery codes and pending challenges, and
	// reports whether there was a factor or a code.
	DeleteMFAFactors(ctx context.Context, userID string) (bool, error)
	// ReplaceRecoveryCodes drops the user's recovery codes and stores these hashes.
	ReplaceRecoveryCodes(ctx context.Context, userID string, hashes [][]byte, at time.Time) error
	// UseRecoveryCode spends an unused code of the user: ErrNotFound when there is none.
	UseRecoveryCode(ctx context.Context, userID string, hash []byte, at time.Time) error
	CreateMFAChallenge(ctx context.Context, c *MFAChallenge) error
	// SpendMFAChallenge marks an unused, unexpired challenge used at now (one conditional
	// statement) and returns it; ErrNotFound otherwise. A transaction that then fails undoes it.
	SpendMFAChallenge(ctx context.Context, hash []byte, now time.Time) (*MFAChallenge, error)
}

// OTP is the TOTP arithmetic (RFC 6238: SHA-1, 6 digits, 30-second steps), an edge package's.
type OTP interface {
	// NewTOTP makes a fresh secret (base32) and its otpauth:// URI.
	NewTOTP(issuer, account string) (secret, uri string, err error)
	// MatchTOTP returns the time step, within one step of now, whose code is code; ok is false
	// when none is. Codes are compared in constant time.
	MatchTOTP(secret, code string, now time.Time) (step int64, ok bool)
	// QRCode renders an otpauth:// URI as a PNG image of a QR code, for the app to scan.
	QRCode(uri string) ([]byte, error)
}

// MFARequiredError answers a login whose first factor was right when a second is enrolled: the
// mfa_token (single use, 5 minutes) to send with the code to the verify endpoint.
type MFARequiredError struct {
	Token   string
	Factors []string
}

// ErrMFARequired is what an MFARequiredError is, for errors.Is and the edges' status mapping.
var ErrMFARequired = &Error{Kind: KindUnauthorized, Code: "mfa_required",
	Message: "A second factor is required: send the mfa_token with a code to /api/v1/auth/mfa/verify."}

func (e *MFARequiredError) Error() string { return ErrMFARequired.Error() }
func (e *MFARequiredError) Unwrap() error { return ErrMFARequired }

// MFA errors.
var (
	ErrMFAInvalidToken = &Error{Kind: KindUnauthorized, Code: "invalid_mfa_token",
		Message: "The mfa_token is invalid, expired or already used; sign in again."}
	ErrMFAInvalidCode = &Error{Kind: KindUnauthorized, Code: "invalid_mfa_code",
		Message: "The code is incorrect or was already used."}
	ErrMFAAlreadyEnrolled = &Error{Kind: KindConflict, Code: "mfa_already_enrolled",
		Message: "An authenticator app is already enrolled; remove it first."}
	ErrMFANotEnrolled = &Error{Kind: KindNotFound, Code: "mfa_not_enrolled",
		Message: "No authenticator app is enrolled."}
	ErrMFANoPendingEnrolment = &Error{Kind: KindConflict, Code: "mfa_not_pending",
		Message: "Start the enrolment first (POST /api/v1/users/me/mfa/totp)."}
	ErrMFAUnavailable = &Error{Kind: KindUnavailable, Code: "mfa_unavailable",
		Message: "Second factors are not available on this server.", RetryAfter: time.Minute}
)

// mfaChallengeTx is the part of every sign-in that asks for a second factor: inside the
// sign-in's transaction, with the user locked (u as LockUser read it), it returns nil when the
// user has no confirmed factor (the sign-in goes on), or stores a challenge and returns the answer
// with its mfa_token and the user's factors (the sign-in stops there and answers it once the
// transaction commits). The user row says whether there is a factor (User.MFAEnabled, kept by the
// store with every change of factors): a user without one costs no query of the factor tables,
// a user with one a single query that lists them.
func (s *AuthService) mfaChallengeTx(ctx context.Context, tx StoreTx, u *User, amr string, client Client, now time.Time) (*MFARequiredError, error) {
	if !u.MFAEnabled {
		return nil, nil
	}
	factors, err := secondFactorsTx(ctx, tx, u.ID)
	if err != nil || len(factors) == 0 {
		return nil, err
	}
	token := RandomToken(mfaTokenBytes)
	if err := tx.CreateMFAChallenge(ctx, &MFAChallenge{Hash: HashToken(token), UserID: u.ID, AMR: amr,
		CreatedAt: now, ExpiresAt: now.Add(mfaChallengeTTL)}); err != nil {
		return nil, err
	}
	return &MFARequiredError{Token: token, Factors: factors},
		s.auditTx(ctx, tx, client, EventMFAChallenged, u.ID, OutcomeSuccess, "first factor "+firstFactorName(amr))
}

// openMFAChallenge returns the challenge of an mfa_token while it may still finish a sign-in
// (known, unused, unexpired); ErrMFAInvalidToken otherwise. It only reads: the second step's
// transaction spends it with spendMFAChallengeTx.
func (s *AuthService) openMFAChallenge(ctx context.Context, mfaToken string) (*MFAChallenge, error) {
	if !mfaTokenShape(mfaToken) {
		return nil, ErrMFAInvalidToken
	}
	c, err := s.store.MFAChallengeByHash(ctx, HashToken(mfaToken))
	if isNotFound(err) {
		return nil, ErrMFAInvalidToken
	} else if err != nil {
		return nil, err
	}
	if c.UsedAt != nil || !s.now().Before(c.ExpiresAt) {
		return nil, ErrMFAInvalidToken
	}
	return c, nil
}

// mfaTokenShape reports whether an mfa_token is worth looking up.
func mfaTokenShape(mfaToken string) bool {
	return mfaToken != "" && len(mfaToken) <= maxMFATokenLength
}

// spendMFAChallengeTx is the start of every second step's transaction: it spends the mfa_token's
// challenge (of concurrent steps one wins) and returns it with its user, locked. A spent or
// expired token, and a user gone, disabled or unverified while verification is required, are
// ErrMFAInvalidToken.
func (s *AuthService) spendMFAChallengeTx(ctx context.Context, tx StoreTx, mfaToken string, now time.Time) (*MFAChallenge, *User, error) {
	c, err := tx.SpendMFAChallenge(ctx, HashToken(mfaToken), now)
	if isNotFound(err) {
		return nil, nil, ErrMFAInvalidToken
	} else if err != nil {
		return nil, nil, err
	}
	u, err := tx.LockUser(ctx, c.UserID)
	if isNotFound(err) {
		return nil, nil, ErrMFAInvalidToken
	} else if err != nil {
		return nil, nil, err
	}
	if !u.IsActive || (s.cfg.RequireEmailVerification && !u.EmailVerified) {
		return nil, nil, ErrMFAInvalidToken
	}
	return c, u, nil
}

// secondStepAMR is the amr of a session a second step starts: the challenge's first factor (none
// for a provider sign-in), then the second's, each value once (an email code's otp and an
// authenticator's are one "otp").
func secondStepAMR(first string, second ...string) []string {
	amr := make([]string, 0, len(second)+1)
	if first != "" && !slices.Contains(second, first) {
		amr = append(amr, first)
	}
	return append(amr, second...)
}

// secondFactorsTx lists the factors the user can finish a sign-in with: an authenticator app
// (and its recovery codes) once confirmed, passkeys; none when the user has neither.
func secondFactorsTx(ctx context.Context, tx StoreTx, userID string) ([]string, error) {
	totp, passkeys, err := tx.SecondFactorsOf(ctx, userID)
	if err != nil {
		return nil, err
	}
	var factors []string
	if totp {
		factors = append(factors, FactorTOTP, FactorRecoveryCode)
	}
	if passkeys {
		factors = append(factors, FactorWebAuthn)
	}
	return factors, nil
}

func firstFactorName(amr string) string {
	if amr == "" {
		return "provider sign-in"
	}
	return amr
}

// newRecoveryCodes makes the ten codes shown once and their hashes for the store.
func newRecoveryCodes(userID string) (codes []string, hashes [][]byte) {
	enc := base32.StdEncoding.WithPadding(base32.NoPadding)
	for range recoveryCodeCount {
		b := make([]byte, recoveryCodeBytes)
		_, _ = rand.Read(b)
		raw := strings.ToLower(enc.EncodeToString(b)) // 16 characters
		code := raw[0:4] + "-" + raw[4:8] + "-" + raw[8:12] + "-" + raw[12:16]
		codes = append(codes, code)
		hashes = append(hashes, recoveryCodeHash(userID, raw))
	}
	return codes, hashes
}

// recoveryCodeHash hashes a recovery code (normalised: no separators, lower case) bound to its
// user. Codes carry 80 random bits, so a fast hash is enough.
func recoveryCodeHash(userID, normalized string) []byte {
	return HashToken(recoveryCodeHashLabel + userID + "\x00" + normalized)
}

// normalizeRecoveryCode strips what people add when they copy a code (dashes, spaces) and
// lower-cases it; "" when it cannot be one.
func normalizeRecoveryCode(code string) string {
	var b strings.Builder
	for _, r := range code {
		switch {
		case r == '-' || r == ' ':
		case r >= 'A' && r <= 'Z':
			b.WriteRune(r + ('a' - 'A'))
		case (r >= 'a' && r <= 'z') || (r >= '2' && r <= '7'):
			b.WriteRune(r)
		default:
			return ""
		}
	}
	if b.Len() != 16 {
		return ""
	}
	return b.String()
}

// isTOTPCode reports whether code looks like a TOTP code (six digits) rather than a recovery code.
func isTOTPCode(code string) bool {
	if len(code) != 6 {
		return false
	}
	for _, c := range code {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func totpAAD(userID string) []byte { return []byte(totpSecretAADPrefix + userID) }

// StepUpMaxAge is how recent a sign-in must be for the sensitive changes (the password, removing a
// second factor, creating a key with the admin scope): older sessions must sign in again first.
// A change of the account's email address, when one is offered, must ask the same
// (requireRecentAuth).
const StepUpMaxAge = 10 * time.Minute

// ErrReauthenticationRequired refuses a sensitive change to a session signed in too long ago.
var ErrReauthenticationRequired = &Error{Kind: KindForbidden, Code: "reauthentication_required",
	Message: "This change needs a recent sign-in (within the last 10 minutes): sign in again, then retry."}

// requireRecentAuth is the step-up rule: the caller's session must have been signed in to
// (auth_time: its creation, for a first-party session) within StepUpMaxAge. Principals without a
// session (the operator's command line) answer to nobody.
func (s *AuthService) requireRecentAuth(ctx context.Context, p *Principal) error {
	if p.SessionID == "" {
		return nil
	}
	sess, _, err := s.loadSession(ctx, p.SessionID, p.User.ID)
	if err != nil {
		return err
	}
	if s.now().Sub(sessionAuthTime(sess)) > StepUpMaxAge {
		return ErrReauthenticationRequired
	}
	return nil
}

// sessionAuthTime is when the user of sess authenticated: an OAuth grant's recorded time, or the
// creation of a first-party session (every sign-in creates one; a refresh keeps it).
func sessionAuthTime(sess *Session) time.Time {
	if !sess.AuthTime.IsZero() {
		return sess.AuthTime
	}
	return sess.CreatedAt
}

// ErrMFAEnrollmentRequired refuses everything but enrolling a second factor to a session whose
// user's role requires one (GATEHOUSE_MFA_REQUIRED_ROLES) and who has none yet.
var ErrMFAEnrollmentRequired = &Error{Kind: KindForbidden, Code: "mfa_enrollment_required",
	Message: "Your role requires a second factor: set up an authenticator app first (POST /api/v1/users/me/mfa/totp, then /api/v1/users/me/mfa/totp/confirm)."}

// mfaEnrollmentRequired is the rule of GATEHOUSE_MFA_REQUIRED_ROLES: a user of such a role without
// a confirmed second factor. The sign-in still succeeds (the password, or the provider, was
// right), into a session that may only enrol; once a factor is confirmed, that session is free,
// and every later sign-in asks for the factor. API keys are not sign-ins and are not restricted.
func (s *AuthService) mfaEnrollmentRequired(u *User) bool {
	return !u.MFAEnabled && slices.Contains(s.cfg.MFARequiredRoles, u.Role)
}
