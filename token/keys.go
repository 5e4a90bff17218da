package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse"
)

// The algorithms a Gatehouse signing key can have (JWS "alg" values).
const (
	ES256 = "ES256" // ECDSA P-256 with SHA-256
	RS256 = "RS256" // RSASSA-PKCS1-v1_5 with SHA-256
	EdDSA = "EdDSA" // Ed25519
)

// rsaBits is the size of generated RSA keys; 3072 would be stronger on paper but makes
// generation take seconds and every signature several times slower, and 2048 is what
// RFC 7518 requires and relying parties expect.
const rsaBits = 2048

// GenerateKey creates a signing key for alg. Its ID is the RFC 7638 thumbprint of the public
// key, so the kid is derived from the key itself and two instances can never mint different
// keys under one kid.
func GenerateKey(alg string, now time.Time) (gatehouse.SigningKey, error) {
	var (
		priv crypto.Signer
		err  error
	)
	switch alg {
	case ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case RS256:
		priv, err = rsa.GenerateKey(rand.Reader, rsaBits)
	case EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		return gatehouse.SigningKey{}, fmt.Errorf("token: unsupported algorithm %q", alg)
	}
	if err != nil {
		return gatehouse.SigningKey{}, fmt.Errorf("token: generating %s key: %w", alg, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return gatehouse.SigningKey{}, fmt.Errorf("token: encoding %s key: %w", alg, err)
	}
	kid, err := thumbprint(priv.Public())
	if err != nil {
		return gatehouse.SigningKey{}, err
	}
	return gatehouse.SigningKey{ID: kid, Algorithm: alg, Private: der, CreatedAt: now}, nil
}

// parsePrivate decodes a stored key and checks that it really is a key for its declared
// algorithm, so that a mislabelled row can never make the server sign or verify with the wrong
// kind of key. Errors never include the key bytes.
func parsePrivate(k gatehouse.SigningKey) (crypto.Signer, error) {
	parsed, err := x509.ParsePKCS8PrivateKey(k.Private)
	if err != nil {
		return nil, fmt.Errorf("token: key %q is not PKCS#8: %w", k.ID, err)
	}
	switch key := parsed.(type) {
	case *ecdsa.PrivateKey:
		if k.Algorithm == ES256 && key.Curve == elliptic.P256() {
			return key, nil
		}
	case *rsa.PrivateKey:
		if k.Algorithm == RS256 && key.N.BitLen() >= rsaBits {
			return key, nil
		}
	case ed25519.PrivateKey:
		if k.Algorithm == EdDSA {
			return key, nil
		}
	}
	return nil, fmt.Errorf("token: key %q does not match its algorithm %q", k.ID, k.Algorithm)
}

func supported(alg string) bool {
	return alg == ES256 || alg == RS256 || alg == EdDSA
}
