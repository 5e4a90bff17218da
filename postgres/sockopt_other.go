//go:build !linux

package postgres

import (
	"net"
	"syscall"
)

func controlSocket(network, address string, c syscall.RawConn) error { return nil }

func connAlive(net.Conn) bool { return true }
