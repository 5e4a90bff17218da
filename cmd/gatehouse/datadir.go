package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
)

// prepareFiles makes the files this process creates owner-only and the data directory, which
// holds the database and the key that seals the signing keys, owner-only too. Every command that
// opens the app calls it first.
func prepareFiles(cfg *config, log *slog.Logger) error {
	restrictFileModes()
	return ownerOnlyDir(cfg.DataDir, log)
}

// restrictFileModes makes every file this process creates (database, WAL, keys) owner-only.
func restrictFileModes() { umask(0o077) }

// ownerOnlyDir creates dir with mode 0700, or takes an existing one, and the files directly in
// it, back to owner-only: a directory made with mkdir under the usual 022 umask, or restored with
// cp, would otherwise let every local user read the database. When that is not allowed (the
// directory is another user's), the start stops rather than run with data others can read.
func ownerOnlyDir(dir string, log *slog.Logger) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return &configError{"GATEHOUSE_DATA_DIR", dir, "cannot create or open the database directory: " + err.Error() + "; choose a directory this user can write"}
	}
	if runtime.GOOS == "windows" { // no Unix modes: access is the ACLs' business
		return nil
	}
	if err := ownerOnly(dir, log); err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return &configError{"GATEHOUSE_DATA_DIR", dir, err.Error()}
	}
	for _, e := range entries {
		if e.Type().IsRegular() { // never through a symbolic link
			if err := ownerOnly(filepath.Join(dir, e.Name()), log); err != nil {
				return err
			}
		}
	}
	return nil
}

// ownerOnly removes the group's and others' permissions from path.
func ownerOnly(path string, log *slog.Logger) error {
	info, err := os.Stat(path)
	if err != nil {
		return &configError{"GATEHOUSE_DATA_DIR", path, err.Error()}
	}
	mode := info.Mode().Perm()
	if mode&0o077 == 0 {
		return nil
	}
	if err := os.Chmod(path, mode&^0o077); err != nil {
		return &configError{"GATEHOUSE_DATA_DIR", path, fmt.Sprintf(
			"mode %#o lets other users in and this process cannot make it owner-only (%v): chown the data directory and its files to the user gatehouse runs as and chmod 700 the directory, or choose another GATEHOUSE_DATA_DIR",
			mode, errUnwrapPath(err))}
	}
	log.Warn("data directory: made owner-only", "path", path, "was", fmt.Sprintf("%#o", mode))
	return nil
}

// errUnwrapPath drops the operation and path that an *os.PathError repeats.
func errUnwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
