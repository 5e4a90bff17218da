package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/gatehouse/gatehouse"
)

// A database with a single writer (SQLite) runs one transaction at a time, and a transaction's
// fixed costs — BEGIN, COMMIT writing every page it touched to the WAL — dominate the short
// transactions of an auth server. Group commit runs the transactions that queued up while the
// previous batch ran between one BEGIN and one COMMIT, each inside a SAVEPOINT of its own, so that
// one that fails or panics is rolled back alone and the others still commit.
//
// Every caller is answered once the batch's outcome is final, failures included: a failure may
// rest on an earlier transaction of the same batch (the email it found taken, the token it found
// spent), and if the commit fails that is gone too, so the failure becomes the commit's error.
//
// Statements inside a batch ignore their caller's cancellation: SQLite answers an interrupted
// write inside a transaction by rolling back the whole transaction, which would take the rest of
// the batch with it. A caller whose context has ended before its turn is skipped instead.

// maxBatch bounds the work one COMMIT waits for, and so the latency a batch adds.
const maxBatch = 64

type batchState = int32

const (
	pendingQueued batchState = iota
	pendingRunning
	pendingAbandoned
)

type pendingTx struct {
	ctx    context.Context
	fn     func(gatehouse.StoreTx) error
	state  atomic.Int32
	result chan txResult // buffered: the committer never waits for the caller

	// Owned by the committer once running:
	outcome  txResult
	inBatch  bool // its writes are part of the batch's transaction
	answered bool
}

type txResult struct {
	err      error
	panicked bool
	panicVal any
}

type groupCommitter struct {
	s      *Store
	queue  chan *pendingTx
	quit   chan struct{}
	exited chan struct{}

	// The batch in progress, for abandon.
	current []*pendingTx
	sqlTx   *sql.Tx
}

const (
	savepoint         = "SAVEPOINT batched"
	releaseSavepoint  = "RELEASE batched"
	rollbackSavepoint = "ROLLBACK TO batched"
)

var errStoreClosed = &gatehouse.Error{Kind: gatehouse.KindUnavailable, Code: "database_unavailable",
	Message: "The server is shutting down; retry shortly.", RetryAfter: gatehouse.ErrStoreUnavailable.RetryAfter,
	Err: errors.New("store closed")}

func newGroupCommitter(s *Store) *groupCommitter {
	c := &groupCommitter{
		s:      s,
		queue:  make(chan *pendingTx, 4*maxBatch),
		quit:   make(chan struct{}),
		exited: make(chan struct{}),
	}
	go c.loop()
	return c
}

// run queues fn and waits for its outcome.
func (c *groupCommitter) run(ctx context.Context, fn func(gatehouse.StoreTx) error) error {
	p, err := c.enqueue(ctx, fn)
	if err != nil {
		return err
	}
	return c.await(p)
}

func (c *groupCommitter) enqueue(ctx context.Context, fn func(gatehouse.StoreTx) error) (*pendingTx, error) {
	p := &pendingTx{ctx: ctx, fn: fn, result: make(chan txResult, 1)}
	select {
	case c.queue <- p:
		return p, nil
	case <-ctx.Done():
		return nil, c.s.mapErr(ctx.Err())
	case <-c.quit:
		return nil, errStoreClosed
	}
}

// await waits for p's outcome. A caller that gives up before its turn is skipped; once its work
// has started it waits for the outcome, which the caller's own variables may be part of.
func (c *groupCommitter) await(p *pendingTx) error {
	var r txResult
	select {
	case r = <-p.result:
	case <-p.ctx.Done():
		if p.state.CompareAndSwap(pendingQueued, pendingAbandoned) {
			return c.s.mapErr(p.ctx.Err())
		}
		r = <-p.result
	case <-c.quit:
		if p.state.CompareAndSwap(pendingQueued, pendingAbandoned) {
			return errStoreClosed
		}
		r = <-p.result
	}
	if r.panicked {
		panic(r.panicVal)
	}
	return r.err
}

// close stops the committer once its current batch is answered.
func (c *groupCommitter) close() {
	close(c.quit)
	<-c.exited
}

func (c *groupCommitter) loop() {
	stopped := false
	defer func() {
		if stopped {
			close(c.exited)
			return
		}
		// A transaction function ended the goroutine (runtime.Goexit: t.FailNow in a test), or
		// the committer itself panicked: no caller may wait forever, and writes go on.
		c.abandon(recover())
		go c.loop()
	}()
	batch := make([]*pendingTx, 0, maxBatch)
	for {
		select {
		case p := <-c.queue:
			batch = append(batch[:0], p)
		case <-c.quit:
			stopped = true
			return
		}
	fill:
		for len(batch) < maxBatch {
			select {
			case p := <-c.queue:
				batch = append(batch, p)
			default:
				break fill
			}
		}
		c.runBatch(batch)
		clear(batch)
	}
}

// runBatch runs the claimed transactions of batch in one database transaction.
func (c *groupCommitter) runBatch(batch []*pendingTx) {
	live := batch[:0]
	for _, p := range batch {
		if p.state.CompareAndSwap(pendingQueued, pendingRunning) {
			live = append(live, p)
		}
	}
	if len(live) == 0 {
		return
	}
	s := c.s
	c.current = live
	sqlTx, err := s.write.BeginTx(context.Background(), nil)
	if err != nil {
		c.finish(s.mapErr(err))
		return
	}
	c.sqlTx = sqlTx
	t := &tx{reader: reader{s: s, q: sqlTx, db: s.write, tx: sqlTx, detached: true}, t: sqlTx}
	ctx := context.Background()
	anyWrites := false
	for _, p := range live {
		if err := p.ctx.Err(); err != nil {
			c.answer(p, txResult{err: s.mapErr(err)})
			continue
		}
		if _, err := t.exec(ctx, savepoint); err != nil {
			c.lose(err)
			return
		}
		p.outcome = call(p.fn, t)
		step := releaseSavepoint
		if p.outcome.err == nil && !p.outcome.panicked {
			p.inBatch, anyWrites = true, true
		} else {
			step = rollbackSavepoint
		}
		// A failure that ends the whole transaction (SQLite does so on a full disk or an I/O
		// error) shows here, whether or not the function passed it on.
		if _, err := t.exec(ctx, step); err != nil {
			c.lose(err)
			return
		}
		if step == rollbackSavepoint {
			if _, err := t.exec(ctx, releaseSavepoint); err != nil {
				c.lose(err)
				return
			}
		}
	}
	c.sqlTx = nil
	if !anyWrites {
		_ = sqlTx.Rollback()
		c.finish(nil)
	} else {
		c.finish(s.mapErr(sqlTx.Commit()))
	}
	s.prepareQueued()
}

// lose ends a batch whose transaction is gone: nothing of it was written.
func (c *groupCommitter) lose(err error) {
	_ = c.sqlTx.Rollback()
	c.sqlTx = nil
	c.finish(c.s.mapErr(err))
}

// finish answers every caller of the batch not answered yet. With commitErr nil, each gets its
// own outcome; otherwise the batch's writes are gone and everyone gets commitErr, except a
// transaction that panicked, whose caller re-panics.
func (c *groupCommitter) finish(commitErr error) {
	for _, p := range c.current {
		if p.answered {
			continue
		}
		r := p.outcome
		if commitErr != nil && !r.panicked {
			r = txResult{err: commitErr}
		}
		c.answer(p, r)
	}
	c.current = nil
}

// abandon answers the callers of a batch that never finished, after its goroutine ended.
func (c *groupCommitter) abandon(panicked any) {
	if c.sqlTx != nil {
		_ = c.sqlTx.Rollback()
		c.sqlTx = nil
	}
	err := fmt.Errorf("sqlstore: a batched transaction ended its goroutine (panic: %v)", panicked)
	for _, p := range c.current {
		if !p.answered {
			c.answer(p, txResult{err: err})
		}
	}
	c.current = nil
}

func (c *groupCommitter) answer(p *pendingTx, r txResult) {
	p.answered = true
	p.result <- r
}

// call runs fn and turns a panic into a result, so the committer outlives it and the caller's
// goroutine re-panics as it would have without the batch.
func call(fn func(gatehouse.StoreTx) error, t *tx) (r txResult) {
	defer func() {
		if v := recover(); v != nil {
			r = txResult{panicked: true, panicVal: v}
		}
	}()
	return txResult{err: fn(t)}
}
