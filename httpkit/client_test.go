package httpkit

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientIPTrustsOnlyConfiguredProxies(t *testing.T) {
	cases := []struct {
		remote, xff, trusted, want string
	}{
		{"203.0.113.9:1234", "1.2.3.4", "", "203.0.113.9"},
		{"10.0.0.5:1234", "1.2.3.4", "10.0.0.0/8", "1.2.3.4"},
		{"10.0.0.5:1234", "6.6.6.6, 1.2.3.4", "10.0.0.0/8", "1.2.3.4"},
		{"10.0.0.5:1234", "1.2.3.4, 10.0.0.7", "10.0.0.0/8", "1.2.3.4"},
		{"10.0.0.5:1234", "garbage", "10.0.0.0/8", "10.0.0.5"},
		{"[::ffff:127.0.0.1]:80", "", "", "127.0.0.1"},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		var trusted []netip.Prefix
		if c.trusted != "" {
			trusted = append(trusted, netip.MustParsePrefix(c.trusted))
		}
		if got := ClientIP(r, trusted); got != c.want {
			t.Errorf("ClientIP(%s, XFF %q, trusted %q) = %s, want %s", c.remote, c.xff, c.trusted, got, c.want)
		}
	}
}

func TestRateSubjectGroupsIPv6By64(t *testing.T) {
	cases := map[string]string{
		"203.0.113.9":          "203.0.113.9",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1": "2001:db8:1:2::/64",
		"::ffff:203.0.113.9":   "::ffff:203.0.113.9",
		"not-an-ip":            "not-an-ip",
	}
	for in, want := range cases {
		if got := RateSubject(in); got != want {
			t.Errorf("RateSubject(%s) = %s, want %s", in, got, want)
		}
	}
}
