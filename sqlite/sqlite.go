// Package sqlite is Gatehouse's embedded default store: one file, WAL journal, no cgo.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/sqlstore"
	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Dialect is SQLite's SQL.
var Dialect = sqlstore.Dialect{
	Name:              "sqlite",
	Placeholder:       func(n int) string { return "?" + strconv.Itoa(n) },
	ForUpdate:         "", // BEGIN IMMEDIATE already holds the database's write lock for the whole transaction
	PrepareStatements: true,
	GroupCommit:       true, // one writer: concurrent transactions share a BEGIN and a COMMIT
	IsUniqueViolation: func(err error) bool {
		var se *sqlite.Error
		return errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
	},
	IsUnavailable: func(err error) bool {
		var se *sqlite.Error
		if !errors.As(err, &se) {
			return false
		}
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN:
			return true
		}
		return false
	},
}

// uriPath escapes what a file: URI's path cannot hold as itself.
var uriPath = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")

// Open opens (creating if needed) the database file at path and applies migrations.
//
// Writes go through a single connection, so concurrent writers queue in Go rather than fail with
// "database is locked"; BEGIN IMMEDIATE takes the write lock up front, so a transaction that reads
// then writes can never deadlock against another process (the CLI) holding a read snapshot.
func Open(ctx context.Context, path string) (*sqlstore.Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	// The file holds password hashes and signing keys: owner-only from the first byte.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	f.Close()

	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "foreign_keys(1)", "synchronous(NORMAL)", "temp_store(MEMORY)",
		// A WAL that readers kept from starting over grows; this shrinks it back when it does.
		"journal_size_limit(67108864)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	// The path is part of a URI: "?" and "#" in it would end it early (a database outside the
	// data directory), and "%" would be read as an escape.
	dsn := "file:" + uriPath.Replace(path) + "?" + q.Encode()

	write, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxIdleTime(0)
	write.SetConnMaxLifetime(0)

	read, err := sql.Open("sqlite", dsn)
	if err != nil {
		write.Close()
		return nil, err
	}
	n := max(4, runtime.NumCPU()*2)
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)

	s := sqlstore.New(read, write, Dialect)
	if err := s.Migrate(ctx, migrations, "migrations", ""); err != nil {
		s.Close()
		return nil, err
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		_ = os.Chmod(path+suffix, 0o600)
	}
	return s, nil
}
