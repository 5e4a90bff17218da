package gatehouse

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"time"
)

// AuthConfig holds the rules' tunable numbers.
type AuthConfig struct {
	AccessTokenTTL           time.Duration
	RefreshTokenTTL          time.Duration // idle lifetime of a refresh token
	SessionLifetime          time.Duration // absolute lifetime of a session
	RefreshReuseInterval     time.Duration // 0 disables the retry window
	RequireEmailVerification bool
	// AdminRequireMFA: an admin's session acts as an admin only when its sign-in used a second
	// factor (aal2); admin-scoped API keys can then only be created by such a session.
	AdminRequireMFA bool
	// OrgAutoJoin: a verified address at an organization's verified auto-join domain makes its
	// user a member of that organization (GATEHOUSE_ORG_AUTO_JOIN; off by default).
	OrgAutoJoin bool
	// MFARequiredRoles: users of these roles must have a second factor; until they enrol one,
	// their sessions may only enrol (Principal.MFAEnrollmentRequired).
	MFARequiredRoles []string
	// PrincipalCacheTTL bounds how long a revocation made elsewhere can go unnoticed; 0 turns
	// the cache off.
	PrincipalCacheTTL time.Duration
}

// DefaultAuthConfig is the contract's defaults.
var DefaultAuthConfig = AuthConfig{
	AccessTokenTTL:       15 * time.Minute,
	RefreshTokenTTL:      168 * time.Hour,
	SessionLifetime:      30 * 24 * time.Hour,
	RefreshReuseInterval: 10 * time.Second,
	PrincipalCacheTTL:    time.Second,
}

// AuthService holds the rules of accounts and sessions. It knows nothing of HTTP or SQL.
type AuthService struct {
	store  Store
	hasher PasswordHasher
	policy PasswordPolicy
	breach BreachChecker // nil: no check beyond the policy
	tokens AccessTokens
	cfg    AuthConfig
	cache  *principalCache
	// rotations: what each successor's next refresh needs, remembered at its rotation.
	rotations *rotationCache
	usage     *keyUsage
	email     *emailRules // nil: the email rules are off
	log       *slog.Logger
	now       func() time.Time

	observer EventObserver
	limiter  *RateLimiter
	rules    DomainRateRules
}

// AuthDeps is what an AuthService is built from. Store, Hasher, Policy and Tokens are required;
// the others may be left zero.
type AuthDeps struct {
	Store  Store
	Hasher PasswordHasher
	Policy PasswordPolicy
	// Breach refuses new passwords known from breaches and flags breached ones at login; nil: none.
	Breach BreachChecker
	Tokens AccessTokens
	Config AuthConfig
	Log    *slog.Logger     // nil: slog.Default()
	Now    func() time.Time // nil: time.Now
	// Observer is told of every security event (metrics); nil: nobody.
	Observer EventObserver
	// Limiter and Rules enforce the limits that concern an account rather than an address; a nil
	// Limiter allows everything.
	Limiter *RateLimiter
	Rules   DomainRateRules
	// Email turns on the rules that send email (verification, reset, notices); nil leaves them off
	// (the one-shot commands of the CLI), and the email endpoints answer email_unavailable.
	Email *EmailDeps
}

// EmailDeps is what the email rules need. Wake, when not nil, is called after a transaction that
// queued an email commits.
type EmailDeps struct {
	Renderer EmailRenderer
	Sealer   SecretSealer
	Wake     func()
	Config   EmailConfig
}

// NewAuthService builds the rules of accounts and sessions from their dependencies, in one step:
// nothing is set on it afterwards.
func NewAuthService(d AuthDeps) *AuthService {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	s := &AuthService{store: d.Store, hasher: d.Hasher, policy: d.Policy, breach: d.Breach, tokens: d.Tokens, cfg: d.Config,
		cache: newPrincipalCache(d.Config.PrincipalCacheTTL), rotations: newRotationCache(), usage: newKeyUsage(), log: d.Log, now: d.Now,
		observer: d.Observer, limiter: d.Limiter, rules: d.Rules}
	if e := d.Email; e != nil {
		wake := e.Wake
		if wake == nil {
			wake = func() {}
		}
		s.email = &emailRules{renderer: e.Renderer, sealer: e.Sealer, wake: wake, cfg: e.Config}
	}
	return s
}

// Client describes where a request comes from, for session listings and logs.
type Client struct {
	IP        string
	UserAgent string
	// ActorID is the admin acting through an impersonation session (empty otherwise): the audit
	// log records it beside the user of every event the request writes (Principal.UseClient).
	ActorID string
}

func (c Client) normalized() Client {
	const maxUA = 512
	return Client{IP: cleanText(c.IP, 64), UserAgent: cleanText(c.UserAgent, maxUA), ActorID: c.ActorID}
}

// TokenSet is what a successful sign-in or refresh returns.
type TokenSet struct {
	AccessToken  string
	RefreshToken string
	ExpiresIn    time.Duration
	User         *User
	SessionID    string
	// PasswordBreached is set by a password login whose password the breach check knows: the
	// login succeeds, and the user should be asked to change the password.
	PasswordBreached bool
	// MFAEnrollmentRequired: the user's role requires a second factor and the user has none; the
	// session may only enrol one.
	MFAEnrollmentRequired bool
}

// Principal is an authenticated caller: a user through a session (access token) or an API key.
type Principal struct {
	User      *User
	SessionID string // empty when authenticated by API key
	Claims    *AccessClaims
	APIKey    *APIKey  // nil for sessions
	Scopes    []string // an API key's effective scopes, or the scopes granted to an OAuth client
	// ClientID is the OAuth client whose access token authenticated the request; empty for
	// first-party sessions and API keys. Such a principal acts only within its scopes.
	ClientID string
	// Act is the actor chain of a delegated token: an agent acting for the user. Such a
	// principal, always an app's, acts only within its scopes.
	Act *Actor
	// Client is where the request comes from, as the edge that authenticated it saw it; the audit
	// log records it with every change made in the principal's name. Edges set it with UseClient.
	Client Client
	// Impersonator is the admin who opened this session as the user (impersonate.go); empty for
	// the user's own sessions. Such a principal cannot take the account from its owner
	// (ErrImpersonationForbidden) nor act as an admin.
	Impersonator string
	// AdminNeedsMFA: the user is an admin, admin actions require a second factor
	// (GATEHOUSE_ADMIN_REQUIRE_MFA) and this session's sign-in did not use one: the principal
	// acts as a user until it signs in again with one.
	AdminNeedsMFA bool
	// MFAEnrollmentRequired: the user's role requires a second factor (GATEHOUSE_MFA_REQUIRED_ROLES)
	// and the user has none: the session may only enrol one (the edges admit it to the enrolment
	// routes and pages alone, with ErrMFAEnrollmentRequired elsewhere).
	MFAEnrollmentRequired bool
}

// ErrAdminNeedsMFA refuses an admin action to an admin whose session is only aal1.
var ErrAdminNeedsMFA = &Error{Kind: KindForbidden, Code: "mfa_required_for_admin",
	Message: "Admin actions need a sign-in with a second factor (aal2): enrol an authenticator app and sign in again with it."}

// actor names who acted, for the detail of an audit event about someone else: " by <user id>",
// or "" for the command line.
func (p *Principal) actor() string {
	if p == nil || p.User == nil {
		return ""
	}
	return " by " + p.User.ID
}

// Operator is the principal of the command line: an operator at the server, acting on accounts
// through the same rules as the admin API. It has no user, session or key of its own.
var Operator = &Principal{Client: Client{UserAgent: "gatehouse command line"}}

// Allows reports whether the caller may act under scope. A session has every scope of its
// user's role; a key only those it was given and its owner still has; an OAuth client's token
// only those the user granted it, never admin.
func (p *Principal) Allows(scope string) bool {
	if p.ClientID != "" {
		return scope != ScopeAdmin && slices.Contains(p.Scopes, scope)
	}
	if p.APIKey == nil {
		return scope != ScopeAdmin || (p.User.IsAdmin() && !p.AdminNeedsMFA && p.Impersonator == "")
	}
	return slices.Contains(p.Scopes, scope)
}

// Change names a row that another process changed, for this process's caches to forget. The zero
// Change stands for a change that cannot be named: everything is forgotten.
type Change struct {
	SessionID, UserID, APIKeyID string
}

// Forget drops what the caches hold of c; instances call it on another's change signal, so that
// one user's change leaves everyone else's cached principals warm.
func (s *AuthService) Forget(c Change) {
	switch {
	case c.SessionID != "":
		s.cache.invalidateSessions(c.SessionID)
	case c.UserID != "":
		s.cache.invalidateUser(c.UserID)
	case c.APIKeyID != "":
		s.cache.invalidateKeys() // cached by hash, not by ID; revocations are rare
	default:
		s.cache.invalidateAll()
	}
}

// tx runs fn in a transaction and turns store outages into ErrStoreUnavailable.
func (s *AuthService) tx(ctx context.Context, fn func(StoreTx) error) error {
	return s.store.Tx(ctx, fn)
}

// issue signs an access token for a session of u.
func (s *AuthService) issue(ctx context.Context, u *User, sess *Session, refresh string) (*TokenSet, error) {
	now := s.now()
	sessionID := sess.ID
	orgPerms, err := sessionOrgPermissions(ctx, s.store, sess)
	if err != nil {
		return nil, err
	}
	claims := AccessClaims{
		Subject:       u.ID,
		SessionID:     sessionID,
		AMR:           sess.AMR,
		AAL:           AAL(sess.AMR),
		AuthTime:      sessionAuthTime(sess),
		Email:         u.Email,
		EmailVerified: u.EmailVerified,
		Role:          u.Role,
		IssuedAt:      now,
		ExpiresAt:     now.Add(s.cfg.AccessTokenTTL),

		OrgID:          sess.OrgID,
		OrgRole:        sess.OrgRole,
		OrgPermissions: orgPerms,
	}
	if sess.Impersonation() {
		// An impersonation's token names its admin and never outlives its session.
		claims.Act = sess.Act
		if claims.ExpiresAt.After(sess.ExpiresAt) {
			claims.ExpiresAt = sess.ExpiresAt
		}
	}
	access, err := s.tokens.Sign(ctx, claims)
	if err != nil {
		return nil, err
	}
	if refresh != "" {
		// A session's first refresh token (a sign-in), or one a refresh already remembered.
		s.rotations.seed(s.newRefreshToken(refresh, sess, now), sess, u, now)
	}
	return &TokenSet{AccessToken: access, RefreshToken: refresh, ExpiresIn: claims.ExpiresAt.Sub(now), User: u, SessionID: sessionID,
		MFAEnrollmentRequired: s.mfaEnrollmentRequired(u)}, nil
}

// startSession creates a session and its first refresh token inside tx; amr is how the user
// authenticated.
func (s *AuthService) startSession(ctx context.Context, tx StoreTx, u *User, client Client, now time.Time, amr []string) (*Session, string, error) {
	client = client.normalized()
	sess := &Session{
		ID:         NewID(),
		UserID:     u.ID,
		CreatedAt:  now,
		LastUsedAt: now,
		ExpiresAt:  now.Add(s.cfg.SessionLifetime),
		UserAgent:  client.UserAgent,
		IP:         client.IP,
		AMR:        amr,
	}
	if err := tx.CreateSession(ctx, sess); err != nil {
		return nil, "", err
	}
	refresh := RandomToken(refreshTokenBytes)
	if err := tx.CreateRefreshToken(ctx, s.newRefreshToken(refresh, sess, now)); err != nil {
		return nil, "", err
	}
	return sess, refresh, nil
}

// newRefreshToken is the row of refresh, a token of sess issued at now: it lives
// RefreshTokenTTL, never beyond its session.
func (s *AuthService) newRefreshToken(refresh string, sess *Session, now time.Time) *RefreshToken {
	return &RefreshToken{Hash: HashToken(refresh), SessionID: sess.ID, CreatedAt: now,
		ExpiresAt: minTime(now.Add(s.cfg.RefreshTokenTTL), sess.ExpiresAt)}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
