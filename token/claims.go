package token

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse/gatehouse"
)

// wireClaims is the JSON payload of an access token.
type wireClaims struct {
	Issuer        string       `json:"iss"`
	Subject       string       `json:"sub"`
	Audience      audience     `json:"aud"`
	ExpiresAt     *numericDate `json:"exp"`
	IssuedAt      *numericDate `json:"iat"`
	NotBefore     *numericDate `json:"nbf,omitempty"` // never issued; read so that a token carrying one is held to it
	ID            string       `json:"jti"`
	SessionID     string       `json:"sid"`
	Email         string       `json:"email,omitempty"`
	EmailVerified bool         `json:"email_verified"`
	Role          string       `json:"role,omitempty"`
	ClientID      string       `json:"client_id,omitempty"`
	Scope         string       `json:"scope,omitempty"`
	// Act is the actor chain of a delegated token (RFC 8693 §4.1).
	Act *gatehouse.Actor `json:"act,omitempty"`
	// AMR and AAL say how the user authenticated (RFC 8176; NIST SP 800-63B levels).
	AMR []string `json:"amr,omitempty"`
	AAL string   `json:"aal,omitempty"`
	// AuthTime is when the user signed in (OpenID Connect's auth_time).
	AuthTime *numericDate `json:"auth_time,omitempty"`
	// The session's active organization, the user's role in it and what that role permits.
	OrgID          string   `json:"org_id,omitempty"`
	OrgRole        string   `json:"org_role,omitempty"`
	OrgPermissions []string `json:"org_permissions,omitempty"`
}

var _ jwt.ClaimsValidator = (*wireClaims)(nil)

func (c *wireClaims) GetExpirationTime() (*jwt.NumericDate, error) { return c.ExpiresAt.get(), nil }
func (c *wireClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return c.IssuedAt.get(), nil }
func (c *wireClaims) GetNotBefore() (*jwt.NumericDate, error)      { return c.NotBefore.get(), nil }
func (c *wireClaims) GetIssuer() (string, error)                   { return c.Issuer, nil }
func (c *wireClaims) GetSubject() (string, error)                  { return c.Subject, nil }
func (c *wireClaims) GetAudience() (jwt.ClaimStrings, error) {
	return jwt.ClaimStrings(c.Audience), nil
}

var (
	errMissingClaim = errors.New("token: a required claim (sub, sid, jti or iat) is missing")
	errAudience     = errors.New("token: not exactly one audience")
	errActor        = errors.New("token: act is malformed or nested too deep")
)

// Validate adds the claims the domain cannot work without to those the parser already requires
// (iss, aud, exp); the parser checks iat only when present.
func (c *wireClaims) Validate() error {
	if c.Subject == "" || c.SessionID == "" || c.ID == "" || c.IssuedAt == nil {
		return errMissingClaim
	}
	if len(c.Audience) != 1 || c.Audience[0] == "" {
		return errAudience
	}
	if c.Act != nil && !validActor(c.Act) {
		return errActor
	}
	return nil
}

// validActor: every actor names its subject, and the chain is no deeper than the issuer ever
// signs (gatehouse.MaxActorDepth).
func validActor(a *gatehouse.Actor) bool {
	for depth := 0; a != nil; a, depth = a.Act, depth+1 {
		if depth >= gatehouse.MaxActorDepth || a.Subject == "" {
			return false
		}
	}
	return true
}

func (c *wireClaims) access() *gatehouse.AccessClaims {
	return &gatehouse.AccessClaims{
		ID:            c.ID,
		Subject:       c.Subject,
		SessionID:     c.SessionID,
		Email:         c.Email,
		EmailVerified: c.EmailVerified,
		Role:          c.Role,
		IssuedAt:      c.IssuedAt.UTC(),
		ExpiresAt:     c.ExpiresAt.UTC(),
		Audience:      c.Audience[0],
		ClientID:      c.ClientID,
		Scope:         c.Scope,
		Act:           c.Act,
		AMR:           c.AMR,
		AAL:           c.AAL,
		AuthTime:      c.AuthTime.time(),

		OrgID:          c.OrgID,
		OrgRole:        c.OrgRole,
		OrgPermissions: c.OrgPermissions,
	}
}

// audience is written as a single string, as RFC 9068 tokens usually are and as relying parties
// most often expect, without touching jwt.MarshalSingleStringAsArray, a process-wide setting
// that other packages may depend on. It is read in either form.
type audience []string

func (a audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	return json.Marshal([]string(a))
}

func (a *audience) UnmarshalJSON(b []byte) error {
	return (*jwt.ClaimStrings)(a).UnmarshalJSON(b)
}

var errNotNumber = errors.New("token: a date claim is not a JSON number")

// numericDate refuses the quoted numbers that jwt.NumericDate tolerates: RFC 7519 §2 defines a
// NumericDate as a JSON number, and a verifier should be no more lenient than the spec.
type numericDate struct{ jwt.NumericDate }

func newNumericDate(t time.Time) *numericDate {
	return &numericDate{*jwt.NewNumericDate(t)}
}

func (d *numericDate) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || (b[0] != '-' && (b[0] < '0' || b[0] > '9')) {
		return errNotNumber
	}
	return d.NumericDate.UnmarshalJSON(b)
}

// time is the date in UTC, or the zero time for an absent claim.
func (d *numericDate) time() time.Time {
	if d == nil {
		return time.Time{}
	}
	return d.UTC()
}

func (d *numericDate) get() *jwt.NumericDate {
	if d == nil {
		return nil
	}
	return &d.NumericDate
}
