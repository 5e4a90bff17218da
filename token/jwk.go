package token

import (
	"crypto"
	"encoding/base64"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"
)

var b64 = base64.RawURLEncoding

// publicJWK is the JWK (RFC 7517, and RFC 8037 for Ed25519) of a public key, as go-jose writes
// it. Only public keys are ever passed in: given a private key, go-jose would publish it.
func publicJWK(pub crypto.PublicKey, kid, alg string) (jose.JSONWebKey, error) {
	j := jose.JSONWebKey{Key: pub, KeyID: kid, Algorithm: alg, Use: "sig"}
	if !j.Valid() || !j.IsPublic() {
		return jose.JSONWebKey{}, fmt.Errorf("token: unsupported public key type %T", pub)
	}
	return j, nil
}

// thumbprint is the RFC 7638 SHA-256 thumbprint of pub.
func thumbprint(pub crypto.PublicKey) (string, error) {
	j := jose.JSONWebKey{Key: pub}
	if !j.IsPublic() {
		return "", fmt.Errorf("token: unsupported public key type %T", pub)
	}
	sum, err := j.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("token: thumbprint: %w", err)
	}
	return b64.EncodeToString(sum), nil
}
