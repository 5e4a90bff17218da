package gatehouse_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/seal"
)

// row reads the outbox as stored: every column a leak could hide in.
type row struct {
	text, html, subject, lastError string
	secret                         []byte
	attempts                       int
	sent, failed                   bool
}

func (r *emailRig) rows(t *testing.T) []row {
	t.Helper()
	rs, err := r.store.DB().Query(`SELECT text_body, html_body, subject, last_error, secret, attempts, sent_at IS NOT NULL, failed_at IS NOT NULL FROM email_outbox ORDER BY created_at, id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []row
	for rs.Next() {
		var x row
		if err := rs.Scan(&x.text, &x.html, &x.subject, &x.lastError, &x.secret, &x.attempts, &x.sent, &x.failed); err != nil {
			t.Fatal(err)
		}
		out = append(out, x)
	}
	return out
}

func (r *emailRig) nextAttempt(t *testing.T) time.Time {
	t.Helper()
	next, err := r.store.NextOutboxAttempt(context.Background(), r.box.KeyID())
	if err != nil {
		t.Fatal(err)
	}
	return next
}

func TestOutboxRetriesWithBackoffThenDeliversOnce(t *testing.T) {
	r := newEmailRig(t)
	r.mailer.setErr(errors.New("dial tcp: connection refused"))
	r.register(t, "jo@example.com")
	start := r.clock.Now()
	if n := r.process(t); n != 1 {
		t.Fatalf("attempted %d, want 1", n)
	}
	// 5s after the first failure, plus at most 10% jitter.
	if d := r.nextAttempt(t).Sub(start); d < 5*time.Second || d > 5500*time.Millisecond {
		t.Fatalf("first retry in %s, want 5s", d)
	}
	r.clock.Advance(4 * time.Second)
	if n := r.process(t); n != 0 {
		t.Fatal("retried before the back-off ended")
	}
	r.clock.Advance(1600 * time.Millisecond)
	if n := r.process(t); n != 1 {
		t.Fatalf("attempted %d after the back-off, want 1", n)
	}
	if d := r.nextAttempt(t).Sub(r.clock.Now()); d < 10*time.Second || d > 11*time.Second {
		t.Fatalf("second retry in %s, want 10s", d)
	}
	if !strings.Contains(r.logs.String(), "email delivery failed; will retry") {
		t.Fatalf("failures not logged:\n%s", r.logs)
	}
	r.mailer.setErr(nil)
	r.clock.Advance(11 * time.Second)
	r.process(t)
	r.clock.Advance(time.Hour)
	r.process(t)
	if n := len(r.mailer.messages()); n != 1 {
		t.Fatalf("delivered %d times, want once", n)
	}
	rows := r.rows(t)
	if len(rows) != 1 || !rows[0].sent || rows[0].attempts != 3 || rows[0].secret != nil {
		t.Fatalf("row after delivery: %+v", rows)
	}
}

func TestOutboxGivesUpAfterMaxAge(t *testing.T) {
	r := newEmailRig(t)
	r.mailer.setErr(errors.New("451 try again later"))
	r.register(t, "kim@example.com")
	for range 200 {
		r.process(t)
		r.clock.Advance(time.Minute)
	}
	tried := r.mailer.tried
	// RetryMax is a minute and MaxAge an hour: about 60 attempts, then none.
	if tried < 10 || tried > 70 {
		t.Fatalf("%d attempts in 200 minutes", tried)
	}
	rows := r.rows(t)
	if len(rows) != 1 || !rows[0].failed || rows[0].sent || rows[0].secret != nil || !strings.Contains(rows[0].lastError, "451") {
		t.Fatalf("row: %+v", rows)
	}
	if !strings.Contains(r.logs.String(), "level=ERROR msg=\"email given up\"") {
		t.Fatalf("giving up is not logged as an error:\n%s", r.logs)
	}
}

func TestOutboxPermanentFailureGivesUpAtOnce(t *testing.T) {
	r := newEmailRig(t)
	r.mailer.setErr(permanentErr{})
	r.register(t, "lee@example.com")
	r.process(t)
	r.clock.Advance(time.Hour)
	r.process(t)
	if r.mailer.tried != 1 {
		t.Fatalf("%d attempts at a refused recipient", r.mailer.tried)
	}
	if rows := r.rows(t); !rows[0].failed {
		t.Fatalf("row: %+v", rows)
	}
}

// The outbox holds no usable link: the bodies carry a marker, the token is sealed beside them
// and erased once sent.
func TestOutboxStoresNoPlainToken(t *testing.T) {
	r := newEmailRig(t)
	r.register(t, "max@example.com")
	before := r.rows(t)
	if len(before) != 1 || before[0].secret == nil {
		t.Fatalf("queued row: %+v", before)
	}
	tok := r.lastToken(t, "max@example.com", "verify-email")
	for _, x := range append(before, r.rows(t)...) {
		for _, col := range []string{x.text, x.html, x.subject, x.lastError, string(x.secret)} {
			if strings.Contains(col, tok) {
				t.Fatal("the outbox stores the token in plain text")
			}
		}
	}
	if after := r.rows(t); after[0].secret != nil {
		t.Fatal("the sealed token outlived delivery")
	}
	if !strings.Contains(before[0].text, appURL+"/verify-email?token=gh") {
		t.Fatalf("queued body lacks the marked link:\n%s", before[0].text)
	}
}

func TestOutboxLeaseKeepsOtherWorkersOff(t *testing.T) {
	r := newEmailRig(t)
	ctx := context.Background()
	r.register(t, "ned@example.com")
	// A worker claims the message and dies before sending it.
	now := r.clock.Now()
	if err := r.store.Tx(ctx, func(tx gatehouse.StoreTx) error {
		msgs, err := tx.ClaimOutbox(ctx, r.box.KeyID(), now, now.Add(time.Minute), 10)
		if err == nil && len(msgs) != 1 {
			t.Fatalf("claimed %d", len(msgs))
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if n := r.process(t); n != 0 {
		t.Fatal("took a message under another worker's lease")
	}
	r.clock.Advance(time.Minute)
	if n := r.process(t); n != 1 || len(r.mailer.messages()) != 1 {
		t.Fatal("the message was not retried after the lease ended")
	}
}

// A worker with another key never claims (and so never fails) what it cannot open; the sweep
// still gives such messages up when they are too old.
func TestOutboxLeavesOtherKeysMessagesAlone(t *testing.T) {
	r := newEmailRig(t)
	r.register(t, "ola@example.com")
	otherKey, _, err := seal.LoadKey("", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	otherBox, _ := seal.New(otherKey)
	other := gatehouse.NewOutbox(r.store, otherBox, r.cfg, nil, r.clock.Now)
	if n, err := other.Process(context.Background(), r.mailer); err != nil || n != 0 {
		t.Fatalf("the other worker attempted %d (%v)", n, err)
	}
	r.clock.Advance(r.cfg.MaxAge + time.Minute)
	if _, err := other.Process(context.Background(), r.mailer); err != nil {
		t.Fatal(err)
	}
	if rows := r.rows(t); !rows[0].failed || rows[0].secret != nil || len(r.mailer.messages()) != 0 {
		t.Fatalf("row: %+v", rows)
	}
}

// A reset link that could not be delivered before it expired is given up, not sent dead.
func TestOutboxDropsExpiredLinks(t *testing.T) {
	r := newEmailRig(t)
	r.register(t, "pat@example.com")
	r.process(t)
	r.mailer.setErr(errors.New("connection refused"))
	if err := r.auth.ForgotPassword(context.Background(), "pat@example.com"); err != nil {
		t.Fatal(err)
	}
	for len(r.rows(t)) < 2 && r.awaitQueued(t) {
	}
	r.process(t)
	r.mailer.setErr(nil)
	r.clock.Advance(2 * time.Hour) // past the reset link's hour, within MaxAge's reach of the sweep
	r.process(t)
	if n := len(r.mailer.messages()); n != 1 {
		t.Fatalf("%d emails delivered, want only the verification", n)
	}
	failed := 0
	for _, x := range r.rows(t) {
		if x.failed {
			failed++
			if !strings.Contains(x.text, "/reset-password?token=") {
				t.Fatalf("the wrong message was given up:\n%s", x.text)
			}
		}
	}
	if failed != 1 {
		t.Fatalf("%d messages given up, want the reset email", failed)
	}
}

func TestBackoffIsCapped(t *testing.T) {
	r := newEmailRig(t)
	r.mailer.setErr(errors.New("down"))
	r.register(t, "quinn@example.com")
	var gaps []time.Duration
	for range 8 {
		r.process(t)
		next := r.nextAttempt(t)
		gaps = append(gaps, next.Sub(r.clock.Now()))
		r.clock.Advance(next.Sub(r.clock.Now()))
	}
	want := []time.Duration{5, 10, 20, 40, 60, 60, 60, 60}
	for i, g := range gaps {
		w := want[i] * time.Second
		if g < w || g > w+w/10 {
			t.Fatalf("gap %d is %s, want %s (+10%%): %v", i+1, g, w, gaps)
		}
	}
}
