package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/gatehouse/gatehouse/postgres"
)

// describeDatabase names the database a command uses, never with a password.
func describeDatabase(cfg *config) string {
	if cfg.isPostgres() {
		return "PostgreSQL " + redactURL(cfg.DatabaseURL)
	}
	return "SQLite " + cfg.sqlitePath()
}

// databaseVariable is the variable that chose the database, and its value (password hidden).
func databaseVariable(cfg *config) (name, value string) {
	if cfg.DatabaseURL != "" {
		return "GATEHOUSE_DATABASE_URL", redactURL(cfg.DatabaseURL)
	}
	return "GATEHOUSE_DATA_DIR", cfg.DataDir
}

// requireDatabase refuses to go on when there is no Gatehouse database where the configuration
// points, so that a command run from the wrong directory never creates an empty one beside the
// real one. For SQLite the file must exist; for PostgreSQL the server must answer and the schema
// be there.
func requireDatabase(ctx context.Context, cfg *config) error {
	if cfg.isPostgres() {
		return requirePostgres(ctx, cfg)
	}
	path := cfg.sqlitePath()
	info, err := os.Stat(path)
	switch {
	case err == nil && info.Mode().IsRegular() && info.Size() > 0:
		return nil
	case err == nil && info.IsDir():
		name, value := databaseVariable(cfg)
		return &configError{name, value, path + " is a directory, not a database file"}
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		name, value := databaseVariable(cfg)
		return &configError{name, value, "cannot read the database: " + pathErrorText(err)}
	}
	if cfg.DatabaseURL != "" {
		return fmt.Errorf("no Gatehouse database at %s (set GATEHOUSE_DATABASE_URL to the server's; gatehouse init or migrate creates a new one)", path)
	}
	return fmt.Errorf("no Gatehouse database at %s (set GATEHOUSE_DATA_DIR or run from the server's directory; gatehouse init or migrate creates a new one)", cfg.DataDir)
}

func requirePostgres(ctx context.Context, cfg *config) error {
	pc, err := postgres.ConnConfig(cfg.DatabaseURL, cfg.postgresOptions())
	if err != nil {
		return &configError{"GATEHOUSE_DATABASE_URL", redactURL(cfg.DatabaseURL), "not a valid PostgreSQL URL; want postgres://user:password@host:5432/database"}
	}
	conn, err := pgx.ConnectConfig(ctx, pc)
	if err != nil {
		return databaseError(cfg, err)
	}
	defer conn.Close(context.Background())
	var migrated bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&migrated); err != nil {
		return databaseError(cfg, err)
	}
	if !migrated {
		return fmt.Errorf("no Gatehouse database at %s: the database has no Gatehouse schema (check GATEHOUSE_DATABASE_URL; gatehouse init or migrate creates one)", redactURL(cfg.DatabaseURL))
	}
	return nil
}

// databaseError turns a failure to open or reach the database into one line that names the
// variable to fix, without the layers of wrapping underneath (nor a password).
func databaseError(cfg *config, err error) error {
	if cfg.isPostgres() {
		return &configError{"GATEHOUSE_DATABASE_URL", redactURL(cfg.DatabaseURL), postgresErrorText(cfg, err)}
	}
	name, value := databaseVariable(cfg)
	path := cfg.sqlitePath()
	var pe *fs.PathError
	switch {
	case errors.As(err, &pe):
		return &configError{name, value, fmt.Sprintf("cannot create or open the database %s: %s; choose a directory this user can write", path, pathErrorText(pe))}
	case strings.Contains(err.Error(), "file is not a database"):
		return &configError{name, value, path + " is not a SQLite database; point the variable at the server's data"}
	}
	return &configError{name, value, fmt.Sprintf("cannot open the database %s: %v", path, err)}
}

func pathErrorText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Op + " " + pe.Path + ": " + pe.Err.Error()
	}
	return err.Error()
}

// postgresErrorText says why PostgreSQL could not be used, in one line, and what to check.
func postgresErrorText(cfg *config, err error) string {
	where := redactURL(cfg.DatabaseURL)
	if pc, perr := postgres.ConnConfig(cfg.DatabaseURL, cfg.postgresOptions()); perr == nil {
		where = fmt.Sprintf("%s@%s:%d/%s", pc.User, pc.Host, pc.Port, pc.Database)
	}
	var pgErr *pgconn.PgError
	var dnsErr *net.DNSError
	var errno syscall.Errno
	var ce *pgconn.ConnectError
	switch {
	case errors.As(err, &pgErr):
		hint := "check GATEHOUSE_DATABASE_URL"
		switch pgErr.Code {
		case "28P01", "28000":
			hint = "check the user and password in GATEHOUSE_DATABASE_URL"
		case "3D000":
			hint = "create the database (createdb), or fix its name in GATEHOUSE_DATABASE_URL"
		}
		return fmt.Sprintf("PostgreSQL at %s refused: %s (SQLSTATE %s); %s", where, pgErr.Message, pgErr.Code, hint)
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("cannot connect to PostgreSQL at %s: unknown host %s; check the host in GATEHOUSE_DATABASE_URL", where, dnsErr.Name)
	case errors.As(err, &errno):
		return fmt.Sprintf("cannot connect to PostgreSQL at %s: %v; is the server running, and are the host and port right?", where, errno)
	case errors.As(err, &ce), postgres.IsUnavailable(err):
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
			return fmt.Sprintf("cannot connect to PostgreSQL at %s: timed out; is the server reachable from here?", where)
		}
		cause := err
		if ce != nil && ce.Unwrap() != nil {
			cause = ce.Unwrap()
		}
		return fmt.Sprintf("cannot connect to PostgreSQL at %s: %s", where, firstLine(cause.Error()))
	}
	return fmt.Sprintf("PostgreSQL at %s: %v", where, err)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
