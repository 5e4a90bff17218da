package smtp

import (
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	good := []struct {
		raw  string
		want Config
	}{
		{"smtp://mail.example.com", Config{Host: "mail.example.com", Port: 587, StartTLS: true}},
		{"smtp://u%40x:p%3Ass@mail.example.com:2525", Config{Host: "mail.example.com", Port: 2525, Username: "u@x", Password: "p:ss", StartTLS: true}},
		{"smtps://user:pw@mail.example.com", Config{Host: "mail.example.com", Port: 465, Username: "user", Password: "pw", ImplicitTLS: true}},
		{"smtp://127.0.0.1:25?starttls=off", Config{Host: "127.0.0.1", Port: 25}},
		{"smtp://[::1]:25?starttls=off", Config{Host: "::1", Port: 25}},
		{"smtp://relay:25?starttls=on", Config{Host: "relay", Port: 25, StartTLS: true}},
	}
	for _, c := range good {
		got, err := ParseURL(c.raw)
		if err != nil {
			t.Errorf("%s: %v", c.raw, err)
			continue
		}
		if got != c.want {
			t.Errorf("%s: got %+v, want %+v", c.raw, got, c.want)
		}
	}
	bad := []string{
		"http://mail.example.com", "mail.example.com:25", "smtp://", "smtp://host:0", "smtp://host:99999",
		"smtp://host/path", "smtps://host?starttls=off", "smtp://host?starttls=maybe", "smtp://host?tls=off", "smtp:opaque",
	}
	for _, raw := range bad {
		if _, err := ParseURL(raw); err == nil {
			t.Errorf("%s: accepted", raw)
		}
	}
}

// TestParseURLErrorsSayWhy: each refusal names what is wrong and never quotes the password.
func TestParseURLErrorsSayWhy(t *testing.T) {
	for raw, want := range map[string]string{
		"smtp://user:hunter2@host:notaport": `the port "notaport" is not a number`,
		"smtp://user:hunter2@host:99999":    `the port "99999" is not a number`,
		"smtp://user:hun%zzter2@host":       "percent-encode",
		"smtp://user:hunter2@[::1":          "not a URL",
		"smtp://user:hun/ter2@host":         "must be percent-encoded",
		"smtp://user:hun:ter2@host/x":       "must be percent-encoded",
	} {
		_, err := ParseURL(raw)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "zz") {
			t.Errorf("%s: %v; want %q", raw, err, want)
		}
	}
}

func TestConfigStringHidesPassword(t *testing.T) {
	c, err := ParseURL("smtps://user:hunter2@mail.example.com")
	if err != nil {
		t.Fatal(err)
	}
	if s := c.String(); strings.Contains(s, "hunter2") || !strings.Contains(s, "mail.example.com:465") {
		t.Fatalf("String() = %q", s)
	}
}
