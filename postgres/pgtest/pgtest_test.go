package pgtest_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/postgres/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestMigratedDatabaseIsAMigratedDatabase: a copy of the template has the schema, every migration
// recorded, and nothing else, exactly as an empty database that postgres.Open migrated; and it is
// a database of its own, which a test may change without reaching the next one's (nor the template).
func TestMigratedDatabaseIsAMigratedDatabase(t *testing.T) {
	ctx := context.Background()
	fresh := pgtest.NewDatabase(t)
	s, err := postgres.Open(ctx, fresh, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	copied := pgtest.NewMigratedDatabase(t)
	if copied == fresh {
		t.Fatal("the same database twice")
	}

	want, got := describe(t, fresh), describe(t, copied)
	if !strings.Contains(want, "table users") || !strings.Contains(want, "migration 1\n") {
		t.Fatalf("the migrated database lacks the users table or migration 1:\n%s", want)
	}
	if got != want {
		t.Fatalf("the template's copy differs from a migrated database:\n--- copy\n%s\n--- migrated\n%s", got, want)
	}

	db := open(t, copied)
	if _, err := db.Exec(`CREATE TABLE only_here (x INT)`); err != nil {
		t.Fatal(err)
	}
	// The first may be the spare copy, made before the change; the second is made after it.
	for range 2 {
		if next := describe(t, pgtest.NewMigratedDatabase(t)); next != want {
			t.Fatalf("a change to one copy reached the next:\n%s", next)
		}
	}
}

// describe lists a database's tables, columns, indexes, constraints, recorded migrations and
// rows per table: what a migration creates.
func describe(t *testing.T, url string) string {
	t.Helper()
	db := open(t, url)
	var b strings.Builder
	queries := []string{
		`SELECT 'table ' || table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
		`SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || COALESCE(column_default, '')
		   FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1`,
		`SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1`,
		`SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
		   FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1`,
		`SELECT 'migration ' || version FROM schema_migrations ORDER BY version`,
	}
	for _, q := range queries {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			b.WriteString(line + "\n")
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	// Rows a migration inserted (schema_migrations' applied_at differs, by design: it is when).
	rows, err := db.Query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'schema_migrations' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	for _, name := range tables {
		var n int
		if err := db.QueryRow(fmt.Sprintf(`SELECT COUNT(*) FROM %q`, name)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "rows %s %d\n", name, n)
	}
	return b.String()
}

func open(t *testing.T, url string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
