package sqlstore

import (
	"context"
	"database/sql"
	"time"
)

func (t *tx) TakeRateEvent(ctx context.Context, key, id string, at, since time.Time, limit int) (bool, time.Time, error) {
	// The key row serialises attempts on one key (FOR UPDATE on PostgreSQL; SQLite's write lock
	// already serialises every transaction), so the count below cannot be raced.
	if _, err := t.exec(ctx, `INSERT INTO rate_keys (key) VALUES (?) ON CONFLICT (key) DO NOTHING`, key); err != nil {
		return false, time.Time{}, err
	}
	var locked string
	if err := t.queryRow(ctx, `SELECT key FROM rate_keys WHERE key = ?`+t.s.dialect.ForUpdate, key).Scan(&locked); err != nil {
		return false, time.Time{}, t.s.mapErr(err)
	}
	if _, err := t.exec(ctx, `DELETE FROM rate_events WHERE key = ? AND at <= ?`, key, micros(since)); err != nil {
		return false, time.Time{}, err
	}
	var n int
	var oldest sql.NullInt64
	if err := t.queryRow(ctx, `SELECT COUNT(*), MIN(at) FROM rate_events WHERE key = ?`, key).Scan(&n, &oldest); err != nil {
		return false, time.Time{}, t.s.mapErr(err)
	}
	if n >= limit {
		return false, fromMicros(oldest.Int64), nil
	}
	if _, err := t.exec(ctx, `INSERT INTO rate_events (key, id, at) VALUES (?, ?, ?)`, key, id, micros(at)); err != nil {
		return false, time.Time{}, err
	}
	return true, time.Time{}, nil
}

func (t *tx) DeleteRateEvent(ctx context.Context, key, id string) error {
	_, err := t.exec(ctx, `DELETE FROM rate_events WHERE key = ? AND id = ?`, key, id)
	return err
}

func (t *tx) ClearRateEvents(ctx context.Context, key string) error {
	_, err := t.exec(ctx, `DELETE FROM rate_events WHERE key = ?`, key)
	return err
}

func (t *tx) PruneRateEvents(ctx context.Context, before time.Time) error {
	if _, err := t.exec(ctx, `DELETE FROM rate_events WHERE at < ?`, micros(before)); err != nil {
		return err
	}
	_, err := t.exec(ctx, `DELETE FROM rate_keys WHERE NOT EXISTS (SELECT 1 FROM rate_events e WHERE e.key = rate_keys.key)`)
	return err
}
