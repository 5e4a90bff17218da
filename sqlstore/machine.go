package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/gatehouse/gatehouse"
)

// Machine grants (migration 0007): the sessions of client_credentials tokens and the jtis of the
// client assertions accepted.

const machineColumns = `id, client_id, resource, scope, ip, user_agent, created_at, expires_at, revoked_at`

func scanMachineSession(row rowScanner) (*gatehouse.MachineSession, error) {
	var m gatehouse.MachineSession
	var created, expires int64
	var revoked sql.NullInt64
	if err := row.Scan(&m.ID, &m.ClientID, &m.Resource, &m.Scope, &m.IP, &m.UserAgent, &created, &expires, &revoked); err != nil {
		return nil, err
	}
	m.CreatedAt, m.ExpiresAt, m.RevokedAt = fromMicros(created), fromMicros(expires), fromNullMicros(revoked)
	return &m, nil
}

func (r reader) MachineSessionByID(ctx context.Context, id string) (*gatehouse.MachineSession, error) {
	m, err := scanMachineSession(r.queryRow(ctx, `SELECT `+machineColumns+` FROM oauth_machine_sessions WHERE id = ?`, id))
	return m, r.s.mapErr(err)
}

func (t *tx) CreateMachineSession(ctx context.Context, m *gatehouse.MachineSession) error {
	_, err := t.exec(ctx, `INSERT INTO oauth_machine_sessions (`+machineColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.ID, m.ClientID, m.Resource, m.Scope, m.IP, m.UserAgent, micros(m.CreatedAt), micros(m.ExpiresAt), nullMicros(m.RevokedAt))
	return err
}

func (t *tx) RevokeMachineSession(ctx context.Context, id string, at time.Time) error {
	return t.execOne(ctx, `UPDATE oauth_machine_sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, micros(at), id)
}

func (t *tx) RevokeResourceMachineSessions(ctx context.Context, resource string, at time.Time) error {
	_, err := t.exec(ctx, `UPDATE oauth_machine_sessions SET revoked_at = ? WHERE resource = ? AND revoked_at IS NULL`, micros(at), resource)
	return err
}

func (t *tx) DeleteExpiredMachineSessions(ctx context.Context, before time.Time) (int64, error) {
	return t.sweep(ctx, "oauth_machine_sessions", "id", before)
}

// UseAssertionID inserts the jti, or takes over a row of the same key that has expired (and was
// not swept yet); a live row of that key leaves the statement without effect: a replay. One
// statement on the primary key: of two transactions inserting the same jti, on one database, the
// second waits for the first and then sees its row.
func (t *tx) UseAssertionID(ctx context.Context, clientID, jti string, expiresAt, now time.Time) error {
	res, err := t.exec(ctx, `INSERT INTO oauth_assertion_jtis (client_id, jti, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (client_id, jti) DO UPDATE SET expires_at = excluded.expires_at
		WHERE oauth_assertion_jtis.expires_at <= ?`, clientID, jti, micros(expiresAt), micros(now))
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return gatehouse.ErrAssertionReplayed
	}
	return nil
}

func (t *tx) DeleteExpiredAssertionIDs(ctx context.Context, before time.Time) (int64, error) {
	return t.sweep(ctx, "oauth_assertion_jtis", "client_id, jti", before)
}

// sweep deletes the rows of table whose expires_at is before the given time. On PostgreSQL it
// takes at most 100 of them and skips rows another transaction holds, so that concurrent sweeps
// (every token request runs one) never wait for each other or deadlock; SQLite has one writer.
func (t *tx) sweep(ctx context.Context, table, key string, before time.Time) (int64, error) {
	q := `DELETE FROM ` + table + ` WHERE expires_at < ?`
	if t.s.dialect.Name == "postgres" {
		q = `DELETE FROM ` + table + ` WHERE (` + key + `) IN (SELECT ` + key + ` FROM ` + table +
			` WHERE expires_at < ? ORDER BY expires_at LIMIT 100 FOR UPDATE SKIP LOCKED)`
	}
	res, err := t.exec(ctx, q, micros(before))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
