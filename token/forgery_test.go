package token

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestForgeriesRejected tries the known ways of getting a JWT verifier to accept a token the
// issuer never signed, or one it signed for another purpose.
func TestForgeriesRejected(t *testing.T) {
	iss, src, clk, key := setup(t, ES256)
	ctx := context.Background()
	es := jwt.SigningMethodES256
	real := mustPrivate(t, key)
	pub := real.Public()

	attacker := mustKey(t, ES256, clk.Now())
	attackerPriv := mustPrivate(t, attacker)
	attackerJWK, err := publicJWK(attackerPriv.Public(), attacker.ID, "ES256")
	if err != nil {
		t.Fatal(err)
	}

	// An RS256 key in the very same store: it must still not verify anything while ES256 is
	// the configured algorithm.
	rsKey := mustKey(t, RS256, clk.Now())
	src.add(rsKey)
	if err := iss.Reload(ctx); err != nil {
		t.Fatal(err)
	}

	good := mustSign(t, iss, sampleClaims())
	wantValid(t, iss, good)

	with := func(edit func(h map[string]any, c jwt.MapClaims)) (map[string]any, jwt.MapClaims) {
		h, c := validHeader(es, key.ID), validClaims(clk)
		edit(h, c)
		return h, c
	}
	signedReal := func(edit func(h map[string]any, c jwt.MapClaims)) string {
		h, c := with(edit)
		return signRaw(t, es, h, c, real)
	}
	signedAttacker := func(edit func(h map[string]any, c jwt.MapClaims)) string {
		h, c := with(edit)
		return signRaw(t, es, h, c, attackerPriv)
	}

	cases := map[string]string{}

	// Sanity: the helpers produce a token that verifies when nothing is wrong with it, so each
	// case below fails for its own reason only.
	wantValid(t, iss, signedReal(func(map[string]any, jwt.MapClaims) {}))

	{
		h, c := with(func(h map[string]any, _ jwt.MapClaims) { h["alg"] = "none" })
		cases["alg none"] = signRaw(t, jwt.SigningMethodNone, h, c, jwt.UnsafeAllowNoneSignatureType)
		// The same with the real signature left in place.
		parts := strings.Split(cases["alg none"], ".")
		cases["alg none with a signature"] = parts[0] + "." + parts[1] + "." + strings.Split(good, ".")[2]
	}

	// The key confusion attack: HMAC keyed with public material that verifiers can see.
	pkix, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix})
	point, err := pub.(*ecdsa.PublicKey).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	jwks, err := iss.JWKS(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for name, secret := range map[string][]byte{"DER": pkix, "PEM": pemBytes, "point": point, "JWKS": jwks} {
		h, c := with(func(h map[string]any, _ jwt.MapClaims) { h["alg"] = "HS256" })
		cases["HS256 keyed with the public key "+name] = signRaw(t, jwt.SigningMethodHS256, h, c, secret)
	}

	{
		parts := strings.Split(good, ".")
		payload := segment(t, good, 1)
		payload["role"] = "admin"
		b, _ := json.Marshal(payload)
		cases["tampered payload"] = parts[0] + "." + base64.RawURLEncoding.EncodeToString(b) + "." + parts[2]
		cases["signature removed"] = parts[0] + "." + parts[1] + "."
		cases["signature from another token"] = parts[0] + "." + parts[1] + "." + strings.Split(mustSign(t, iss, sampleClaims()), ".")[2]
	}

	cases["unknown kid"] = signedAttacker(func(h map[string]any, _ jwt.MapClaims) { h["kid"] = attacker.ID })
	cases["real kid, attacker key"] = signedAttacker(func(map[string]any, jwt.MapClaims) {})
	cases["jku header"] = signedAttacker(func(h map[string]any, _ jwt.MapClaims) {
		h["kid"] = attacker.ID
		h["jku"] = "https://attacker.example/jwks.json"
	})
	cases["jku header, real key"] = signedReal(func(h map[string]any, _ jwt.MapClaims) { h["jku"] = "https://attacker.example/jwks.json" })
	cases["embedded jwk header"] = signedAttacker(func(h map[string]any, _ jwt.MapClaims) {
		h["kid"] = attacker.ID
		h["jwk"] = attackerJWK
	})
	cases["embedded jwk header, real key"] = signedReal(func(h map[string]any, _ jwt.MapClaims) { h["jwk"] = attackerJWK })
	cases["x5u header"] = signedReal(func(h map[string]any, _ jwt.MapClaims) { h["x5u"] = "https://attacker.example/cert.pem" })
	cases["x5c header"] = signedReal(func(h map[string]any, _ jwt.MapClaims) { h["x5c"] = []string{"MIIB"} })
	cases["crit header"] = signedReal(func(h map[string]any, _ jwt.MapClaims) {
		h["crit"] = []string{"exp"}
		h["exp"] = 0
	})

	cases["expired"] = signedReal(func(_ map[string]any, c jwt.MapClaims) {
		c["iat"] = clk.Now().Add(-2 * time.Hour).Unix()
		c["exp"] = clk.Now().Add(-time.Hour).Unix()
	})
	cases["issued in the future"] = signedReal(func(_ map[string]any, c jwt.MapClaims) {
		c["iat"] = clk.Now().Add(time.Hour).Unix()
		c["exp"] = clk.Now().Add(2 * time.Hour).Unix()
	})
	// A stolen or leaked signing key must not mint tokens that outlive the configured TTL.
	cases["lifetime longer than the TTL"] = signedReal(func(_ map[string]any, c jwt.MapClaims) {
		c["exp"] = clk.Now().Add(testTTL + 2*time.Second).Unix()
	})
	cases["lifetime of a year"] = signedReal(func(_ map[string]any, c jwt.MapClaims) {
		c["iat"] = clk.Now().Add(-time.Minute).Unix()
		c["exp"] = clk.Now().Add(365 * 24 * time.Hour).Unix()
	})
	cases["not yet valid"] = signedReal(func(_ map[string]any, c jwt.MapClaims) { c["nbf"] = clk.Now().Add(time.Hour).Unix() })
	cases["exp as a string"] = signedReal(func(_ map[string]any, c jwt.MapClaims) { c["exp"] = "9999999999" })
	cases["wrong issuer"] = signedReal(func(_ map[string]any, c jwt.MapClaims) { c["iss"] = "https://evil.example" })
	cases["wrong audience"] = signedReal(func(_ map[string]any, c jwt.MapClaims) { c["aud"] = "another-api" })
	cases["audience list without ours"] = signedReal(func(_ map[string]any, c jwt.MapClaims) { c["aud"] = []string{"a", "b"} })

	for _, typ := range []any{"JWT", "jwt", "at+jwt+x", "application/jwt", "", 1, nil} {
		cases["typ "+jsonString(typ)] = signedReal(func(h map[string]any, _ jwt.MapClaims) { h["typ"] = typ })
	}
	cases["typ missing"] = signedReal(func(h map[string]any, _ jwt.MapClaims) { delete(h, "typ") })
	cases["kid missing"] = signedReal(func(h map[string]any, _ jwt.MapClaims) { delete(h, "kid") })
	cases["kid empty"] = signedReal(func(h map[string]any, _ jwt.MapClaims) { h["kid"] = "" })
	cases["kid not a string"] = signedReal(func(h map[string]any, _ jwt.MapClaims) { h["kid"] = []string{key.ID} })

	for _, claim := range []string{"iss", "sub", "aud", "exp", "iat", "jti", "sid"} {
		cases["missing "+claim] = signedReal(func(_ map[string]any, c jwt.MapClaims) { delete(c, claim) })
		cases["empty "+claim] = signedReal(func(_ map[string]any, c jwt.MapClaims) { c[claim] = "" })
	}

	{
		h, c := validHeader(jwt.SigningMethodRS256, rsKey.ID), validClaims(clk)
		cases["RS256 token from a key in the store"] = signRaw(t, jwt.SigningMethodRS256, h, c, mustPrivate(t, rsKey))
		h, c = validHeader(jwt.SigningMethodRS256, key.ID), validClaims(clk)
		cases["RS256 token under the ES256 kid"] = signRaw(t, jwt.SigningMethodRS256, h, c, mustPrivate(t, rsKey))
		h, c = validHeader(jwt.SigningMethodES384, key.ID), validClaims(clk)
		cases["ES384 alg label"] = signRaw(t, jwt.SigningMethodES256, h, c, real)
	}

	cases["longer than 8 KiB, validly signed"] = signedReal(func(_ map[string]any, c jwt.MapClaims) {
		c["email"] = strings.Repeat("a", 8<<10) + "@example.test"
	})

	for i, g := range []string{
		"", ".", "..", "...", "a.b.c", "not a token", "Bearer " + good, good + ".", "." + good,
		good + " ", " " + good, strings.Repeat("A", 9000),
		"eyJhbGciOiJFUzI1NiJ9", "eyJhbGciOiJFUzI1NiJ9..", "e30.e30.", "bnVsbA.bnVsbA.bnVsbA",
		"eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCIsImtpZCI6Int9In0.W10.AAAA",
	} {
		cases["garbage "+string(rune('a'+i))] = g
	}

	for name, tok := range cases {
		t.Run(name, func(t *testing.T) { wantUnauthenticated(t, iss, tok) })
	}

	// All of that must not have disturbed the real keys.
	wantValid(t, iss, good)
	if iss.CurrentKeyID() != key.ID {
		t.Fatalf("CurrentKeyID = %q, want %q", iss.CurrentKeyID(), key.ID)
	}
}

// The accepted spellings of typ (RFC 8725 §3.11 and case-insensitive media types).
func TestTypeSpellingsAccepted(t *testing.T) {
	iss, _, clk, key := setup(t, EdDSA)
	for _, typ := range []string{"at+jwt", "AT+JWT", "application/at+jwt", "Application/AT+JWT"} {
		h := validHeader(jwt.SigningMethodEdDSA, key.ID)
		h["typ"] = typ
		wantValid(t, iss, signRaw(t, jwt.SigningMethodEdDSA, h, validClaims(clk), mustPrivate(t, key)))
	}
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
