package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/gatehouse/gatehouse"
)

const userColumns = `id, email, name, password_hash, email_verified, role, is_active, avatar_url, created_at, updated_at`

// userSelect is what reads of a user return: userColumns and mfa_enabled, which only the
// writes of factors set (syncMFAEnabled), never CreateUser or UpdateUser.
const userSelect = userColumns + `, mfa_enabled`

type rowScanner interface{ Scan(dest ...any) error }

func scanUser(row rowScanner) (*gatehouse.User, error) {
	var u gatehouse.User
	var avatar sql.NullString
	var created, updated int64
	if err := row.Scan(&u.ID, &u.Email, &u.Name, &u.PasswordHash, &u.EmailVerified, &u.Role, &u.IsActive,
		&avatar, &created, &updated, &u.MFAEnabled); err != nil {
		return nil, err
	}
	if avatar.Valid {
		u.AvatarURL = &avatar.String
	}
	u.CreatedAt, u.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &u, nil
}

func (r reader) UserByID(ctx context.Context, id string) (*gatehouse.User, error) {
	u, err := scanUser(r.queryRow(ctx, `SELECT `+userSelect+` FROM users WHERE id = ?`, id))
	return u, r.s.mapErr(err)
}

func (r reader) UserByEmail(ctx context.Context, email string) (*gatehouse.User, error) {
	u, err := scanUser(r.queryRow(ctx, `SELECT `+userSelect+` FROM users WHERE email = ?`, email))
	return u, r.s.mapErr(err)
}

func (r reader) ListUsers(ctx context.Context, afterID string, limit int) ([]*gatehouse.User, error) {
	return queryAll(ctx, r, scanUser, `SELECT `+userSelect+` FROM users WHERE id > ? ORDER BY id LIMIT ?`, afterID, limit)
}

func (t *tx) CreateUser(ctx context.Context, u *gatehouse.User) error {
	_, err := t.exec(ctx, `INSERT INTO users (`+userColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.Email, u.Name, u.PasswordHash, u.EmailVerified, u.Role, u.IsActive, nullString(u.AvatarURL),
		micros(u.CreatedAt), micros(u.UpdatedAt))
	if err != nil && t.s.dialect.IsUniqueViolation(err) {
		return gatehouse.ErrEmailTaken
	}
	return err
}

func (t *tx) UpdateUser(ctx context.Context, u *gatehouse.User) error {
	return t.execOne(ctx, `UPDATE users SET name = ?, password_hash = ?, email_verified = ?, role = ?, is_active = ?,
		avatar_url = ?, updated_at = ? WHERE id = ?`,
		u.Name, u.PasswordHash, u.EmailVerified, u.Role, u.IsActive, nullString(u.AvatarURL), micros(u.UpdatedAt), u.ID)
}

func nullString(s *string) sql.NullString {
	if s == nil {
		return sql.NullString{}
	}
	return sql.NullString{String: *s, Valid: true}
}

// Times are stored as microseconds since the epoch in both databases: exact, comparable, portable.
func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func nullMicros(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: micros(*t), Valid: true}
}

func fromNullMicros(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

func (t *tx) LockUser(ctx context.Context, id string) (*gatehouse.User, error) {
	u, err := scanUser(t.queryRow(ctx, `SELECT `+userSelect+` FROM users WHERE id = ?`+t.s.dialect.ForUpdate, id))
	return u, t.s.mapErr(err)
}
