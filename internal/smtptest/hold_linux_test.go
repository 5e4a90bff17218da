//go:build linux

package smtptest

import (
	"errors"
	"net"
	"syscall"
	"testing"
)

// TestStoppedServerKeepsItsPort: while stopped, the port stays bound, so that no other socket takes
// it (here a connection from that port, which the kernel may pick for any connection on the
// machine, and which would keep the port in TIME_WAIT after it closed); connections to it are
// refused; Restart serves on it again.
func TestStoppedServerKeepsItsPort(t *testing.T) {
	s := Start(t, Options{})
	other, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	local, err := net.ResolveTCPAddr("tcp", s.Addr)
	if err != nil {
		t.Fatal(err)
	}

	s.Stop()
	d := net.Dialer{LocalAddr: local}
	if c, err := d.Dial("tcp", other.Addr().String()); !errors.Is(err, syscall.EADDRINUSE) {
		if c != nil {
			c.Close()
		}
		t.Fatalf("a connection from the stopped server's port: %v, want address in use", err)
	}
	if c, err := net.Dial("tcp", s.Addr); !errors.Is(err, syscall.ECONNREFUSED) {
		if c != nil {
			c.Close()
		}
		t.Fatalf("dial a stopped server: %v, want connection refused", err)
	}

	s.Restart(t)
	c, err := net.Dial("tcp", s.Addr)
	if err != nil {
		t.Fatalf("dial after Restart: %v", err)
	}
	c.Close()
}
