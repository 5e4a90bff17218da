package sqlstore

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Migrate applies, in one transaction each, the numbered *.sql files of dir that the database
// has not seen. lockSQL, when set, runs first in every transaction to keep concurrent migrators
// (several instances starting at once) from racing.
func (s *Store) Migrate(ctx context.Context, files fs.FS, dir, lockSQL string) error {
	entries, err := fs.ReadDir(files, dir)
	if err != nil {
		return err
	}
	type migration struct {
		version int
		name    string
	}
	var list []migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		v, err := strconv.Atoi(strings.SplitN(e.Name(), "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migration %s: name must start with a number", e.Name())
		}
		list = append(list, migration{v, e.Name()})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].version < list[j].version })

	for _, m := range list {
		body, err := fs.ReadFile(files, path.Join(dir, m.name))
		if err != nil {
			return err
		}
		if err := s.applyMigration(ctx, m.version, string(body), lockSQL); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	return nil
}

func (s *Store) applyMigration(ctx context.Context, version int, body, lockSQL string) error {
	t, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return s.mapErr(err)
	}
	defer t.Rollback()
	if lockSQL != "" {
		if _, err := t.ExecContext(ctx, lockSQL); err != nil {
			return s.mapErr(err)
		}
	}
	// Created under the lock, so two instances starting together cannot race on it.
	if _, err := t.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return s.mapErr(err)
	}
	var n int
	if err := t.QueryRowContext(ctx, s.rebind(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), version).Scan(&n); err != nil {
		return s.mapErr(err)
	}
	if n > 0 {
		return nil
	}
	if _, err := t.ExecContext(ctx, body); err != nil {
		return s.mapErr(err)
	}
	if _, err := t.ExecContext(ctx, s.rebind(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`), version, time.Now().UnixMicro()); err != nil {
		return s.mapErr(err)
	}
	return s.mapErr(t.Commit())
}
