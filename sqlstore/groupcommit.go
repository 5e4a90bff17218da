package sqlstore

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"

	"github.com/gatehouse/gatehouse"
)

// A database with a single writer (SQLite) runs one transaction at a time, and a transaction's
// fixed costs — BEGIN, COMMIT writing every page it touched to the WAL — dominate the short
// transactions of an auth server. Group commit runs the transactions that queued up while the
// previous batch ran between one BEGIN and one COMMIT, each inside its own SAVEPOINT, so that one
// that fails or panics is rolled back alone and the others still commit. A caller is answered
// only once its work is durable (or rolled back), exactly as with a transaction of its own.
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
	done   []*pendingTx // the batch's successes, reused
	// savepoints holds the statements "SAVEPOINT gN" and "ROLLBACK TO gN", built once.
	savepoints, rollbacks [maxBatch]string
}

var errStoreClosed = &gatehouse.Error{Kind: gatehouse.KindUnavailable, Code: "database_unavailable",
	Message: "The server is shutting down; retry shortly.", RetryAfter: gatehouse.ErrStoreUnavailable.RetryAfter,
	Err: errors.New("store closed")}

func newGroupCommitter(s *Store) *groupCommitter {
	c := &groupCommitter{
		s:      s,
		queue:  make(chan *pendingTx, 4*maxBatch),
		quit:   make(chan struct{}),
		exited: make(chan struct{}),
		done:   make([]*pendingTx, 0, maxBatch),
	}
	for i := range maxBatch {
		name := "g" + strconv.Itoa(i)
		c.savepoints[i] = "SAVEPOINT " + name
		c.rollbacks[i] = "ROLLBACK TO " + name
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
	defer close(c.exited)
	batch := make([]*pendingTx, 0, maxBatch)
	for {
		select {
		case p := <-c.queue:
			batch = append(batch[:0], p)
		case <-c.quit:
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
	defer s.prepareQueued()
	sqlTx, err := s.write.BeginTx(context.Background(), nil)
	if err != nil {
		answerAll(live, s.mapErr(err))
		return
	}
	t := &tx{reader: reader{s: s, q: sqlTx, db: s.write, tx: sqlTx, detached: true}, t: sqlTx}
	done := c.done[:0] // succeeded, answered after the commit
	defer func() { clear(c.done[:cap(c.done)]) }()
	for i, p := range live {
		if err := p.ctx.Err(); err != nil {
			p.result <- txResult{err: s.mapErr(err)}
			continue
		}
		if _, err := t.exec(context.Background(), c.savepoints[i]); err != nil {
			_ = sqlTx.Rollback()
			answerAll(done, err)
			answerAll(live[i:], err)
			return
		}
		r := call(p.fn, t)
		if r.err == nil && !r.panicked {
			done = append(done, p)
			continue
		}
		if _, err := t.exec(context.Background(), c.rollbacks[i]); err != nil {
			// The failure took the whole transaction with it (SQLite does so on a full disk or an
			// I/O error): nothing of this batch was written.
			_ = sqlTx.Rollback()
			p.result <- r
			answerAll(done, err)
			answerAll(live[i+1:], err)
			return
		}
		p.result <- r
	}
	if len(done) == 0 {
		_ = sqlTx.Rollback()
		return
	}
	answerAll(done, s.mapErr(sqlTx.Commit()))
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

func answerAll(ps []*pendingTx, err error) {
	for _, p := range ps {
		p.result <- txResult{err: err}
	}
}
