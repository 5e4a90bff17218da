// Package pgtest gives tests a fresh PostgreSQL database of their own, dropped when they end.
//
// The server is named by GATEHOUSE_TEST_POSTGRES_URL (default DefaultAdminURL); its role needs
// CREATEDB. scripts/postgres-up.sh starts a local server with that role. When the server cannot be
// reached, tests skip with a message saying so, except under CI (CI=true), where they fail: a CI
// run that silently skipped the PostgreSQL suites would pass without testing anything.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
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
	db := Available(t)
	name := "gh_test_" + randomHex(8)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		// FORCE may only terminate our own role's backends, and an autovacuum worker is not one:
		// it refuses while one is busy in the database. Workers finish quickly; try again.
		var err error
		for attempt := range 40 {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			_, err = db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			cancel()
			if err == nil {
				return
			}
			time.Sleep(time.Duration(attempt+1) * 25 * time.Millisecond)
		}
		t.Errorf("drop test database %s: %v", name, err)
	})
	u, err := url.Parse(AdminURL())
	if err != nil {
		t.Fatalf("GATEHOUSE_TEST_POSTGRES_URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
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
