package sqlite

import (
	"context"
	"database/sql"
	"time"
)

// SQLite's own automatic checkpoint runs inside the committing writer, so every thousand pages
// the single writer stops to copy the WAL into the database file and sync both; under load that
// was a fifth of the writer's time. Here the copying happens on another connection, beside the
// writer, and the writer only finishes off what arrived meanwhile: a checkpoint must complete on
// a quiet WAL before the next write can start the WAL file over, or it would grow without bound.

const (
	// checkpointEvery is how often the WAL is copied into the database file in the background.
	checkpointEvery = 100 * time.Millisecond
	// restartFrames is the WAL length (4 KiB frames) past which the writer itself completes a
	// checkpoint, so that the WAL starts over. A longer WAL also makes every page lookup slower.
	restartFrames = 4096
)

type checkpointer struct {
	read, write *sql.DB
	stop        context.CancelFunc
	stopped     chan struct{}
}

func startCheckpointer(read, write *sql.DB) *checkpointer {
	ctx, stop := context.WithCancel(context.Background())
	c := &checkpointer{read: read, write: write, stop: stop, stopped: make(chan struct{})}
	go c.loop(ctx)
	return c
}

func (c *checkpointer) close() {
	c.stop()
	<-c.stopped
}

func (c *checkpointer) loop(ctx context.Context) {
	defer close(c.stopped)
	tick := time.NewTicker(checkpointEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		c.round(ctx)
	}
}

// round copies the WAL into the database beside the writer, and has the writer finish the copy
// once the WAL has grown long. Errors are left for the next round: a checkpoint is an
// optimisation, and SQLite reads correctly from a long WAL.
func (c *checkpointer) round(ctx context.Context) {
	frames, err := checkpoint(ctx, c.read)
	if err == nil && frames > restartFrames {
		_, _ = checkpoint(ctx, c.write)
	}
}

// checkpoint copies what it can of the WAL without waiting for anyone and reports the WAL's length.
func checkpoint(ctx context.Context, db *sql.DB) (frames int, err error) {
	var busy, copied int
	err = db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied)
	return frames, err
}
