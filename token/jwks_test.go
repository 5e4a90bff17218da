package token

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// rawJWKS decodes a key set without this package's types, as a relying party would.
func rawJWKS(t *testing.T, iss *Issuer) []map[string]string {
	t.Helper()
	body, err := iss.JWKS(context.Background())
	if err != nil {
		t.Fatalf("JWKS: %v", err)
	}
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatalf("JWKS is not a key set: %v\n%s", err, body)
	}
	return set.Keys
}

func kids(keys []map[string]string) []string {
	var out []string
	for _, k := range keys {
		out = append(out, k["kid"])
	}
	return out
}

// importJWK rebuilds a public key from its JWK with the standard library only.
func importJWK(t *testing.T, k map[string]string) any {
	t.Helper()
	dec := func(name string) []byte {
		b, err := base64.RawURLEncoding.DecodeString(k[name])
		if err != nil {
			t.Fatalf("member %q is not unpadded base64url: %v", name, err)
		}
		return b
	}
	switch k["kty"] {
	case "EC":
		x, y := dec("x"), dec("y")
		if k["crv"] != "P-256" || len(x) != 32 || len(y) != 32 {
			t.Fatalf("EC JWK %v: want P-256 with 32-byte coordinates", k)
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
		if err != nil {
			t.Fatal(err)
		}
		return pub
	case "RSA":
		n, e := dec("n"), dec("e")
		if n[0] == 0 || e[0] == 0 {
			t.Fatalf("RSA JWK has leading zero octets")
		}
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	case "OKP":
		x := dec("x")
		if k["crv"] != "Ed25519" || len(x) != ed25519.PublicKeySize {
			t.Fatalf("OKP JWK %v: want Ed25519", k)
		}
		return ed25519.PublicKey(x)
	}
	t.Fatalf("unexpected kty in %v", k)
	return nil
}

func TestJWKSShape(t *testing.T) {
	members := map[string][]string{
		ES256: {"alg", "crv", "kid", "kty", "use", "x", "y"},
		RS256: {"alg", "e", "kid", "kty", "n", "use"},
		EdDSA: {"alg", "crv", "kid", "kty", "use", "x"},
	}
	for _, alg := range algorithms {
		t.Run(alg, func(t *testing.T) {
			iss, _, _, key := setup(t, alg)
			keys := rawJWKS(t, iss)
			if len(keys) != 1 {
				t.Fatalf("JWKS has %d keys, want 1", len(keys))
			}
			k := keys[0]
			var names []string
			for name := range k {
				names = append(names, name)
			}
			slices.Sort(names)
			// Exactly the public members: anything else (d, p, q, ...) would be a leak.
			if !slices.Equal(names, members[alg]) {
				t.Fatalf("JWK members = %v, want %v", names, members[alg])
			}
			if k["kid"] != key.ID || k["alg"] != alg || k["use"] != "sig" {
				t.Fatalf("JWK = %v", k)
			}
			if alg == RS256 && k["e"] != "AQAB" {
				t.Fatalf("e = %q, want AQAB", k["e"])
			}

			// A relying party verifies our token with nothing but the JWKS and the jwt library.
			pub := importJWK(t, k)
			tok := mustSign(t, iss, sampleClaims())
			parsed, err := jwt.Parse(tok, func(tk *jwt.Token) (any, error) {
				if tk.Header["kid"] != k["kid"] {
					return nil, errors.New("kid mismatch")
				}
				return pub, nil
			}, jwt.WithValidMethods([]string{k["alg"]}), jwt.WithAudience(testAudience), jwt.WithIssuer(testIssuer),
				jwt.WithTimeFunc(func() time.Time { return newClock().Now() }))
			if err != nil || !parsed.Valid {
				t.Fatalf("verifying with the published key: %v", err)
			}

			// And the kid is the key's RFC 7638 thumbprint.
			if th, _ := thumbprint(pub); th != k["kid"] {
				t.Fatalf("kid %q is not the thumbprint %q", k["kid"], th)
			}
		})
	}
}

func TestJWKSPaddsECCoordinates(t *testing.T) {
	// About one key in 128 has a coordinate with a leading zero byte; big.Int.Bytes would drop it.
	for range 2000 {
		priv, err := ecdsa.GenerateKey(elliptic.P256(), nil)
		if err != nil {
			t.Fatal(err)
		}
		j, err := publicJWK(&priv.PublicKey, "kid", "ES256")
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(j)
		if err != nil {
			t.Fatal(err)
		}
		var m struct{ X, Y string }
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if len(m.X) != 43 || len(m.Y) != 43 {
			t.Fatalf("coordinates not 32 bytes: x=%q y=%q", m.X, m.Y)
		}
	}
}

func TestJWKSIgnoresOtherAlgorithms(t *testing.T) {
	iss, src, clk, key := setup(t, ES256)
	src.add(mustKey(t, EdDSA, clk.Now()))
	src.add(mustKey(t, RS256, clk.Now()))
	if err := iss.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	clk.Advance(2 * time.Second)
	if got := kids(rawJWKS(t, iss)); !slices.Equal(got, []string{key.ID}) {
		t.Fatalf("JWKS kids = %v, want only the ES256 key", got)
	}
	if iss.CurrentKeyID() != key.ID {
		t.Fatal("a newer key of another algorithm became the signer")
	}
}

func TestJWKSCachedForASecond(t *testing.T) {
	iss, src, clk, _ := setup(t, EdDSA)
	before := src.readCount()
	first := rawJWKS(t, iss)
	rawJWKS(t, iss)
	if n := src.readCount() - before; n != 1 {
		t.Fatalf("two JWKS calls within a second read the store %d times", n)
	}

	added := mustKey(t, EdDSA, clk.Now())
	src.add(added)
	clk.Advance(999 * time.Millisecond)
	if got := rawJWKS(t, iss); len(got) != len(first) {
		t.Fatal("the cached JWKS changed before a second had passed")
	}
	clk.Advance(time.Millisecond)
	if got := kids(rawJWKS(t, iss)); !slices.Contains(got, added.ID) {
		t.Fatalf("JWKS %v lacks the key added a second ago", got)
	}

	// Callers cannot corrupt the cache through the returned slice.
	body, _ := iss.JWKS(context.Background())
	clear(body)
	rawJWKS(t, iss)
}

func TestJWKSFallsBackToLoadedKeys(t *testing.T) {
	iss, src, clk, key := setup(t, ES256)
	src.setErr(errors.New("database is down"))
	if got := kids(rawJWKS(t, iss)); !slices.Equal(got, []string{key.ID}) {
		t.Fatalf("JWKS with the store down = %v, want the loaded key", got)
	}

	// Without loaded keys there is nothing to fall back to.
	empty := NewIssuer(testConfig(ES256, clk), src)
	if _, err := empty.JWKS(context.Background()); err == nil {
		t.Fatal("JWKS succeeded with neither store nor loaded keys")
	}
}
