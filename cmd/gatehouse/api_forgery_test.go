package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestForgedAccessTokens sends the classic JWT attacks to a real server: all must get 401.
func TestForgedAccessTokens(t *testing.T) {
	s := startServer(t)
	a := s.register(t)
	parts := strings.Split(a.Access, ".")
	var header, claims map[string]any
	decodeSegment(t, parts[0], &header)
	decodeSegment(t, parts[1], &claims)

	attacker, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signWith := func(method jwt.SigningMethod, key any, mutate func(h, c map[string]any)) string {
		c := jwt.MapClaims{}
		for k, v := range claims {
			c[k] = v
		}
		tok := jwt.NewWithClaims(method, c)
		for k, v := range header {
			if k != "alg" {
				tok.Header[k] = v
			}
		}
		if mutate != nil {
			mutate(tok.Header, c)
		}
		signed, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return signed
	}
	encode := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}

	// The server's public key, as an attacker would fetch it, to try it as an HMAC secret.
	pubPEM := serverPublicKeyPEM(t, s, header["kid"].(string))

	adminClaims := map[string]any{}
	for k, v := range claims {
		adminClaims[k] = v
	}
	adminClaims["role"] = "admin"
	adminClaims["sub"] = "someone-else"

	forged := map[string]string{
		"alg none":          encode(map[string]any{"alg": "none", "typ": "at+jwt", "kid": header["kid"]}) + "." + parts[1] + ".",
		"alg none no sig":   encode(map[string]any{"alg": "none", "typ": "at+jwt"}) + "." + parts[1],
		"HS256 with pubkey": signWith(jwt.SigningMethodHS256, pubPEM, nil),
		"tampered payload":  parts[0] + "." + encode(adminClaims) + "." + parts[2],
		"unknown kid": signWith(jwt.SigningMethodES256, attacker, func(h, c map[string]any) {
			h["kid"] = "attacker-key"
		}),
		"jku header": signWith(jwt.SigningMethodES256, attacker, func(h, c map[string]any) {
			h["jku"] = "http://127.0.0.1:1/jwks.json"
		}),
		"embedded jwk": signWith(jwt.SigningMethodES256, attacker, func(h, c map[string]any) {
			h["jwk"] = map[string]any{"kty": "EC", "crv": "P-256",
				"x": base64.RawURLEncoding.EncodeToString(attacker.X.FillBytes(make([]byte, 32))),
				"y": base64.RawURLEncoding.EncodeToString(attacker.Y.FillBytes(make([]byte, 32)))}
		}),
		"expired (attacker-signed)": signWith(jwt.SigningMethodES256, attacker, func(h, c map[string]any) {
			c["exp"] = time.Now().Add(-time.Hour).Unix()
		}),
		"signature stripped": parts[0] + "." + parts[1] + ".",
		"not a jwt":          "hello",
		"four segments":      a.Access + ".x",
	}
	for name, tok := range forged {
		t.Run(name, func(t *testing.T) {
			expectProblem(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(tok)), http.StatusUnauthorized, "")
		})
	}
	// The genuine token still works, so the 401s above are about the forgery.
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(a.Access)), http.StatusOK)
}

// TestExpiredAccessToken uses a server whose tokens live one second, and a clock it cannot
// change: it re-signs nothing, it only checks the server's own exp is enforced by the verifier
// through a token from a server with another issuer, which must be refused too.
func TestTokenFromAnotherServerIsRefused(t *testing.T) {
	s1 := startServer(t)
	s2 := startServer(t)
	a := s1.register(t)
	expectProblem(t, s2.do(t, "GET", "/api/v1/users/me", nil, bearer(a.Access)), http.StatusUnauthorized, "")
}

func serverPublicKeyPEM(t *testing.T, s *testServer, kid string) []byte {
	t.Helper()
	var set struct {
		Keys []struct {
			Kid, Crv, X, Y string
		} `json:"keys"`
	}
	if err := json.Unmarshal(s.do(t, "GET", "/.well-known/jwks.json", nil).Body, &set); err != nil {
		t.Fatal(err)
	}
	for _, k := range set.Keys {
		if k.Kid != kid {
			continue
		}
		x, _ := base64.RawURLEncoding.DecodeString(k.X)
		y, _ := base64.RawURLEncoding.DecodeString(k.Y)
		pub := &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).SetBytes(x), Y: new(big.Int).SetBytes(y)}
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}
	t.Fatalf("kid %s not in JWKS", kid)
	return nil
}
