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
