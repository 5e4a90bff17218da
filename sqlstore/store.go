// Package sqlstore implements gatehouse.Store over database/sql. The SQL dialects differ in little
// but placeholders, locking and error codes, so one implementation serves SQLite and PostgreSQL;
// packages sqlite and postgres supply the connection, the schema and a Dialect.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gatehouse/gatehouse"
)

// Dialect is what differs between databases.
type Dialect struct {
	Name string
	// Placeholder rewrites the ?-placeholders of a query into the database's own ($1, ?1, ...).
	Placeholder func(n int) string
	// ForUpdate is appended to a SELECT that must lock its row until the transaction ends.
	ForUpdate string
	// IsUniqueViolation reports a unique-constraint failure.
	IsUniqueViolation func(error) bool
	// IsUnavailable reports an error that means the database cannot be reached or is overloaded.
	IsUnavailable func(error) bool
	// IsInvalidInput reports an error caused by a value the database cannot hold.
	IsInvalidInput func(error) bool
	// PrepareStatements keeps prepared statements per connection. SQLite spends more time
	// parsing a statement than running it; pgx caches statements by itself.
	PrepareStatements bool
	// GroupCommit batches concurrent transactions into one database transaction (see
	// groupcommit.go): for a database with a single writer, whose per-transaction costs
	// are paid one after the other.
	GroupCommit bool
	// WritableCTE: INSERT and UPDATE may appear in a WITH clause, so that several writes
	// make one statement (PostgreSQL).
	WritableCTE bool
}

// Store is a gatehouse.Store.
type Store struct {
	reader          // reads outside transactions go to the read pool
	read    *sql.DB // reads outside transactions
	write   *sql.DB // transactions; SQLite gives it a single connection so writers queue in Go
	dialect Dialect
	queries sync.Map // query text -> rebound text
	stmts   sync.Map // stmtKey -> *sql.Stmt
	// toPrepare holds statements first met inside a transaction (stmtKey -> struct{}).
	toPrepare sync.Map
	batch     *groupCommitter // nil without group commit
	// the refresh rotation's statements, in the dialect's locking
	spendSQL, rotateSQL string
	closeOnce           sync.Once
	trace               atomic.Pointer[func(query string)] // see Trace
}

type stmtKey struct {
	db *sql.DB
	q  string
}

var _ gatehouse.Store = (*Store)(nil)

// New wraps open databases. read and write may be the same.
func New(read, write *sql.DB, d Dialect) *Store {
	s := &Store{read: read, write: write, dialect: d, spendSQL: spendGuarded(d.ForUpdate), rotateSQL: rotateInOne(d.ForUpdate)}
	s.reader = reader{s: s, q: read, db: read}
	if d.GroupCommit {
		s.batch = newGroupCommitter(s)
	}
	return s
}

// Trace calls fn with the text of every statement the store runs from now on (nil stops), for
// tests and benchmarks that count a request's database round trips. BEGIN and COMMIT are not
// statements of the store's and are not reported.
func (s *Store) Trace(fn func(query string)) {
	if fn == nil {
		s.trace.Store(nil)
		return
	}
	s.trace.Store(&fn)
}

func (s *Store) traced(q string) {
	if fn := s.trace.Load(); fn != nil {
		(*fn)(q)
	}
}

// DB returns the database that transactions use, for the edge packages' own needs.
func (s *Store) DB() *sql.DB { return s.write }

// Dialect returns the store's dialect.
func (s *Store) Dialect() Dialect { return s.dialect }

func (s *Store) Close() error {
	if s.batch != nil {
		s.closeOnce.Do(s.batch.close)
	}
	s.stmts.Range(func(_, v any) bool {
		v.(*sql.Stmt).Close()
		return true
	})
	err := s.write.Close()
	if s.read != s.write {
		err = errors.Join(err, s.read.Close())
	}
	return err
}

func (s *Store) Ping(ctx context.Context) error {
	if err := s.write.PingContext(ctx); err != nil {
		return s.mapErr(err)
	}
	var one int
	if err := s.read.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return s.mapErr(err)
	}
	return nil
}

// Tx runs fn in one transaction and commits when fn returns nil.
func (s *Store) Tx(ctx context.Context, fn func(gatehouse.StoreTx) error) (err error) {
	if s.batch != nil {
		return s.batch.run(ctx, fn)
	}
	sqlTx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return s.mapErr(err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = sqlTx.Rollback()
			panic(p)
		}
	}()
	defer s.prepareQueued()
	if err := fn(&tx{reader: reader{s: s, q: sqlTx, db: s.write, tx: sqlTx}, t: sqlTx}); err != nil {
		_ = sqlTx.Rollback()
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return s.mapErr(err)
	}
	return nil
}

// rebind turns ? placeholders into the dialect's. Queries are constants, so results are cached.
func (s *Store) rebind(q string) string {
	if v, ok := s.queries.Load(q); ok {
		return v.(string)
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString(s.dialect.Placeholder(n))
			continue
		}
		b.WriteRune(r)
	}
	out := b.String()
	s.queries.Store(q, out)
	return out
}

// mapErr turns driver errors into domain errors; anything unknown stays internal.
func (s *Store) mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return gatehouse.ErrNotFound
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &gatehouse.Error{Kind: gatehouse.KindUnavailable, Code: "database_unavailable",
			Message: "The database did not answer in time; retry shortly.", RetryAfter: gatehouse.ErrStoreUnavailable.RetryAfter, Err: err}
	case s.dialect.IsUnavailable != nil && s.dialect.IsUnavailable(err):
		return &gatehouse.Error{Kind: gatehouse.KindUnavailable, Code: "database_unavailable",
			Message: gatehouse.ErrStoreUnavailable.Message, RetryAfter: gatehouse.ErrStoreUnavailable.RetryAfter, Err: err}
	case s.dialect.IsInvalidInput != nil && s.dialect.IsInvalidInput(err):
		// A value the database cannot hold (bad encoding, too long to index) came from a client:
		// the edges validate input, and this is the backstop that keeps it a 400.
		return &gatehouse.Error{Kind: gatehouse.KindBadRequest, Code: "invalid_input",
			Message: "The request contains a value that cannot be stored.", Err: err}
	}
	var ge *gatehouse.Error
	if errors.As(err, &ge) {
		return err
	}
	return fmt.Errorf("%s: %w", s.dialect.Name, err)
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// reader implements gatehouse.StoreReader on a database or a transaction.
type reader struct {
	s  *Store
	q  querier
	db *sql.DB // the database q runs on
	tx *sql.Tx // set inside a transaction
	// detached statements ignore their context's cancellation (see groupcommit.go).
	detached bool
}

// stmtContext is the context a statement runs with.
func (r reader) stmtContext(ctx context.Context) context.Context {
	if r.detached {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

// prepared returns the statement for q, prepared once per database and bound to the
// transaction when there is one; nil when the dialect does not prepare, or the statement is not
// prepared yet inside a transaction (preparing needs a free connection, and SQLite's writer has
// only the one the transaction holds: it is prepared once the transaction ends), or preparing
// failed (the plain query then reports the error).
func (r reader) prepared(ctx context.Context, q string) *sql.Stmt {
	if !r.s.dialect.PrepareStatements {
		return nil
	}
	key := stmtKey{r.db, q}
	v, ok := r.s.stmts.Load(key)
	if !ok {
		if r.tx != nil {
			r.s.toPrepare.Store(key, struct{}{})
			return nil
		}
		st, err := r.db.PrepareContext(context.Background(), r.s.rebind(q))
		if err != nil {
			return nil
		}
		if v, ok = r.s.stmts.LoadOrStore(key, st); ok {
			st.Close()
		}
	}
	st := v.(*sql.Stmt)
	if r.tx != nil {
		return r.tx.StmtContext(ctx, st)
	}
	return st
}

// prepareQueued prepares the statements transactions met for the first time.
func (s *Store) prepareQueued() {
	s.toPrepare.Range(func(k, _ any) bool {
		key := k.(stmtKey)
		s.toPrepare.Delete(key)
		if _, ok := s.stmts.Load(key); ok {
			return true
		}
		st, err := key.db.PrepareContext(context.Background(), s.rebind(key.q))
		if err != nil {
			return true
		}
		if _, loaded := s.stmts.LoadOrStore(key, st); loaded {
			st.Close()
		}
		return true
	})
}

func (r reader) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	r.s.traced(q)
	ctx = r.stmtContext(ctx)
	if st := r.prepared(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return r.q.QueryRowContext(ctx, r.s.rebind(q), args...)
}

func (r reader) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	r.s.traced(q)
	ctx = r.stmtContext(ctx)
	if st := r.prepared(ctx, q); st != nil {
		rows, err := st.QueryContext(ctx, args...)
		return rows, r.s.mapErr(err)
	}
	rows, err := r.q.QueryContext(ctx, r.s.rebind(q), args...)
	return rows, r.s.mapErr(err)
}

// queryAll runs a query and returns every row as scan reads it.
func queryAll[T any](ctx context.Context, r reader, scan func(rowScanner) (T, error), q string, args ...any) ([]T, error) {
	rows, err := r.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, r.s.mapErr(err)
		}
		out = append(out, v)
	}
	return out, r.s.mapErr(rows.Err())
}

// queryIDs runs a query of one text column and returns its values.
func (r reader) queryIDs(ctx context.Context, q string, args ...any) ([]string, error) {
	return queryAll(ctx, r, func(row rowScanner) (id string, err error) { return id, row.Scan(&id) }, q, args...)
}

// tx implements gatehouse.StoreTx.
type tx struct {
	reader
	t *sql.Tx
}

func (t *tx) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	t.s.traced(q)
	ctx = t.stmtContext(ctx)
	if st := t.prepared(ctx, q); st != nil {
		res, err := st.ExecContext(ctx, args...)
		return res, t.s.mapErr(err)
	}
	res, err := t.t.ExecContext(ctx, t.s.rebind(q), args...)
	return res, t.s.mapErr(err)
}

// execOne runs a statement that must change exactly one row; zero rows is ErrNotFound.
func (t *tx) execOne(ctx context.Context, q string, args ...any) error {
	res, err := t.exec(ctx, q, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return t.s.mapErr(err)
	}
	if n == 0 {
		return gatehouse.ErrNotFound
	}
	return nil
}
