package postgres_test

import (
	"os"
	"testing"

	"github.com/gatehouse/gatehouse/postgres/pgtest"
)

// TestMain waits, once the tests have run, for pgtest to drop their PostgreSQL databases, which
// it does in the background while the next tests run.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
