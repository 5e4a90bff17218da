package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
)

// Device authorization codes (RFC 8628; migration 0008).

const deviceColumns = `hash, user_code_hash, client_id, resource, scope, userinfo, key_name, key_scope, key_days,
	requester_ip, requester_agent, interval_micros, created_at, expires_at, polled_at, status, user_id, grant_id, approver,
	auth_time, decided_at, used_at, session_id, key_id`

func scanDeviceCode(row rowScanner) (*gatehouse.DeviceCode, error) {
	var d gatehouse.DeviceCode
	var userinfo, days, interval, created, expires, authTime int64
	var keyScope string
	var polled, decided, used sql.NullInt64
	if err := row.Scan(&d.Hash, &d.UserCodeHash, &d.ClientID, &d.Resource, &d.Scope, &userinfo, &d.KeyName, &keyScope, &days,
		&d.RequesterIP, &d.RequesterAgent, &interval, &created, &expires, &polled, &d.Status, &d.UserID, &d.GrantID, &d.Approver,
		&authTime, &decided, &used, &d.SessionID, &d.KeyID); err != nil {
		return nil, err
	}
	d.UserInfo, d.KeyDays = userinfo != 0, int(days)
	d.KeyScopes = strings.Fields(keyScope)
	d.Interval = time.Duration(interval) * time.Microsecond
	d.CreatedAt, d.ExpiresAt, d.AuthTime = fromMicros(created), fromMicros(expires), fromMicros(authTime)
	d.PolledAt, d.DecidedAt, d.UsedAt = fromNullMicros(polled), fromNullMicros(decided), fromNullMicros(used)
	return &d, nil
}

func (r reader) DeviceCodeByUserCode(ctx context.Context, userCodeHash []byte) (*gatehouse.DeviceCode, error) {
	d, err := scanDeviceCode(r.queryRow(ctx, `SELECT `+deviceColumns+` FROM oauth_device_codes WHERE user_code_hash = ?`, userCodeHash))
	return d, r.s.mapErr(err)
}

func (t *tx) CreateDeviceCode(ctx context.Context, d *gatehouse.DeviceCode) error {
	_, err := t.exec(ctx, `INSERT INTO oauth_device_codes (`+deviceColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.Hash, d.UserCodeHash, d.ClientID, d.Resource, d.Scope, boolInt(d.UserInfo), d.KeyName, strings.Join(d.KeyScopes, " "),
		int64(d.KeyDays), d.RequesterIP, d.RequesterAgent, d.Interval.Microseconds(), micros(d.CreatedAt), micros(d.ExpiresAt),
		nullMicros(d.PolledAt), d.Status, d.UserID, d.GrantID, d.Approver, micros(d.AuthTime), nullMicros(d.DecidedAt),
		nullMicros(d.UsedAt), d.SessionID, d.KeyID)
	if err != nil && t.s.dialect.IsUniqueViolation(err) {
		return gatehouse.ErrDeviceCodeExists
	}
	return err
}

func (t *tx) LockDeviceCode(ctx context.Context, hash []byte) (*gatehouse.DeviceCode, error) {
	d, err := scanDeviceCode(t.queryRow(ctx, `SELECT `+deviceColumns+` FROM oauth_device_codes WHERE hash = ?`+t.s.dialect.ForUpdate, hash))
	return d, t.s.mapErr(err)
}

func (t *tx) LockDeviceCodeByUserCode(ctx context.Context, userCodeHash []byte) (*gatehouse.DeviceCode, error) {
	d, err := scanDeviceCode(t.queryRow(ctx, `SELECT `+deviceColumns+` FROM oauth_device_codes WHERE user_code_hash = ?`+t.s.dialect.ForUpdate, userCodeHash))
	return d, t.s.mapErr(err)
}

func (t *tx) UpdateDeviceCode(ctx context.Context, d *gatehouse.DeviceCode) error {
	return t.execOne(ctx, `UPDATE oauth_device_codes SET interval_micros = ?, polled_at = ?, status = ?, user_id = ?, grant_id = ?,
		approver = ?, auth_time = ?, decided_at = ?, used_at = ?, session_id = ?, key_id = ? WHERE hash = ?`,
		d.Interval.Microseconds(), nullMicros(d.PolledAt), d.Status, d.UserID, d.GrantID, d.Approver, micros(d.AuthTime),
		nullMicros(d.DecidedAt), nullMicros(d.UsedAt), d.SessionID, d.KeyID, d.Hash)
}

func (t *tx) DeleteExpiredDeviceCodes(ctx context.Context, before time.Time) (int64, error) {
	res, err := t.exec(ctx, `DELETE FROM oauth_device_codes WHERE expires_at < ?`, micros(before))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
