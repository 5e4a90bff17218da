package token

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"math/big"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

func TestGenerateKey(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, alg := range algorithms {
		t.Run(alg, func(t *testing.T) {
			k := mustKey(t, alg, now)
			if k.Algorithm != alg || !k.CreatedAt.Equal(now) {
				t.Fatalf("got Algorithm %q CreatedAt %v", k.Algorithm, k.CreatedAt)
			}
			priv, err := x509.ParsePKCS8PrivateKey(k.Private)
			if err != nil {
				t.Fatalf("Private is not PKCS#8: %v", err)
			}
			switch key := priv.(type) {
			case *ecdsa.PrivateKey:
				if alg != ES256 || key.Curve != elliptic.P256() {
					t.Fatalf("%s produced an ECDSA key on %v", alg, key.Curve.Params().Name)
				}
			case *rsa.PrivateKey:
				if alg != RS256 || key.N.BitLen() != 2048 {
					t.Fatalf("%s produced a %d-bit RSA key", alg, key.N.BitLen())
				}
			case ed25519.PrivateKey:
				if alg != EdDSA {
					t.Fatalf("%s produced an Ed25519 key", alg)
				}
			default:
				t.Fatalf("unexpected key type %T", priv)
			}
			want, err := thumbprint(mustPrivate(t, k).Public())
			if err != nil {
				t.Fatal(err)
			}
			if k.ID != want || len(k.ID) != 43 {
				t.Fatalf("ID = %q, want the thumbprint %q", k.ID, want)
			}
			if other := mustKey(t, alg, now); other.ID == k.ID {
				t.Fatalf("two generated keys share the ID %q", k.ID)
			}
		})
	}
	if _, err := GenerateKey("HS256", now); err == nil {
		t.Fatal("GenerateKey accepted HS256")
	}
	if _, err := GenerateKey("es256", now); err == nil {
		t.Fatal("GenerateKey accepted a lower-case algorithm")
	}
}

func b64d(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Known answers computed outside this package, so that a self-consistent but wrong canonical form
// cannot pass.
func TestThumbprintVectors(t *testing.T) {
	// RFC 7638 §3.1.
	n := "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
	rsaKey := &rsa.PublicKey{N: new(big.Int).SetBytes(b64d(t, n)), E: 65537}

	// A P-256 key whose thumbprint golang.org/x/crypto/acme computed with openssl.
	pt := append([]byte{4}, b64d(t, "5lhEug5xK4xBDZ2nAbaxLtaLiv85bxJ7ePd1dkO23HQ")...)
	pt = append(pt, b64d(t, "4aiK72sBeUAGkv0TaLsmwokYUYyNxGsS5EMIKwsNIKk")...)
	ecKey, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), pt)
	if err != nil {
		t.Fatal(err)
	}

	// RFC 8037 appendix A.3.
	edKey := ed25519.PublicKey(b64d(t, "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"))

	for _, tc := range []struct {
		name string
		key  any
		want string
	}{
		{"RSA", rsaKey, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"},
		{"EC", ecKey, "zedj-Bd1Zshp8KLePv2MB-lJ_Hagp7wAwdkA0NUTniU"},
		{"OKP", edKey, "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"},
	} {
		got, err := thumbprint(tc.key)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got != tc.want {
			t.Errorf("%s thumbprint = %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestParsePrivateRejectsMislabelledKeys(t *testing.T) {
	now := time.Now()
	ec := mustKey(t, ES256, now)
	ed := mustKey(t, EdDSA, now)

	mislabelled := ec
	mislabelled.Algorithm = EdDSA
	if _, err := parsePrivate(mislabelled); err == nil {
		t.Error("an ECDSA key labelled EdDSA was accepted")
	}
	mislabelled = ed
	mislabelled.Algorithm = RS256
	if _, err := parsePrivate(mislabelled); err == nil {
		t.Error("an Ed25519 key labelled RS256 was accepted")
	}

	p384, err := ecdsa.GenerateKey(elliptic.P384(), nil)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(p384)
	if _, err := parsePrivate(gatehouse.SigningKey{ID: "p384", Algorithm: ES256, Private: der}); err == nil {
		t.Error("a P-384 key labelled ES256 was accepted")
	}
	if _, err := parsePrivate(gatehouse.SigningKey{ID: "junk", Algorithm: ES256, Private: []byte("not a key")}); err == nil {
		t.Error("garbage was accepted as a key")
	}
}
