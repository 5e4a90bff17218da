//go:build linux

// Package porthold keeps a TCP port of a stopped test server bound, so that nothing else takes it
// before the server listens on it again.
package porthold

import (
	"io"
	"net"
	"syscall"
)

// Hold binds addr (an IPv4 host:port) without listening: connections to it are refused, as by a
// stopped server, and the kernel gives the port to no other socket meanwhile (an outgoing
// connection from it, once closed, would keep it in TIME_WAIT, and a restart would fail). The
// socket sets SO_REUSEADDR, as Go's listeners do, so the restarted listener binds beside it; close
// the holder once that listener is up.
func Hold(addr string) (io.Closer, error) {
	a, err := net.ResolveTCPAddr("tcp4", addr)
	if err != nil {
		return nil, err
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	sa := &syscall.SockaddrInet4{Port: a.Port}
	copy(sa.Addr[:], a.IP.To4())
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	if err := syscall.Bind(fd, sa); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	return heldPort(fd), nil
}

type heldPort int

func (h heldPort) Close() error { return syscall.Close(int(h)) }
