package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/sqlite"
	"github.com/gatehouse/gatehouse/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) gatehouse.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "gatehouse.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestMigrateTwiceIsHarmless(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	for range 2 {
		s, err := sqlite.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
}

// TestOpenPathWithURICharacters: a data directory whose name holds "#", "?" or "%" keeps the
// database inside it (the path was once cut at the first "#" or "?", and the database created
// beside the directory).
func TestOpenPathWithURICharacters(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "data#1?x=y%20z")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "gatehouse.db")
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		t.Fatalf("the database is not at %s: %v", path, err)
	}
	entries, err := os.ReadDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != filepath.Base(dir) {
			t.Errorf("a file was created outside the data directory: %s", e.Name())
		}
	}
}
