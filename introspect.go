package gatehouse

import (
	"context"
	"strings"
	"time"
)

// Introspection is RFC 7662's answer about a token or key.
type Introspection struct {
	Active    bool
	TokenType string // access_token or api_key
	Subject   string
	SessionID string
	KeyID     string
	Scope     string
	Email     string
	Role      string
	ExpiresAt *time.Time
	IssuedAt  *time.Time
}

// Introspect tells whether a credential is live now, with the same checks as a request would
// get (signature, expiry, revoked session, disabled user, revoked key). Any failure is simply
// inactive: the caller learns nothing about why.
func (s *AuthService) Introspect(ctx context.Context, credential string) *Introspection {
	if LooksLikeAPIKey(credential) {
		p, err := s.AuthenticateAPIKey(ctx, credential, false)
		if err != nil {
			return &Introspection{}
		}
		in := &Introspection{Active: true, TokenType: "api_key", Subject: p.User.ID, KeyID: p.APIKey.ID,
			Scope: strings.Join(p.Scopes, " "), Email: p.User.Email, Role: p.User.Role, IssuedAt: &p.APIKey.CreatedAt}
		if p.APIKey.ExpiresAt != nil {
			in.ExpiresAt = p.APIKey.ExpiresAt
		}
		return in
	}
	p, err := s.Authenticate(ctx, credential)
	if err != nil {
		return &Introspection{}
	}
	scopes := scopesAllowedFor(p.User)
	return &Introspection{Active: true, TokenType: "access_token", Subject: p.User.ID, SessionID: p.SessionID,
		Scope: strings.Join(scopes, " "), Email: p.User.Email, Role: p.User.Role,
		ExpiresAt: &p.Claims.ExpiresAt, IssuedAt: &p.Claims.IssuedAt}
}
