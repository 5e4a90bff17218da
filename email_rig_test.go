package gatehouse_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/mailtmpl"
	"github.com/gatehouse/gatehouse/password"
	"github.com/gatehouse/gatehouse/seal"
	"github.com/gatehouse/gatehouse/sqlite"
	"github.com/gatehouse/gatehouse/sqlstore"
	"github.com/gatehouse/gatehouse/token"
)

// clock is a settable time source shared by the rules and the outbox worker.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// fakeMailer records what it is asked to send, failing while err is set.
type fakeMailer struct {
	mu   sync.Mutex
	err  error
	sent []*gatehouse.OutgoingEmail
	// tried counts attempts, failed or not.
	tried int
}

func (m *fakeMailer) Send(_ context.Context, e *gatehouse.OutgoingEmail) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tried++
	if m.err != nil {
		return m.err
	}
	m.sent = append(m.sent, e)
	return nil
}

func (m *fakeMailer) setErr(err error) {
	m.mu.Lock()
	m.err = err
	m.mu.Unlock()
}

func (m *fakeMailer) messages() []*gatehouse.OutgoingEmail {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]*gatehouse.OutgoingEmail(nil), m.sent...)
}

type permanentErr struct{}

func (permanentErr) Error() string   { return "550 no such mailbox" }
func (permanentErr) Permanent() bool { return true }

// lockedBuffer is a log sink that tests read while the worker writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// emailRig is the domain with email on, over a real SQLite store, a fake clock and a fake mailer.
type emailRig struct {
	store  *sqlstore.Store
	auth   *gatehouse.AuthService
	outbox *gatehouse.Outbox
	box    *seal.Box
	mailer *fakeMailer
	clock  *clock
	logs   *lockedBuffer
	cfg    gatehouse.OutboxConfig
	seen   map[string]bool // tokens lastToken returned
	queued chan struct{}   // one signal per committed transaction that queued an email
}

const appURL = "https://app.example.com"

func newEmailRig(t *testing.T) *emailRig {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "g.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	r := &emailRig{store: store, mailer: &fakeMailer{}, clock: &clock{now: time.Now().UTC().Truncate(time.Second)}, logs: &lockedBuffer{}, seen: map[string]bool{}}
	log := slog.New(slog.NewTextHandler(r.logs, nil))

	tokens := token.NewIssuer(token.Config{Issuer: appURL, Audience: appURL, Algorithm: "ES256", TTL: 15 * time.Minute}, store)
	key, err := token.GenerateKey("ES256", r.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Tx(ctx, func(tx gatehouse.StoreTx) error { return tx.CreateSigningKey(ctx, key) }); err != nil {
		t.Fatal(err)
	}
	if err := tokens.Reload(ctx); err != nil {
		t.Fatal(err)
	}

	templates, err := mailtmpl.Load("", "Gatehouse")
	if err != nil {
		t.Fatal(err)
	}
	keyBytes, _, err := seal.LoadKey("", dir)
	if err != nil {
		t.Fatal(err)
	}
	if r.box, err = seal.New(keyBytes); err != nil {
		t.Fatal(err)
	}
	r.cfg = gatehouse.OutboxConfig{RetryMin: 5 * time.Second, RetryMax: time.Minute, MaxAge: time.Hour,
		PollInterval: time.Second, SendTimeout: 5 * time.Second, Retention: 24 * time.Hour}
	r.outbox = gatehouse.NewOutbox(store, r.box, r.cfg, log, r.clock.Now)
	ecfg := gatehouse.DefaultEmailConfig
	ecfg.AppURL = appURL
	ecfg.ForgotPasswordFloor = 20 * time.Millisecond
	r.queued = make(chan struct{}, 1024)
	wake := func() {
		r.outbox.Wake()
		select {
		case r.queued <- struct{}{}:
		default: // full: waiters have plenty of signals already
		}
	}
	r.auth = gatehouse.NewAuthService(gatehouse.AuthDeps{
		Store:  store,
		Hasher: password.NewHasher(password.DefaultParams, 4, time.Minute),
		Policy: password.Policy{MinLength: 8, MaxLength: 256},
		Tokens: tokens,
		Config: gatehouse.DefaultAuthConfig,
		Log:    log,
		Now:    r.clock.Now,
		Email:  &gatehouse.EmailDeps{Renderer: templates, Sealer: r.box, Wake: wake, Config: ecfg},
	})
	return r
}

// process runs one pass of the worker and returns how many messages it attempted.
func (r *emailRig) process(t *testing.T) int {
	t.Helper()
	n, err := r.outbox.Process(context.Background(), r.mailer)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (r *emailRig) register(t *testing.T, email string) *gatehouse.TokenSet {
	t.Helper()
	ts, err := r.auth.Register(context.Background(), gatehouse.RegisterInput{Email: email, Password: "correct horse battery", Name: "T"}, gatehouse.Client{})
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

var tokenInLink = regexp.MustCompile(`/(verify-email|reset-password)\?token=([A-Za-z0-9_-]+)`)

// awaitQueued waits until a transaction that queued an email has committed: a forgot-password
// request may answer before its email is queued.
func (r *emailRig) awaitQueued(t *testing.T) bool {
	t.Helper()
	select {
	case <-r.queued:
		return true
	case <-time.After(5 * time.Second):
		return false
	}
}

// lastToken delivers what is due and returns the token of the newest link sent to `to` that it
// has not returned before, waiting for queued emails rather than polling.
func (r *emailRig) lastToken(t *testing.T, to, path string) string {
	t.Helper()
	for first := true; first || r.awaitQueued(t); first = false {
		r.process(t)
		msgs := r.mailer.messages()
		for i := len(msgs) - 1; i >= 0; i-- {
			if msgs[i].To != to {
				continue
			}
			if m := tokenInLink.FindStringSubmatch(msgs[i].Text); m != nil && m[1] == path && !r.seen[m[2]] {
				r.seen[m[2]] = true
				return m[2]
			}
		}
	}
	t.Fatalf("no %s link sent to %s", path, to)
	return ""
}

func isErr(err, target error) bool { return errors.Is(err, target) }
