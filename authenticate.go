package gatehouse

import (
	"context"
	"errors"
	"strings"
)

// Authenticate checks an access token and that its session and user are still in good standing.
// The session check is served from memory; revocations through this process take effect at once.
func (s *AuthService) Authenticate(ctx context.Context, accessToken string) (*Principal, error) {
	claims, err := s.tokens.Verify(ctx, accessToken)
	if err != nil {
		return nil, ErrUnauthenticated
	}
	sess, u, err := s.loadSession(ctx, claims.SessionID, claims.Subject)
	if err != nil {
		return nil, err
	}
	if !tokenAgreesWithSession(claims, sess) {
		return nil, ErrUnauthenticated
	}
	p := &Principal{User: u, SessionID: sess.ID, Claims: claims, ClientID: claims.ClientID, Act: claims.Act}
	if sess.Impersonation() {
		// An admin acting as the user (loadSession checked that they still stand).
		p.Impersonator = sess.Act.Subject
	}
	// The session, not the token, says how the user signed in (they agree: the token was signed
	// from it).
	p.AdminNeedsMFA = s.cfg.AdminRequireMFA && u.IsAdmin() && AAL(sess.AMR) != AAL2
	p.MFAEnrollmentRequired = s.mfaEnrollmentRequired(u)
	if claims.ClientID != "" {
		p.Scopes = strings.Fields(claims.Scope)
	}
	return p, nil
}

// tokenAgreesWithSession reports whether an access token still matches its session, for every
// reader of tokens (the API, introspection, token exchange). A token names the client its session
// was issued to; one that disagrees was not issued by these rules. A token carries its session's
// organization and role as they were when it was signed; a removal from the organization, or a
// role change, rewrites the session, and the token no longer agrees with it (membership.go).
func tokenAgreesWithSession(claims *AccessClaims, sess *Session) bool {
	return sess.ClientID == claims.ClientID && sess.OrgID == claims.OrgID && sess.OrgRole == claims.OrgRole
}

// loadSession returns a usable session of userID and its user, from the cache when it can. A
// session a token exchange issued is usable only while the sessions it was exchanged from are; an
// impersonation session only while its admin is an active admin and its user is not an admin
// (for every reader: the API, introspection, token exchange).
func (s *AuthService) loadSession(ctx context.Context, sessionID, userID string) (*Session, *User, error) {
	sess, u, err := s.loadOneSession(ctx, sessionID, userID)
	if err != nil {
		return nil, nil, err
	}
	if sess.Impersonation() {
		if u.IsAdmin() {
			// Admins cannot be impersonated: a promotion during the impersonation ends it.
			return nil, nil, ErrUnauthenticated
		}
		if err := s.impersonatorStands(ctx, sess, s.now()); err != nil {
			return nil, nil, err
		}
	}
	if sess.ParentID != "" {
		if err := s.parentsStand(ctx, sess, userID); err != nil {
			return nil, nil, err
		}
	}
	return sess, u, nil
}

// loadOneSession is loadSession without the parents.
func (s *AuthService) loadOneSession(ctx context.Context, sessionID, userID string) (*Session, *User, error) {
	now := s.now()
	if sess, ok := s.cache.session(sessionID, now); ok {
		if u, ok := s.cache.user(userID, now); ok {
			if !sessionUsable(&sess, &u, now) {
				return nil, nil, ErrUnauthenticated
			}
			return &sess, &u, nil
		}
	}
	generation := s.cache.currentGeneration()
	sess, err := s.store.SessionByID(ctx, sessionID)
	if err != nil {
		return nil, nil, notFoundAsUnauthenticated(err)
	}
	u, err := s.store.UserByID(ctx, userID)
	if err != nil {
		return nil, nil, notFoundAsUnauthenticated(err)
	}
	s.cache.store(generation, sess, u, now)
	if !sessionUsable(sess, u, now) {
		return nil, nil, ErrUnauthenticated
	}
	return sess, u, nil
}

func notFoundAsUnauthenticated(err error) error {
	if errors.Is(err, ErrNotFound) {
		return ErrUnauthenticated
	}
	return err
}

// lockCaller locks the caller's account row until tx ends and checks, under that lock, that the
// credential the request was authenticated with still stands: the account is active, and its
// session (or API key) is neither revoked nor expired. The middleware authenticated the request
// before the handler's transaction began; a takeover, a disable or a revocation that committed in
// between must not be followed by a write made in the caller's name (a password, a key, a profile).
// Every change that takes the account from its current holders (takeover, disable, reset) locks
// the same row first, so one of the two waits for the other. A principal with neither a session nor
// a key is the operator's command line, which answers to nobody.
func (s *AuthService) lockCaller(ctx context.Context, tx StoreTx, p *Principal) (*User, error) {
	u, err := tx.LockUser(ctx, p.User.ID)
	if err != nil {
		return nil, notFoundAsUnauthenticated(err)
	}
	if !u.IsActive {
		return nil, ErrUnauthenticated
	}
	now := s.now()
	switch {
	case p.APIKey != nil:
		k, err := tx.APIKeyByID(ctx, p.APIKey.ID)
		if err != nil {
			return nil, notFoundAsUnauthenticated(err)
		}
		if !k.Usable(now) || k.UserID != u.ID {
			return nil, ErrUnauthenticated
		}
	case p.SessionID != "":
		sess, err := tx.SessionByID(ctx, p.SessionID)
		if err != nil {
			return nil, notFoundAsUnauthenticated(err)
		}
		if !sessionUsable(sess, u, now) {
			return nil, ErrUnauthenticated
		}
		// A token exchanged from another stands only while the sessions it came from do.
		if sess.ParentID != "" {
			if _, err := chainStands(ctx, tx, sess, u, now); err == errBadSubject {
				return nil, ErrUnauthenticated
			} else if err != nil {
				return nil, err
			}
		}
	}
	return u, nil
}
