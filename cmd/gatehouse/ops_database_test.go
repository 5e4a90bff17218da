package main

import (
	"os"
	"testing"

	"github.com/gatehouse/gatehouse/postgres/pgtest"
)

// testDatabaseEnv selects the database of test servers. The default is a fresh SQLite file in
// the test's data dir; GATEHOUSE_TEST_DB=postgres runs the same suite on a fresh PostgreSQL
// database per test (server from GATEHOUSE_TEST_POSTGRES_URL, see scripts/postgres-up.sh).
func testDatabaseEnv(t *testing.T) map[string]string {
	if os.Getenv("GATEHOUSE_TEST_DB") != "postgres" {
		return nil
	}
	return postgresEnv(t)
}

// postgresEnv points a server at a fresh PostgreSQL database, dropped when the test ends. Tests
// of multi-instance behaviour call it directly: they need PostgreSQL whatever GATEHOUSE_TEST_DB says.
func postgresEnv(t *testing.T) map[string]string {
	t.Helper()
	return map[string]string{"GATEHOUSE_DATABASE_URL": pgtest.NewDatabase(t)}
}
