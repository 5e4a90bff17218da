package web

import (
	"testing"

	"github.com/gatehouse/gatehouse"
)

func TestDeviceNamesCommonUserAgents(t *testing.T) {
	cases := map[string]string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36":               "Chrome on Windows",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15":        "Safari on macOS",
		"Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0":                                                    "Firefox on Linux",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/604.1": "Safari on iPhone",
		"Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36 EdgA/126 Edg/126": "Edge on Android",
		"curl/8.5.0":         "curl",
		"Go-http-client/1.1": "Go HTTP client",
		"":                   "Unknown device",
	}
	for ua, want := range cases {
		if got := device(ua); got != want {
			t.Errorf("device(%q) = %q, want %q", ua, got, want)
		}
	}
}

func TestFormatNumberAndInitials(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -4200: "-4,200"} {
		if got := formatNumber(n); got != want {
			t.Errorf("formatNumber(%d) = %q, want %q", n, got, want)
		}
	}
	for _, c := range []struct{ name, email, want string }{
		{"Ada Lovelace", "ada@example.com", "AL"}, {"", "bob@example.com", "B"}, {"émile zola durand", "", "ÉZ"}, {"  ", "x@y.z", "X"},
	} {
		if got := initials(&gatehouse.User{Name: c.name, Email: c.email}); got != c.want {
			t.Errorf("initials(%q, %q) = %q, want %q", c.name, c.email, got, c.want)
		}
	}
}
