package gatehouse

import (
	"context"
	"time"
)

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
	// OAuth: a session issued to an OAuth client through the authorization server (see
	// authserver.go) names the client, the user's grant, the resource its tokens are for and the
	// granted scope; a first-party session (login, provider sign-in, dashboard) leaves them empty.
	ClientID string
	GrantID  string
	Resource string
	Scope    string
	AuthTime time.Time // when the user authenticated for the grant; zero for first-party sessions
	// UserInfo: the grant's access tokens may read /oauth2/userinfo (an openid flow that named no
	// resource, or named Gatehouse's own API). A token for another resource stays with it.
	UserInfo bool
	// Token exchange (authserver_exchange.go): a session an exchange issued names the session of
	// its subject token (ParentID: it stands only while that one does) or the API key it was
	// exchanged from (SubjectKeyID: revoking the key revokes it), and the actor chain of a
	// delegation (Act).
	ParentID     string
	SubjectKeyID string
	Act          *Actor
	// AMR is how the user authenticated for a first-party session (RFC 8176 values: "pwd",
	// "otp", "mfa"); its access tokens carry it, and the assurance level it gives, across refreshes.
	AMR []string
	// OrgID is the session's active organization (organizations: membership.go) and OrgRole the
	// user's role in it; its access tokens carry both, and stop working when they change.
	OrgID   string
	OrgRole string
}

// FirstParty reports whether the session belongs to Gatehouse's own sign-in rather than to an
// OAuth client.
func (s *Session) FirstParty() bool { return s.ClientID == "" }

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
	// Audience is the token's single "aud": empty when signing means the first-party audience
	// (the public URL); an OAuth token names one resource.
	Audience string
	ClientID string // the OAuth client the token was issued to; empty for first-party tokens
	Scope    string // space-separated scopes granted to the OAuth client
	// Act is the actor of a delegated token (RFC 8693 §4.1): the agent acting for the subject,
	// with its own actor nested for a chain. Nil for a token nobody acts through.
	Act *Actor
	// AMR and AAL say how the user authenticated (RFC 8176 method references; aal1 or aal2).
	// First-party tokens always carry an AAL; OAuth clients' tokens carry neither.
	AMR []string
	AAL string
	// AuthTime is when the user authenticated (the sign-in that started the session); zero when
	// unknown.
	AuthTime time.Time
	// OrgID, OrgRole and OrgPermissions are the session's active organization, the user's role
	// in it and what the role permits; empty without one.
	OrgID          string
	OrgRole        string
	OrgPermissions []string
}

// IDClaims are the claims of an OpenID Connect ID token.
type IDClaims struct {
	Subject       string
	Audience      string // the client_id
	Nonce         string
	AuthTime      time.Time
	AMR           []string // how the user authenticated (RFC 8176), and ACR the level it gives
	ACR           string
	SessionID     string
	AccessToken   string // the access token issued with it, for at_hash
	Email         string // with the email scope
	EmailVerified bool
	Name          string // with the profile scope
	Picture       string
	WithEmail     bool
	WithProfile   bool
}

// SigningKey is a key pair that signs access tokens. Private is PKCS#8 DER.
type SigningKey struct {
	ID        string // kid
	Algorithm string // ES256, RS256 or EdDSA
	Private   []byte
	CreatedAt time.Time
}

// Logout revokes the caller's session, or every session of the user when all is true.
func (s *AuthService) Logout(ctx context.Context, p *Principal, all bool) error {
	if p.SessionID == "" && !all {
		return Errorf(KindBadRequest, "no_session", "This credential has no session to log out of.")
	}
	if all {
		if err := s.forbidImpersonated(ctx, p, "signing out every session"); err != nil {
			return err
		}
	}
	var revoked []string
	err := s.tx(ctx, func(tx StoreTx) error {
		now := s.now()
		if all {
			var err error
			if revoked, err = tx.RevokeUserSessions(ctx, p.User.ID, "", now); err != nil {
				return err
			}
			return s.auditTx(ctx, tx, p.Client, EventLoggedOut, p.User.ID, OutcomeSuccess, "all sessions")
		}
		revoked = []string{p.SessionID}
		if err := tx.RevokeSession(ctx, p.SessionID, now); err != nil {
			return err
		}
		return s.auditTx(ctx, tx, p.Client, EventLoggedOut, p.User.ID, OutcomeSuccess, "")
	})
	if err != nil {
		return err
	}
	s.cache.invalidateSessions(revoked...)
	return nil
}

// SessionView is a session as its owner sees it.
type SessionView struct {
	Session
	Current bool
}

// ListSessions returns the caller's active sessions.
func (s *AuthService) ListSessions(ctx context.Context, p *Principal) ([]SessionView, error) {
	list, err := s.store.ListActiveSessions(ctx, p.User.ID, s.now())
	if err != nil {
		return nil, err
	}
	out := make([]SessionView, 0, len(list))
	for _, sess := range list {
		out = append(out, SessionView{Session: *sess, Current: sess.ID == p.SessionID})
	}
	return out, nil
}

// RevokeSession revokes one of the caller's sessions. Another user's session is reported as not found.
func (s *AuthService) RevokeSession(ctx context.Context, p *Principal, sessionID string) error {
	if sessionID != p.SessionID {
		if err := s.forbidImpersonated(ctx, p, "revoking another session"); err != nil {
			return err
		}
	}
	err := s.tx(ctx, func(tx StoreTx) error {
		sess, err := tx.LockSession(ctx, sessionID)
		if err != nil {
			return err
		}
		if sess.UserID != p.User.ID || sess.RevokedAt != nil {
			return ErrNotFound
		}
		if err := tx.RevokeSession(ctx, sessionID, s.now()); err != nil {
			return err
		}
		return s.auditTx(ctx, tx, p.Client, EventSessionRevoked, p.User.ID, OutcomeSuccess, "session "+sessionID)
	})
	if err != nil {
		return err
	}
	s.cache.invalidateSessions(sessionID)
	return nil
}

// ListSessionsOf returns a user's active sessions, newest first (operators, the CLI).
func (s *AuthService) ListSessionsOf(ctx context.Context, userID string) ([]*Session, error) {
	return s.store.ListActiveSessions(ctx, userID, s.now())
}

// RevokeSessionsOf revokes, for an operator, every active session of a user, or only sessionID
// when it is not empty, and returns the IDs revoked. A sessionID that is not an active session of
// the user is ErrNotFound.
func (s *AuthService) RevokeSessionsOf(ctx context.Context, userID, sessionID string) ([]string, error) {
	var revoked []string
	err := s.tx(ctx, func(tx StoreTx) error {
		now := s.now()
		if sessionID == "" {
			var err error
			if revoked, err = tx.RevokeUserSessions(ctx, userID, "", now); err != nil {
				return err
			}
			return s.auditTx(ctx, tx, Operator.Client, EventSessionRevoked, userID, OutcomeSuccess, "all sessions ("+CountNoun(len(revoked), "session")+") by an operator")
		}
		sess, err := tx.LockSession(ctx, sessionID)
		if err != nil {
			return err
		}
		if sess.UserID != userID || !sess.Active(now) {
			return ErrNotFound
		}
		if err := tx.RevokeSession(ctx, sessionID, now); err != nil {
			return err
		}
		revoked = []string{sessionID}
		return s.auditTx(ctx, tx, Operator.Client, EventSessionRevoked, userID, OutcomeSuccess, "session "+sessionID+" by an operator")
	})
	if err != nil {
		return nil, err
	}
	s.cache.invalidateSessions(revoked...)
	return revoked, nil
}
