package passkey

import (
	"strings"
	"testing"
)

// TestConfigValidate: the relying party browsers accept, and the mistakes named.
func TestConfigValidate(t *testing.T) {
	good := []Config{
		{RPID: "example.com", Origins: []string{"https://example.com"}},
		{RPID: "example.com", Origins: []string{"https://auth.example.com", "https://app.example.com:8443"}},
		{RPID: "localhost", Origins: []string{"http://localhost:8080"}},
	}
	for _, c := range good {
		if err := c.Validate(); err != nil {
			t.Errorf("%+v refused: %v", c, err)
		}
		if _, err := New(c); err != nil {
			t.Errorf("%+v: New: %v", c, err)
		}
	}
	bad := map[string]Config{
		"IP address":             {RPID: "127.0.0.1", Origins: []string{"http://127.0.0.1:8080"}},
		"not a suffix":           {RPID: "example.com", Origins: []string{"https://evil.example"}},
		"look-alike":             {RPID: "example.com", Origins: []string{"https://notexample.com"}},
		"plain http":             {RPID: "example.com", Origins: []string{"http://example.com"}},
		"port in RP ID":          {RPID: "example.com:443", Origins: []string{"https://example.com"}},
		"path in origin":         {RPID: "example.com", Origins: []string{"https://example.com/login"}},
		"no origin":              {RPID: "example.com"},
		"empty RP ID":            {Origins: []string{"https://example.com"}},
		"RP ID below the origin": {RPID: "auth.example.com", Origins: []string{"https://example.com"}},
	}
	for name, c := range bad {
		err := c.Validate()
		if err == nil {
			t.Errorf("%s: %+v accepted", name, c)
			continue
		}
		if strings.TrimSpace(err.Error()) == "" {
			t.Errorf("%s: an error without words", name)
		}
	}
}
