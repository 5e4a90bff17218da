package cimd

import (
	"errors"
	"net/netip"
	"testing"
)

func TestPublicAddr(t *testing.T) {
	for _, c := range []struct {
		addr   string
		public bool
	}{
		// Public unicast, both families.
		{"8.8.8.8", true},
		{"93.184.215.14", true},
		{"172.32.0.1", true},     // just past 172.16/12
		{"100.128.0.1", true},    // just past 100.64/10
		{"::ffff:8.8.8.8", true}, // IPv4-mapped public is judged as IPv4
		{"2001:4860:4860::8888", true},
		{"2606:4700::1111", true},
		{"64:ff9b::808:808", true}, // NAT64 of 8.8.8.8

		// Unspecified.
		{"0.0.0.0", false},
		{"0.1.2.3", false},
		{"::", false},
		// Loopback.
		{"127.0.0.1", false},
		{"127.255.255.254", false},
		{"::1", false},
		{"::ffff:127.0.0.1", false},
		// Private, RFC 1918 and IPv6 unique local.
		{"10.0.0.1", false},
		{"172.16.0.1", false},
		{"172.31.255.255", false},
		{"192.168.1.1", false},
		{"fc00::1", false},
		{"fd12:3456:789a::1", false},
		// Link-local, incl. the cloud metadata address.
		{"169.254.169.254", false},
		{"169.254.0.1", false},
		{"fe80::1", false},
		{"fe80::1%eth0", false},
		// CGNAT.
		{"100.64.0.1", false},
		{"100.127.255.255", false},
		// Multicast and broadcast.
		{"224.0.0.1", false},
		{"239.255.255.250", false},
		{"255.255.255.255", false},
		{"ff02::1", false},
		// IPv4-mapped, NAT64 and 6to4 forms of non-public IPv4.
		{"::ffff:10.0.0.1", false},
		{"::ffff:169.254.169.254", false},
		{"::ffff:100.64.0.1", false},
		{"::ffff:0.0.0.0", false},
		{"64:ff9b::a00:1", false},  // NAT64 of 10.0.0.1
		{"64:ff9b::7f00:1", false}, // NAT64 of 127.0.0.1
		{"2002:a00:1::1", false},   // 6to4 of 10.0.0.1
		{"2002:a9fe:a9fe::1", false},
		{"2002:808:808::1", true}, // 6to4 of 8.8.8.8
		// Other special-use ranges.
		{"192.0.2.1", false},
		{"198.18.0.1", false},
		{"198.51.100.1", false},
		{"203.0.113.1", false},
		{"240.0.0.1", false},
		{"::a00:1", false}, // deprecated IPv4-compatible
		{"100::1", false},
		{"64:ff9b:1::1", false},
		{"2001::1", false},     // Teredo
		{"2001:db8::1", false}, // documentation
		{"3fff::1", false},
		{"5f00::1", false},
		{"fec0::1", false},
	} {
		a, err := netip.ParseAddr(c.addr)
		if err != nil {
			t.Fatalf("ParseAddr(%q): %v", c.addr, err)
		}
		if got := publicAddr(a); got != c.public {
			t.Errorf("publicAddr(%s) = %v, want %v", c.addr, got, c.public)
		}
	}
	if publicAddr(netip.Addr{}) {
		t.Error("the zero Addr is public")
	}
}

func TestDialControl(t *testing.T) {
	for _, c := range []struct {
		network, address string
		ok               bool
	}{
		{"tcp4", "8.8.8.8:443", true},
		{"tcp6", "[2001:4860:4860::8888]:443", true},
		{"tcp4", "127.0.0.1:443", false},
		{"tcp6", "[::1]:443", false},
		{"tcp6", "[::ffff:10.0.0.1]:443", false},
		{"tcp4", "169.254.169.254:80", false},
		{"tcp6", "[fe80::1%eth0]:443", false},
		{"udp4", "8.8.8.8:443", false},
		{"tcp4", "not-an-address", false},
	} {
		err := dialControl(c.network, c.address, nil)
		if c.ok && err != nil {
			t.Errorf("dialControl(%s, %s) = %v, want nil", c.network, c.address, err)
		}
		if !c.ok && !errors.Is(err, errBlockedAddress) {
			t.Errorf("dialControl(%s, %s) = %v, want errBlockedAddress", c.network, c.address, err)
		}
	}
}
