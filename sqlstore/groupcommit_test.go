package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"testing"

	"github.com/gatehouse/gatehouse"
	_ "modernc.org/sqlite"
)

// These tests drive the committer directly, so that which transactions share a batch is decided
// by the test rather than by timing: a first transaction holds the writer until the others have
// been queued, and they then run as one batch.

func openBatchStore(t *testing.T) *Store {
	t.Helper()
	dsn := "file:" + filepath.Join(t.TempDir(), "batch.db") + "?_pragma=journal_mode(WAL)&_txlock=immediate"
	write, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	write.SetMaxOpenConns(1)
	if _, err := write.Exec(`CREATE TABLE notes (name TEXT PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	s := New(write, write, Dialect{
		Name:              "sqlite",
		Placeholder:       func(n int) string { return "?" + strconv.Itoa(n) },
		PrepareStatements: true,
		GroupCommit:       true,
	})
	t.Cleanup(func() { s.Close() })
	return s
}

func insertNote(name string) func(gatehouse.StoreTx) error {
	return func(t gatehouse.StoreTx) error {
		_, err := t.(*tx).exec(context.Background(), `INSERT INTO notes (name) VALUES (?)`, name)
		return err
	}
}

func notes(t *testing.T, s *Store) []string {
	t.Helper()
	rows, err := s.read.Query(`SELECT name FROM notes ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

// holdWriter starts a transaction that writes name and then waits for release, so that the
// transactions queued meanwhile form the next batch. It returns the channel its outcome arrives on.
func holdWriter(t *testing.T, s *Store, name string) (release chan struct{}, outcome chan error) {
	t.Helper()
	release, outcome = make(chan struct{}), make(chan error, 1)
	running := make(chan struct{})
	go func() {
		outcome <- s.Tx(context.Background(), func(t gatehouse.StoreTx) error {
			close(running)
			<-release
			return insertNote(name)(t)
		})
	}()
	<-running
	return release, outcome
}

func enqueue(t *testing.T, s *Store, ctx context.Context, fn func(gatehouse.StoreTx) error) *pendingTx {
	t.Helper()
	p, err := s.batch.enqueue(ctx, fn)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// awaitRecovering returns the transaction's error, or the value it panicked with.
func awaitRecovering(s *Store, p *pendingTx) (err error, panicked any) {
	defer func() { panicked = recover() }()
	return s.batch.await(p), nil
}

func TestGroupCommitIsolatesEachTransaction(t *testing.T) {
	s := openBatchStore(t)
	ctx := context.Background()
	release, first := holdWriter(t, s, "a")

	errRefused := errors.New("refused after writing")
	var sawB bool
	ok := enqueue(t, s, ctx, insertNote("b"))
	failing := enqueue(t, s, ctx, func(tx gatehouse.StoreTx) error {
		if err := insertNote("c")(tx); err != nil {
			return err
		}
		return errRefused
	})
	panicking := enqueue(t, s, ctx, func(tx gatehouse.StoreTx) error {
		if err := insertNote("d")(tx); err != nil {
			return err
		}
		panic("boom")
	})
	duplicate := enqueue(t, s, ctx, insertNote("b"))
	cancelledCtx, cancel := context.WithCancel(ctx)
	cancelled := enqueue(t, s, cancelledCtx, insertNote("e"))
	cancel()
	later := enqueue(t, s, ctx, func(st gatehouse.StoreTx) error {
		var n int
		if err := st.(*tx).queryRow(ctx, `SELECT count(*) FROM notes WHERE name = 'b'`).Scan(&n); err != nil {
			return err
		}
		sawB = n == 1
		return insertNote("f")(st)
	})
	close(release)

	if err := <-first; err != nil {
		t.Fatalf("holding transaction: %v", err)
	}
	if err, p := awaitRecovering(s, ok); err != nil || p != nil {
		t.Errorf("b: err %v, panic %v; want success", err, p)
	}
	if err, _ := awaitRecovering(s, failing); !errors.Is(err, errRefused) {
		t.Errorf("c: err %v; want its own error", err)
	}
	if _, p := awaitRecovering(s, panicking); p != "boom" {
		t.Errorf("d: panic %v; want the transaction's panic re-raised in its caller", p)
	}
	if err, _ := awaitRecovering(s, duplicate); err == nil {
		t.Error("second insert of b: want a unique violation")
	}
	if err, _ := awaitRecovering(s, cancelled); err == nil {
		t.Error("e: want an error for a caller whose context ended before its turn")
	}
	if err, p := awaitRecovering(s, later); err != nil || p != nil {
		t.Errorf("f: err %v, panic %v; want success", err, p)
	}
	if !sawB {
		t.Error("f did not see b, committed earlier in the same batch")
	}
	if got, want := notes(t, s), []string{"a", "b", "f"}; !slices.Equal(got, want) {
		t.Errorf("notes = %v, want %v: failed transactions must leave nothing, the others everything", got, want)
	}
}

func TestGroupCommitAbandonedCallerIsNeverRun(t *testing.T) {
	s := openBatchStore(t)
	release, first := holdWriter(t, s, "a")
	ctx, cancel := context.WithCancel(context.Background())
	ran := false
	p := enqueue(t, s, ctx, func(tx gatehouse.StoreTx) error {
		ran = true
		return insertNote("x")(tx)
	})
	cancel()
	if err := s.batch.await(p); !errors.Is(err, context.Canceled) {
		t.Fatalf("await after cancel = %v, want context.Canceled", err)
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	// A later transaction runs after the batch the abandoned one was queued for.
	if err := s.Tx(context.Background(), insertNote("z")); err != nil {
		t.Fatal(err)
	}
	if ran {
		t.Error("the abandoned transaction ran")
	}
	if got, want := notes(t, s), []string{"a", "z"}; !slices.Equal(got, want) {
		t.Errorf("notes = %v, want %v", got, want)
	}
}

func TestGroupCommitAfterClose(t *testing.T) {
	s := openBatchStore(t)
	s.Close()
	err := s.Tx(context.Background(), insertNote("a"))
	var ge *gatehouse.Error
	if !errors.As(err, &ge) || ge.Kind != gatehouse.KindUnavailable {
		t.Fatalf("Tx after Close = %v, want an unavailable error", err)
	}
}

// When a transaction ends the whole database transaction, or its goroutine, none of its batch may
// be reported as committed, and the store goes on.
func TestGroupCommitLostBatchFailsEveryone(t *testing.T) {
	for name, breaking := range map[string]func(*tx) error{
		// SQLite does so by itself on a full disk or an I/O error.
		"transaction ended, error returned": func(t *tx) error {
			if _, err := t.exec(context.Background(), `ROLLBACK`); err != nil {
				return err
			}
			return errors.New("the transaction is gone")
		},
		"transaction ended, success returned": func(t *tx) error {
			_, _ = t.exec(context.Background(), `ROLLBACK`)
			return nil
		},
		// t.FailNow in a test's transaction does so.
		"goroutine ended": func(t *tx) error {
			if err := insertNote("x")(t); err != nil {
				return err
			}
			runtime.Goexit()
			return nil
		},
	} {
		t.Run(name, func(t *testing.T) {
			s := openBatchStore(t)
			ctx := context.Background()
			release, first := holdWriter(t, s, "a")
			batch := map[string]*pendingTx{
				"before":   enqueue(t, s, ctx, insertNote("b")),
				"breaking": enqueue(t, s, ctx, func(st gatehouse.StoreTx) error { return breaking(st.(*tx)) }),
				"after":    enqueue(t, s, ctx, insertNote("c")),
			}
			close(release)
			if err := <-first; err != nil {
				t.Fatal(err)
			}
			for name, p := range batch {
				if err := s.batch.await(p); err == nil {
					t.Errorf("%s: nil error, but its batch was never committed", name)
				}
			}
			if got, want := notes(t, s), []string{"a"}; !slices.Equal(got, want) {
				t.Errorf("notes = %v, want %v", got, want)
			}
			if err := s.Tx(ctx, insertNote("d")); err != nil {
				t.Fatalf("the store must go on for the next transaction: %v", err)
			}
		})
	}
}

// A failure can rest on an earlier transaction of its batch: its caller is answered only once that
// transaction is committed, so what it was refused for is there to be read.
func TestGroupCommitAnswersFailuresAfterCommit(t *testing.T) {
	s := openBatchStore(t)
	ctx := context.Background()
	release, first := holdWriter(t, s, "a")
	creates := enqueue(t, s, ctx, insertNote("b"))
	duplicate := enqueue(t, s, ctx, insertNote("b"))
	close(release)
	if err := s.batch.await(duplicate); err == nil {
		t.Fatal("second insert of b: want a unique violation")
	}
	if got := notes(t, s); !slices.Contains(got, "b") {
		t.Errorf("notes = %v when the duplicate was refused: b, the reason, is not committed yet", got)
	}
	if err := s.batch.await(creates); err != nil {
		t.Fatal(err)
	}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
}
