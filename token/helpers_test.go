package token

import (
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse/gatehouse"
)

// memSource is an in-memory KeySource; the store itself is tested by storetest.
type memSource struct {
	mu    sync.Mutex
	keys  []gatehouse.SigningKey
	err   error
	reads int
}

func (m *memSource) SigningKeys(context.Context) ([]gatehouse.SigningKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	if m.err != nil {
		return nil, m.err
	}
	return append([]gatehouse.SigningKey(nil), m.keys...), nil
}

func (m *memSource) add(k gatehouse.SigningKey) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys = append(m.keys, k)
}

func (m *memSource) setErr(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.err = err
}

func (m *memSource) readCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.reads
}

// clock is a settable time source, so that expiry and retirement can be tested without sleeping.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const (
	testIssuer   = "https://auth.example.test"
	testAudience = "example-api"
	testTTL      = 15 * time.Minute
)

var algorithms = []string{ES256, RS256, EdDSA}

func testConfig(alg string, clk *clock) Config {
	return Config{Issuer: testIssuer, Audience: testAudience, Algorithm: alg, TTL: testTTL, Now: clk.Now}
}

func mustKey(t testing.TB, alg string, created time.Time) gatehouse.SigningKey {
	t.Helper()
	k, err := GenerateKey(alg, created)
	if err != nil {
		t.Fatalf("GenerateKey(%s): %v", alg, err)
	}
	return k
}

// setup returns an Issuer of alg, loaded with one key created an hour before the clock.
func setup(t testing.TB, alg string) (*Issuer, *memSource, *clock, gatehouse.SigningKey) {
	t.Helper()
	clk := newClock()
	src := &memSource{}
	k := mustKey(t, alg, clk.Now().Add(-time.Hour))
	src.add(k)
	iss := NewIssuer(testConfig(alg, clk), src)
	if err := iss.Reload(context.Background()); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	return iss, src, clk, k
}

func sampleClaims() gatehouse.AccessClaims {
	return gatehouse.AccessClaims{
		Subject:       "0190c2a4-8f3e-7b1a-9c2d-3e4f5a6b7c8d",
		SessionID:     "0190c2a4-9000-7000-8000-000000000001",
		Email:         "ada@example.test",
		EmailVerified: true,
		Role:          "user",
		AMR:           []string{"pwd", "otp", "mfa"},
		AAL:           "aal2",
		AuthTime:      time.Unix(1_800_000_000, 0).UTC(),
	}
}

func mustSign(t testing.TB, iss *Issuer, c gatehouse.AccessClaims) string {
	t.Helper()
	s, err := iss.Sign(context.Background(), c)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return s
}

func mustPrivate(t testing.TB, k gatehouse.SigningKey) crypto.Signer {
	t.Helper()
	s, err := parsePrivate(k)
	if err != nil {
		t.Fatalf("parsePrivate: %v", err)
	}
	return s
}

// validClaims is the payload Sign would produce at clk's time, as a map so that forgeries can
// drop or alter single members.
func validClaims(clk *clock) jwt.MapClaims {
	now := clk.Now()
	return jwt.MapClaims{
		"iss":            testIssuer,
		"sub":            "user-1",
		"aud":            testAudience,
		"exp":            now.Add(testTTL).Unix(),
		"iat":            now.Unix(),
		"jti":            "jti-1",
		"sid":            "session-1",
		"email":          "ada@example.test",
		"email_verified": true,
		"role":           "user",
	}
}

func validHeader(method jwt.SigningMethod, kid string) map[string]any {
	return map[string]any{"alg": method.Alg(), "typ": "at+jwt", "kid": kid}
}

// signRaw builds a token with exactly the given header and claims, for tests that need tokens
// Sign would never produce.
func signRaw(t testing.TB, method jwt.SigningMethod, header map[string]any, claims jwt.MapClaims, key any) string {
	t.Helper()
	tok := &jwt.Token{Method: method, Header: header, Claims: claims}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("signing a test token: %v", err)
	}
	return s
}

func methodFor(alg string) jwt.SigningMethod { return jwt.GetSigningMethod(alg) }

// segment decodes one part of a compact JWS into a map.
func segment(t testing.TB, token string, i int) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatalf("decoding part %d: %v", i, err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("decoding part %d: %v", i, err)
	}
	return m
}

func wantUnauthenticated(t *testing.T, iss *Issuer, token string) {
	t.Helper()
	c, err := iss.Verify(context.Background(), token)
	if err == nil {
		t.Fatalf("Verify accepted the token: %+v", c)
	}
	if !errors.Is(err, gatehouse.ErrUnauthenticated) {
		t.Fatalf("Verify error %v is not ErrUnauthenticated", err)
	}
	if gatehouse.ErrorCodeOf(err) != "unauthorized" {
		t.Fatalf("Verify error code = %q, want unauthorized", gatehouse.ErrorCodeOf(err))
	}
	if c != nil {
		t.Fatalf("Verify returned claims with an error")
	}
}

func wantValid(t *testing.T, iss *Issuer, token string) *gatehouse.AccessClaims {
	t.Helper()
	c, err := iss.Verify(context.Background(), token)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return c
}
