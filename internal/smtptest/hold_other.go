//go:build !linux

package smtptest

import "io"

// holdPort cannot hold a port without listening here: the port is left free while the server is
// stopped, and Restart may find it taken.
func holdPort(string) (io.Closer, error) { return io.NopCloser(nil), nil }
