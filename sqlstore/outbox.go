package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/gatehouse/gatehouse"
)

const outboxColumns = `id, kind, recipient, subject, text_body, html_body, secret, key_id, expires_at, attempts,
	next_attempt_at, sent_at, failed_at, last_error, created_at`

// outboxPending is the condition of a message still to be sent.
const outboxPending = `sent_at IS NULL AND failed_at IS NULL`

// outboxClaimable adds that this worker can open the message's secret (or it has none).
const outboxClaimable = outboxPending + ` AND (secret IS NULL OR key_id = ?)`

func scanOutbox(row rowScanner) (*gatehouse.OutboxMessage, error) {
	var m gatehouse.OutboxMessage
	var kind string
	var next, created int64
	var expires, sent, failed sql.NullInt64
	if err := row.Scan(&m.ID, &kind, &m.To, &m.Subject, &m.Text, &m.HTML, &m.Secret, &m.KeyID, &expires, &m.Attempts,
		&next, &sent, &failed, &m.LastError, &created); err != nil {
		return nil, err
	}
	m.Kind = gatehouse.EmailKind(kind)
	m.ExpiresAt, m.SentAt, m.FailedAt = fromNullMicros(expires), fromNullMicros(sent), fromNullMicros(failed)
	m.NextAttemptAt, m.CreatedAt = fromMicros(next), fromMicros(created)
	return &m, nil
}

func (r reader) NextOutboxAttempt(ctx context.Context, keyID string) (time.Time, error) {
	var next sql.NullInt64
	if err := r.queryRow(ctx, `SELECT MIN(next_attempt_at) FROM email_outbox WHERE `+outboxClaimable, keyID).Scan(&next); err != nil {
		return time.Time{}, r.s.mapErr(err)
	}
	if !next.Valid {
		return time.Time{}, gatehouse.ErrNotFound
	}
	return fromMicros(next.Int64), nil
}

func (t *tx) EnqueueEmail(ctx context.Context, m *gatehouse.OutboxMessage) error {
	_, err := t.exec(ctx, `INSERT INTO email_outbox (`+outboxColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.ID, string(m.Kind), m.To, m.Subject, m.Text, m.HTML, m.Secret, m.KeyID, nullMicros(m.ExpiresAt), m.Attempts,
		micros(m.NextAttemptAt), nullMicros(m.SentAt), nullMicros(m.FailedAt), m.LastError, micros(m.CreatedAt))
	return err
}

// ClaimOutbox selects with SKIP LOCKED where the dialect locks rows, so that instances claiming at
// once take different messages instead of queueing on the same one; SQLite has a single writer
// and needs neither.
func (t *tx) ClaimOutbox(ctx context.Context, keyID string, now, leaseUntil time.Time, limit int) ([]*gatehouse.OutboxMessage, error) {
	lock := ""
	if t.s.dialect.ForUpdate != "" {
		lock = t.s.dialect.ForUpdate + " SKIP LOCKED"
	}
	out, err := queryAll(ctx, t.reader, scanOutbox, `SELECT `+outboxColumns+` FROM email_outbox WHERE `+outboxClaimable+
		` AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?`+lock, keyID, micros(now), limit)
	if err != nil {
		return nil, err
	}
	for _, m := range out {
		if err := t.execOne(ctx, `UPDATE email_outbox SET next_attempt_at = ? WHERE id = ?`, micros(leaseUntil), m.ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (t *tx) MarkOutboxSent(ctx context.Context, id string, attempts int, at time.Time) error {
	_, err := t.exec(ctx, `UPDATE email_outbox SET sent_at = ?, attempts = ?, secret = NULL, last_error = '' WHERE id = ? AND sent_at IS NULL`,
		micros(at), attempts, id)
	return err
}

// MarkOutboxRetry and MarkOutboxFailed leave a message that is already sent alone: a late report
// from a worker whose lease ran out must not undo another's delivery.
func (t *tx) MarkOutboxRetry(ctx context.Context, id string, attempts int, next time.Time, lastError string) error {
	_, err := t.exec(ctx, `UPDATE email_outbox SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ? AND `+outboxPending,
		attempts, micros(next), lastError, id)
	return err
}

func (t *tx) MarkOutboxFailed(ctx context.Context, id string, attempts int, at time.Time, lastError string) error {
	_, err := t.exec(ctx, `UPDATE email_outbox SET attempts = ?, failed_at = ?, last_error = ?, secret = NULL WHERE id = ? AND `+outboxPending,
		attempts, micros(at), lastError, id)
	return err
}

func (t *tx) ExpireOutbox(ctx context.Context, createdBefore, now time.Time) ([]string, error) {
	const stale = outboxPending + ` AND (created_at < ? OR expires_at <= ?)`
	ids, err := t.queryIDs(ctx, `SELECT id FROM email_outbox WHERE `+stale+t.s.dialect.ForUpdate, micros(createdBefore), micros(now))
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if _, err := t.exec(ctx, `UPDATE email_outbox SET failed_at = ?, secret = NULL, last_error = ? WHERE id = ? AND `+outboxPending,
			micros(now), "not delivered before its deadline", id); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

func (t *tx) PurgeEmail(ctx context.Context, before time.Time) error {
	if _, err := t.exec(ctx, `DELETE FROM email_outbox WHERE sent_at < ? OR failed_at < ?`, micros(before), micros(before)); err != nil {
		return err
	}
	if _, err := t.exec(ctx, `DELETE FROM email_tokens WHERE expires_at < ?`, micros(before)); err != nil {
		return err
	}
	_, err := t.exec(ctx, `DELETE FROM email_signins WHERE expires_at < ?`, micros(before))
	return err
}
