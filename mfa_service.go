package gatehouse

import (
	"context"
	"strings"
	"time"
)

// MFAService holds the rules of second factors: enrolling and removing an authenticator app
// (TOTP), recovery codes, and the second step of a sign-in (Verify). It uses AuthService's core
// (transactions, audit, caller locks, session start, token issuance).
type MFAService struct {
	auth   *AuthService
	sealer SecretSealer
	otp    OTP
	issuer string
	rules  MFARateRules
}

// MFARateRules limit failed codes per user and per factor, counted atomically in the store.
type MFARateRules struct {
	TOTPFailures     RateRule
	RecoveryFailures RateRule
}

// DefaultMFARateRules: 5 failures per factor per 5 minutes.
var DefaultMFARateRules = MFARateRules{
	TOTPFailures:     RateRule{Name: "mfa_totp_user", Limit: 5, Window: 5 * time.Minute},
	RecoveryFailures: RateRule{Name: "mfa_recovery_user", Limit: 5, Window: 5 * time.Minute},
}

// MFADeps is what an MFAService is built from; all are required but Issuer (the name
// authenticator apps show; "Gatehouse" when empty).
type MFADeps struct {
	Auth   *AuthService
	Sealer SecretSealer
	OTP    OTP
	Issuer string
	Rules  MFARateRules
}

// NewMFAService builds the second-factor rules.
func NewMFAService(d MFADeps) *MFAService {
	if d.Issuer == "" {
		d.Issuer = totpIssuerFallback
	}
	return &MFAService{auth: d.Auth, sealer: d.Sealer, otp: d.OTP, issuer: d.Issuer, rules: d.Rules}
}

// MFAStatus is what the caller has enrolled.
type MFAStatus struct {
	TOTP              bool // a confirmed authenticator app
	Pending           bool // an enrolment started and not confirmed
	RecoveryCodesLeft int
	Passkeys          int // registered passkeys (each is a second factor too)
}

// Status reports the caller's factors.
func (m *MFAService) Status(ctx context.Context, p *Principal) (*MFAStatus, error) {
	st := &MFAStatus{}
	f, err := m.auth.store.TOTPFactorOf(ctx, p.User.ID)
	if err != nil && !isNotFound(err) {
		return nil, err
	}
	if f != nil {
		st.TOTP, st.Pending = f.Confirmed(), !f.Confirmed()
	}
	if st.RecoveryCodesLeft, err = m.auth.store.RecoveryCodesLeft(ctx, p.User.ID); err != nil {
		return nil, err
	}
	passkeys, err := m.auth.store.PasskeysOf(ctx, p.User.ID)
	if err != nil {
		return nil, err
	}
	st.Passkeys = len(passkeys)
	return st, nil
}

// TOTPEnrolment is a started enrolment: the secret to type or scan, shown once.
type TOTPEnrolment struct {
	Secret string
	URI    string
}

// QRCode is the enrolment's otpauth:// URI as a PNG image of a QR code (the dashboard shows it
// beside the secret).
func (m *MFAService) QRCode(e *TOTPEnrolment) ([]byte, error) { return m.otp.QRCode(e.URI) }

// BeginTOTP starts enrolling an authenticator app: a new secret, stored sealed and pending until
// ConfirmTOTP. Starting again replaces a pending secret; an enrolled app must be removed first.
func (m *MFAService) BeginTOTP(ctx context.Context, p *Principal) (*TOTPEnrolment, error) {
	if err := m.auth.forbidImpersonated(ctx, p, "authenticator app enrolment"); err != nil {
		return nil, err
	}
	secret, uri, err := m.otp.NewTOTP(m.issuer, p.User.Email)
	if err != nil {
		return nil, err
	}
	sealed, err := m.sealer.Seal([]byte(secret), totpAAD(p.User.ID))
	if err != nil {
		return nil, err
	}
	err = m.auth.tx(ctx, func(tx StoreTx) error {
		u, err := m.auth.lockCaller(ctx, tx, p)
		if err != nil {
			return err
		}
		f, err := tx.TOTPFactorOf(ctx, u.ID)
		if err != nil && !isNotFound(err) {
			return err
		}
		if f.Confirmed() {
			return ErrMFAAlreadyEnrolled
		}
		return tx.PutTOTPFactor(ctx, &TOTPFactor{UserID: u.ID, Secret: sealed, CreatedAt: m.auth.now()})
	})
	if err != nil {
		return nil, err
	}
	return &TOTPEnrolment{Secret: secret, URI: uri}, nil
}

// ConfirmTOTP finishes an enrolment with a first code from the app and returns ten recovery
// codes, shown this once (the store keeps their hashes). From now on every sign-in asks for a
// code.
func (m *MFAService) ConfirmTOTP(ctx context.Context, p *Principal, code string) ([]string, error) {
	codes, err := m.withTOTPCode(ctx, p, "authenticator app enrolment", "enrolment", code,
		func(tx StoreTx, u *User, code string, now time.Time) ([]string, error) {
			f, err := tx.TOTPFactorOf(ctx, u.ID)
			if isNotFound(err) {
				return nil, ErrMFANoPendingEnrolment
			} else if err != nil {
				return nil, err
			}
			if f.Confirmed() {
				return nil, ErrMFAAlreadyEnrolled
			}
			step, err := m.matchTOTP(f, code, now)
			if err != nil {
				return nil, err
			}
			if err := tx.UseTOTPStep(ctx, u.ID, step, &now); isNotFound(err) {
				return nil, ErrMFAInvalidCode
			} else if err != nil {
				return nil, err
			}
			return m.replaceRecoveryCodesTx(ctx, tx, p.Client, u.ID, now, EventMFAEnabled, "authenticator app")
		})
	if err == nil {
		m.auth.cache.invalidateUser(p.User.ID) // its MFAEnabled changed
	}
	return codes, err
}

// withTOTPCode runs change, in a transaction with the caller's row locked, for a request proven
// by a current TOTP code: the impersonation guard (action names the refused change), the code's
// shape, and the per-user failure limit (a wrong code stays counted and audited as what; any
// other outcome gives the attempt back). ConfirmTOTP and RenewRecoveryCodes share it.
func (m *MFAService) withTOTPCode(ctx context.Context, p *Principal, action, what, code string,
	change func(tx StoreTx, u *User, code string, now time.Time) ([]string, error)) ([]string, error) {
	if err := m.auth.forbidImpersonated(ctx, p, action); err != nil {
		return nil, err
	}
	code = strings.TrimSpace(code)
	if !isTOTPCode(code) {
		return nil, Invalid(FieldError{Field: "code", Message: "code must be the 6 digits the authenticator app shows."})
	}
	ticket, err := m.auth.limiter.Take(ctx, m.rules.TOTPFailures, p.User.ID)
	if err != nil {
		return nil, err
	}
	var codes []string
	err = m.auth.tx(ctx, func(tx StoreTx) error {
		u, err := m.auth.lockCaller(ctx, tx, p)
		if err != nil {
			return err
		}
		codes, err = change(tx, u, code, m.auth.now())
		return err
	})
	if err != nil {
		m.failed(ctx, p.Client, p.User.ID, ticket, err, what)
		return nil, err
	}
	m.auth.limiter.Refund(ctx, ticket)
	return codes, nil
}

// replaceRecoveryCodesTx gives the user ten new recovery codes (their hashes stored, replacing
// the old ones) and audits it as event.
func (m *MFAService) replaceRecoveryCodesTx(ctx context.Context, tx StoreTx, c Client, userID string, now time.Time, event, detail string) ([]string, error) {
	codes, hashes := newRecoveryCodes(userID)
	if err := tx.ReplaceRecoveryCodes(ctx, userID, hashes, now); err != nil {
		return nil, err
	}
	return codes, m.auth.auditTx(ctx, tx, c, event, userID, OutcomeSuccess, detail)
}

// failed keeps a failed attempt counted (and audited) when it was a wrong code, and gives it
// back when the attempt was never judged.
func (m *MFAService) failed(ctx context.Context, c Client, userID string, ticket *Ticket, err error, what string) {
	if ErrorCodeOf(err) == ErrMFAInvalidCode.Code {
		m.auth.audit(ctx, c, EventMFAVerifyFailed, userID, OutcomeFailure, "wrong or reused code ("+what+")")
		return
	}
	m.auth.limiter.Refund(ctx, ticket)
}

// matchTOTP opens the factor's secret and finds the step of code.
func (m *MFAService) matchTOTP(f *TOTPFactor, code string, now time.Time) (int64, error) {
	secret, err := m.sealer.Open(f.Secret, totpAAD(f.UserID))
	if err != nil {
		return 0, Errorf(KindInternal, "internal_error", "cannot open the TOTP secret of %s: %v", f.UserID, err)
	}
	step, ok := m.otp.MatchTOTP(string(secret), code, now)
	if !ok {
		return 0, ErrMFAInvalidCode
	}
	return step, nil
}

// ruleFor is the failure limit of the factor a code is for.
func (m *MFAService) ruleFor(code string) RateRule {
	if isTOTPCode(code) {
		return m.rules.TOTPFailures
	}
	return m.rules.RecoveryFailures
}

// useCodeTx accepts code as the user's second factor inside tx (the user locked): a TOTP code of
// a step later than the last accepted one, or an unused recovery code, which it spends. It
// returns the factor used.
func (m *MFAService) useCodeTx(ctx context.Context, tx StoreTx, userID, code string, client Client, now time.Time) (string, error) {
	if isTOTPCode(code) {
		f, err := tx.TOTPFactorOf(ctx, userID)
		if isNotFound(err) {
			return "", ErrMFAInvalidCode
		} else if err != nil {
			return "", err
		}
		if !f.Confirmed() {
			return "", ErrMFAInvalidCode
		}
		step, err := m.matchTOTP(f, code, now)
		if err != nil {
			return "", err
		}
		if err := tx.UseTOTPStep(ctx, userID, step, nil); isNotFound(err) {
			return "", ErrMFAInvalidCode // this code, or a later one, was already accepted
		} else if err != nil {
			return "", err
		}
		return FactorTOTP, nil
	}
	norm := normalizeRecoveryCode(code)
	if norm == "" {
		return "", ErrMFAInvalidCode
	}
	if err := tx.UseRecoveryCode(ctx, userID, recoveryCodeHash(userID, norm), now); isNotFound(err) {
		return "", ErrMFAInvalidCode
	} else if err != nil {
		return "", err
	}
	left, err := tx.RecoveryCodesLeft(ctx, userID)
	if err != nil {
		return "", err
	}
	return FactorRecoveryCode, m.auth.auditTx(ctx, tx, client, EventMFARecoveryUsed, userID, OutcomeSuccess, CountNoun(left, "code")+" left")
}

// DisableTOTP removes the caller's authenticator app and recovery codes, proven by a current code
// (or a recovery code) or by the account's password, and revokes every other session of the user.
// The caller must have signed in within StepUpMaxAge.
func (m *MFAService) DisableTOTP(ctx context.Context, p *Principal, code, password string) error {
	if err := m.auth.forbidImpersonated(ctx, p, "authenticator app removal"); err != nil {
		return err
	}
	code = strings.TrimSpace(code)
	if err := m.auth.requireRecentAuth(ctx, p); err != nil {
		return err
	}
	if code == "" && password == "" {
		return Invalid(FieldError{Field: "code", Message: "Send a current code (or a recovery code), or the password."})
	}
	if len(code) > maxMFACodeLength {
		return Invalid(FieldError{Field: "code", Message: "The code is too long."})
	}
	var checkedHash string
	var ticket *Ticket
	var err error
	if code == "" {
		if checkedHash, err = m.checkPassword(ctx, p, password); err != nil {
			return err
		}
	} else if ticket, err = m.auth.limiter.Take(ctx, m.ruleFor(code), p.User.ID); err != nil {
		return err
	}
	var revoked []string
	err = m.auth.tx(ctx, func(tx StoreTx) error {
		u, err := m.auth.lockCaller(ctx, tx, p)
		if err != nil {
			return err
		}
		f, err := tx.TOTPFactorOf(ctx, u.ID)
		if isNotFound(err) {
			return ErrMFANotEnrolled
		} else if err != nil {
			return err
		}
		now := m.auth.now()
		if code != "" {
			if !f.Confirmed() {
				return ErrMFANotEnrolled
			}
			if _, err := m.useCodeTx(ctx, tx, u.ID, code, p.Client, now); err != nil {
				return err
			}
		} else if u.PasswordHash != checkedHash {
			// The password changed between the check and this transaction.
			return Invalid(FieldError{Field: "password", Message: "The password is incorrect."})
		}
		if _, err := tx.DeleteMFAFactors(ctx, u.ID); err != nil {
			return err
		}
		if revoked, err = tx.RevokeUserSessions(ctx, u.ID, p.SessionID, now); err != nil {
			return err
		}
		return m.auth.auditTx(ctx, tx, p.Client, EventMFADisabled, u.ID, OutcomeSuccess,
			"authenticator app removed; "+CountNoun(len(revoked), "other session")+" revoked")
	})
	if err != nil {
		if ticket != nil {
			m.failed(ctx, p.Client, p.User.ID, ticket, err, "removal")
		}
		return err
	}
	m.auth.limiter.Refund(ctx, ticket)
	m.auth.cache.invalidateSessions(revoked...)
	m.auth.cache.invalidateUser(p.User.ID)
	return nil
}

// checkPassword verifies the caller's password for a change of factors, under the account's
// login failure limit (like the current password of a password change); it returns the hash it
// checked, for the transaction to see it is still the account's.
func (m *MFAService) checkPassword(ctx context.Context, p *Principal, password string) (string, error) {
	wrong := Invalid(FieldError{Field: "password", Message: "The password is incorrect."})
	u, err := m.auth.store.UserByID(ctx, p.User.ID)
	if err != nil {
		return "", notFoundAsUnauthenticated(err)
	}
	if !u.HasPassword() || len(password) > 4*1024 {
		return "", wrong
	}
	ticket, err := m.auth.limiter.Take(ctx, m.auth.rules.LoginAccount, hashedSubject(u.Email))
	if err != nil {
		return "", err
	}
	ok, _, err := m.auth.hasher.Verify(ctx, password, u.PasswordHash)
	if err != nil && ErrorKindOf(err) == KindUnavailable {
		m.auth.limiter.Refund(ctx, ticket)
		return "", err
	}
	if err != nil || !ok {
		return "", wrong
	}
	m.auth.limiter.Refund(ctx, ticket)
	return u.PasswordHash, nil
}

// Verify is the second step of a sign-in: the mfa_token of an mfa_required answer and a code
// (TOTP or recovery code). It starts the session the first step would have started, whose tokens
// say both factors were used (amr, aal2). A wrong code leaves the mfa_token usable until it
// expires, under the factor's failure limit; a right one spends it.
func (m *MFAService) Verify(ctx context.Context, mfaToken, code string, client Client) (*TokenSet, error) {
	code = strings.TrimSpace(code)
	// A malformed mfa_token is answered before the code is judged.
	if !mfaTokenShape(mfaToken) {
		return nil, ErrMFAInvalidToken
	}
	if code == "" || len(code) > maxMFACodeLength {
		return nil, Invalid(FieldError{Field: "code", Message: "code is required: 6 digits from the authenticator app, or a recovery code."})
	}
	c, err := m.auth.openMFAChallenge(ctx, mfaToken)
	if err != nil {
		return nil, err
	}
	ticket, err := m.auth.limiter.Take(ctx, m.ruleFor(code), c.UserID)
	if err != nil {
		return nil, err
	}
	var (
		u       *User
		sess    *Session
		refresh string
	)
	err = m.auth.tx(ctx, func(tx StoreTx) error {
		now := m.auth.now()
		spent, user, err := m.auth.spendMFAChallengeTx(ctx, tx, mfaToken, now)
		if err != nil {
			return err
		}
		u = user
		factor, err := m.useCodeTx(ctx, tx, u.ID, code, client, now)
		if err != nil {
			return err
		}
		amr := secondStepAMR(spent.AMR, AMROTP, AMRMFA)
		if sess, refresh, err = m.auth.startSession(ctx, tx, u, client, now, amr); err != nil {
			return err
		}
		return m.auth.auditTx(ctx, tx, client, EventLoginSucceeded, u.ID, OutcomeSuccess, "second factor: "+factor)
	})
	if err != nil {
		m.failed(ctx, client, c.UserID, ticket, err, "sign-in")
		return nil, err
	}
	m.auth.limiter.Refund(ctx, ticket)
	return m.auth.issue(ctx, u, sess, refresh)
}

// ResetFactors removes every second factor of a user (authenticator app, recovery codes,
// passkeys), for an admin (or the operator), and
// revokes the user's sessions: whoever signs in next does so with the password alone and can
// enrol again.
func (m *MFAService) ResetFactors(ctx context.Context, by *Principal, userID string) error {
	var revoked []string
	err := m.auth.tx(ctx, func(tx StoreTx) error {
		u, err := tx.LockUser(ctx, userID)
		if err != nil {
			return err
		}
		had, err := tx.DeleteMFAFactors(ctx, u.ID)
		if err != nil {
			return err
		}
		passkeys, err := tx.DeletePasskeys(ctx, u.ID)
		if err != nil {
			return err
		}
		if !had && passkeys == 0 {
			return ErrMFANotEnrolled
		}
		if revoked, err = tx.RevokeUserSessions(ctx, u.ID, "", m.auth.now()); err != nil {
			return err
		}
		return m.auth.auditTx(ctx, tx, by.Client, EventMFAReset, u.ID, OutcomeSuccess,
			"second factors removed ("+CountNoun(passkeys, "passkey")+"); "+CountNoun(len(revoked), "session")+" revoked"+by.actor())
	})
	if err != nil {
		return err
	}
	m.auth.cache.invalidateSessions(revoked...)
	m.auth.cache.invalidateUser(userID)
	return nil
}

// RenewRecoveryCodes replaces the caller's recovery codes with ten new ones, shown once, proven by
// a current TOTP code (a recovery code cannot renew the codes).
func (m *MFAService) RenewRecoveryCodes(ctx context.Context, p *Principal, code string) ([]string, error) {
	return m.withTOTPCode(ctx, p, "recovery code renewal", "recovery codes", code,
		func(tx StoreTx, u *User, code string, now time.Time) ([]string, error) {
			f, err := tx.TOTPFactorOf(ctx, u.ID)
			if isNotFound(err) || (err == nil && !f.Confirmed()) {
				return nil, ErrMFANotEnrolled
			} else if err != nil {
				return nil, err
			}
			if _, err := m.useCodeTx(ctx, tx, u.ID, code, p.Client, now); err != nil {
				return nil, err
			}
			return m.replaceRecoveryCodesTx(ctx, tx, p.Client, u.ID, now, EventMFACodesRenewed, "")
		})
}
