package main

import (
	"os"
	"testing"

	"github.com/gatehouse/gatehouse/postgres/pgtest"
)

// testDatabaseEnv selects the database of test servers. The default is a fresh SQLite file in
// the test's data dir; GATEHOUSE_TEST_DB=postgres runs the same suite on a fresh PostgreSQL
// database per test (server from GATEHOUSE_TEST_POSTGRES_URL, see scripts/postgres-up.sh), copied
// from a migrated template: the server finds its schema in place, as it does on SQLite after the
// first start. Migrating an empty database is what postgresEnv's tests and the postgres package do.
func testDatabaseEnv(t *testing.T) map[string]string {
	if os.Getenv("GATEHOUSE_TEST_DB") != "postgres" {
		return nil
	}
	t.Helper()
	return map[string]string{"GATEHOUSE_DATABASE_URL": pgtest.NewMigratedDatabase(t)}
}

// postgresEnv points a server at a fresh, empty PostgreSQL database, dropped when the test ends. Tests
// of multi-instance behaviour call it directly: they need PostgreSQL whatever GATEHOUSE_TEST_DB says.
func postgresEnv(t *testing.T) map[string]string {
	t.Helper()
	return map[string]string{"GATEHOUSE_DATABASE_URL": pgtest.NewDatabase(t)}
}
