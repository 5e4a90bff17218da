//go:build unix

package breach

import (
	"os"

	"golang.org/x/sys/unix"
)

// mapFile maps the whole file read-only: the kernel pages it in on demand and shares it
// between processes, so a multi-gigabyte filter costs no heap.
func mapFile(f *os.File, size int64) ([]byte, func() error, error) {
	data, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, nil, err
	}
	return data, func() error { return unix.Munmap(data) }, nil
}
