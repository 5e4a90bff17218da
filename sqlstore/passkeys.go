package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/gatehouse/gatehouse"
)

// Passkeys and their ceremonies (migration 0011).

const passkeyColumns = `id, user_id, credential_id, name, record, sign_count, backup_eligible, backup_state, created_at, last_used_at`

func scanPasskey(row rowScanner) (*gatehouse.Passkey, error) {
	var p gatehouse.Passkey
	var count, created int64
	var used sql.NullInt64
	if err := row.Scan(&p.ID, &p.UserID, &p.CredentialID, &p.Name, &p.Record, &count, &p.BackupEligible, &p.BackupState, &created, &used); err != nil {
		return nil, err
	}
	p.SignCount, p.CreatedAt, p.LastUsedAt = uint32(count), fromMicros(created), fromNullMicros(used)
	return &p, nil
}

func (r reader) PasskeysOf(ctx context.Context, userID string) ([]*gatehouse.Passkey, error) {
	return queryAll(ctx, r, scanPasskey, `SELECT `+passkeyColumns+` FROM passkeys WHERE user_id = ? ORDER BY created_at, id`, userID)
}

func (r reader) PasskeyByCredentialID(ctx context.Context, credentialID []byte) (*gatehouse.Passkey, error) {
	p, err := scanPasskey(r.queryRow(ctx, `SELECT `+passkeyColumns+` FROM passkeys WHERE credential_id = ?`, credentialID))
	return p, r.s.mapErr(err)
}

func (t *tx) CreatePasskey(ctx context.Context, p *gatehouse.Passkey) error {
	_, err := t.exec(ctx, `INSERT INTO passkeys (`+passkeyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.UserID, p.CredentialID, p.Name, p.Record, int64(p.SignCount), p.BackupEligible, p.BackupState,
		micros(p.CreatedAt), nullMicros(p.LastUsedAt))
	if err != nil && t.s.dialect.IsUniqueViolation(err) {
		return gatehouse.ErrPasskeyExists
	}
	if err != nil {
		return err
	}
	return t.syncMFAEnabled(ctx, p.UserID)
}

func (t *tx) RenamePasskey(ctx context.Context, userID, id, name string) error {
	return t.execOne(ctx, `UPDATE passkeys SET name = ? WHERE id = ? AND user_id = ?`, name, id, userID)
}

func (t *tx) DeletePasskey(ctx context.Context, userID, id string) error {
	if err := t.execOne(ctx, `DELETE FROM passkeys WHERE id = ? AND user_id = ?`, id, userID); err != nil {
		return err
	}
	return t.syncMFAEnabled(ctx, userID)
}

func (t *tx) DeletePasskeys(ctx context.Context, userID string) (int, error) {
	res, err := t.exec(ctx, `DELETE FROM passkeys WHERE user_id = ?`, userID)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, t.s.mapErr(err)
	}
	if _, err := t.exec(ctx, `DELETE FROM passkey_ceremonies WHERE user_id = ?`, userID); err != nil {
		return 0, err
	}
	return int(n), t.syncMFAEnabled(ctx, userID)
}

// UsePasskey is one conditional UPDATE: the database decides which of concurrent assertions with
// one counter value wins (PostgreSQL re-checks the WHERE clause once the row lock is granted).
func (t *tx) UsePasskey(ctx context.Context, id string, signCount uint32, backupState bool, at time.Time) error {
	return t.execOne(ctx, `UPDATE passkeys SET sign_count = ?, backup_state = ?, last_used_at = ?
		WHERE id = ? AND (sign_count < ? OR (sign_count = 0 AND ? = 0))`,
		int64(signCount), backupState, micros(at), id, int64(signCount), int64(signCount))
}

func (t *tx) CreatePasskeyCeremony(ctx context.Context, c *gatehouse.PasskeyCeremony) error {
	// Ceremonies nobody finished are of no use once expired; each new one clears them.
	if _, err := t.exec(ctx, `DELETE FROM passkey_ceremonies WHERE expires_at <= ?`, micros(c.CreatedAt)); err != nil {
		return err
	}
	// One statement replaces a ceremony of the same hash (new options for one mfa_token): a
	// DELETE then INSERT would let two concurrent requests both insert, and the second fail on
	// the primary key (PostgreSQL).
	_, err := t.exec(ctx, `INSERT INTO passkey_ceremonies (hash, kind, user_id, state, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (hash) DO UPDATE SET kind = excluded.kind, user_id = excluded.user_id, state = excluded.state,
		created_at = excluded.created_at, expires_at = excluded.expires_at`,
		c.Hash, c.Kind, c.UserID, c.State, micros(c.CreatedAt), micros(c.ExpiresAt))
	return err
}

func (t *tx) DeletePasskeyCeremonies(ctx context.Context, userID, kind string) error {
	_, err := t.exec(ctx, `DELETE FROM passkey_ceremonies WHERE user_id = ? AND kind = ?`, userID, kind)
	return err
}

func (t *tx) SpendPasskeyCeremony(ctx context.Context, hash []byte, kind string, now time.Time) (*gatehouse.PasskeyCeremony, error) {
	c := gatehouse.PasskeyCeremony{Hash: hash}
	var created, expires int64
	err := t.queryRow(ctx, `SELECT kind, user_id, state, created_at, expires_at FROM passkey_ceremonies WHERE hash = ? AND kind = ? AND expires_at > ?`,
		hash, kind, micros(now)).Scan(&c.Kind, &c.UserID, &c.State, &created, &expires)
	if err != nil {
		return nil, t.s.mapErr(err)
	}
	// The DELETE decides between concurrent spends: only one of them removes the row.
	if err := t.execOne(ctx, `DELETE FROM passkey_ceremonies WHERE hash = ? AND kind = ?`, hash, kind); err != nil {
		return nil, err
	}
	c.CreatedAt, c.ExpiresAt = fromMicros(created), fromMicros(expires)
	return &c, nil
}
