// Package pgtest gives tests a fresh PostgreSQL database of their own, dropped when they end:
// empty (NewDatabase), or with Gatehouse's schema (NewMigratedDatabase, copied from a template).
//
// The server is named by GATEHOUSE_TEST_POSTGRES_URL (default DefaultAdminURL); its role needs
// CREATEDB. scripts/postgres-up.sh starts a local server with that role. When the server cannot be
// reached, tests skip with a message saying so, except under CI (CI=true), where they fail: a CI
// run that silently skipped the PostgreSQL suites would pass without testing anything.
package pgtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	"github.com/gatehouse/gatehouse/postgres"
)

// DefaultAdminURL is the server scripts/postgres-up.sh sets up.
const DefaultAdminURL = "postgres://gatehouse:gatehouse@127.0.0.1:5432/postgres?sslmode=disable"

// AdminURL is the URL tests connect to in order to create and drop their databases.
func AdminURL() string {
	if v := strings.TrimSpace(os.Getenv("GATEHOUSE_TEST_POSTGRES_URL")); v != "" {
		return v
	}
	return DefaultAdminURL
}

var admin struct {
	once sync.Once
	db   *sql.DB
	err  error
	// owner names this process in its databases' names; the process holds the advisory lock
	// (ownerLockClass, owner) while it lives, on lockConn. See sweep.
	owner    int32
	lockConn *sql.Conn
}

// ownerLockClass is the first key of the advisory lock that each test process holds while it lives.
const ownerLockClass int32 = 0x67687473 // "ghts"

// adminDB is shared by every test of the process; it is never closed, the process exit does.
func adminDB() (*sql.DB, error) {
	admin.once.Do(func() {
		db, err := sql.Open("pgx", withConnectTimeout(AdminURL()))
		if err != nil {
			admin.err = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := db.PingContext(ctx); err != nil {
			db.Close()
			admin.err = err
			return
		}
		db.SetMaxOpenConns(4 + dropWorkers)
		conn, err := db.Conn(ctx)
		if err == nil {
			admin.owner = randomOwner()
			_, err = conn.ExecContext(ctx, "SELECT pg_advisory_lock($1::int4, $2::int4)", ownerLockClass, admin.owner)
		}
		if err != nil {
			db.Close()
			admin.err = err
			return
		}
		admin.db, admin.lockConn = db, conn
		drops.wg.Add(1)
		go func() {
			defer drops.wg.Done()
			sweep(db)
		}()
	})
	return admin.db, admin.err
}

// withConnectTimeout keeps an unreachable server from stalling the whole test run.
func withConnectTimeout(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return raw
	}
	q := u.Query()
	if q.Get("connect_timeout") == "" {
		q.Set("connect_timeout", "3")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// Available returns the admin database, or skips (fails under CI) when the server is unreachable.
func Available(t testing.TB) *sql.DB {
	t.Helper()
	db, err := adminDB()
	if err != nil {
		msg := fmt.Sprintf("PostgreSQL not reachable at %s: %v; run scripts/postgres-up.sh", redact(AdminURL()), err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return db
}

// NewDatabase creates an empty database for this test and returns its URL. The database is
// dropped, with any connection still open to it, once the test has ended (in the background: see
// dropLater).
func NewDatabase(t testing.TB) string {
	t.Helper()
	return newDatabase(t, Available(t), "")
}

// NewMigratedDatabase is NewDatabase with Gatehouse's schema already in place: a copy of a
// template database that postgres.Open migrated once. Copying is much cheaper than running every
// migration again in every test. The database is the same one Open would leave (Open still runs
// and finds nothing to do); tests of migrating itself (an empty database, instances migrating
// together) use NewDatabase.
//
// The template is named after a hash of the migration files, so a change to any of them makes a
// new one, and several test processes (other packages, other checkouts) share it; it refuses
// connections, so nothing can change it after it is built.
func NewMigratedDatabase(t testing.TB) string {
	t.Helper()
	db := Available(t)
	tmpl.once.Do(func() { tmpl.name, tmpl.err = ensureTemplate(db) })
	if tmpl.err != nil {
		t.Fatalf("migrated template database: %v", tmpl.err)
	}
	defer refillSpare(db)
	select {
	case name := <-spare.ch:
		t.Cleanup(func() { dropLater(db, name) })
		return databaseURL(t, name)
	default:
		return newDatabase(t, db, tmpl.name)
	}
}

// spare holds a copy of the template made in the background while the previous test ran, so that
// the next test need not wait for CREATE DATABASE. Main drops one left unused.
var spare struct {
	ch        chan string
	mu        sync.Mutex
	refilling bool
	wg        sync.WaitGroup
}

func init() { spare.ch = make(chan string, 1) }

// refillSpare makes the next spare copy in the background, unless one is being made. A copy that
// fails is not kept: the next test then makes its own, and reports the error.
func refillSpare(db *sql.DB) {
	spare.mu.Lock()
	defer spare.mu.Unlock()
	if spare.refilling || len(spare.ch) > 0 {
		return
	}
	spare.refilling = true
	spare.wg.Add(1)
	go func() {
		defer spare.wg.Done()
		name, err := createDatabase(db, tmpl.name)
		spare.mu.Lock()
		spare.refilling = false
		spare.mu.Unlock()
		if err == nil {
			spare.ch <- name // the only sender, and it found the channel empty
		}
	}()
}

func newDatabase(t testing.TB, db *sql.DB, template string) string {
	t.Helper()
	name, err := createDatabase(db, template)
	if err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() { dropLater(db, name) })
	return databaseURL(t, name)
}

// createDatabase creates a database of this process, empty or a copy of template.
func createDatabase(db *sql.DB, template string) (string, error) {
	name := databaseName("gh_test_")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stmt := "CREATE DATABASE " + name
	if template != "" {
		stmt += " TEMPLATE " + template
	}
	if _, err := db.ExecContext(ctx, stmt); err != nil {
		return "", err
	}
	return name, nil
}

// databaseName is prefix, this process's owner key and a random part.
func databaseName(prefix string) string {
	return fmt.Sprintf("%s%08x_%s", prefix, uint32(admin.owner), randomHex(8))
}

// dropWorkers is how many databases are dropped at once. Every DROP DATABASE waits for a
// checkpoint, and drops that wait together share one: drops in parallel cost little more than one
// (measured on a busy 2-core machine: 4 drops one after the other 12 s, 4 at once 2.8 s). Each
// holds one of the server's connections while it waits.
const dropWorkers = 8

var drops struct {
	wg  sync.WaitGroup
	sem chan struct{}
}

func init() { drops.sem = make(chan struct{}, dropWorkers) }

// dropLater drops a test's database in the background: the test is over, its servers stopped, and
// a drop (a checkpoint) is slow; the next test need not wait for it. Main waits for every drop
// before the process exits; a database that a killed process left behind is dropped by the next
// test process's sweep.
func dropLater(db *sql.DB, name string) {
	drops.wg.Add(1)
	go func() {
		defer drops.wg.Done()
		drops.sem <- struct{}{}
		defer func() { <-drops.sem }()
		if err := dropDatabase(db, name); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: drop test database %s: %v (the next test run's sweep drops it)\n", name, err)
		}
	}()
}

// Main runs the tests of a package that uses pgtest, then drops the spare copy of the template and
// waits for the background drops of its test databases, for a TestMain: os.Exit(pgtest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	spare.wg.Wait()
	select {
	case name := <-spare.ch:
		dropLater(admin.db, name)
	default:
	}
	drops.wg.Wait()
	return code
}

// sweep drops the databases that test processes which are no longer running left behind (killed,
// or ended without Main): those named gh_test_OWNER_ or gh_tmplbuild_OWNER_ whose owner no longer
// holds its lock. The list of databases is read before the locks: a process takes its lock before
// it creates a database, so one that is alive is seen holding it. Without FORCE, a database still
// in use is left alone.
func sweep(db *sql.DB) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	names, err := column(ctx, db, `SELECT datname FROM pg_database WHERE datname ~ '^gh_(test|tmplbuild)_[0-9a-f]{8}_[0-9a-f]+$'`)
	if err != nil || len(names) == 0 {
		return
	}
	owners, err := column(ctx, db, `SELECT lpad(to_hex(objid::bigint), 8, '0') FROM pg_locks
		WHERE locktype = 'advisory' AND classid = $1::int4::oid AND objsubid = 2 AND granted`, ownerLockClass)
	if err != nil {
		return
	}
	alive := map[string]bool{}
	for _, o := range owners {
		alive[o] = true
	}
	for _, name := range names {
		parts := strings.Split(name, "_") // gh, test|tmplbuild, owner, random
		if len(parts) != 4 || alive[parts[2]] {
			continue
		}
		_, _ = db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name)
	}
}

func column(ctx context.Context, db *sql.DB, query string, args ...any) ([]string, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// dropDatabase drops a database with any connection still open to it.
func dropDatabase(db *sql.DB, name string) error {
	// FORCE may only terminate our own role's backends, and an autovacuum worker is not one:
	// it refuses while one is busy in the database. Workers finish quickly; try again.
	var err error
	for attempt := range 40 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, err = db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		cancel()
		if err == nil {
			return nil
		}
		time.Sleep(time.Duration(attempt+1) * 25 * time.Millisecond)
	}
	return err
}

func databaseURL(t testing.TB, name string) string {
	t.Helper()
	u, err := url.Parse(AdminURL())
	if err != nil {
		t.Fatalf("GATEHOUSE_TEST_POSTGRES_URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// templateFormat is part of the template's name. Bump it when what a migrated database holds
// changes by other means than the migration files (the bookkeeping of sqlstore.Migrate, say).
const templateFormat = "1"

var tmpl struct {
	once sync.Once
	name string
	err  error
}

// templateName names the template after the migration files' names and content.
func templateName() (string, error) {
	h := sha256.New()
	io.WriteString(h, "gatehouse pgtest template "+templateFormat+"\n")
	err := fs.WalkDir(postgres.Migrations(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(postgres.Migrations(), p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %d\n", p, len(body))
		h.Write(body)
		return nil
	})
	if err != nil {
		return "", err
	}
	return "gh_tmpl_" + hex.EncodeToString(h.Sum(nil))[:24], nil
}

// ensureTemplate returns the name of the migrated template, building it when no process has yet.
// It is built under another name and renamed when complete, so a template that exists is whole;
// two processes building at once both finish, one rename wins and the other drops its copy.
func ensureTemplate(db *sql.DB) (string, error) {
	name, err := templateName()
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var exists bool
	if err := db.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	build := databaseName("gh_tmplbuild_")
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+build); err != nil {
		return "", err
	}
	renamed := false
	defer func() {
		if !renamed {
			_ = dropDatabase(db, build)
		}
	}()
	u, err := url.Parse(AdminURL())
	if err != nil {
		return "", err
	}
	u.Path = "/" + build
	s, err := postgres.Open(ctx, withConnectTimeout(u.String()), postgres.Options{MaxConns: 2})
	if err != nil {
		return "", err
	}
	if err := s.Close(); err != nil {
		return "", err
	}
	// No new connection from here on; the pool's may still be ending: end them and wait.
	if _, err := db.ExecContext(ctx, "ALTER DATABASE "+build+" WITH ALLOW_CONNECTIONS false"); err != nil {
		return "", err
	}
	if _, err := db.ExecContext(ctx, "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE datname = $1", build); err != nil {
		return "", err
	}
	// An autovacuum worker, which we may not end, can still be in it (55006): it finishes soon.
	for attempt := 0; ; attempt++ {
		_, err = db.ExecContext(ctx, "ALTER DATABASE "+build+" RENAME TO "+name)
		var pgErr *pgconn.PgError
		switch {
		case err == nil:
			renamed = true
			return name, nil
		case errors.As(err, &pgErr) && pgErr.Code == "42P04": // duplicate_database: another process was first
			return name, nil
		case errors.As(err, &pgErr) && pgErr.Code == "55006" && attempt < 40:
			time.Sleep(time.Duration(attempt+1) * 25 * time.Millisecond)
		default:
			return "", err
		}
	}
}

func randomOwner() int32 {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return int32(uint32(b[0])<<24|uint32(b[1])<<16|uint32(b[2])<<8|uint32(b[3])) & 0x7fffffff
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	return u.Redacted()
}
