package gatehouse

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"strings"
	"time"
)

// Passwordless sign-in by email (EmailSignInService): one email carries an 8-digit code and a
// link; either signs the user in once, within EmailSignInConfig.TTL. The email goes through the
// outbox like every other (emailqueue.go), sealed at rest. The code is stored as an HMAC under a
// key kept outside the database (an 8-digit code has too few values for a plain hash to hide it),
// the link's token as its SHA-256. A user has at most one pending sign-in: a new request replaces
// it. A code may be tried MaxAttempts times, counted by one conditional statement, after which it
// is dead (the link too: it is the same sign-in).

// Audit events of the email sign-in. A success is login.succeeded, a wrong code login.failed.
const (
	EventEmailSignInRequested = "email_signin.requested"
	EventEmailSignInLocked    = "email_signin.locked"
)

// Methods an email sign-in reports in the audit log; both are the RFC 8176 "otp" in tokens.
const (
	emailSignInCode = "email code"
	emailSignInLink = "email link"
)

const (
	emailCodeDigits        = 8
	emailSignInTokenBytes  = 32
	emailCodeHashLabel     = "gatehouse email sign-in code v1\x00"
	maxEmailSignInCodeSize = 64
)

// EmailSignIn is a user's pending passwordless sign-in: the hashes of the code and of the link's
// token, the address they were sent to, and the codes tried so far.
type EmailSignIn struct {
	UserID    string
	Email     string
	CodeHash  []byte
	LinkHash  []byte
	Attempts  int
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

// EmailSignInReader reads pending email sign-ins.
type EmailSignInReader interface {
	// EmailSignInByLink returns the sign-in whose link token has this hash, used or not;
	// ErrNotFound when there is none.
	EmailSignInByLink(ctx context.Context, linkHash []byte) (*EmailSignIn, error)
}

// EmailSignInWriter writes pending email sign-ins. Callers of PutEmailSignIn hold the user's row
// lock (LockUser).
type EmailSignInWriter interface {
	// PutEmailSignIn stores s as the user's pending sign-in, replacing any other (its code and
	// link die with it).
	PutEmailSignIn(ctx context.Context, s *EmailSignIn) error
	// TakeEmailSignInAttempt counts one code attempt against the user's pending sign-in, if it is
	// unused, unexpired at now and has had fewer than max attempts: one conditional statement, so
	// concurrent attempts never exceed max. It returns the sign-in as counted; ErrNotFound when
	// there is none that may be tried.
	TakeEmailSignInAttempt(ctx context.Context, userID string, now time.Time, max int) (*EmailSignIn, error)
	// SpendEmailSignInCode marks the user's pending sign-in with this code hash used at now, if
	// unused and unexpired (one conditional statement: of concurrent spends one succeeds), and
	// returns it; ErrNotFound otherwise. A transaction that then fails undoes it.
	SpendEmailSignInCode(ctx context.Context, userID string, codeHash []byte, now time.Time) (*EmailSignIn, error)
	// SpendEmailSignInLink is SpendEmailSignInCode for the link's token hash; a sign-in whose
	// code was tried max times is dead for its link as well.
	SpendEmailSignInLink(ctx context.Context, linkHash []byte, now time.Time, max int) (*EmailSignIn, error)
}

// EmailSignInConfig holds the tunable numbers of the email sign-in.
type EmailSignInConfig struct {
	TTL         time.Duration // how long the code and the link work
	MaxAttempts int           // codes tried per sign-in before the code is dead
	// PerAddress limits the sign-in emails asked for one address (whether or not it has an
	// account): past it, the request is refused with 429 for every address alike.
	PerAddress RateRule
}

// DefaultEmailSignInConfig: 10 minutes, 5 attempts, 5 emails per address per hour.
var DefaultEmailSignInConfig = EmailSignInConfig{
	TTL:         10 * time.Minute,
	MaxAttempts: 5,
	PerAddress:  RateRule{Name: "email_signin_email", Limit: 5, Window: time.Hour},
}

// EmailSignInDeps is what an EmailSignInService is built from. CodeKey is a secret of at least 32
// bytes kept outside the database (derived from the master key), under which codes are hashed.
type EmailSignInDeps struct {
	Auth    *AuthService
	CodeKey []byte
	Config  EmailSignInConfig
}

// EmailSignInService holds the rules of the passwordless sign-in by email. It uses AuthService's
// core (transactions, audit, the outbox, the second-factor challenge, session start).
type EmailSignInService struct {
	auth *AuthService
	key  []byte
	cfg  EmailSignInConfig
}

// NewEmailSignInService builds the email sign-in rules.
func NewEmailSignInService(d EmailSignInDeps) *EmailSignInService {
	if d.Config.TTL <= 0 {
		d.Config.TTL = DefaultEmailSignInConfig.TTL
	}
	if d.Config.MaxAttempts <= 0 {
		d.Config.MaxAttempts = DefaultEmailSignInConfig.MaxAttempts
	}
	return &EmailSignInService{auth: d.Auth, key: d.CodeKey, cfg: d.Config}
}

// ErrEmailSignInInvalid is the one answer to a wrong, used, expired, superseded or exhausted code
// or link, and to an address without a pending sign-in.
var ErrEmailSignInInvalid = &Error{Kind: KindUnauthorized, Code: "invalid_code",
	Message: "The code or link is invalid, expired or already used; ask for a new one."}

// SignInPath is the path of the magic link on GATEHOUSE_APP_URL; the dashboard serves it.
const SignInPath = "/email-sign-in/link"

// available reports errEmailDisabled when the server sends no email (or was given no code key).
func (e *EmailSignInService) available() error {
	if e == nil || e.auth.email == nil || len(e.key) < 32 {
		return errEmailDisabled
	}
	return nil
}

// Start emails a sign-in code and link to the account with this address, if there is an enabled
// one. The answer is the same whether or not there is, in result and in time (the work runs
// beside the floor of the forgot-password request). redirectTo, optional, is a path on the app
// that the link carries as its next parameter. No account is created for an unknown address.
func (e *EmailSignInService) Start(ctx context.Context, email, redirectTo string, client Client) error {
	if err := e.available(); err != nil {
		return err
	}
	email = NormalizeEmail(email)
	if fe := ValidateEmail(email); fe != nil {
		return Invalid(*fe)
	}
	if redirectTo != "" && LocalPath(redirectTo) == "" {
		return Invalid(FieldError{Field: "redirect_to", Message: "redirect_to must be a path on the app, such as /dashboard."})
	}
	// Counted for every address alike, so a 429 tells nothing about the account.
	if _, err := e.auth.limiter.Take(ctx, e.cfg.PerAddress, hashedSubject(email)); err != nil {
		return err
	}
	return e.auth.atFloor(ctx, func(ctx context.Context) error { return e.start(ctx, email, redirectTo, client) })
}

// start does the work of Start. It returns only the outcome of the account lookup, which is the
// same for every address; later failures are logged, never returned.
func (e *EmailSignInService) start(ctx context.Context, email, redirectTo string, client Client) error {
	s := e.auth
	u, err := s.store.UserByEmail(ctx, email)
	if isNotFound(err) {
		return nil
	} else if err != nil {
		return err
	}
	if !u.IsActive {
		return nil
	}
	err = s.tx(ctx, func(tx StoreTx) error {
		u, err := tx.LockUser(ctx, u.ID)
		if err != nil {
			return err
		}
		if !u.IsActive {
			return nil
		}
		now := s.now()
		code, err := newEmailCode()
		if err != nil {
			return err
		}
		token := RandomToken(emailSignInTokenBytes)
		if err := tx.PutEmailSignIn(ctx, &EmailSignIn{UserID: u.ID, Email: u.Email, CodeHash: e.codeHash(u.ID, code),
			LinkHash: HashToken(token), CreatedAt: now, ExpiresAt: now.Add(e.cfg.TTL)}); err != nil {
			return err
		}
		link := s.email.cfg.AppURL + SignInPath + "?token={token}"
		if redirectTo != "" {
			link += "&next=" + url.QueryEscape(redirectTo)
		}
		data := EmailData{Email: u.Email, Link: link, ExpiresIn: e.cfg.TTL}
		if err := s.queueEmailSecrets(ctx, tx, EmailSignInMail, data, emailSecrets{Token: token, Code: code}, now); err != nil {
			return err
		}
		return s.auditTx(ctx, tx, client, EventEmailSignInRequested, u.ID, OutcomeSuccess, "")
	})
	if err != nil {
		s.log.ErrorContext(ctx, "sign-in email not queued", "user_id", u.ID, "error", err)
		return nil
	}
	s.email.wake()
	return nil
}

// VerifyCode signs in with the address and the code of its email. A wrong code counts one of
// the sign-in's MaxAttempts; the last one kills the code and the link. The answers are those of
// a password login: tokens, MFARequiredError when the account has a second factor, 403 when the
// code is right but the account disabled; every other failure is ErrEmailSignInInvalid.
func (e *EmailSignInService) VerifyCode(ctx context.Context, email, code string, client Client) (*TokenSet, error) {
	if err := e.available(); err != nil {
		return nil, err
	}
	email = NormalizeEmail(email)
	code = normalizeEmailCode(code)
	var fields []FieldError
	if email == "" {
		fields = append(fields, FieldError{Field: "email", Message: "email is required."})
	}
	if code == "" {
		fields = append(fields, FieldError{Field: "code", Message: "code is required: the " + fmt.Sprint(emailCodeDigits) + " digits of the email."})
	}
	if len(fields) > 0 {
		return nil, Invalid(fields...)
	}
	if ValidateEmail(email) != nil || !isEmailCode(code) {
		return nil, ErrEmailSignInInvalid
	}
	s := e.auth
	u, err := s.store.UserByEmail(ctx, email)
	if err != nil && !isNotFound(err) {
		return nil, err
	}
	// An unknown address costs the same statement as a known one without a pending sign-in
	// (user ids are UUIDs: "unknown" matches no row), so the time tells nothing either.
	userID := "unknown"
	if u != nil {
		userID = u.ID
	}
	var si *EmailSignIn
	err = s.tx(ctx, func(tx StoreTx) error {
		var err error
		si, err = tx.TakeEmailSignInAttempt(ctx, userID, s.now(), e.cfg.MaxAttempts)
		if isNotFound(err) {
			return ErrEmailSignInInvalid
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, ErrEmailSignInInvalid
	}
	hash := e.codeHash(u.ID, code)
	if !hmac.Equal(si.CodeHash, hash) {
		if si.Attempts >= e.cfg.MaxAttempts {
			s.audit(ctx, client, EventEmailSignInLocked, u.ID, OutcomeFailure,
				fmt.Sprintf("%d wrong codes: the sign-in email's code and link no longer work", si.Attempts))
		} else {
			s.audit(ctx, client, EventLoginFailed, u.ID, OutcomeFailure, "wrong email sign-in code")
		}
		return nil, ErrEmailSignInInvalid
	}
	return e.finish(ctx, emailSignInCode, client, func(tx StoreTx, now time.Time) (*EmailSignIn, error) {
		return tx.SpendEmailSignInCode(ctx, u.ID, hash, now)
	})
}

// VerifyLink signs in with the token of the email's link; its answers are VerifyCode's.
func (e *EmailSignInService) VerifyLink(ctx context.Context, token string, client Client) (*TokenSet, error) {
	if err := e.available(); err != nil {
		return nil, err
	}
	if token == "" {
		return nil, Invalid(FieldError{Field: "token", Message: "token is required."})
	}
	if !validEmailTokenShape(token) {
		return nil, ErrEmailSignInInvalid
	}
	hash := HashToken(token)
	return e.finish(ctx, emailSignInLink, client, func(tx StoreTx, now time.Time) (*EmailSignIn, error) {
		return tx.SpendEmailSignInLink(ctx, hash, now, e.cfg.MaxAttempts)
	})
}

// LinkAddress returns the address a link's token would sign in to, without spending it, so the
// page the link lands on can name the account (a stranger's link must not sign a browser in to
// the stranger's account unnoticed). Every token that VerifyLink would refuse (malformed,
// unknown, used, expired, its code tried MaxAttempts times) is ErrEmailSignInInvalid. Only the
// token's holder learns the address, and it is the one the email went to.
func (e *EmailSignInService) LinkAddress(ctx context.Context, token string) (string, error) {
	if err := e.available(); err != nil {
		return "", err
	}
	if !validEmailTokenShape(token) {
		return "", ErrEmailSignInInvalid
	}
	si, err := e.auth.store.EmailSignInByLink(ctx, HashToken(token))
	if isNotFound(err) {
		return "", ErrEmailSignInInvalid
	} else if err != nil {
		return "", err
	}
	if si.UsedAt != nil || !e.auth.now().Before(si.ExpiresAt) || si.Attempts >= e.cfg.MaxAttempts {
		return "", ErrEmailSignInInvalid
	}
	return si.Email, nil
}

// finish spends the sign-in and starts the session, in one transaction: the account, locked,
// must still have the address the email went to and be enabled. Using the code or the link
// proves control of the address, so an unverified address becomes verified, and the credentials
// set up before anyone proved it (password, sessions, API keys, grants) are dropped.
func (e *EmailSignInService) finish(ctx context.Context, method string, client Client,
	spend func(tx StoreTx, now time.Time) (*EmailSignIn, error)) (*TokenSet, error) {
	s := e.auth
	var (
		u        *User
		sess     *Session
		refresh  string
		mfaReq   *MFARequiredError
		verified bool
		taken    *takeover
	)
	err := s.tx(ctx, func(tx StoreTx) error {
		now := s.now()
		si, err := spend(tx, now)
		if isNotFound(err) {
			return ErrEmailSignInInvalid
		} else if err != nil {
			return err
		}
		if u, err = tx.LockUser(ctx, si.UserID); isNotFound(err) {
			return ErrEmailSignInInvalid
		} else if err != nil {
			return err
		}
		if u.Email != si.Email {
			return ErrEmailSignInInvalid
		}
		if !u.IsActive {
			return ErrAccountDisabled
		}
		// With a second factor the code is only the first step: nothing changes until the
		// second (an unverified address may be someone else's mailbox; the factor's holder set
		// the account up), so the address stays unverified and the credentials stay.
		if mfaReq, err = s.mfaChallengeTx(ctx, tx, u, AMROTP, client, now); err != nil || mfaReq != nil {
			return err
		}
		if !u.EmailVerified {
			// Anyone can register someone else's address with a password: until now nobody had
			// shown they own this mailbox, so whatever the account holds was set up by a
			// stranger as much as by its owner. The owner, proven now, gets the account without
			// them (a pre-account takeover otherwise: the registrant's password, sessions and
			// API keys would live on, the password made valid by this very verification).
			if taken, err = e.auth.dropCredentialsTx(ctx, tx, u, now); err != nil {
				return err
			}
			if err := tx.SetEmailVerified(ctx, u.ID, si.Email, now); err != nil {
				return err
			}
			u.EmailVerified, verified = true, true
			if err := s.auditTx(ctx, tx, client, EventEmailVerified, u.ID, OutcomeSuccess,
				"by "+method+" sign-in; "+taken.String()); err != nil {
				return err
			}
		}
		if sess, refresh, err = s.startSession(ctx, tx, u, client, now, []string{AMROTP}); err != nil {
			return err
		}
		return s.auditTx(ctx, tx, client, EventLoginSucceeded, u.ID, OutcomeSuccess, method)
	})
	if err != nil {
		if errors.Is(err, ErrAccountDisabled) {
			s.audit(ctx, client, EventLoginFailed, u.ID, OutcomeFailure, ErrAccountDisabled.Code+": "+method)
		}
		return nil, err
	}
	if verified {
		taken.invalidate(s)
		s.cache.invalidateUser(u.ID)
	}
	if mfaReq != nil {
		return nil, mfaReq
	}
	return s.issue(ctx, u, sess, refresh)
}

// codeHash is how a code is stored: HMAC-SHA256 under the service's key, bound to its user.
func (e *EmailSignInService) codeHash(userID, code string) []byte {
	m := hmac.New(sha256.New, e.key)
	m.Write([]byte(emailCodeHashLabel + userID + "\x00" + code))
	return m.Sum(nil)
}

// newEmailCode draws a code of emailCodeDigits digits, uniformly.
func newEmailCode() (string, error) {
	limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(emailCodeDigits), nil)
	n, err := rand.Int(rand.Reader, limit)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%0*d", emailCodeDigits, n), nil
}

// normalizeEmailCode strips what people add when they copy a code (spaces, dashes).
func normalizeEmailCode(code string) string {
	if len(code) > maxEmailSignInCodeSize {
		return "x" // not a code; still not empty
	}
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' {
			return -1
		}
		return r
	}, code)
}

func isEmailCode(code string) bool {
	if len(code) != emailCodeDigits {
		return false
	}
	for _, c := range code {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// maxLocalPathLength bounds a return path: an OAuth authorization request must fit.
const maxLocalPathLength = 2048

// LocalPath returns p when it is a path on this site, and "" otherwise. Anything a browser could
// read as another origin is refused: a scheme or host, a protocol-relative "//host", backslashes
// (which browsers treat as slashes), and control characters. It judges every return path the
// edges carry (the dashboard's next, the email sign-in's redirect_to).
func LocalPath(p string) string {
	if p == "" || len(p) > maxLocalPathLength || p[0] != '/' {
		return ""
	}
	if strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\") {
		return ""
	}
	for i := 0; i < len(p); i++ {
		if p[i] < 0x20 || p[i] == 0x7f {
			return ""
		}
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return ""
	}
	// A percent-encoded slash or backslash in the first segment can turn into "//" after decoding
	// by a proxy or framework further on; no path needs one.
	if path := u.Path; strings.HasPrefix(path, "//") || strings.Contains(path, "\\") {
		return ""
	}
	return p
}
