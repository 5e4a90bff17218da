package gatehouse

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// PasskeyService holds the rules of passkeys: registering, naming and removing the caller's,
// signing in with one alone (a discoverable credential), and using one as the second factor of
// a sign-in that answered mfa_required. Every ceremony's challenge is kept server-side, single
// use, five minutes, bound to its user (or to its mfa_token); nothing the browser sends names
// the user but the credential, whose signature decides.
type PasskeyService struct {
	auth     *AuthService
	webauthn WebAuthn
	failures RateRule
}

// PasskeyDeps is what a PasskeyService is built from. Failures limits failed second-factor
// assertions per user (like wrong TOTP codes).
type PasskeyDeps struct {
	Auth     *AuthService
	WebAuthn WebAuthn
	Failures RateRule
}

// DefaultPasskeyFailures: 5 failed assertions per user per 5 minutes.
var DefaultPasskeyFailures = RateRule{Name: "mfa_webauthn_user", Limit: 5, Window: 5 * time.Minute}

// NewPasskeyService builds the passkey rules.
func NewPasskeyService(d PasskeyDeps) *PasskeyService {
	return &PasskeyService{auth: d.Auth, webauthn: d.WebAuthn, failures: d.Failures}
}

// List returns the caller's passkeys, oldest first.
func (s *PasskeyService) List(ctx context.Context, p *Principal) ([]*Passkey, error) {
	return s.auth.store.PasskeysOf(ctx, p.User.ID)
}

// Ceremony is a started ceremony: the id to send back with the browser's answer (none for a
// second factor, bound to its mfa_token) and the options for navigator.credentials.
type Ceremony struct {
	ID      string
	Options []byte
}

// BeginRegistration starts adding a passkey to the caller's account. Like removing one, it
// needs a recent sign-in: a stolen session must not be able to plant a lasting way in.
func (s *PasskeyService) BeginRegistration(ctx context.Context, p *Principal) (*Ceremony, error) {
	if err := s.auth.forbidImpersonated(ctx, p, "passkey registration"); err != nil {
		return nil, err
	}
	if err := s.auth.requireRecentAuth(ctx, p); err != nil {
		return nil, err
	}
	existing, err := s.auth.store.PasskeysOf(ctx, p.User.ID)
	if err != nil {
		return nil, err
	}
	if len(existing) >= maxPasskeysPerUser {
		return nil, ErrPasskeyLimit
	}
	options, state, err := s.webauthn.BeginRegistration(passkeyUserOf(p.User), existing)
	if err != nil {
		return nil, err
	}
	id := RandomToken(passkeyCeremonyBytes)
	if err := s.storeCeremony(ctx, HashToken(id), CeremonyRegister, p.User.ID, state); err != nil {
		return nil, err
	}
	return &Ceremony{ID: id, Options: options}, nil
}

// storeCeremony keeps a ceremony for five minutes. A user has one registration in progress at
// a time: new creation options replace the previous ones, so asking again and again cannot fill
// the store (a second step's ceremony is replaced the same way, by its mfa_token's hash).
func (s *PasskeyService) storeCeremony(ctx context.Context, hash []byte, kind, userID string, state []byte) error {
	now := s.auth.now()
	return s.auth.tx(ctx, func(tx StoreTx) error {
		if kind == CeremonyRegister {
			if err := tx.DeletePasskeyCeremonies(ctx, userID, kind); err != nil {
				return err
			}
		}
		return tx.CreatePasskeyCeremony(ctx, &PasskeyCeremony{Hash: hash, Kind: kind, UserID: userID, State: state,
			CreatedAt: now, ExpiresAt: now.Add(passkeyCeremonyTTL)})
	})
}

// spendCeremony takes a ceremony out of the store in a transaction of its own: whatever the
// answer turns out to be, the challenge is never accepted twice.
func (s *PasskeyService) spendCeremony(ctx context.Context, hash []byte, kind string) (*PasskeyCeremony, error) {
	var c *PasskeyCeremony
	err := s.auth.tx(ctx, func(tx StoreTx) error {
		var err error
		c, err = tx.SpendPasskeyCeremony(ctx, hash, kind, s.auth.now())
		return err
	})
	return c, err
}

// FinishRegistration checks the browser's new credential against the caller's ceremony and
// stores it under name.
func (s *PasskeyService) FinishRegistration(ctx context.Context, p *Principal, ceremonyID, name string, credential []byte) (*Passkey, error) {
	if err := s.auth.forbidImpersonated(ctx, p, "passkey registration"); err != nil {
		return nil, err
	}
	name, err := passkeyName(name)
	if err != nil {
		return nil, err
	}
	if len(credential) == 0 || len(credential) > maxPasskeyCredential {
		return nil, Invalid(FieldError{Field: "credential", Message: "credential is required: the PublicKeyCredential's toJSON()."})
	}
	if ceremonyID == "" || len(ceremonyID) > maxCeremonyIDLength {
		return nil, ErrPasskeyCeremony
	}
	c, err := s.spendCeremony(ctx, HashToken(ceremonyID), CeremonyRegister)
	if isNotFound(err) {
		return nil, ErrPasskeyCeremony
	} else if err != nil {
		return nil, err
	}
	if c.UserID != p.User.ID {
		return nil, ErrPasskeyCeremony
	}
	pk, err := s.webauthn.FinishRegistration(passkeyUserOf(p.User), c.State, credential)
	if err != nil {
		if errors.Is(err, ErrPasskeyRejected) {
			s.auth.audit(ctx, p.Client, EventPasskeyFailed, p.User.ID, OutcomeFailure, "registration refused")
		}
		return nil, err
	}
	now := s.auth.now()
	pk.ID, pk.UserID, pk.Name, pk.CreatedAt = NewID(), p.User.ID, name, now
	err = s.auth.tx(ctx, func(tx StoreTx) error {
		u, err := s.auth.lockCaller(ctx, tx, p)
		if err != nil {
			return err
		}
		existing, err := tx.PasskeysOf(ctx, u.ID)
		if err != nil {
			return err
		}
		if len(existing) >= maxPasskeysPerUser {
			return ErrPasskeyLimit
		}
		if err := tx.CreatePasskey(ctx, pk); err != nil {
			return err
		}
		if err := s.auth.auditTx(ctx, tx, p.Client, EventPasskeyAdded, u.ID, OutcomeSuccess, "passkey "+quoteName(name)); err != nil || s.auth.email == nil {
			return err
		}
		// A passkey signs in alone: tell the mailbox owner, so one planted with a borrowed session
		// does not go unnoticed (as a password change or a linked provider is told). The name is
		// left out: it is text of whoever added the passkey.
		return s.auth.queueEmail(ctx, tx, EmailPasskeyAdded, EmailData{Email: u.Email}, "", now)
	})
	if err != nil {
		return nil, err
	}
	s.auth.cache.invalidateUser(p.User.ID) // its MFAEnabled may have changed
	return pk, nil
}

// Rename gives one of the caller's passkeys a new name.
func (s *PasskeyService) Rename(ctx context.Context, p *Principal, id, name string) (*Passkey, error) {
	if err := s.auth.forbidImpersonated(ctx, p, "passkey rename"); err != nil {
		return nil, err
	}
	name, err := passkeyName(name)
	if err != nil {
		return nil, err
	}
	var renamed *Passkey
	err = s.auth.tx(ctx, func(tx StoreTx) error {
		u, err := s.auth.lockCaller(ctx, tx, p)
		if err != nil {
			return err
		}
		if err := tx.RenamePasskey(ctx, u.ID, id, name); isNotFound(err) {
			return ErrPasskeyNotFound
		} else if err != nil {
			return err
		}
		if renamed, err = passkeyOf(ctx, tx, u.ID, id); err != nil {
			return err
		}
		return s.auth.auditTx(ctx, tx, p.Client, EventPasskeyRenamed, u.ID, OutcomeSuccess, "passkey renamed "+quoteName(name))
	})
	return renamed, err
}

func passkeyOf(ctx context.Context, r StoreReader, userID, id string) (*Passkey, error) {
	all, err := r.PasskeysOf(ctx, userID)
	if err != nil {
		return nil, err
	}
	for _, pk := range all {
		if pk.ID == id {
			return pk, nil
		}
	}
	return nil, ErrPasskeyNotFound
}

// Remove deletes one of the caller's passkeys. Removing a way to sign in is a sensitive change:
// it needs a recent sign-in, and it signs out every other session of the user (as removing the
// authenticator app does).
func (s *PasskeyService) Remove(ctx context.Context, p *Principal, id string) error {
	if err := s.auth.forbidImpersonated(ctx, p, "passkey removal"); err != nil {
		return err
	}
	if err := s.auth.requireRecentAuth(ctx, p); err != nil {
		return err
	}
	var revoked []string
	err := s.auth.tx(ctx, func(tx StoreTx) error {
		u, err := s.auth.lockCaller(ctx, tx, p)
		if err != nil {
			return err
		}
		pk, err := passkeyOf(ctx, tx, u.ID, id)
		if err != nil {
			return err
		}
		if err := tx.DeletePasskey(ctx, u.ID, id); isNotFound(err) {
			return ErrPasskeyNotFound
		} else if err != nil {
			return err
		}
		now := s.auth.now()
		if revoked, err = tx.RevokeUserSessions(ctx, u.ID, p.SessionID, now); err != nil {
			return err
		}
		return s.auth.auditTx(ctx, tx, p.Client, EventPasskeyRemoved, u.ID, OutcomeSuccess,
			"passkey "+quoteName(pk.Name)+" removed; "+CountNoun(len(revoked), "other session")+" revoked")
	})
	if err != nil {
		return err
	}
	s.auth.cache.invalidateSessions(revoked...)
	s.auth.cache.invalidateUser(p.User.ID) // its MFAEnabled may have changed
	return nil
}

// BeginLogin starts a passwordless sign-in: options for any discoverable passkey of this site
// (the browser offers the user's passkeys, in the autofill list or a dialog).
func (s *PasskeyService) BeginLogin(ctx context.Context) (*Ceremony, error) {
	options, state, err := s.webauthn.BeginLogin(nil, nil)
	if err != nil {
		return nil, err
	}
	id := RandomToken(passkeyCeremonyBytes)
	if err := s.storeCeremony(ctx, HashToken(id), CeremonyLogin, "", state); err != nil {
		return nil, err
	}
	return &Ceremony{ID: id, Options: options}, nil
}

// Login finishes a passwordless sign-in. An unknown ceremony or credential, a wrong challenge,
// origin or signature, or an assertion without user verification all answer ErrPasskeyInvalid.
// The session's amr says a key (hwk or swk) and user verification were used: aal2.
func (s *PasskeyService) Login(ctx context.Context, ceremonyID string, credential []byte, client Client) (*TokenSet, error) {
	if ceremonyID == "" || len(ceremonyID) > maxCeremonyIDLength || len(credential) == 0 || len(credential) > maxPasskeyCredential {
		return nil, ErrPasskeyInvalid
	}
	c, err := s.spendCeremony(ctx, HashToken(ceremonyID), CeremonyLogin)
	if isNotFound(err) {
		s.auth.audit(ctx, client, EventLoginFailed, "", OutcomeFailure, "passkey: unknown, expired or spent ceremony")
		return nil, ErrPasskeyInvalid
	} else if err != nil {
		return nil, err
	}
	a, err := s.webauthn.FinishLogin(ctx, c.State, credential, func(ctx context.Context, credentialID, _ []byte) (PasskeyUser, []*Passkey, error) {
		pk, err := s.auth.store.PasskeyByCredentialID(ctx, credentialID)
		if isNotFound(err) {
			return PasskeyUser{}, nil, ErrPasskeyInvalid
		} else if err != nil {
			return PasskeyUser{}, nil, err
		}
		u, err := s.auth.store.UserByID(ctx, pk.UserID)
		if isNotFound(err) {
			return PasskeyUser{}, nil, ErrPasskeyInvalid
		} else if err != nil {
			return PasskeyUser{}, nil, err
		}
		return passkeyUserOf(u), []*Passkey{pk}, nil
	})
	if err != nil {
		if errors.Is(err, ErrPasskeyInvalid) {
			s.auth.audit(ctx, client, EventLoginFailed, "", OutcomeFailure, "passkey: assertion refused")
		}
		return nil, err
	}
	if err := s.checkCounter(ctx, client, a); err != nil {
		return nil, err
	}
	var (
		u       *User
		sess    *Session
		refresh string
	)
	err = s.auth.tx(ctx, func(tx StoreTx) error {
		var err error
		if u, err = tx.LockUser(ctx, a.Passkey.UserID); isNotFound(err) {
			return ErrPasskeyInvalid
		} else if err != nil {
			return err
		}
		// The passkey proved the user: a disabled or unverified account may be told so.
		if !u.IsActive {
			return ErrAccountDisabled
		}
		if s.auth.cfg.RequireEmailVerification && !u.EmailVerified {
			return ErrEmailNotVerified
		}
		now := s.auth.now()
		if err := s.useTx(ctx, tx, a, now); err != nil {
			return err
		}
		if sess, refresh, err = s.auth.startSession(ctx, tx, u, client, now, []string{a.Passkey.amr(), AMRUser, AMRMFA}); err != nil {
			return err
		}
		return s.auth.auditTx(ctx, tx, client, EventLoginSucceeded, u.ID, OutcomeSuccess, "passkey "+quoteName(a.Passkey.Name))
	})
	if err != nil {
		s.counterRace(ctx, client, a, err)
		return nil, err
	}
	return s.auth.issue(ctx, u, sess, refresh)
}

// checkCounter refuses an assertion whose signature counter did not move forward: a cloned
// authenticator, most likely. Passkeys that keep no counter (always 0) never trip it. The refusal
// is audited on its own, so it stays on record though the sign-in fails.
func (s *PasskeyService) checkCounter(ctx context.Context, client Client, a *PasskeyAssertion) error {
	if !a.CloneWarning {
		return nil
	}
	s.auth.audit(ctx, client, EventPasskeyCloned, a.Passkey.UserID, OutcomeFailure,
		"passkey "+quoteName(a.Passkey.Name)+": signature counter did not increase; sign-in refused")
	return ErrPasskeyInvalid
}

// useTx records the assertion on the passkey; errPasskeyCounterRace when a concurrent assertion
// with the same or a later counter won.
func (s *PasskeyService) useTx(ctx context.Context, tx StoreTx, a *PasskeyAssertion, now time.Time) error {
	if err := tx.UsePasskey(ctx, a.Passkey.ID, a.SignCount, a.BackupState, now); isNotFound(err) {
		return errPasskeyCounterRace
	} else if err != nil {
		return err
	}
	return nil
}

var errPasskeyCounterRace = &Error{Kind: KindUnauthorized, Code: ErrPasskeyInvalid.Code, Message: ErrPasskeyInvalid.Message}

// counterRace audits an assertion refused because its counter was no longer ahead of the
// stored one when it was written.
func (s *PasskeyService) counterRace(ctx context.Context, client Client, a *PasskeyAssertion, err error) {
	if err == errPasskeyCounterRace {
		s.auth.audit(ctx, client, EventPasskeyCloned, a.Passkey.UserID, OutcomeFailure,
			"passkey "+quoteName(a.Passkey.Name)+": signature counter not ahead of the stored one; sign-in refused")
	}
}

// BeginMFA starts the passkey step of a sign-in that answered mfa_required: options for the
// user's passkeys, bound to the mfa_token (asking again replaces the previous options).
func (s *PasskeyService) BeginMFA(ctx context.Context, mfaToken string) (*Ceremony, error) {
	c, err := s.auth.openMFAChallenge(ctx, mfaToken)
	if err != nil {
		return nil, err
	}
	u, err := s.auth.store.UserByID(ctx, c.UserID)
	if isNotFound(err) {
		return nil, ErrMFAInvalidToken
	} else if err != nil {
		return nil, err
	}
	passkeys, err := s.auth.store.PasskeysOf(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if len(passkeys) == 0 {
		return nil, ErrNoPasskeys
	}
	pu := passkeyUserOf(u)
	options, state, err := s.webauthn.BeginLogin(&pu, passkeys)
	if err != nil {
		return nil, err
	}
	if err := s.storeCeremony(ctx, mfaCeremonyHash(mfaToken), CeremonyMFA, u.ID, state); err != nil {
		return nil, err
	}
	return &Ceremony{Options: options}, nil
}

// ErrNoPasskeys answers a request for passkey options of a user who has none.
var ErrNoPasskeys = &Error{Kind: KindConflict, Code: "no_passkeys",
	Message: "This account has no passkey; use another factor."}

// VerifyMFA is the second step of a sign-in with a passkey assertion in place of a code: it
// spends the mfa_token and starts the session, whose amr adds the key and user verification to
// the first factor. A failed assertion counts against the user's failure limit and leaves the
// mfa_token usable until it expires (the ceremony is spent: ask for new options).
func (s *PasskeyService) VerifyMFA(ctx context.Context, mfaToken string, credential []byte, client Client) (*TokenSet, error) {
	c, err := s.auth.openMFAChallenge(ctx, mfaToken)
	if err != nil {
		return nil, err
	}
	if len(credential) > maxPasskeyCredential {
		return nil, ErrPasskeyInvalid
	}
	ticket, err := s.auth.limiter.Take(ctx, s.failures, c.UserID)
	if err != nil {
		return nil, err
	}
	a, err := s.verifyMFAAssertion(ctx, c, mfaToken, credential)
	if err != nil {
		if errors.Is(err, ErrPasskeyInvalid) {
			s.auth.audit(ctx, client, EventMFAVerifyFailed, c.UserID, OutcomeFailure, "passkey assertion refused (sign-in)")
		} else {
			s.auth.limiter.Refund(ctx, ticket)
		}
		return nil, err
	}
	if err := s.checkCounter(ctx, client, a); err != nil {
		return nil, err
	}
	var (
		u       *User
		sess    *Session
		refresh string
	)
	err = s.auth.tx(ctx, func(tx StoreTx) error {
		now := s.auth.now()
		spent, user, err := s.auth.spendMFAChallengeTx(ctx, tx, mfaToken, now)
		if err != nil {
			return err
		}
		if u = user; u.ID != a.Passkey.UserID {
			return ErrMFAInvalidToken
		}
		if err := s.useTx(ctx, tx, a, now); err != nil {
			return err
		}
		amr := secondStepAMR(spent.AMR, a.Passkey.amr(), AMRUser, AMRMFA)
		if sess, refresh, err = s.auth.startSession(ctx, tx, u, client, now, amr); err != nil {
			return err
		}
		return s.auth.auditTx(ctx, tx, client, EventLoginSucceeded, u.ID, OutcomeSuccess, "second factor: passkey "+quoteName(a.Passkey.Name))
	})
	if err != nil {
		s.counterRace(ctx, client, a, err)
		return nil, err
	}
	s.auth.limiter.Refund(ctx, ticket)
	return s.auth.issue(ctx, u, sess, refresh)
}

// verifyMFAAssertion spends the mfa_token's passkey ceremony and checks the assertion against
// the passkeys of the challenge's user only.
func (s *PasskeyService) verifyMFAAssertion(ctx context.Context, c *MFAChallenge, mfaToken string, credential []byte) (*PasskeyAssertion, error) {
	if len(credential) == 0 {
		return nil, ErrPasskeyInvalid
	}
	cer, err := s.spendCeremony(ctx, mfaCeremonyHash(mfaToken), CeremonyMFA)
	if isNotFound(err) {
		return nil, ErrPasskeyInvalid
	} else if err != nil {
		return nil, err
	}
	if cer.UserID != c.UserID {
		return nil, ErrPasskeyInvalid
	}
	return s.webauthn.FinishLogin(ctx, cer.State, credential, func(ctx context.Context, _, _ []byte) (PasskeyUser, []*Passkey, error) {
		u, err := s.auth.store.UserByID(ctx, c.UserID)
		if isNotFound(err) {
			return PasskeyUser{}, nil, ErrPasskeyInvalid
		} else if err != nil {
			return PasskeyUser{}, nil, err
		}
		passkeys, err := s.auth.store.PasskeysOf(ctx, u.ID)
		if err != nil {
			return PasskeyUser{}, nil, err
		}
		return passkeyUserOf(u), passkeys, nil
	})
}

// passkeyName checks a passkey's name: printable, at most 64 characters; "Passkey" when empty.
func passkeyName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "Passkey", nil
	}
	bad := !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxPasskeyNameLength ||
		strings.IndexFunc(name, func(r rune) bool { return unicode.IsControl(r) }) >= 0
	if bad {
		return "", Invalid(FieldError{Field: "name", Message: "name must be at most 64 printable characters."})
	}
	return name, nil
}

func quoteName(name string) string { return "\u201c" + name + "\u201d" }
