package gatehouseauth

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// maxTokenBytes bounds the credentials read: a Gatehouse access token is well under 2 KiB.
const maxTokenBytes = 8 << 10

// APIKeyPrefix starts every Gatehouse API key.
const APIKeyPrefix = "ak_"

// wireClaims are the claims that are checked; the types make a claim of the wrong JSON type
// (a quoted exp, a numeric sub…) a decoding error, hence an invalid token.
type wireClaims struct {
	Iss      string          `json:"iss"`
	Sub      string          `json:"sub"`
	Aud      json.RawMessage `json:"aud"`
	Exp      *float64        `json:"exp"`
	Nbf      *float64        `json:"nbf"`
	Iat      *float64        `json:"iat"`
	Sid      string          `json:"sid"`
	ClientID string          `json:"client_id"`
	Scope    string          `json:"scope"`
	Email    string          `json:"email"`
	Act      *Actor          `json:"act"`
	// Organization claims of a session with an active organization.
	OrgID          string   `json:"org_id"`
	OrgRole        string   `json:"org_role"`
	OrgPermissions []string `json:"org_permissions"`
}

// Verify checks an access token (the JWT alone, without "Bearer ") and returns its principal.
// It does not check scopes: see [RequireScopes] and [Verifier.Middleware]. With
// CheckSessions it also asks Gatehouse whether the token's session is still live.
func (v *Verifier) Verify(ctx context.Context, token string) (*Principal, error) {
	if token == "" {
		return nil, &Error{Kind: ErrNoToken}
	}
	if len(token) > maxTokenBytes {
		return nil, invalid("token too long")
	}
	if strings.HasPrefix(token, APIKeyPrefix) {
		return nil, invalid("an API key is not an access token")
	}
	k := keyOf(token)
	now := v.now()
	p := v.tokens.get(k, now)
	if p == nil {
		var kid string
		var err error
		p, kid, err = v.verifyJWT(ctx, token, now)
		if err != nil {
			return nil, err
		}
		v.tokens.put(k, tokenEntry{p: p, exp: p.ExpiresAt, kid: kid}, now)
	}
	if err := v.checkDelegation(p); err != nil {
		return nil, err
	}
	if v.sessions {
		if err := v.checkSession(ctx, k, token, p, now); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (v *Verifier) verifyJWT(ctx context.Context, token string, now time.Time) (*Principal, string, error) {
	if strings.Count(token, ".") != 2 {
		return nil, "", invalid("not a JWT")
	}
	jws, err := jose.ParseSignedCompact(token, supportedAlgs)
	if err != nil {
		return nil, "", invalidCause("malformed token or algorithm not accepted", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, "", invalid("not a single-signature JWS")
	}
	h := jws.Signatures[0].Header
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); !isAccessTokenType(typ) {
		return nil, "", invalid(`token type is not "at+jwt"`)
	}
	if h.KeyID == "" {
		return nil, "", invalid(`token header has no "kid"`)
	}
	key, err := v.key(ctx, h.KeyID)
	if err != nil {
		return nil, "", err
	}
	// The algorithm is the key's, never the token's choice.
	if h.Algorithm != string(key.alg) {
		return nil, "", invalid("token algorithm does not match its key")
	}
	payload, err := jws.Verify(key.key)
	if err != nil {
		return nil, "", invalid("bad signature")
	}

	var c wireClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, "", invalid("malformed claims")
	}
	if c.Iss != v.issuer {
		return nil, "", invalid("token issued by another issuer")
	}
	if err := v.checkAudience(c.Aud); err != nil {
		return nil, "", err
	}
	if c.Sub == "" {
		return nil, "", invalid(`token has no "sub"`)
	}
	if c.Act != nil && !c.Act.valid() {
		return nil, "", invalid(`token has a malformed "act"`)
	}
	exp, ok := numericDate(c.Exp)
	if !ok {
		return nil, "", invalid(`token has no valid "exp"`)
	}
	if !now.Before(exp.Add(v.leeway)) {
		return nil, "", invalid("token expired")
	}
	if c.Nbf != nil {
		nbf, ok := numericDate(c.Nbf)
		if !ok || now.Add(v.leeway).Before(nbf) {
			return nil, "", invalid("token not valid yet")
		}
	}
	iat, ok := numericDate(c.Iat)
	if !ok {
		return nil, "", invalid(`token has no valid "iat"`)
	}
	if now.Add(v.leeway).Before(iat) {
		return nil, "", invalid("token issued in the future")
	}

	var all map[string]any
	if err := json.Unmarshal(payload, &all); err != nil {
		return nil, "", invalid("malformed claims")
	}
	return &Principal{
		Subject:   c.Sub,
		ClientID:  c.ClientID,
		Scopes:    strings.Fields(c.Scope),
		SessionID: c.Sid,
		Email:     c.Email,
		Act:       c.Act,
		Org:       orgOf(c.OrgID, c.OrgRole, c.OrgPermissions),
		TokenType: TypeAccessToken,
		ExpiresAt: exp,
		Claims:    all,
	}, h.KeyID, nil
}

// checkAudience requires aud to equal the resource: a string, or an array of exactly one
// element; an array of several only with AllowMultipleAudiences, and then one of them must be
// the resource. Never a prefix, suffix or case-insensitive match.
func (v *Verifier) checkAudience(raw json.RawMessage) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return invalid(`token has no "aud"`)
	}
	var auds []string
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return invalid(`malformed "aud"`)
		}
		auds = []string{s}
	} else if err := json.Unmarshal(raw, &auds); err != nil {
		return invalid(`malformed "aud"`)
	}
	switch {
	case len(auds) == 0:
		return invalid(`token has no "aud"`)
	case len(auds) > 1 && !v.multiAud:
		return invalid("token is for several audiences")
	}
	for _, a := range auds {
		if a == v.resource {
			return nil
		}
	}
	return invalid("token is for another resource")
}

// isAccessTokenType reports whether a JWS "typ" names RFC 9068 access tokens. Media types are
// case-insensitive and "application/" may be left out (RFC 7515 §4.1.9, RFC 8725 §3.11).
func isAccessTokenType(typ string) bool {
	return strings.EqualFold(typ, "at+jwt") || strings.EqualFold(typ, "application/at+jwt")
}

// numericDate converts an RFC 7519 NumericDate (seconds since the epoch, possibly fractional).
func numericDate(f *float64) (time.Time, bool) {
	if f == nil || math.IsNaN(*f) || math.IsInf(*f, 0) || *f < 0 || *f > 1e11 {
		return time.Time{}, false
	}
	sec, frac := math.Modf(*f)
	return time.Unix(int64(sec), int64(frac*1e9)), true
}
