package gatehouse

import (
	"context"
	"errors"
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
	return &Principal{User: u, SessionID: sess.ID, Claims: claims}, nil
}

// loadSession returns a usable session of userID and its user, from the cache when it can.
func (s *AuthService) loadSession(ctx context.Context, sessionID, userID string) (*Session, *User, error) {
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
