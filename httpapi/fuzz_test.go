package httpapi

import (
	"bytes"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzDecodeJSON feeds arbitrary bodies to the one JSON decoder every endpoint uses: it must
// answer with a value or a client error, never panic.
func FuzzDecodeJSON(f *testing.F) {
	for _, seed := range []string{`{"email":"a@b.co","password":"x","name":"n"}`, `{"all":true}`, `[]`, `{`, `null`,
		`{"refresh_token":"` + strings.Repeat("a", 100) + `"}`, "{\"name\":\"\xff\"}", `{"a":1}{"b":2}`} {
		f.Add([]byte(seed))
	}
	type body struct {
		Email    string         `json:"email"`
		Password string         `json:"password"`
		All      bool           `json:"all"`
		Name     optionalString `json:"name"`
		Role     *string        `json:"role"`
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := httptest.NewRequest("POST", "/", bytes.NewReader(data))
		r.Header.Set("Content-Type", "application/json")
		_, err := decode[body](r, true)
		if err != nil {
			if _, ok := err.(*httpError); !ok {
				t.Fatalf("decode error is not a client error: %v", err)
			}
		}
	})
}

// FuzzBearerToken checks the Authorization header parser never panics and never returns a
// token with white space in it.
func FuzzBearerToken(f *testing.F) {
	for _, seed := range []string{"Bearer abc", "bearer  abc", "Basic x", "Bearer", "Bearer a b", "", "Bearer \t"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, header string) {
		tok := bearerToken(header)
		if strings.ContainsAny(tok, " \t\r\n") || len(tok) > maxCredentialLength {
			t.Fatalf("bearerToken(%q) = %q", header, tok)
		}
		if tok != "" && !strings.Contains(header, tok) {
			t.Fatalf("token %q is not part of the header %q", tok, header)
		}
	})
}

// FuzzLoginForm checks the form-login parser.
func FuzzLoginForm(f *testing.F) {
	for _, seed := range []string{"username=a%40b.co&password=x", "%zz", "username=&password=", "password=a&password=b"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := parseLoginForm(data); err != nil {
			if _, ok := err.(*httpError); !ok {
				t.Fatalf("form error is not a client error: %v", err)
			}
		}
	})
}

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
		var trusted []netipPrefix
		if c.trusted != "" {
			trusted = append(trusted, mustPrefix(c.trusted))
		}
		if got := clientIP(r, trusted); got != c.want {
			t.Errorf("clientIP(%s, XFF %q, trusted %q) = %s, want %s", c.remote, c.xff, c.trusted, got, c.want)
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
		if got := rateSubject(in); got != want {
			t.Errorf("rateSubject(%s) = %s, want %s", in, got, want)
		}
	}
}
