package sqlstore

import (
	"context"
	"strings"

	"github.com/gatehouse/gatehouse"
)

func (t *tx) AppendAuditEvent(ctx context.Context, e *gatehouse.AuditEvent) error {
	_, err := t.exec(ctx, `INSERT INTO audit_events (id, at, type, user_id, ip, user_agent, outcome, detail, actor_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, micros(e.At), e.Type, e.UserID, e.IP, e.UserAgent, e.Outcome, e.Detail, e.ActorID)
	return err
}

func (r reader) ListAuditEvents(ctx context.Context, f gatehouse.AuditFilter) ([]*gatehouse.AuditEvent, error) {
	var where []string
	var args []any
	if f.UserID != "" {
		where = append(where, "user_id = ?")
		args = append(args, f.UserID)
	}
	if f.Type != "" {
		where = append(where, "type = ?")
		args = append(args, f.Type)
	}
	if f.BeforeID != "" {
		where = append(where, "id < ?")
		args = append(args, f.BeforeID)
	}
	q := `SELECT id, at, type, user_id, ip, user_agent, outcome, detail, actor_id FROM audit_events`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, f.Limit)
	return queryAll(ctx, r, func(row rowScanner) (*gatehouse.AuditEvent, error) {
		var e gatehouse.AuditEvent
		var at int64
		err := row.Scan(&e.ID, &at, &e.Type, &e.UserID, &e.IP, &e.UserAgent, &e.Outcome, &e.Detail, &e.ActorID)
		e.At = fromMicros(at)
		return &e, err
	}, q, args...)
}
