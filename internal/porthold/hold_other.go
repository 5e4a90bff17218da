//go:build !linux

package porthold

import "io"

// Hold cannot hold a port without listening here: the port is left free while the server is
// stopped, and a restart may find it taken.
func Hold(string) (io.Closer, error) { return io.NopCloser(nil), nil }
