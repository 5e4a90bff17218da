package postgres

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/jackc/pgx/v5"
)

// InvalidateChannel is the NOTIFY channel on which the schema's triggers announce, at commit, a
// revoked session or a changed user (see migrations/0001_core.sql).
const InvalidateChannel = "gatehouse_invalidate"

// ParseChange reads a notification's payload, "table:id" as the schema's triggers send it. A payload
// it does not know is the zero Change, which forgets everything.
func ParseChange(payload string) gatehouse.Change {
	table, id, _ := strings.Cut(payload, ":")
	if id == "" {
		return gatehouse.Change{}
	}
	switch table {
	case "sessions":
		return gatehouse.Change{SessionID: id}
	case "users":
		return gatehouse.Change{UserID: id}
	case "api_keys":
		return gatehouse.Change{APIKeyID: id}
	}
	return gatehouse.Change{}
}

// WatchInvalidations listens on InvalidateChannel and calls invalidate with every notification's
// payload ("table:id"), until ctx is done. It holds one connection of its own, outside the pool.
//
// Notifications sent while the connection is down are lost, so invalidate is also called, with
// "", after every (re)connection; in between, the principal cache's TTL bounds how stale an instance can be.
// It reconnects by itself with a capped backoff, logging the outage once rather than per attempt.
func WatchInvalidations(ctx context.Context, url string, opts Options, log *slog.Logger, invalidate func(change string)) error {
	cfg, err := ConnConfig(url, opts)
	if err != nil {
		return err
	}
	if log == nil {
		log = slog.Default()
	}
	const minBackoff, maxBackoff = 250 * time.Millisecond, 5 * time.Second
	backoff := minBackoff
	down := false
	for ctx.Err() == nil {
		err := listenOnce(ctx, cfg, invalidate, func() {
			if down {
				log.Info("postgres: invalidation listener reconnected")
				down = false
			}
			backoff = minBackoff
		})
		if ctx.Err() != nil {
			return nil
		}
		if !down {
			log.Warn("postgres: invalidation listener lost its connection; caches expire by TTL until it is back", "error", err)
			down = true
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
	return nil
}

func listenOnce(ctx context.Context, cfg *pgx.ConnConfig, invalidate func(change string), connected func()) error {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+InvalidateChannel); err != nil {
		return err
	}
	connected()
	invalidate("")
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		invalidate(n.Payload)
	}
}
