// Package postgres is Gatehouse's PostgreSQL store: pgx as the database/sql driver under the
// shared sqlstore, with its own migrations. Several Gatehouse instances may share one database.
package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/gatehouse/gatehouse/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationLock is the pg_advisory_xact_lock key that serialises migrators: instances that start
// together queue on it, and each finds the schema the previous one left. The value spells
// "gatehous" in ASCII, so it is recognisable in pg_locks.
const migrationLock int64 = 0x67617465686f7573

// lockSQL runs first in every migration transaction. Waiting for another instance's migration
// is not a slow query, so the statement timeout is lifted for the migration transaction only.
var lockSQL = "SET LOCAL statement_timeout = 0; SELECT pg_advisory_xact_lock(" + strconv.FormatInt(migrationLock, 10) + ")"

// Options tune the connection pool. Zero values take the defaults.
type Options struct {
	// MaxConns bounds the open connections of this process (default DefaultMaxConns, at least
	// 2). Every instance has its own pool, plus one connection that listens for invalidations,
	// so N instances open up to N×(MaxConns+1) connections: keep that below the server's
	// max_connections.
	MaxConns int
	// StatementTimeout is set as the session's statement_timeout, so a query stuck behind a lock
	// or a saturated server fails (503) instead of holding a request. 0 leaves the server's (or
	// the URL's statement_timeout parameter) in force.
	StatementTimeout time.Duration
	// ConnectTimeout bounds each connection attempt when the URL sets no connect_timeout
	// (default DefaultConnectTimeout), so an unreachable server fails requests quickly.
	ConnectTimeout time.Duration
	// MaxConnLifetime recycles connections (default 30 minutes), so that after a fail-over or a
	// DNS change the pool drifts to the new server without a restart.
	MaxConnLifetime time.Duration
}

const (
	DefaultMaxConns       = 16
	DefaultConnectTimeout = 5 * time.Second
)

func (o Options) withDefaults() Options {
	if o.MaxConns <= 0 {
		o.MaxConns = DefaultMaxConns
	}
	// Start-up work holds one connection for a lock while it queries on another.
	o.MaxConns = max(o.MaxConns, 2)
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.MaxConnLifetime <= 0 {
		o.MaxConnLifetime = 30 * time.Minute
	}
	return o
}

// Dialect is PostgreSQL's SQL.
var Dialect = sqlstore.Dialect{
	Name:              "postgres",
	Placeholder:       func(n int) string { return "$" + strconv.Itoa(n) },
	ForUpdate:         " FOR UPDATE",
	WritableCTE:       true,
	IsUniqueViolation: func(err error) bool { return sqlState(err) == "23505" },
	IsUnavailable:     IsUnavailable,
	// 22021 bad byte sequence (NUL), 22P05 untranslatable character, 54000 program limit
	// exceeded (an index row too large), 22001 string too long.
	IsInvalidInput: func(err error) bool {
		switch sqlState(err) {
		case "22021", "22P05", "54000", "22001":
			return true
		}
		return false
	},
}

func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// IsUnavailable reports an error after which the same request may well succeed later: the server
// cannot be reached, is starting or stopping, is out of resources, or gave up on a statement
// (timeout, lock contention, deadlock). Callers answer 503 with Retry-After, never 500.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	if code := sqlState(err); code != "" {
		switch {
		case code[:2] == "08": // connection_exception
			return true
		case code[:2] == "53": // insufficient_resources: disk full, out of memory, too_many_connections
			return true
		case code == "57P01", code == "57P02", code == "57P03": // admin/crash shutdown, cannot_connect_now
			return true
		case code == "57014": // query_canceled: statement_timeout
			return true
		case code == "55P03": // lock_not_available: lock_timeout
			return true
		case code == "40001", code == "40P01": // serialization_failure, deadlock_detected
			return true
		}
		return false
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.As(err, &ce), errors.As(err, &ne):
		return true
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone), errors.Is(err, pgconn.ErrConnClosed):
		return true
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	case pgconn.Timeout(err), pgconn.SafeToRetry(err):
		return true
	}
	return false
}

// ConnConfig parses a postgres:// URL (or key=value DSN) and applies opts: the settings every
// connection of Gatehouse's, pooled or not, is opened with.
func ConnConfig(url string, opts Options) (*pgx.ConnConfig, error) {
	opts = opts.withDefaults()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		// The parse error may quote the URL, password included.
		var pe *pgconn.ParseConfigError
		if errors.As(err, &pe) {
			return nil, errors.New("invalid PostgreSQL URL")
		}
		return nil, err
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = opts.ConnectTimeout
	}
	if opts.StatementTimeout > 0 {
		cfg.RuntimeParams["statement_timeout"] = strconv.FormatInt(opts.StatementTimeout.Milliseconds(), 10)
	}
	// The refresh rotation relies on READ COMMITTED: after waiting for a session's row lock, its
	// next statement must see what the previous holder committed. A server or role default of
	// REPEATABLE READ would turn concurrent refreshes into serialization failures (503s).
	cfg.RuntimeParams["default_transaction_isolation"] = "read committed"
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		cfg.RuntimeParams["application_name"] = "gatehouse"
	}
	// The default keepalive (5 minutes of silence before the first probe) would leave a pooled
	// connection to a server that vanished without closing its sockets looking alive that long.
	dialer := &net.Dialer{
		Timeout: cfg.ConnectTimeout,
		KeepAliveConfig: net.KeepAliveConfig{
			Enable: true, Idle: 10 * time.Second, Interval: 5 * time.Second, Count: 3,
		},
		Control: controlSocket,
	}
	cfg.DialFunc = dialer.DialContext
	return cfg, nil
}

// Open connects to the database at url and applies migrations. It fails when the server cannot be
// reached within the connect timeout: a server that cannot start is better than one that starts
// without its schema.
func Open(ctx context.Context, url string, opts Options) (*sqlstore.Store, error) {
	opts = opts.withDefaults()
	cfg, err := ConnConfig(url, opts)
	if err != nil {
		return nil, err
	}
	db := stdlib.OpenDB(*cfg, stdlib.OptionResetSession(func(_ context.Context, c *pgx.Conn) error {
		if !connAlive(c.PgConn().Conn()) {
			return driver.ErrBadConn // database/sql discards it and takes, or opens, another
		}
		return nil
	}))
	db.SetMaxOpenConns(opts.MaxConns)
	// database/sql keeps only 2 idle connections by default: under load every other request
	// would pay for a new connection (TCP, authentication, a new backend process).
	db.SetMaxIdleConns(opts.MaxConns)
	db.SetConnMaxLifetime(opts.MaxConnLifetime)
	db.SetConnMaxIdleTime(5 * time.Minute)

	s := sqlstore.New(db, db, Dialect)
	if err := s.Migrate(ctx, migrations, "migrations", lockSQL); err != nil {
		s.Close()
		return nil, fmt.Errorf("postgres %s: %w", describe(cfg), err)
	}
	return s, nil
}

// Migrations returns the migration files Open applies, under "migrations/". postgres/pgtest keys
// its migrated template database on their content.
func Migrations() fs.FS { return migrations }

// startupLock is the pg_advisory_xact_lock key of WithStartupLock.
const startupLock = migrationLock + 1

// WithStartupLock runs fn while holding a database-wide lock, for the start-up work that every
// instance checks but only one must do (creating the first signing key). fn uses the pool, where
// the lock's own connection is busy: the pool needs at least two connections.
func WithStartupLock(ctx context.Context, db *sql.DB, fn func() error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "SET LOCAL statement_timeout = 0; SELECT pg_advisory_xact_lock("+strconv.FormatInt(startupLock, 10)+")"); err != nil {
		return err
	}
	if err := fn(); err != nil {
		return err
	}
	return tx.Commit()
}

// describe names the server without the password, for error messages.
func describe(cfg *pgx.ConnConfig) string {
	return fmt.Sprintf("%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
}
