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
}

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
		db.SetMaxOpenConns(4)
		admin.db = db
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
// dropped, with any connection still open to it, when the test ends.
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
	return newDatabase(t, db, tmpl.name)
}

func newDatabase(t testing.TB, db *sql.DB, template string) string {
	t.Helper()
	name := "gh_test_" + randomHex(8)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stmt := "CREATE DATABASE " + name
	if template != "" {
		stmt += " TEMPLATE " + template
	}
	if _, err := db.ExecContext(ctx, stmt); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		if err := dropDatabase(db, name); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	return databaseURL(t, name)
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
	build := "gh_tmplbuild_" + randomHex(8)
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
	_, err = db.ExecContext(ctx, "ALTER DATABASE "+build+" RENAME TO "+name)
	var pgErr *pgconn.PgError
	switch {
	case err == nil:
		renamed = true
	case errors.As(err, &pgErr) && pgErr.Code == "42P04": // duplicate_database: another process was first
	default:
		return "", err
	}
	return name, nil
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
