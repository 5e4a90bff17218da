package postgres

import (
	"net"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// userTimeout drops a connection whose sent data goes unacknowledged this long (a dead network
// path or a vanished host), where the kernel's default retransmission schedule takes about
// fifteen minutes. Keepalive probes do not help there: they only run on an idle connection.
const userTimeout = 10 * time.Second

func controlSocket(network, address string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, int(userTimeout.Milliseconds()))
	})
	if err != nil {
		return err
	}
	// Unix sockets have no TCP options; the call fails harmlessly there.
	if serr != nil && network != "unix" {
		return serr
	}
	return nil
}

// connAlive reports whether a pooled connection may still be used, with one non-blocking peek at
// its socket: an idle connection has nothing to read unless the server closed it (EOF) or sent a
// parting message (FATAL 57P01 on shutdown or pg_terminate_backend). Without it, the first query
// on each pooled connection after a database restart fails, and requests get 503s for a while
// after the database is back.
func connAlive(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		// TLS: pending bytes may be harmless protocol records, so leave it to the idle ping.
		return true
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	alive := true
	var buf [1]byte
	// Control, not Read: Read would queue behind pgx's background reader, which may sit in a
	// blocking read on an idle connection, and so wait for data that never comes. A peek that
	// does not wait needs no read lock.
	err = raw.Control(func(fd uintptr) {
		n, _, rerr := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		alive = n < 0 && (rerr == syscall.EAGAIN || rerr == syscall.EWOULDBLOCK)
	})
	return err == nil && alive
}
