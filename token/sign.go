package token

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse/gatehouse"
)

// tokenType is the JWS "typ" of access tokens (RFC 9068 §2.1). Verifying it keeps any other JWT
// signed with the same keys (an ID token, say) from being accepted as an access token.
const tokenType = "at+jwt"

// jtiBytes is the randomness of a generated token ID: enough that IDs never collide.
const jtiBytes = 16

// Sign issues an access token for c with the current signing key. A zero IssuedAt means now, a
// zero ExpiresAt means IssuedAt plus the TTL, and an empty ID gets a random one. Verify refuses
// tokens that live longer than the TTL.
func (i *Issuer) Sign(ctx context.Context, c gatehouse.AccessClaims) (string, error) {
	if i.cfgErr != nil {
		return "", i.cfgErr
	}
	ks := i.keys.Load()
	if ks == nil {
		return "", fmt.Errorf("%w: keys not loaded yet", ErrNoSigningKey)
	}
	// Verify refuses tokens without these, so issuing one would only defer the failure.
	if c.Subject == "" || c.SessionID == "" {
		return "", errors.New("token: access claims need a subject and a session ID")
	}
	if c.IssuedAt.IsZero() {
		c.IssuedAt = i.cfg.Now()
	}
	if c.ExpiresAt.IsZero() {
		c.ExpiresAt = c.IssuedAt.Add(i.cfg.TTL)
	}
	if !c.ExpiresAt.After(c.IssuedAt) {
		return "", errors.New("token: access token would expire before it is issued")
	}
	// Verify refuses a token that lives longer than the TTL; signing one would be a bug.
	if !i.withinTTL(c.IssuedAt, c.ExpiresAt) {
		return "", errTooLongLived
	}
	if c.ID == "" {
		c.ID = gatehouse.RandomToken(jtiBytes)
	}
	if c.Act != nil && !validActor(c.Act) {
		return "", errActor
	}

	aud := c.Audience
	if aud == "" {
		aud = i.cfg.Audience
	}
	t := jwt.NewWithClaims(i.method, &wireClaims{
		Issuer:        i.cfg.Issuer,
		Subject:       c.Subject,
		Audience:      audience{aud},
		ExpiresAt:     newNumericDate(c.ExpiresAt),
		IssuedAt:      newNumericDate(c.IssuedAt),
		ID:            c.ID,
		SessionID:     c.SessionID,
		Email:         c.Email,
		EmailVerified: c.EmailVerified,
		Role:          c.Role,
		ClientID:      c.ClientID,
		Scope:         c.Scope,
		Act:           c.Act,
		AMR:           c.AMR,
		AAL:           c.AAL,
		AuthTime:      optionalDate(c.AuthTime),

		OrgID:          c.OrgID,
		OrgRole:        c.OrgRole,
		OrgPermissions: c.OrgPermissions,
	})
	t.Header["typ"] = tokenType
	t.Header["kid"] = ks.signer.id
	s, err := t.SignedString(ks.signer.signer)
	if err != nil {
		return "", fmt.Errorf("token: signing with key %q: %w", ks.signer.id, err)
	}
	return s, nil
}

// optionalDate is a date claim that is left out when t is zero.
func optionalDate(t time.Time) *numericDate {
	if t.IsZero() {
		return nil
	}
	return newNumericDate(t)
}
