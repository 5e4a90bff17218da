package token

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse/gatehouse"
)

// idTokenClaims is the JSON payload of an OpenID Connect ID token (OIDC Core §2, §3.1.3.6).
type idTokenClaims struct {
	Issuer        string       `json:"iss"`
	Subject       string       `json:"sub"`
	Audience      audience     `json:"aud"`
	AuthorizedBy  string       `json:"azp"`
	ExpiresAt     *numericDate `json:"exp"`
	IssuedAt      *numericDate `json:"iat"`
	AuthTime      *numericDate `json:"auth_time,omitempty"`
	ACR           string       `json:"acr,omitempty"`
	AMR           []string     `json:"amr,omitempty"`
	Nonce         string       `json:"nonce,omitempty"`
	AccessHash    string       `json:"at_hash,omitempty"`
	SessionID     string       `json:"sid,omitempty"`
	Email         string       `json:"email,omitempty"`
	EmailVerified *bool        `json:"email_verified,omitempty"`
	Name          string       `json:"name,omitempty"`
	Picture       string       `json:"picture,omitempty"`
}

func (c *idTokenClaims) GetExpirationTime() (*jwt.NumericDate, error) { return c.ExpiresAt.get(), nil }
func (c *idTokenClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return c.IssuedAt.get(), nil }
func (c *idTokenClaims) GetNotBefore() (*jwt.NumericDate, error)      { return nil, nil }
func (c *idTokenClaims) GetIssuer() (string, error)                   { return c.Issuer, nil }
func (c *idTokenClaims) GetSubject() (string, error)                  { return c.Subject, nil }
func (c *idTokenClaims) GetAudience() (jwt.ClaimStrings, error) {
	return jwt.ClaimStrings(c.Audience), nil
}

// SignIDToken issues an ID token for c with the current signing key, with the lifetime of an
// access token. Its "typ" is JWT, so no verifier of access tokens (ours or a resource kit's,
// which require at+jwt) accepts it in place of one.
func (i *Issuer) SignIDToken(ctx context.Context, c gatehouse.IDClaims) (string, error) {
	if i.cfgErr != nil {
		return "", i.cfgErr
	}
	ks := i.keys.Load()
	if ks == nil {
		return "", fmt.Errorf("%w: keys not loaded yet", ErrNoSigningKey)
	}
	if c.Subject == "" || c.Audience == "" {
		return "", errors.New("token: ID token claims need a subject and an audience")
	}
	now := i.cfg.Now()
	claims := &idTokenClaims{
		Issuer:       i.cfg.Issuer,
		Subject:      c.Subject,
		Audience:     audience{c.Audience},
		AuthorizedBy: c.Audience,
		ExpiresAt:    newNumericDate(now.Add(i.cfg.TTL)),
		IssuedAt:     newNumericDate(now),
		Nonce:        c.Nonce,
		SessionID:    c.SessionID,
		ACR:          c.ACR,
		AMR:          c.AMR,
	}
	if !c.AuthTime.IsZero() {
		claims.AuthTime = newNumericDate(c.AuthTime)
	}
	if c.AccessToken != "" {
		claims.AccessHash = leftHalfHash(i.cfg.Algorithm, c.AccessToken)
	}
	if c.WithEmail {
		verified := c.EmailVerified
		claims.Email, claims.EmailVerified = c.Email, &verified
	}
	if c.WithProfile {
		claims.Name, claims.Picture = c.Name, c.Picture
	}
	t := jwt.NewWithClaims(i.method, claims)
	t.Header["typ"] = "JWT"
	t.Header["kid"] = ks.signer.id
	s, err := t.SignedString(ks.signer.signer)
	if err != nil {
		return "", fmt.Errorf("token: signing with key %q: %w", ks.signer.id, err)
	}
	return s, nil
}

// leftHalfHash is at_hash (OIDC Core §3.1.3.6): the left half of the hash of the access token,
// with the hash of the signing algorithm (SHA-256 for ES256 and RS256, SHA-512 for EdDSA with
// Ed25519), base64url without padding.
func leftHalfHash(alg, accessToken string) string {
	var h hash.Hash
	if alg == "EdDSA" {
		h = sha512.New()
	} else {
		h = sha256.New()
	}
	h.Write([]byte(accessToken))
	sum := h.Sum(nil)
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}

// Algorithm is the JWS algorithm the issuer signs with, for discovery documents.
func (i *Issuer) Algorithm() string { return i.cfg.Algorithm }
