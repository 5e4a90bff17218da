// Package storetest is the conformance suite every gatehouse.Store must pass.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// Opener returns a fresh, empty, migrated store for one test.
type Opener func(t *testing.T) gatehouse.Store

// Run runs the whole suite against stores from open.
func Run(t *testing.T, open Opener) {
	tests := map[string]func(*testing.T, gatehouse.Store){
		"UserRoundTrip":                testUserRoundTrip,
		"DuplicateEmail":               testDuplicateEmail,
		"MissingRows":                  testMissingRows,
		"ListUsersPages":               testListUsersPages,
		"SessionsAndRevocation":        testSessions,
		"RefreshTokenRotatesOnce":      testRefreshTokenRotatesOnce,
		"RefreshTokenRotationRechecks": testRefreshTokenRotationRechecks,
		"SigningKeys":                  testSigningKeys,
		"FailedTxWritesNothing":        testFailedTxWritesNothing,
		"LockSessionSerialises":        testLockSessionSerialises,
		"ConcurrentDistinctWrites":     testConcurrentDistinctWrites,
		"APIKeys":                      testAPIKeys,
		"Credits":                      testCredits,
		"Identities":                   testIdentities,
		"OAuthStates":                  testOAuthStates,
		"EmailTokens":                  testEmailTokens,
		"MFAFactors":                   testMFAFactors,
		"MFAChallenges":                testMFAChallenges,
		"TOTPStepOnce":                 testTOTPStepOnce,
		"SessionAMR":                   testSessionAMR,
		"Passkeys":                     testPasskeys,
		"PasskeyCounterOnce":           testPasskeyCounterOnce,
		"PasskeyCeremonies":            testPasskeyCeremonies,
		"EmailTokenUsedOnce":           testEmailTokenUsedOnce,
		"EmailSignIns":                 testEmailSignIns,
		"EmailSignInsConcurrent":       testEmailSignInsConcurrent,
		"Outbox":                       testOutbox,
		"OutboxConcurrentClaims":       testOutboxConcurrentClaims,
		"RateEvents":                   testRateEvents,
		"RateEventsConcurrent":         testRateEventsConcurrent,
		"AuditLog":                     testAuditLog,
		"OAuthClientsAndResources":     testOAuthClientsAndResources,
		"OAuthGrantsAndCodes":          testOAuthGrantsAndCodes,
		"DeviceCodes":                  testDeviceCodes,
		"Exchange":                     testExchange,
		"MachineClient":                testMachineClient,
		"MachineSessions":              testMachineSessions,
		"AssertionIDs":                 testAssertionIDs,
		"Impersonations":               testImpersonations,
		"Orgs":                         testOrgs,
		"OrgInvitations":               testOrgInvitations,
		"OrgCreditsAndDeletion":        testOrgCreditsAndDeletion,
	}
	for name, fn := range tests {
		t.Run(name, func(t *testing.T) { fn(t, open(t)) })
	}
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)

func newUser(email string) *gatehouse.User {
	avatar := "https://example.com/a.png"
	return &gatehouse.User{ID: gatehouse.NewID(), Email: email, Name: "Alice", PasswordHash: "$argon2id$x",
		Role: gatehouse.RoleUser, IsActive: true, AvatarURL: &avatar, CreatedAt: t0, UpdatedAt: t0}
}

func mustTx(t *testing.T, s gatehouse.Store, fn func(gatehouse.StoreTx) error) {
	t.Helper()
	if err := s.Tx(context.Background(), fn); err != nil {
		t.Fatalf("tx: %v", err)
	}
}

func createUser(t *testing.T, s gatehouse.Store, email string) *gatehouse.User {
	t.Helper()
	u := newUser(email)
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.CreateUser(context.Background(), u) })
	return u
}

func createSession(t *testing.T, s gatehouse.Store, u *gatehouse.User, at time.Time) *gatehouse.Session {
	t.Helper()
	sess := &gatehouse.Session{ID: gatehouse.NewID(), UserID: u.ID, CreatedAt: at, LastUsedAt: at,
		ExpiresAt: at.Add(time.Hour), UserAgent: "test", IP: "127.0.0.1"}
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.CreateSession(context.Background(), sess) })
	return sess
}

func testUserRoundTrip(t *testing.T, s gatehouse.Store) {
	ctx := context.Background()
	u := createUser(t, s, "alice@example.com")
	got, err := s.UserByEmail(ctx, "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != u.ID || got.Name != "Alice" || !got.IsActive || got.EmailVerified || got.Role != "user" ||
		got.AvatarURL == nil || *got.AvatarURL != *u.AvatarURL || !got.CreatedAt.Equal(t0) {
		t.Fatalf("round trip: got %+v want %+v", got, u)
	}
	got.Name, got.EmailVerified, got.Role, got.IsActive, got.AvatarURL = "Bob", true, "admin", false, nil
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.UpdateUser(ctx, got) })
	again, err := s.UserByID(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if again.Name != "Bob" || !again.EmailVerified || again.Role != "admin" || again.IsActive || again.AvatarURL != nil {
		t.Fatalf("update lost: %+v", again)
	}
}

func testDuplicateEmail(t *testing.T, s gatehouse.Store) {
	createUser(t, s, "dup@example.com")
	err := s.Tx(context.Background(), func(tx gatehouse.StoreTx) error {
		return tx.CreateUser(context.Background(), newUser("dup@example.com"))
	})
	if !errors.Is(err, gatehouse.ErrEmailTaken) {
		t.Fatalf("duplicate email: got %v, want ErrEmailTaken", err)
	}
}

func testMissingRows(t *testing.T, s gatehouse.Store) {
	ctx := context.Background()
	if _, err := s.UserByID(ctx, "nope"); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Errorf("UserByID: %v", err)
	}
	if _, err := s.UserByEmail(ctx, "nope@example.com"); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Errorf("UserByEmail: %v", err)
	}
	if _, err := s.SessionByID(ctx, "nope"); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Errorf("SessionByID: %v", err)
	}
	if _, err := s.RefreshTokenByHash(ctx, []byte("nope")); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Errorf("RefreshTokenByHash: %v", err)
	}
	err := s.Tx(ctx, func(tx gatehouse.StoreTx) error { return tx.UpdateUser(ctx, newUser("ghost@example.com")) })
	if !errors.Is(err, gatehouse.ErrNotFound) {
		t.Errorf("UpdateUser of a missing user: %v", err)
	}
}

func testListUsersPages(t *testing.T, s gatehouse.Store) {
	ctx := context.Background()
	var ids []string
	for i := range 5 {
		u := newUser(fmt.Sprintf("u%d@example.com", i))
		u.ID = gatehouse.NewID()
		mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.CreateUser(ctx, u) })
		ids = append(ids, u.ID)
	}
	page1, err := s.ListUsers(ctx, "", 3)
	if err != nil || len(page1) != 3 {
		t.Fatalf("page 1: %d users, %v", len(page1), err)
	}
	page2, err := s.ListUsers(ctx, page1[2].ID, 3)
	if err != nil || len(page2) != 2 {
		t.Fatalf("page 2: %d users, %v", len(page2), err)
	}
	for i, u := range append(page1, page2...) {
		if u.ID != ids[i] {
			t.Fatalf("order: position %d is %s, want %s", i, u.ID, ids[i])
		}
	}
}

func testSessions(t *testing.T, s gatehouse.Store) {
	ctx := context.Background()
	u := createUser(t, s, "sess@example.com")
	a := createSession(t, s, u, t0)
	b := createSession(t, s, u, t0.Add(time.Second))
	c := createSession(t, s, u, t0.Add(2*time.Second))
	list, err := s.ListActiveSessions(ctx, u.ID, t0.Add(3*time.Second))
	if err != nil || len(list) != 3 || list[0].ID != c.ID {
		t.Fatalf("active sessions: %v, %v", list, err)
	}
	// A session's last use is recorded by the refresh rotation: RefreshTokenRotatesOnce.
	got, err := s.SessionByID(ctx, a.ID)
	if err != nil || !got.LastUsedAt.Equal(t0) || got.IP != a.IP || got.UserAgent != a.UserAgent {
		t.Fatalf("SessionByID: %+v %v", got, err)
	}
	var revoked []string
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		var err error
		revoked, err = tx.RevokeUserSessions(ctx, u.ID, b.ID, t0.Add(time.Hour/2))
		return err
	})
	if len(revoked) != 2 {
		t.Fatalf("revoked %v, want a and c", revoked)
	}
	list, _ = s.ListActiveSessions(ctx, u.ID, t0.Add(3*time.Second))
	if len(list) != 1 || list[0].ID != b.ID {
		t.Fatalf("after revoking others: %v", list)
	}
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.RevokeSession(ctx, b.ID, t0.Add(time.Hour/2)) })
	got, _ = s.SessionByID(ctx, b.ID)
	if got.RevokedAt == nil || got.Active(t0) {
		t.Fatalf("revoked session still active: %+v", got)
	}
	// Expired sessions are not listed.
	if list, _ := s.ListActiveSessions(ctx, u.ID, t0.Add(2*time.Hour)); len(list) != 0 {
		t.Fatalf("expired sessions listed: %v", list)
	}
}

// rotationOf builds the rotation of the refresh token named token into successor at at.
func rotationOf(u *gatehouse.User, sess *gatehouse.Session, token, successor, eventID string, at time.Time, salt []byte) gatehouse.Rotation {
	return gatehouse.Rotation{
		UserUpdatedAt: u.UpdatedAt,
		SpentHash:     gatehouse.HashToken(token), SpentAt: at, SuccessorSalt: salt,
		Successor: &gatehouse.RefreshToken{Hash: gatehouse.HashToken(successor), SessionID: sess.ID, CreatedAt: at, ExpiresAt: at.Add(time.Hour)},
		Event: &gatehouse.AuditEvent{ID: eventID, At: at, Type: gatehouse.EventRefreshed, UserID: u.ID,
			IP: "192.0.2.1", UserAgent: "test", Outcome: gatehouse.OutcomeSuccess},
	}
}

func createRefreshToken(t *testing.T, s gatehouse.Store, sess *gatehouse.Session, token string, expires time.Time) {
	t.Helper()
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		return tx.CreateRefreshToken(context.Background(), &gatehouse.RefreshToken{Hash: gatehouse.HashToken(token), SessionID: sess.ID, CreatedAt: t0, ExpiresAt: expires})
	})
}

func testRefreshTokenRotatesOnce(t *testing.T, s gatehouse.Store) {
	for _, form := range []struct {
		name   string
		rotate func(gatehouse.Rotation) error
	}{
		{"in a transaction", func(r gatehouse.Rotation) error {
			return s.Tx(context.Background(), func(tx gatehouse.StoreTx) error { return tx.RotateRefreshToken(context.Background(), r) })
		}},
		{"on its own", func(r gatehouse.Rotation) error { return s.CommitRotation(context.Background(), r) }},
	} {
		t.Run(form.name, func(t *testing.T) {
			ctx := context.Background()
			u := createUser(t, s, gatehouse.NewID()+"@example.com")
			sess := createSession(t, s, u, t0)
			token := "token-1 " + form.name
			createRefreshToken(t, s, sess, token, t0.Add(time.Hour))
			salt := []byte("salt-salt-salt-salt")
			first := rotationOf(u, sess, token, "token-2 "+form.name, gatehouse.NewID(), t0.Add(time.Second), salt)
			first.Use = &gatehouse.SessionUse{At: t0.Add(time.Second), IP: "192.0.2.9", UserAgent: "agent 2"}
			if err := form.rotate(first); err != nil {
				t.Fatalf("rotation: %v", err)
			}
			again := rotationOf(u, sess, token, "token-3 "+form.name, gatehouse.NewID(), t0.Add(2*time.Second), []byte("x"))
			if err := form.rotate(again); !errors.Is(err, gatehouse.ErrNotFound) {
				t.Fatalf("second rotation: %v, want ErrNotFound", err)
			}
			next, err := s.RefreshTokenByHash(ctx, first.Successor.Hash)
			if err != nil || next.SessionID != sess.ID || next.SpentAt != nil || !next.ExpiresAt.Equal(t0.Add(time.Second+time.Hour)) {
				t.Fatalf("successor: %+v %v", next, err)
			}
			if _, err := s.RefreshTokenByHash(ctx, again.Successor.Hash); !errors.Is(err, gatehouse.ErrNotFound) {
				t.Fatalf("the refused rotation stored its successor: %v", err)
			}
			events, err := s.ListAuditEvents(ctx, gatehouse.AuditFilter{UserID: u.ID, Limit: 10})
			if err != nil || len(events) != 1 || events[0].ID != first.Event.ID || events[0].IP != "192.0.2.1" || !events[0].At.Equal(t0.Add(time.Second)) {
				t.Fatalf("audit events after one rotation and one refusal: %+v %v", events, err)
			}
			gotSess, err := s.SessionByID(ctx, sess.ID)
			if err != nil || !gotSess.LastUsedAt.Equal(t0.Add(time.Second)) || gotSess.IP != "192.0.2.9" || gotSess.UserAgent != "agent 2" {
				t.Fatalf("session after a rotation that records its use: %+v %v", gotSess, err)
			}
			rt, gotSession, gotUser, err := s.RefreshTokenSession(ctx, gatehouse.HashToken(token))
			if err != nil || rt.SpentAt == nil || !rt.SpentAt.Equal(t0.Add(time.Second)) || !bytes.Equal(rt.SuccessorSalt, salt) ||
				gotSession.ID != sess.ID || gotUser.ID != u.ID || gotUser.Email != u.Email {
				t.Fatalf("spent token: %+v %+v %+v %v", rt, gotSession, gotUser, err)
			}
			mustTx(t, s, func(tx gatehouse.StoreTx) error {
				got, gotSess, gotUser, err := tx.LockRefreshToken(ctx, gatehouse.HashToken(token))
				if err != nil {
					return err
				}
				if got.SpentAt == nil || !bytes.Equal(got.SuccessorSalt, salt) || gotSess.ID != sess.ID || gotUser.ID != u.ID {
					t.Errorf("LockRefreshToken: %+v %+v %+v", got, gotSess, gotUser)
				}
				if _, _, _, err := tx.LockRefreshToken(ctx, []byte("missing")); !errors.Is(err, gatehouse.ErrNotFound) {
					t.Errorf("LockRefreshToken of a missing token: %v", err)
				}
				return nil
			})
			if _, _, _, err := s.RefreshTokenSession(ctx, []byte("missing")); !errors.Is(err, gatehouse.ErrNotFound) {
				t.Errorf("RefreshTokenSession of a missing token: %v", err)
			}
		})
	}
}

// A rotation decided on a read checks again as it writes: whatever changed since the read
// refuses it, and it writes nothing.
func testRefreshTokenRotationRechecks(t *testing.T, s gatehouse.Store) {
	ctx := context.Background()
	cases := []struct {
		name   string
		change func(t *testing.T, u *gatehouse.User, sess *gatehouse.Session)
		at     time.Time
		// expires is the token's expiry, later than the session's (one hour) in "session expired".
		expires time.Duration
		// read, if set, makes the rotation describe the session or user other than they are (a
		// snapshot older than a change): the organization, the role, the second factor.
		read func(r *gatehouse.Rotation)
	}{
		{"session revoked", func(t *testing.T, u *gatehouse.User, sess *gatehouse.Session) {
			mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.RevokeSession(ctx, sess.ID, t0) })
		}, t0.Add(time.Second), 30 * time.Minute, nil},
		{"user disabled", func(t *testing.T, u *gatehouse.User, sess *gatehouse.Session) {
			u.IsActive = false
			mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.UpdateUser(ctx, u) })
		}, t0.Add(time.Second), 30 * time.Minute, nil},
		{"user changed", func(t *testing.T, u *gatehouse.User, sess *gatehouse.Session) {
			u.Role, u.UpdatedAt = "admin", t0.Add(time.Minute)
			mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.UpdateUser(ctx, u) })
		}, t0.Add(time.Second), 30 * time.Minute, nil},
		{"session expired", func(*testing.T, *gatehouse.User, *gatehouse.Session) {}, t0.Add(time.Hour), 2 * time.Hour, nil},
		{"token expired", func(*testing.T, *gatehouse.User, *gatehouse.Session) {}, t0.Add(30 * time.Minute), 30 * time.Minute, nil},
		// Only the organization differs (a switch between two organizations with the same role):
		// the role's check cannot stand in for the organization's.
		{"session in another organization", func(t *testing.T, u *gatehouse.User, sess *gatehouse.Session) {
			mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.SetSessionOrg(ctx, sess.ID, "org-after", "member") })
		}, t0.Add(time.Second), 30 * time.Minute,
			func(r *gatehouse.Rotation) { r.OrgID, r.OrgRole = "org-before", "member" }},
		{"session with another role", func(*testing.T, *gatehouse.User, *gatehouse.Session) {}, t0.Add(time.Second), 30 * time.Minute,
			func(r *gatehouse.Rotation) { r.OrgRole = "owner" }},
		{"second factor changed", func(*testing.T, *gatehouse.User, *gatehouse.Session) {}, t0.Add(time.Second), 30 * time.Minute,
			func(r *gatehouse.Rotation) { r.UserMFAEnabled = true }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u := createUser(t, s, gatehouse.NewID()+"@example.com")
			sess := createSession(t, s, u, t0)
			createRefreshToken(t, s, sess, "token "+c.name, t0.Add(c.expires))
			r := rotationOf(u, sess, "token "+c.name, "next "+c.name, gatehouse.NewID(), c.at, []byte("salt"))
			if c.read != nil {
				c.read(&r)
			}
			c.change(t, u, sess)
			r.Use = &gatehouse.SessionUse{At: c.at, IP: "192.0.2.7", UserAgent: "changed"}
			if err := s.CommitRotation(ctx, r); !errors.Is(err, gatehouse.ErrNotFound) {
				t.Fatalf("rotation after %s: %v, want ErrNotFound", c.name, err)
			}
			err := s.Tx(ctx, func(tx gatehouse.StoreTx) error { return tx.RotateRefreshToken(ctx, r) })
			if !errors.Is(err, gatehouse.ErrNotFound) {
				t.Fatalf("rotation in a transaction after %s: %v, want ErrNotFound", c.name, err)
			}
			if rt, err := s.RefreshTokenByHash(ctx, r.SpentHash); err != nil || rt.SpentAt != nil {
				t.Errorf("token after a refused rotation: %+v %v", rt, err)
			}
			if _, err := s.RefreshTokenByHash(ctx, r.Successor.Hash); !errors.Is(err, gatehouse.ErrNotFound) {
				t.Errorf("successor stored by a refused rotation: %v", err)
			}
			if events, err := s.ListAuditEvents(ctx, gatehouse.AuditFilter{UserID: u.ID, Limit: 10}); err != nil || len(events) != 0 {
				t.Errorf("audit events of a refused rotation: %+v %v", events, err)
			}
			if got, err := s.SessionByID(ctx, sess.ID); err != nil || got.IP != sess.IP || !got.LastUsedAt.Equal(sess.LastUsedAt) {
				t.Errorf("session use recorded by a refused rotation: %+v %v", got, err)
			}
		})
	}
	// And a rotation that describes the session's organization and role as they are spends the
	// token, in both forms (so the re-check compares each column with its own value).
	for i, rotate := range []func(gatehouse.Rotation) error{
		func(r gatehouse.Rotation) error { return s.CommitRotation(ctx, r) },
		func(r gatehouse.Rotation) error {
			return s.Tx(ctx, func(tx gatehouse.StoreTx) error { return tx.RotateRefreshToken(ctx, r) })
		},
	} {
		u := createUser(t, s, gatehouse.NewID()+"@example.com")
		sess := createSession(t, s, u, t0)
		mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.SetSessionOrg(ctx, sess.ID, "org-now", "member") })
		token := fmt.Sprintf("token in an organization %d", i)
		createRefreshToken(t, s, sess, token, t0.Add(30*time.Minute))
		r := rotationOf(u, sess, token, "next "+token, gatehouse.NewID(), t0.Add(time.Second), []byte("salt"))
		r.OrgID, r.OrgRole = "org-now", "member"
		if err := rotate(r); err != nil {
			t.Fatalf("rotation %d of a session in its organization and role: %v", i, err)
		}
		if rt, err := s.RefreshTokenByHash(ctx, r.SpentHash); err != nil || rt.SpentAt == nil {
			t.Fatalf("token after rotation %d: %+v %v", i, rt, err)
		}
	}
}

func testSigningKeys(t *testing.T, s gatehouse.Store) {
	ctx := context.Background()
	k1 := gatehouse.SigningKey{ID: "k1", Algorithm: "ES256", Private: []byte{1, 2, 3}, CreatedAt: t0}
	k2 := gatehouse.SigningKey{ID: "k2", Algorithm: "ES256", Private: []byte{4, 5}, CreatedAt: t0.Add(time.Hour)}
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.CreateSigningKey(ctx, k2) })
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.CreateSigningKey(ctx, k1) })
	keys, err := s.SigningKeys(ctx)
	if err != nil || len(keys) != 2 || keys[0].ID != "k1" || !bytes.Equal(keys[1].Private, k2.Private) || !keys[1].CreatedAt.Equal(k2.CreatedAt) {
		t.Fatalf("keys: %+v %v", keys, err)
	}
}

func testFailedTxWritesNothing(t *testing.T, s gatehouse.Store) {
	ctx := context.Background()
	boom := errors.New("boom")
	err := s.Tx(ctx, func(tx gatehouse.StoreTx) error {
		if err := tx.CreateUser(ctx, newUser("partial@example.com")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("tx error: %v", err)
	}
	if _, err := s.UserByEmail(ctx, "partial@example.com"); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("a failed transaction left a user behind: %v", err)
	}
}

// testLockSessionSerialises checks that two transactions that lock one session never both see it
// unrevoked: the second must observe the first one's write.
func testLockSessionSerialises(t *testing.T, s gatehouse.Store) {
	ctx := context.Background()
	u := createUser(t, s, "lock@example.com")
	sess := createSession(t, s, u, t0)
	const workers = 8
	var mu sync.Mutex
	winners := 0
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Tx(ctx, func(tx gatehouse.StoreTx) error {
				got, err := tx.LockSession(ctx, sess.ID)
				if err != nil {
					return err
				}
				if got.RevokedAt != nil {
					return nil
				}
				mu.Lock()
				winners++
				mu.Unlock()
				return tx.RevokeSession(ctx, sess.ID, t0)
			})
			if err != nil {
				t.Errorf("tx: %v", err)
			}
		}()
	}
	wg.Wait()
	if winners != 1 {
		t.Fatalf("%d transactions saw the session unrevoked under the lock, want 1", winners)
	}
}

func testConcurrentDistinctWrites(t *testing.T, s gatehouse.Store) {
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u := newUser(fmt.Sprintf("c%d@example.com", i))
			u.ID = gatehouse.NewID()
			if err := s.Tx(ctx, func(tx gatehouse.StoreTx) error { return tx.CreateUser(ctx, u) }); err != nil {
				t.Errorf("concurrent create %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	users, err := s.ListUsers(ctx, "", 100)
	if err != nil || len(users) != 32 {
		t.Fatalf("want 32 users, got %d (%v)", len(users), err)
	}
}
