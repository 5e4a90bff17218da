package cimd

import (
	"errors"
	"net/netip"
	"syscall"
)

// Special-use IPv4 ranges (RFC 6890 and the IANA IPv4 Special-Purpose Address Registry) that a
// client_id must never make the server connect to.
var blockedV4 = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network", incl. the unspecified 0.0.0.0
	netip.MustParsePrefix("10.0.0.0/8"),      // private, RFC 1918
	netip.MustParsePrefix("100.64.0.0/10"),   // shared address space (CGNAT), RFC 6598
	netip.MustParsePrefix("127.0.0.0/8"),     // loopback
	netip.MustParsePrefix("169.254.0.0/16"),  // link-local, incl. cloud metadata 169.254.169.254
	netip.MustParsePrefix("172.16.0.0/12"),   // private, RFC 1918
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation (TEST-NET-1)
	netip.MustParsePrefix("192.88.99.0/24"),  // deprecated 6to4 relay anycast
	netip.MustParsePrefix("192.168.0.0/16"),  // private, RFC 1918
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation (TEST-NET-2)
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation (TEST-NET-3)
	netip.MustParsePrefix("224.0.0.0/4"),     // multicast
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, incl. broadcast 255.255.255.255
}

var (
	globalUnicastV6 = netip.MustParsePrefix("2000::/3")
	nat64WellKnown  = netip.MustParsePrefix("64:ff9b::/96") // RFC 6052: IPv4 in the last 32 bits
	sixToFour       = netip.MustParsePrefix("2002::/16")    // RFC 3056: IPv4 in bits 16..47
)

// Special-use ranges inside 2000::/3. Everything outside 2000::/3 (loopback ::1, unspecified ::,
// IPv4-compatible ::/96, discard 100::/64, local-use NAT64 64:ff9b:1::/48, unique local
// fc00::/7, link-local fe80::/10, site-local fec0::/10, multicast ff00::/8, ...) is refused
// wholesale, except the NAT64 well-known prefix, judged by the IPv4 address it embeds.
var blockedV6 = []netip.Prefix{
	netip.MustParsePrefix("2001::/23"),     // IETF protocol assignments (Teredo, benchmarking, ...)
	netip.MustParsePrefix("2001:db8::/32"), // documentation
	netip.MustParsePrefix("3fff::/20"),     // documentation, RFC 9637
	netip.MustParsePrefix("5f00::/16"),     // SRv6 SIDs, RFC 9602
}

// publicAddr reports whether a is an address the fetcher may connect to: a globally routable
// unicast address. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are judged as the IPv4 address
// they carry, and so are the NAT64 and 6to4 forms, so no IPv6 spelling of 10.0.0.1 or
// 169.254.169.254 gets through.
func publicAddr(a netip.Addr) bool {
	if !a.IsValid() || a.Zone() != "" {
		return false
	}
	a = a.Unmap()
	if a.Is4() {
		for _, p := range blockedV4 {
			if p.Contains(a) {
				return false
			}
		}
		return true
	}
	if nat64WellKnown.Contains(a) {
		b := a.As16()
		return publicAddr(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
	}
	if !globalUnicastV6.Contains(a) {
		return false
	}
	if sixToFour.Contains(a) {
		b := a.As16()
		return publicAddr(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}))
	}
	for _, p := range blockedV6 {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// errBlockedAddress is the cause of a dial refused because the resolved address is not public.
var errBlockedAddress = errors.New("cimd: refusing to connect to a non-public address")

// blockedAddrError carries the refused address for logs; it is never shown to the client.
type blockedAddrError struct{ addr string }

func (e *blockedAddrError) Error() string {
	return "cimd: refusing to connect to non-public address " + e.addr
}

func (e *blockedAddrError) Unwrap() error { return errBlockedAddress }

// dialControl is the net.Dialer Control hook. It runs after DNS resolution, on the socket about
// to connect to the very address the kernel will be given, once per address tried. Checking
// here rather than before the request means a DNS answer that changes between a check and the
// connect (DNS rebinding) cannot slip through: there is no second resolution.
func dialControl(network, address string, _ syscall.RawConn) error {
	switch network {
	case "tcp4", "tcp6":
	default:
		return &blockedAddrError{addr: network + " " + address}
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !publicAddr(ap.Addr()) {
		return &blockedAddrError{addr: address}
	}
	return nil
}
