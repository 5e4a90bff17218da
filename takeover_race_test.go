package gatehouse_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/postgres/pgtest"
	"github.com/gatehouse/gatehouse/sqlite"
)

// These tests put a provider sign-in that takes over an account (or an admin's disable) in the
// window between the moment a request of the attacker was judged and the moment it writes: the
// password check of a login, the two hashes of a password change, the gap between the middleware
// that authenticated a request and the handler that creates a key. The HTTP server has these
// windows too (each hash is tens of milliseconds, and nothing rate-limits a password change or a
// key creation); here a hook on the hasher, or the order of two calls, holds them open, so that
// nothing depends on timing.

// hookedHasher is the real hasher with a hook that runs once, after the next Verify or Hash
// returns.
type hookedHasher struct {
	gatehouse.PasswordHasher
	mu          sync.Mutex
	afterVerify func()
	afterHash   func()
}

func (h *hookedHasher) take(f *func()) func() {
	h.mu.Lock()
	defer h.mu.Unlock()
	hook := *f
	*f = nil
	return hook
}

func (h *hookedHasher) Verify(ctx context.Context, pw, encoded string) (bool, bool, error) {
	ok, rehash, err := h.PasswordHasher.Verify(ctx, pw, encoded)
	if hook := h.take(&h.afterVerify); hook != nil {
		hook()
	}
	return ok, rehash, err
}

func (h *hookedHasher) Hash(ctx context.Context, pw string) (string, error) {
	enc, err := h.PasswordHasher.Hash(ctx, pw)
	if hook := h.take(&h.afterHash); hook != nil {
		hook()
	}
	return enc, err
}

// staticProvider is a provider at which one person is signed in, with a verified address.
type staticProvider struct{ id gatehouse.ProviderIdentity }

func (p staticProvider) AuthCodeURL(context.Context, gatehouse.AuthCodeRequest) (string, error) {
	return "https://provider.example/authorize", nil
}

func (p staticProvider) Exchange(context.Context, gatehouse.CodeExchange) (*gatehouse.ProviderIdentity, error) {
	id := p.id
	return &id, nil
}

const (
	raceVictim   = "victim@example.com"
	raceAttackPW = "attacker password 1"
	raceCallback = "https://app.example/cb"
)

type raceRig struct {
	auth   *gatehouse.AuthService
	oauth  *gatehouse.OAuthService
	hasher *hookedHasher
	user   *gatehouse.User
	// newAuth builds another AuthService with the same keys and hasher over another store (a
	// wrapper of the rig's), as a second view of the same server.
	newAuth func(gatehouse.Store) *gatehouse.AuthService
}

// newRaceRig is the pre-registration set-up: the victim's address registered by the attacker with
// a password and verified (a mail scanner followed the link), and a GitHub account of the victim
// with the same verified address.
func newRaceRig(t *testing.T) *raceRig {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "g.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return newRaceRigOn(t, store, store)
}

// newRaceRigOn builds the rig over store; the provider sign-ins go through oauthStore, which may
// wrap store to put hooks in their transactions.
func newRaceRigOn(t *testing.T, store, oauthStore gatehouse.Store) *raceRig {
	t.Helper()
	ctx := context.Background()
	tokens := newTestIssuer(t, store, "https://x")
	h := &hookedHasher{PasswordHasher: cheapHasher()}
	newAuth := func(s gatehouse.Store) *gatehouse.AuthService { return newTestAuth(s, h, tokens) }
	auth := newAuth(store)
	oauthAuth := auth
	if oauthStore != store {
		oauthAuth = newAuth(oauthStore)
	}
	oauth := gatehouse.NewOAuthService(oauthAuth, map[string]gatehouse.Provider{
		"github": staticProvider{gatehouse.ProviderIdentity{Subject: "victim-gh", Email: raceVictim, EmailVerified: true, Name: "Victim"}},
	}, gatehouse.OAuthConfig{RedirectURIs: []string{raceCallback}, RequireState: false})
	u, err := auth.CreateUser(ctx, gatehouse.RegisterInput{Email: raceVictim, Password: raceAttackPW, Name: "Victim"}, gatehouse.RoleUser, true)
	if err != nil {
		t.Fatal(err)
	}
	return &raceRig{auth: auth, oauth: oauth, hasher: h, user: u, newAuth: newAuth}
}

// takeover is the victim's first sign-in with GitHub: it links to the account and must leave the
// attacker nothing.
func (r *raceRig) takeover(t *testing.T) *gatehouse.TokenSet {
	t.Helper()
	ts, err := r.oauth.Callback(context.Background(), "github", gatehouse.OAuthCallback{Code: "c", RedirectURI: raceCallback}, gatehouse.Client{})
	if err != nil {
		t.Fatalf("the victim's GitHub sign-in: %v", err)
	}
	if ts.User.ID != r.user.ID || ts.User.HasPassword() {
		t.Fatalf("the sign-in did not take the account over: %+v", ts.User)
	}
	return ts
}

// expectSessionDead fails when either token of ts still works.
func (r *raceRig) expectSessionDead(t *testing.T, ts *gatehouse.TokenSet, what string) {
	t.Helper()
	ctx := context.Background()
	if _, err := r.auth.Authenticate(ctx, ts.AccessToken); err == nil {
		t.Errorf("%s: its access token still authenticates", what)
	}
	if _, err := r.auth.Refresh(ctx, ts.RefreshToken, gatehouse.Client{}); err == nil {
		t.Errorf("%s: its refresh token still refreshes", what)
	}
}

// A login whose password was checked just before the takeover committed must not open a session
// after it: the password it proved is gone.
func TestTakeoverRacingLoginLeavesNoSession(t *testing.T) {
	r := newRaceRig(t)
	r.hasher.afterVerify = func() { r.takeover(t) }
	ts, err := r.auth.Login(context.Background(), raceVictim, raceAttackPW, gatehouse.Client{})
	if err != nil {
		return // refused: the fix
	}
	r.expectSessionDead(t, ts, "the attacker's login that raced the takeover")
}

// The same window on an admin's disable: the session a racing login opens must not come back to
// life when the account is enabled again (disabling revokes, it does not suspend).
func TestDisableRacingLoginLeavesNoSession(t *testing.T) {
	r := newRaceRig(t)
	ctx := context.Background()
	off, on := false, true
	r.hasher.afterVerify = func() {
		if _, err := r.auth.UpdateUser(ctx, gatehouse.Operator, r.user.ID, gatehouse.AdminUserUpdate{IsActive: &off}); err != nil {
			t.Errorf("disable: %v", err)
		}
	}
	ts, err := r.auth.Login(ctx, raceVictim, raceAttackPW, gatehouse.Client{})
	if err != nil {
		return // refused: the fix
	}
	if _, err := r.auth.UpdateUser(ctx, gatehouse.Operator, r.user.ID, gatehouse.AdminUserUpdate{IsActive: &on}); err != nil {
		t.Fatal(err)
	}
	r.expectSessionDead(t, ts, "a login that raced the disable, after enabling again")
}

// A password change whose current password was checked before the takeover committed must not
// write its new password after it: that would hand the attacker a password on the account the
// takeover just cleared, and revoke the victim's own session.
func TestTakeoverRacingPasswordChangeRestoresNoPassword(t *testing.T) {
	r := newRaceRig(t)
	ctx := context.Background()
	attacker, err := r.auth.Login(ctx, raceVictim, raceAttackPW, gatehouse.Client{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := r.auth.Authenticate(ctx, attacker.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	var victim *gatehouse.TokenSet
	r.hasher.afterHash = func() { victim = r.takeover(t) }
	const newPW = "attacker password 2"
	changeErr := r.auth.ChangePassword(ctx, p, raceAttackPW, newPW)
	if victim == nil {
		t.Fatal("the hook did not run")
	}
	if _, err := r.auth.Login(ctx, raceVictim, newPW, gatehouse.Client{}); err == nil {
		t.Errorf("the attacker signs in with the password set by a change that raced the takeover (change: %v)", changeErr)
	}
	if _, err := r.auth.Authenticate(ctx, victim.AccessToken); err != nil {
		t.Errorf("the victim's own session was revoked by the attacker's racing password change: %v", err)
	}
}

// A key creation that the middleware authenticated before the takeover (or an admin's disable)
// committed must not leave a working key behind it.
func TestAPIKeyCreatedAcrossRevocationSurvives(t *testing.T) {
	in := gatehouse.NewAPIKeyInput{Name: "ci", Scopes: []string{gatehouse.ScopeProfileRead}}

	t.Run("takeover", func(t *testing.T) {
		r := newRaceRig(t)
		ctx := context.Background()
		attacker, err := r.auth.Login(ctx, raceVictim, raceAttackPW, gatehouse.Client{})
		if err != nil {
			t.Fatal(err)
		}
		p, err := r.auth.Authenticate(ctx, attacker.AccessToken) // the middleware
		if err != nil {
			t.Fatal(err)
		}
		r.takeover(t)                                     // the victim's sign-in commits
		_, secret, err := r.auth.CreateAPIKey(ctx, p, in) // the handler
		if err != nil {
			return // refused: the fix
		}
		if _, err := r.auth.AuthenticateAPIKey(ctx, secret, false); err == nil {
			t.Error("a key created by the attacker's session across the takeover works after it")
		}
	})

	t.Run("disable", func(t *testing.T) {
		r := newRaceRig(t)
		ctx := context.Background()
		off, on := false, true
		attacker, err := r.auth.Login(ctx, raceVictim, raceAttackPW, gatehouse.Client{})
		if err != nil {
			t.Fatal(err)
		}
		p, err := r.auth.Authenticate(ctx, attacker.AccessToken)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.auth.UpdateUser(ctx, gatehouse.Operator, r.user.ID, gatehouse.AdminUserUpdate{IsActive: &off}); err != nil {
			t.Fatal(err)
		}
		_, secret, err := r.auth.CreateAPIKey(ctx, p, in)
		if err != nil {
			return // refused: the fix
		}
		if _, err := r.auth.UpdateUser(ctx, gatehouse.Operator, r.user.ID, gatehouse.AdminUserUpdate{IsActive: &on}); err != nil {
			t.Fatal(err)
		}
		if _, err := r.auth.AuthenticateAPIKey(ctx, secret, false); err == nil {
			t.Error("a key created across the disable works once the account is enabled again")
		}
	})
}

// hookStore runs a hook once, inside the next transaction, right after it reads a user by the
// lookup named in on: "UserByEmail" (where linkAccount has read the account it is about to take
// over), "UserByID" (where an unlocked read-modify-write has read the row it will write back),
// or "LockUser". An unlocked read runs the hook at once; a locking read runs it in the background
// (it would wait for this very transaction's lock).
type hookStore struct {
	gatehouse.Store
	hook *hookOnce
	on   map[string]bool
}

type hookOnce struct {
	mu sync.Mutex
	f  func()
}

func (h *hookOnce) run() {
	h.mu.Lock()
	f := h.f
	h.f = nil
	h.mu.Unlock()
	if f != nil {
		f()
	}
}

func (s hookStore) Tx(ctx context.Context, fn func(gatehouse.StoreTx) error) error {
	return s.Store.Tx(ctx, func(tx gatehouse.StoreTx) error { return fn(hookTx{tx, s}) })
}

type hookTx struct {
	gatehouse.StoreTx
	s hookStore
}

func (t hookTx) UserByEmail(ctx context.Context, email string) (*gatehouse.User, error) {
	u, err := t.StoreTx.UserByEmail(ctx, email)
	if t.s.on["UserByEmail"] {
		t.s.hook.run()
	}
	return u, err
}

func (t hookTx) UserByID(ctx context.Context, id string) (*gatehouse.User, error) {
	u, err := t.StoreTx.UserByID(ctx, id)
	if t.s.on["UserByID"] {
		t.s.hook.run()
	}
	return u, err
}

func (t hookTx) LockUser(ctx context.Context, id string) (*gatehouse.User, error) {
	u, err := t.StoreTx.LockUser(ctx, id)
	if t.s.on["LockUser"] {
		go t.s.hook.run()
	}
	return u, err
}

// On PostgreSQL (READ COMMITTED), linkExisting reads the account without a lock and then writes
// the whole row back (UpdateUser sets every column). An admin's disable that commits in between is
// lost: the takeover writes is_active = true again, checks the stale copy, and signs in. SQLite is
// immune (BEGIN IMMEDIATE serialises the transactions), hence PostgreSQL only.
func TestTakeoverRacingDisableKeepsAccountDisabledPostgres(t *testing.T) {
	ctx := context.Background()
	store, err := postgres.Open(ctx, pgtest.NewMigratedDatabase(t), postgres.Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	hook := &hookOnce{}
	r := newRaceRigOn(t, store, hookStore{store, hook, map[string]bool{"UserByEmail": true}})
	off := false
	hook.f = func() {
		if _, err := r.auth.UpdateUser(ctx, gatehouse.Operator, r.user.ID, gatehouse.AdminUserUpdate{IsActive: &off}); err != nil {
			t.Errorf("disable: %v", err)
		}
	}
	ts, signInErr := r.oauth.Callback(ctx, "github", gatehouse.OAuthCallback{Code: "c", RedirectURI: raceCallback}, gatehouse.Client{})
	u, err := r.auth.User(ctx, r.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	if u.IsActive {
		t.Errorf("the admin disabled the account during the link, and the link enabled it again (sign-in: %v)", signInErr)
	}
	if signInErr == nil {
		if _, err := r.auth.Authenticate(ctx, ts.AccessToken); err == nil {
			t.Error("a sign-in into an account disabled while it linked holds a working session")
		}
	}
}

// The same lost update from the other side, and worse: UpdateProfile (PATCH /users/me, cheap and
// not rate-limited) reads the user without a lock and writes every column back, password_hash
// included. A rename by the attacker whose read came before the takeover committed and whose
// write comes after puts the attacker's password back on the account the takeover cleared. On
// PostgreSQL the window is wide: the rename's UPDATE waits on the takeover's row lock and then
// overwrites its result. (Admin role changes, UpdateUser, have the same shape.)
func TestProfileUpdateRacingTakeoverRestoresNoPasswordPostgres(t *testing.T) {
	ctx := context.Background()
	store, err := postgres.Open(ctx, pgtest.NewMigratedDatabase(t), postgres.Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	r := newRaceRigOn(t, store, store)
	attacker, err := r.auth.Login(ctx, raceVictim, raceAttackPW, gatehouse.Client{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := r.auth.Authenticate(ctx, attacker.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	// The takeover runs once the rename has read the row. Read without a lock, it commits in
	// between and the rename's write overwrites it; read with the lock, it waits for the rename to
	// commit and then applies. Either way it has finished before the checks below.
	takeover := make(chan error, 1)
	hook := &hookOnce{f: func() {
		_, err := r.oauth.Callback(ctx, "github", gatehouse.OAuthCallback{Code: "c", RedirectURI: raceCallback}, gatehouse.Client{})
		takeover <- err
	}}
	name := "Renamed"
	_, renameErr := r.newAuth(hookStore{store, hook, map[string]bool{"UserByID": true, "LockUser": true}}).UpdateProfile(ctx, p, gatehouse.ProfileUpdate{Name: &name})
	select {
	case err := <-takeover:
		if err != nil {
			t.Fatalf("the victim's GitHub sign-in: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the hook never ran, or the takeover never finished")
	}
	if _, err := r.auth.Login(ctx, raceVictim, raceAttackPW, gatehouse.Client{}); err == nil {
		t.Errorf("the attacker's password works again after a rename that raced the takeover (rename: %v)", renameErr)
	}
}
