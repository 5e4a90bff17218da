package gatehouse

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// RateRule allows Limit events per Window for one key (an IP, an account).
type RateRule struct {
	Name   string
	Limit  int
	Window time.Duration
}

// RateLimitWriter keeps sliding-window event logs: TakeRateEvent counts the events of key since
// since and, when fewer than limit, records one more at at (with id) in the same transaction.
// The count and the insert are atomic per key, so concurrent attempts never get past the limit.
type RateLimitWriter interface {
	TakeRateEvent(ctx context.Context, key, id string, at, since time.Time, limit int) (ok bool, oldest time.Time, err error)
	DeleteRateEvent(ctx context.Context, key, id string) error
	ClearRateEvents(ctx context.Context, key string) error
	// PruneRateEvents deletes events older than before.
	PruneRateEvents(ctx context.Context, before time.Time) error
}

// RateLimiter enforces RateRules over the store, so every instance sharing a database shares
// the counters: spreading an attack over instances gains nothing.
type RateLimiter struct {
	store   Store
	enabled bool
	now     func() time.Time
	onLimit func(rule string)
}

// NewRateLimiter returns a limiter; a disabled one allows everything. onLimit, if set, is told
// of every refusal (metrics).
func NewRateLimiter(store Store, enabled bool, onLimit func(rule string)) *RateLimiter {
	return &RateLimiter{store: store, enabled: enabled, now: time.Now, onLimit: onLimit}
}

// hashedSubject keys a rate rule by a digest, so that subjects of any length or content (an
// email address as typed) make bounded, uniform keys.
func hashedSubject(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}

// Ticket is one counted event; Refund gives it back.
type Ticket struct {
	key, id string
}

// ErrRateLimited builds the 429 answer with its Retry-After.
func ErrRateLimited(retryAfter time.Duration) *Error {
	if retryAfter < time.Second {
		retryAfter = time.Second
	}
	return &Error{Kind: KindRateLimited, Code: "rate_limited", Message: "Too many attempts; retry later.", RetryAfter: retryAfter}
}

// Take counts one event for subject under rule, or refuses with a KindRateLimited error.
func (l *RateLimiter) Take(ctx context.Context, rule RateRule, subject string) (*Ticket, error) {
	if l == nil || !l.enabled || rule.Limit <= 0 {
		return nil, nil
	}
	now := l.now()
	key := rule.Name + ":" + subject
	id := NewID()
	var ok bool
	var oldest time.Time
	err := l.store.Tx(ctx, func(tx StoreTx) error {
		var err error
		ok, oldest, err = tx.TakeRateEvent(ctx, key, id, now, now.Add(-rule.Window), rule.Limit)
		return err
	})
	if err != nil {
		return nil, err
	}
	if !ok {
		if l.onLimit != nil {
			l.onLimit(rule.Name)
		}
		return nil, ErrRateLimited(oldest.Add(rule.Window).Sub(now))
	}
	return &Ticket{key: key, id: id}, nil
}

// TakeInTx counts one event for subject under rule inside tx, so that the event is kept exactly
// when the change it limits commits; ok is false past the limit. Use it where the limited thing
// is decided inside a transaction (a notice queued with a change), since Take opens its own.
func (l *RateLimiter) TakeInTx(ctx context.Context, tx StoreTx, rule RateRule, subject string) (ok bool, err error) {
	if l == nil || !l.enabled || rule.Limit <= 0 {
		return true, nil
	}
	now := l.now()
	ok, _, err = tx.TakeRateEvent(ctx, rule.Name+":"+subject, NewID(), now, now.Add(-rule.Window), rule.Limit)
	if err == nil && !ok && l.onLimit != nil {
		l.onLimit(rule.Name)
	}
	return ok, err
}

// Refund forgets a counted event, for attempts that turned out legitimate (a login that
// succeeded does not count against the account's failure limit).
func (l *RateLimiter) Refund(ctx context.Context, t *Ticket) {
	if t == nil {
		return
	}
	_ = l.store.Tx(ctx, func(tx StoreTx) error { return tx.DeleteRateEvent(ctx, t.key, t.id) })
}

// Clear forgets every event of subject under rule (a reset password ends the lockout).
func (l *RateLimiter) Clear(ctx context.Context, rule RateRule, subject string) {
	if l == nil || !l.enabled {
		return
	}
	_ = l.store.Tx(ctx, func(tx StoreTx) error { return tx.ClearRateEvents(ctx, rule.Name+":"+subject) })
}

// Prune deletes events older than maxWindow.
func (l *RateLimiter) Prune(ctx context.Context, maxWindow time.Duration) error {
	return l.store.Tx(ctx, func(tx StoreTx) error { return tx.PruneRateEvents(ctx, l.now().Add(-maxWindow)) })
}
