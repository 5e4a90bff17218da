package gatehouse

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"time"
)

// maxRefreshTokenLength bounds what is hashed; real tokens are 43 characters.
const maxRefreshTokenLength = 256

// errRefreshRaced answers a refresh that lost a race with a change to its user (a role, an
// email): nothing was spent, and the same token works again.
var errRefreshRaced = &Error{Kind: KindUnavailable, Code: "refresh_conflict",
	Message: "The account changed during the refresh; retry.", RetryAfter: time.Second}

// Refresh spends a refresh token and returns a new one in the same session.
//
// The common case, a token neither spent nor expired in an active session, is one read and one
// write that checks all of that again as it spends the token, so no lock is held across round
// trips. Anything else — a spent token, or one that changed between the read and the write — is
// decided by refreshLocked under the session's lock.
func (s *AuthService) Refresh(ctx context.Context, token string, client Client) (*TokenSet, error) {
	spent, err := s.rotate(ctx, token, client, firstPartyOnly)
	if err != nil {
		return nil, err
	}
	return s.issue(ctx, spent.user, spent.session, spent.successor)
}

// firstPartyOnly refuses the refresh tokens of OAuth clients: they are spent at /oauth2/token.
func firstPartyOnly(sess *Session) (time.Duration, bool) { return -1, sess.FirstParty() }

// refreshCheck decides, before anything is spent, whether a refresh token of sess may be spent
// here, and with which retry window (negative: the server's). It may run twice for one refresh
// (on a cached snapshot, then on a fresh read): what it records for its caller is its last run's.
type refreshCheck func(sess *Session) (reuse time.Duration, ok bool)

// rotated is a spent refresh token's successor, with the session and user it belongs to.
type rotated struct {
	user      *User
	session   *Session
	successor string
}

// rotate spends a refresh token that check accepts and returns its successor; the callers issue
// the access token (first-party, or an OAuth client's).
//
// A token this process handed out as a successor is usually decided from what the rotation that
// made it remembered (rotationCache), with no read: the guarded write checks that snapshot
// against the database, and one that no longer holds is decided again from a fresh read, check
// included, as a token never cached is.
func (s *AuthService) rotate(ctx context.Context, token string, client Client, check refreshCheck) (*rotated, error) {
	if token == "" || len(token) > maxRefreshTokenLength {
		return nil, ErrInvalidRefreshToken
	}
	hash := HashToken(token)
	if rt, sess, user, ok := s.rotations.get(hash, s.now()); ok {
		if _, ok := check(sess); ok {
			if spent, done, err := s.rotateAsRead(ctx, token, hash, rt, sess, user, client); done || err != nil {
				return spent, err
			}
		}
		s.rotations.forget(hash)
	}
	rt, sess, user, err := s.store.RefreshTokenSession(ctx, hash)
	if isNotFound(err) {
		return nil, ErrInvalidRefreshToken
	} else if err != nil {
		return nil, err
	}
	reuse, ok := check(sess)
	if !ok {
		return nil, ErrInvalidRefreshToken
	}
	if reuse < 0 {
		reuse = s.cfg.RefreshReuseInterval
	}
	if spent, done, err := s.rotateAsRead(ctx, token, hash, rt, sess, user, client); done || err != nil {
		return spent, err
	}
	return s.refreshLocked(ctx, token, hash, client, reuse)
}

// rotateAsRead spends token as rt, sess and user describe it (a session the caller's check
// accepted), if the token is unspent, unexpired and usable, with one guarded write. done is false
// when it decided nothing: the description does not allow the spend, or no longer held at the
// write.
func (s *AuthService) rotateAsRead(ctx context.Context, token string, hash []byte, rt *RefreshToken, sess *Session, user *User, client Client) (spent *rotated, done bool, err error) {
	now := s.now()
	if rt.SpentAt != nil || !now.Before(rt.ExpiresAt) || !sessionUsable(sess, user, now) {
		return nil, false, nil
	}
	r, successor := s.rotation(ctx, token, hash, sess, user, client, now)
	if err := s.store.CommitRotation(ctx, r); isNotFound(err) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, err
	}
	s.observe(EventRefreshed, OutcomeSuccess)
	next := *sess
	if u := r.Use; u != nil {
		next.LastUsedAt, next.IP, next.UserAgent = u.At, u.IP, u.UserAgent
	}
	s.rotations.put(hash, r.Successor, &next, user, now)
	return &rotated{user: user, session: sess, successor: successor}, true, nil
}

// refreshLocked decides a refresh with the token's session locked for the whole exchange, so
// concurrent refreshes of one token are serialised and can never fork the session. A token
// presented again within the reuse interval gets the successor it got the first time (clients
// that retry, parallel tabs) as long as that successor is unspent; later, or once the successor has
// been spent, the reuse is treated as theft and the whole session is revoked.
func (s *AuthService) refreshLocked(ctx context.Context, token string, hash []byte, client Client, reuseInterval time.Duration) (*rotated, error) {
	var (
		user      *User
		session   *Session
		sessionID string
		successor string
		reused    bool
	)
	err := s.tx(ctx, func(tx StoreTx) error {
		rt, sess, u, err := tx.LockRefreshToken(ctx, hash)
		if isNotFound(err) {
			return ErrInvalidRefreshToken
		} else if err != nil {
			return err
		}
		user = u
		now := s.now()
		if !sessionUsable(sess, user, now) {
			return ErrInvalidRefreshToken
		}
		sessionID, session = sess.ID, sess
		if rt.SpentAt != nil {
			if reuseInterval > 0 && now.Sub(*rt.SpentAt) <= reuseInterval {
				successor = deriveSuccessor(token, rt.SuccessorSalt)
				next, err := tx.RefreshTokenByHash(ctx, HashToken(successor))
				if err != nil && !isNotFound(err) {
					return err
				}
				if err != nil || subtle.ConstantTimeCompare(next.Hash, HashToken(successor)) != 1 {
					return ErrInvalidRefreshToken
				}
				// A retry is answered only while the successor is unspent: once it has been used,
				// whoever presents its predecessor is not the client that used it, and keeping
				// pace with the owner is exactly what a thief wants. That is reuse.
				if next.SpentAt == nil {
					return nil
				}
			}
			reused = true
			if err := tx.RevokeSession(ctx, sess.ID, now); err != nil {
				return err
			}
			return s.auditTx(ctx, tx, client, EventRefreshReuse, user.ID, OutcomeFailure, reuseDetail(sess))
		}
		if !now.Before(rt.ExpiresAt) {
			return ErrInvalidRefreshToken
		}
		var r Rotation
		r, successor = s.rotation(ctx, token, hash, sess, user, client, now)
		if err := tx.RotateRefreshToken(ctx, r); isNotFound(err) {
			// Token and session are locked: the user changed since it was read.
			return errRefreshRaced
		} else if err != nil {
			return err
		}
		s.observe(EventRefreshed, OutcomeSuccess)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if reused {
		s.cache.invalidateSessions(sessionID)
		s.log.WarnContext(ctx, "refresh token reuse detected; session revoked", "session_id", sessionID, "user_id", user.ID)
		return nil, ErrInvalidRefreshToken
	}
	return &rotated{user: user, session: session, successor: successor}, nil
}

// reuseDetail is the audit detail of a detected refresh-token reuse.
func reuseDetail(sess *Session) string {
	if sess.ClientID != "" {
		return "session " + sess.ID + " of client " + sess.ClientID + " revoked"
	}
	return "session " + sess.ID + " revoked"
}

// rotation is what spending token (whose hash is hash) at now writes, and the successor token it
// hands out.
func (s *AuthService) rotation(ctx context.Context, token string, hash []byte, sess *Session, u *User, client Client, now time.Time) (Rotation, string) {
	salt := RandomBytes(32)
	successor := deriveSuccessor(token, salt)
	client = client.normalized()
	r := Rotation{
		UserUpdatedAt:  u.UpdatedAt,
		UserMFAEnabled: u.MFAEnabled,
		OrgID:          sess.OrgID,
		OrgRole:        sess.OrgRole,
		SpentHash:      hash,
		SpentAt:        now,
		SuccessorSalt:  salt,
		Successor:      s.newRefreshToken(successor, sess, now),
		Event:          s.newAuditEvent(client, EventRefreshed, u.ID, OutcomeSuccess, ""),
	}
	// Last use is shown to the user to the minute; writing it on every refresh would only
	// cost throughput.
	if now.Sub(sess.LastUsedAt) >= time.Minute || client.IP != sess.IP || client.UserAgent != sess.UserAgent {
		r.Use = &SessionUse{At: now, IP: client.IP, UserAgent: client.UserAgent}
	}
	return r, successor
}

// sessionUsable is the check every access token passes on every request.
func sessionUsable(sess *Session, u *User, now time.Time) bool {
	return sess.Active(now) && u.IsActive && sess.UserID == u.ID
}

// deriveSuccessor computes the refresh token that replaces token, from a random salt stored with
// the spent token. Only the holder of the plain token can recompute it, so the server can hand the
// same successor to a retrying client while storing nothing but hashes.
func deriveSuccessor(token string, salt []byte) string {
	mac := hmac.New(sha256.New, []byte(token))
	mac.Write([]byte("gatehouse refresh successor v1"))
	mac.Write(salt)
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}
