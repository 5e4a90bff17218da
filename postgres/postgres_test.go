package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"net"
	neturl "net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/postgres/pgtest"
	"github.com/gatehouse/gatehouse/sqlstore"
	"github.com/gatehouse/gatehouse/storetest"
)

func open(t *testing.T, url string) gatehouse.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), url, postgres.Options{StatementTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	// A copy of the migrated template: migrating an empty database is the tests' below.
	storetest.Run(t, func(t *testing.T) gatehouse.Store { return open(t, pgtest.NewMigratedDatabase(t)) })
}

// TestConcurrentMigrations starts several instances on one empty database at the same moment:
// the advisory lock must let exactly one create each table while the others wait and then skip.
func TestConcurrentMigrations(t *testing.T) {
	url := pgtest.NewDatabase(t)
	const instances = 6
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, instances)
	for i := range instances {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			s, err := postgres.Open(context.Background(), url, postgres.Options{MaxConns: 2})
			if err == nil {
				s.Close()
			}
			errs[i] = err
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("instance %d: %v", i, err)
		}
	}
	s := open(t, url)
	var n int
	db := s.(interface{ DB() *sql.DB }).DB()
	if err := db.QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if want := len(migrationVersions(t, "migrations")); n != want {
		t.Fatalf("%d migrations recorded, want %d", n, want)
	}
}

// TestMigrationsMirrorSQLite keeps the two schemas in step: a migration added for one database
// without its twin would leave the other store failing at run time.
func TestMigrationsMirrorSQLite(t *testing.T) {
	pg := migrationVersions(t, "migrations")
	lite := migrationVersions(t, filepath.Join("..", "sqlite", "migrations"))
	if strings.Join(pg, ",") != strings.Join(lite, ",") {
		t.Fatalf("postgres migrations %v, sqlite migrations %v: every migration needs a twin with the same number", pg, lite)
	}
}

func migrationVersions(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := fs.ReadDir(os.DirFS(dir), ".")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".sql") {
			out = append(out, strings.SplitN(e.Name(), "_", 2)[0])
		}
	}
	sort.Strings(out)
	return out
}

// TestUnreachableIsUnavailable checks that a server that is not there fails fast with an error
// the HTTP layer turns into 503, not 500.
func TestUnreachableIsUnavailable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	start := time.Now()
	_, err = postgres.Open(context.Background(), "postgres://u:secret@"+addr+"/db?sslmode=disable", postgres.Options{})
	if err == nil {
		t.Fatal("Open succeeded on a closed port")
	}
	if !postgres.IsUnavailable(err) {
		t.Fatalf("error not classified as unavailable: %v", err)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Fatalf("error leaks the password: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Open took %s on a refused connection", d)
	}
}

// TestRecoversFromTerminatedBackends kills the pool's connections from the server side, as a
// database restart or fail-over does: the next calls must get fresh connections, not errors.
func TestRecoversFromTerminatedBackends(t *testing.T) {
	url := pgtest.NewDatabase(t)
	s := open(t, url)
	ctx := context.Background()
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	u, err := neturl.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	// With a timeout, pg_terminate_backend waits until each backend has actually exited.
	var killed, gone int
	if err := pgtest.Available(t).QueryRow(`SELECT COUNT(*), COUNT(*) FILTER (WHERE pg_terminate_backend(pid, 5000))
		FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, strings.TrimPrefix(u.Path, "/")).Scan(&killed, &gone); err != nil || killed == 0 || gone != killed {
		t.Fatalf("terminated %d of %d backends: %v", gone, killed, err)
	}
	if _, err := s.UserByID(ctx, "x"); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("after the backends were terminated: %v, want ErrNotFound from a fresh connection", err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
}

func TestIsUnavailable(t *testing.T) {
	if postgres.IsUnavailable(nil) || postgres.IsUnavailable(errors.New("syntax")) || postgres.IsUnavailable(sql.ErrNoRows) {
		t.Fatal("ordinary errors classified as unavailable")
	}
}

// TestStatementTimeout: a statement stuck behind a lock longer than the statement timeout fails
// as unavailable (503 and a retry), promptly, instead of holding its request.
func TestStatementTimeout(t *testing.T) {
	url := pgtest.NewDatabase(t)
	s, err := postgres.Open(context.Background(), url, postgres.Options{StatementTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	u := &gatehouse.User{ID: gatehouse.NewID(), Email: "lock@example.com", Role: "user", IsActive: true,
		CreatedAt: time.Now(), UpdatedAt: time.Now()}
	sess := &gatehouse.Session{ID: gatehouse.NewID(), UserID: u.ID, CreatedAt: time.Now(), LastUsedAt: time.Now(),
		ExpiresAt: time.Now().Add(time.Hour)}
	if err := s.Tx(ctx, func(tx gatehouse.StoreTx) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		return tx.CreateSession(ctx, sess)
	}); err != nil {
		t.Fatal(err)
	}
	held := make(chan struct{})
	release := make(chan struct{})
	go s.Tx(ctx, func(tx gatehouse.StoreTx) error {
		if _, err := tx.LockSession(ctx, sess.ID); err != nil {
			t.Error(err)
		}
		close(held)
		<-release
		return nil
	})
	<-held
	start := time.Now()
	err = s.Tx(ctx, func(tx gatehouse.StoreTx) error {
		_, err := tx.LockSession(ctx, sess.ID)
		return err
	})
	close(release)
	if gatehouse.ErrorKindOf(err) != gatehouse.KindUnavailable {
		t.Fatalf("lock wait past the statement timeout: %v, want KindUnavailable", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %s with a 200ms statement timeout", d)
	}
}

// The common refresh locks its session row as it spends the token: begun while a logout of that
// session is still uncommitted, it waits for the logout and then refuses, as the locked path
// would, instead of handing out tokens after the logout has answered.
func TestCommitRotationWaitsForAnUncommittedRevoke(t *testing.T) {
	ctx := context.Background()
	s := open(t, pgtest.NewMigratedDatabase(t)).(*sqlstore.Store)
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	u := &gatehouse.User{ID: gatehouse.NewID(), Email: "race@example.com", Name: "R", Role: "user", IsActive: true, CreatedAt: t0, UpdatedAt: t0}
	sess := &gatehouse.Session{ID: gatehouse.NewID(), UserID: u.ID, CreatedAt: t0, LastUsedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	token := gatehouse.HashToken("token")
	err := s.Tx(ctx, func(tx gatehouse.StoreTx) error {
		return errors.Join(tx.CreateUser(ctx, u), tx.CreateSession(ctx, sess),
			tx.CreateRefreshToken(ctx, &gatehouse.RefreshToken{Hash: token, SessionID: sess.ID, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
	})
	if err != nil {
		t.Fatal(err)
	}
	logout, err := s.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer logout.Rollback()
	if _, err := logout.Exec(`UPDATE sessions SET revoked_at = $1 WHERE id = $2`, t0.Add(time.Minute).UnixMicro(), sess.ID); err != nil {
		t.Fatal(err)
	}
	at := t0.Add(2 * time.Minute)
	r := gatehouse.Rotation{UserUpdatedAt: u.UpdatedAt, SpentHash: token, SpentAt: at, SuccessorSalt: []byte("salt"),
		Successor: &gatehouse.RefreshToken{Hash: gatehouse.HashToken("next"), SessionID: sess.ID, CreatedAt: at, ExpiresAt: t0.Add(time.Hour)},
		// No last use to record: that write would wait for the logout by itself.
		Event: &gatehouse.AuditEvent{ID: gatehouse.NewID(), At: at, Type: gatehouse.EventRefreshed, UserID: u.ID, Outcome: gatehouse.OutcomeSuccess}}
	// The bound only ends the wait: a rotation that does not wait succeeds at once.
	bounded, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	err = s.CommitRotation(bounded, r)
	cancel()
	if err == nil {
		t.Fatal("the rotation succeeded while its session's revocation was uncommitted")
	}
	if err := logout.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := s.CommitRotation(ctx, r); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("rotation after the logout committed: %v, want ErrNotFound", err)
	}
	if _, err := s.RefreshTokenByHash(ctx, r.Successor.Hash); !errors.Is(err, gatehouse.ErrNotFound) {
		t.Fatalf("a successor was stored for a revoked session: %v", err)
	}
}

func TestParseChange(t *testing.T) {
	for payload, want := range map[string]gatehouse.Change{
		"sessions:01J0": {SessionID: "01J0"},
		"users:01J1":    {UserID: "01J1"},
		"api_keys:01J2": {APIKeyID: "01J2"},
		"credits:01J3":  {},
		"sessions:":     {},
		"":              {},
		"no separator":  {},
		"users:a:b":     {UserID: "a:b"},
	} {
		if got := postgres.ParseChange(payload); got != want {
			t.Errorf("ParseChange(%q) = %+v, want %+v", payload, got, want)
		}
	}
}
