package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// SQLite's automatic checkpoint is off for Gatehouse's connections: without the checkpointer's
// rounds the WAL would grow with every write for as long as the server runs.
func TestCheckpointRoundsKeepTheWALShort(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "gatehouse.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	db := s.DB()
	if _, err := db.Exec(`CREATE TABLE filler (b BLOB)`); err != nil {
		t.Fatal(err)
	}
	c := &checkpointer{read: db, write: db}
	page := strings.Repeat("x", 4000) // about one WAL frame per row
	const rounds, rowsPerRound = 8, 1000
	for range rounds {
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		for range rowsPerRound {
			if _, err := tx.Exec(`INSERT INTO filler (b) VALUES (?)`, page); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		c.round(ctx)
	}
	if _, err := db.Exec(`INSERT INTO filler (b) VALUES ('last')`); err != nil {
		t.Fatal(err)
	}
	frames, err := checkpoint(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if frames > rowsPerRound {
		t.Errorf("WAL holds %d frames after %d rows written in rounds of %d: it never started over", frames, rounds*rowsPerRound, rowsPerRound)
	}
}
