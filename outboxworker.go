package gatehouse

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"
)

// OutboxConfig tunes the outbox worker.
type OutboxConfig struct {
	// RetryMin is the wait after the first failed attempt; each further failure doubles it, up to
	// RetryMax.
	RetryMin time.Duration
	RetryMax time.Duration
	// MaxAge is how long a message is retried before it is given up with a logged error.
	MaxAge time.Duration
	// PollInterval is how often the worker looks for messages it was not told about (queued by
	// another instance, or left by a worker that died).
	PollInterval time.Duration
	// SendTimeout bounds one delivery attempt.
	SendTimeout time.Duration
	// Retention is how long sent and given-up messages, and expired tokens, are kept.
	Retention time.Duration
}

// DefaultOutboxConfig retries at 5s, 10s, 20s, ... up to every 10 minutes, for a day.
var DefaultOutboxConfig = OutboxConfig{
	RetryMin:     5 * time.Second,
	RetryMax:     10 * time.Minute,
	MaxAge:       24 * time.Hour,
	PollInterval: 5 * time.Second,
	SendTimeout:  30 * time.Second,
	Retention:    7 * 24 * time.Hour,
}

// sweepInterval is how often given-up and old messages are swept.
const sweepInterval = time.Minute

// maxLastError bounds the error text stored with a message.
const maxLastError = 1000

// Outbox sends queued email. Its state is in the database, so a restart loses nothing; several
// instances may run workers on one database, each claiming messages under a lease. Delivery is at
// least once: a worker that dies between the mail server's acceptance and recording it leaves the
// message to be sent again when the lease ends. The Message-ID stays the same across attempts.
type Outbox struct {
	store     Store
	sealer    SecretSealer
	cfg       OutboxConfig
	log       *slog.Logger
	now       func() time.Time
	wake      chan struct{}
	lastSweep time.Time
}

// NewOutbox makes a worker; it does nothing until Run. now may be nil (time.Now).
func NewOutbox(store Store, sealer SecretSealer, cfg OutboxConfig, log *slog.Logger, now func() time.Time) *Outbox {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	return &Outbox{store: store, sealer: sealer, cfg: cfg, log: log, now: now, wake: make(chan struct{}, 1)}
}

// Wake tells the worker that a message is waiting. It never blocks.
func (o *Outbox) Wake() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// Run sends messages until ctx is done. A message in hand when ctx ends is still finished (within
// SendTimeout), so that a clean shutdown sends nothing twice.
func (o *Outbox) Run(ctx context.Context, mailer Mailer) {
	for ctx.Err() == nil {
		if _, err := o.Process(ctx, mailer); err != nil && ctx.Err() == nil {
			o.log.WarnContext(ctx, "email outbox: database unavailable; will retry", "error", err)
		}
		timer := time.NewTimer(o.nextWait(ctx))
		select {
		case <-ctx.Done():
		case <-o.wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// nextWait is how long the worker may sleep: until the next message is due, or PollInterval.
func (o *Outbox) nextWait(ctx context.Context) time.Duration {
	wait := o.cfg.PollInterval
	next, err := o.store.NextOutboxAttempt(ctx, o.sealer.KeyID())
	if err == nil {
		// A floor, so that a row due now but claimed by another instance does not make this one spin.
		wait = max(min(wait, next.Sub(o.now())), 5*time.Millisecond)
	}
	return wait
}

// Process sweeps if a sweep is due, then sends every message that is due. It returns how many it
// attempted.
func (o *Outbox) Process(ctx context.Context, mailer Mailer) (int, error) {
	if now := o.now(); now.Sub(o.lastSweep) >= sweepInterval {
		if err := o.sweep(ctx, now); err != nil {
			return 0, err
		}
		o.lastSweep = now
	}
	n := 0
	for ctx.Err() == nil {
		m, err := o.claim(ctx)
		if err != nil || m == nil {
			return n, err
		}
		o.deliver(ctx, mailer, m)
		n++
	}
	return n, nil
}

// sweep gives up messages that are too old or whose link expired, whoever's key sealed them, and
// deletes old records.
func (o *Outbox) sweep(ctx context.Context, now time.Time) error {
	var expired []string
	err := o.store.Tx(ctx, func(tx StoreTx) error {
		var err error
		if expired, err = tx.ExpireOutbox(ctx, now.Add(-o.cfg.MaxAge), now); err != nil {
			return err
		}
		return tx.PurgeEmail(ctx, now.Add(-o.cfg.Retention))
	})
	for _, id := range expired {
		o.log.ErrorContext(ctx, "email given up: not delivered before its deadline", "message_id", id)
	}
	return err
}

// claim leases the next due message, or returns nil.
func (o *Outbox) claim(ctx context.Context) (*OutboxMessage, error) {
	now := o.now()
	var msgs []*OutboxMessage
	err := o.store.Tx(ctx, func(tx StoreTx) error {
		var err error
		msgs, err = tx.ClaimOutbox(ctx, o.sealer.KeyID(), now, now.Add(o.lease()), 1)
		return err
	})
	if err != nil || len(msgs) == 0 {
		return nil, err
	}
	return msgs[0], nil
}

// lease outlasts a delivery attempt and its bookkeeping with room to spare.
func (o *Outbox) lease() time.Duration { return 2*o.cfg.SendTimeout + 30*time.Second }

// deliver makes one attempt at m and records the outcome.
func (o *Outbox) deliver(ctx context.Context, mailer Mailer, m *OutboxMessage) {
	// Finish the attempt and its record even if the server is shutting down meanwhile.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.cfg.SendTimeout+10*time.Second)
	defer cancel()
	attempts := m.Attempts + 1
	if m.ExpiresAt != nil && !o.now().Before(*m.ExpiresAt) {
		o.fail(ctx, m, attempts, "the link expired before it could be delivered")
		return
	}
	out, err := o.assemble(m)
	if err != nil {
		o.fail(ctx, m, attempts, err.Error())
		return
	}
	sendCtx, cancelSend := context.WithTimeout(ctx, o.cfg.SendTimeout)
	err = mailer.Send(sendCtx, out)
	cancelSend()
	now := o.now()
	if err == nil {
		if err := o.store.Tx(ctx, func(tx StoreTx) error { return tx.MarkOutboxSent(ctx, m.ID, attempts, now) }); err != nil {
			o.log.ErrorContext(ctx, "email sent but not recorded; it will be sent again", "message_id", m.ID, "error", err)
			return
		}
		o.log.InfoContext(ctx, "email sent", "message_id", m.ID, "kind", string(m.Kind), "attempts", attempts)
		return
	}
	next := now.Add(o.backoff(attempts))
	deadline := m.CreatedAt.Add(o.cfg.MaxAge)
	if m.ExpiresAt != nil && m.ExpiresAt.Before(deadline) {
		deadline = *m.ExpiresAt
	}
	if IsPermanentDeliveryError(err) || !next.Before(deadline) {
		o.fail(ctx, m, attempts, err.Error())
		return
	}
	if serr := o.store.Tx(ctx, func(tx StoreTx) error {
		return tx.MarkOutboxRetry(ctx, m.ID, attempts, next, truncateError(err.Error()))
	}); serr != nil {
		o.log.ErrorContext(ctx, "email attempt not recorded", "message_id", m.ID, "error", serr)
	}
	o.log.WarnContext(ctx, "email delivery failed; will retry", "message_id", m.ID, "kind", string(m.Kind),
		"attempts", attempts, "retry_in", next.Sub(now).Round(time.Millisecond).String(), "error", err)
}

// assemble opens m's sealed secret and puts the token back into its link (and a code, for the
// kinds that carry one).
func (o *Outbox) assemble(m *OutboxMessage) (*OutgoingEmail, error) {
	out := &OutgoingEmail{ID: m.ID, To: m.To, Subject: m.Subject, Text: m.Text, HTML: m.HTML}
	if m.Secret == nil {
		return out, nil
	}
	plain, err := o.sealer.Open(m.Secret, []byte(m.ID))
	if err != nil {
		return nil, &Error{Kind: KindInternal, Code: "outbox_unsealable", Message: "the sealed link cannot be opened with this server's key", Err: err}
	}
	pairs, ok := openPayload(plain)
	if !ok {
		return nil, &Error{Kind: KindInternal, Code: "outbox_unsealable", Message: "the sealed link is malformed"}
	}
	for i := 0; i < len(pairs); i += 2 {
		out.Text = strings.ReplaceAll(out.Text, pairs[i], pairs[i+1])
		out.HTML = strings.ReplaceAll(out.HTML, pairs[i], pairs[i+1])
	}
	return out, nil
}

// fail gives m up and says so in the log, at error level: someone did not get an email.
func (o *Outbox) fail(ctx context.Context, m *OutboxMessage, attempts int, reason string) {
	now := o.now()
	if err := o.store.Tx(ctx, func(tx StoreTx) error {
		return tx.MarkOutboxFailed(ctx, m.ID, attempts, now, truncateError(reason))
	}); err != nil {
		o.log.ErrorContext(ctx, "email give-up not recorded", "message_id", m.ID, "error", err)
	}
	o.log.ErrorContext(ctx, "email given up", "message_id", m.ID, "kind", string(m.Kind), "attempts", attempts, "error", reason)
}

// backoff is the wait after the given number of failed attempts: RetryMin doubled per further
// failure, capped at RetryMax, plus up to 10% jitter so that instances do not retry in step.
func (o *Outbox) backoff(attempts int) time.Duration {
	d := o.cfg.RetryMin
	for i := 1; i < attempts && d < o.cfg.RetryMax; i++ {
		d *= 2
	}
	d = min(d, o.cfg.RetryMax)
	if d >= 10 {
		d += rand.N(d / 10)
	}
	return d
}

func truncateError(s string) string {
	if len(s) > maxLastError {
		s = s[:maxLastError]
	}
	// PostgreSQL refuses invalid UTF-8, which the cut or a mail server may have left.
	return strings.ToValidUTF8(s, "?")
}
