package gatehouse

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"
)

// Impersonation: an admin starts a session as a user, for support ("the user says the page
// looks wrong"), with a reason that the audit log keeps.
//
// An impersonation session is an ordinary first-party session of the user whose actor (Act, the
// "act" claim of RFC 8693 §4.1 that token exchange also uses) is the admin: its access tokens say
// sub = the user and act = {sub: admin id}. It has no refresh token and lives as long as its one
// access token: GATEHOUSE_ACCESS_TOKEN_TTL, at most MaxImpersonationTTL. Logging out ends it, like
// any session, and so does anything that ends the user's sessions (disable, reset, revoke); it
// also stops working as soon as the admin is no longer an active admin.
//
// Inside it the principal knows it is impersonated (Principal.Impersonator), every audit event
// names the admin beside the user (AuditEvent.ActorID, carried by Principal.Client), and what
// would take the account from its owner is refused with ErrImpersonationForbidden: password,
// second factors, API keys, linked sign-ins, consent to apps and their grants, other sessions,
// admin actions. A rule that changes who can sign in as the user calls AuthService.forbidImpersonated
// first (passkeys, organization keys and ownership, an email change, account deletion).

// MaxImpersonationTTL is the longest an impersonation session lives.
const MaxImpersonationTTL = time.Hour

// MaxImpersonationReason bounds the reason an admin gives, in characters.
const MaxImpersonationReason = 500

// Security events of impersonation.
const (
	EventImpersonationStarted = "impersonation.started"
	EventImpersonationRefused = "impersonation.refused"
)

// ErrImpersonationForbidden refuses, inside an impersonation session, what only the account's
// owner may do.
var ErrImpersonationForbidden = &Error{Kind: KindForbidden, Code: "impersonation_forbidden",
	Message: "This is an impersonation session: it cannot change the user's password, second factors, API keys, sign-in methods, app grants or other sessions, nor act as an admin."}

// ErrCannotImpersonate refuses to impersonate an admin (yourself included) or a disabled account.
var ErrCannotImpersonate = &Error{Kind: KindForbidden, Code: "impersonation_not_allowed",
	Message: "Admins and disabled accounts cannot be impersonated."}

// Impersonation is the service that starts impersonation sessions. It uses AuthService's core
// (transactions, audit, the principal cache, token signing).
type Impersonation struct {
	auth *AuthService
}

// NewImpersonation builds the impersonation rules on auth's core.
func NewImpersonation(auth *AuthService) *Impersonation { return &Impersonation{auth: auth} }

// ImpersonationToken is what starting an impersonation returns: one access token, no refresh token.
type ImpersonationToken struct {
	AccessToken string
	ExpiresIn   time.Duration
	SessionID   string
	User        *User
}

// TTL is how long an impersonation session and its access token live.
func (im *Impersonation) TTL() time.Duration {
	return min(MaxImpersonationTTL, im.auth.cfg.AccessTokenTTL)
}

// Start opens an impersonation session as userID for the admin by, who gives a reason. by must be
// an admin's own first-party session (not an API key, an app's token or another impersonation),
// with a second factor when admins need one. Admins and disabled accounts cannot be impersonated.
func (im *Impersonation) Start(ctx context.Context, by *Principal, userID, reason string) (*ImpersonationToken, error) {
	if by == nil || by.User == nil || by.APIKey != nil || by.SessionID == "" || by.ClientID != "" || by.Act != nil {
		return nil, Errorf(KindForbidden, "session_required", "Impersonation needs an admin signed in with a session; an API key or an app's token cannot start one.")
	}
	if by.AdminNeedsMFA {
		return nil, ErrAdminNeedsMFA
	}
	if !by.Allows(ScopeAdmin) {
		return nil, ErrForbidden
	}
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "":
		return nil, Errorf(KindBadRequest, "reason_required", "Say why you impersonate this user: the reason is kept in the audit log.")
	case !utf8.ValidString(reason) || utf8.RuneCountInString(reason) > MaxImpersonationReason:
		return nil, Invalid(FieldError{Field: "reason", Message: "The reason must be at most 500 characters."})
	case hasInvisible(reason):
		return nil, Invalid(FieldError{Field: "reason", Message: "The reason must not contain control, format or other invisible characters."})
	}
	s := im.auth
	ttl := im.TTL()
	var (
		sess *Session
		u    *User
	)
	err := s.tx(ctx, func(tx StoreTx) error {
		// The admin's own standing is checked under lock first: a demotion or disable that
		// committed since the request was authenticated wins.
		admin, err := s.lockCaller(ctx, tx, by)
		if err != nil {
			return err
		}
		if !admin.IsAdmin() {
			return ErrForbidden
		}
		if u, err = tx.LockUser(ctx, userID); err != nil {
			return err
		}
		if u.IsAdmin() || !u.IsActive || u.ID == admin.ID {
			return ErrCannotImpersonate
		}
		now := s.now()
		client := by.Client.normalized()
		sess = &Session{ID: NewID(), UserID: u.ID, CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(ttl),
			UserAgent: client.UserAgent, IP: client.IP, Act: &Actor{Subject: admin.ID}}
		if err := tx.CreateSession(ctx, sess); err != nil {
			return err
		}
		// The event is the user's (it shows in their log too) and names the admin as its actor.
		c := by.Client
		c.ActorID = admin.ID
		return s.auditTx(ctx, tx, c, EventImpersonationStarted, u.ID, OutcomeSuccess,
			"by admin "+admin.ID+" ("+admin.Email+"); session "+sess.ID+"; reason: "+reason)
	})
	if err != nil {
		return nil, err
	}
	// The one access token lives exactly as long as its session.
	access, err := s.tokens.Sign(ctx, AccessClaims{Subject: u.ID, SessionID: sess.ID, Email: u.Email, EmailVerified: u.EmailVerified,
		Role: u.Role, AMR: sess.AMR, AAL: AAL(sess.AMR), AuthTime: sess.CreatedAt, IssuedAt: sess.CreatedAt, ExpiresAt: sess.ExpiresAt, Act: sess.Act})
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "impersonation started", "admin_id", by.User.ID, "user_id", u.ID, "session_id", sess.ID)
	return &ImpersonationToken{AccessToken: access, ExpiresIn: ttl, SessionID: sess.ID, User: u}, nil
}

// Impersonation reports whether the session is an impersonation session: a first-party session
// with an actor.
func (s *Session) Impersonation() bool { return s.ClientID == "" && s.Act != nil }

// impersonatorStands checks that the admin of an impersonation session is still an active admin:
// a demotion or a disable ends the sessions they opened as others.
func (s *AuthService) impersonatorStands(ctx context.Context, sess *Session, now time.Time) error {
	id := sess.Act.Subject
	var admin *User
	if u, ok := s.cache.user(id, now); ok {
		admin = &u
	} else {
		u, err := s.store.UserByID(ctx, id)
		if err != nil {
			return notFoundAsUnauthenticated(err)
		}
		admin = u
	}
	if !admin.IsActive || !admin.IsAdmin() {
		return ErrUnauthenticated
	}
	return nil
}

// forbidImpersonated refuses, and audits, an action that an impersonation session may not take.
// action names it for the audit log ("password change").
func (s *AuthService) forbidImpersonated(ctx context.Context, p *Principal, action string) error {
	if p == nil || p.Impersonator == "" {
		return nil
	}
	s.audit(ctx, p.Client, EventImpersonationRefused, p.User.ID, OutcomeFailure, action+" refused in an impersonation session by admin "+p.Impersonator)
	return ErrImpersonationForbidden
}

// UseClient records where the principal's request comes from, for the audit log; inside an
// impersonation session the admin goes with it, so that every event names both identities. The
// edges call it once they have authenticated a request.
func (p *Principal) UseClient(c Client) {
	c.ActorID = p.Impersonator
	p.Client = c
}
