package gatehouse

import (
	"context"
	"slices"
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
	ClientID  string // the OAuth client of an access token issued through the authorization server
	// OrgID is the organization of an organization's key (whose subject is the organization, not
	// a user), or the active organization of a first-party access token.
	OrgID     string
	Audience  string // the resource an access token is for
	Act       *Actor // the actor chain of a delegated token (token exchange)
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
		if k := p.APIKey; k.OrgID != "" {
			// An organization's key speaks for the organization, not for the member who made it.
			in.Subject, in.Email, in.Role, in.OrgID = k.OrgID, "", "", k.OrgID
		}
		if p.APIKey.ExpiresAt != nil {
			in.ExpiresAt = p.APIKey.ExpiresAt
		}
		return in
	}
	// Tokens of every resource are answered: a resource server checks here that the session of a
	// token it accepted still stands.
	claims, err := s.tokens.VerifyAnyAudience(ctx, credential)
	if err != nil {
		return &Introspection{}
	}
	if claims.Machine() {
		// A client_credentials token: its subject is the client, and it has no user.
		m, ok, err := s.machineSession(ctx, claims)
		if err != nil || !ok {
			return &Introspection{}
		}
		return &Introspection{Active: true, TokenType: "access_token", Subject: claims.Subject, SessionID: m.ID,
			Scope: claims.Scope, ClientID: claims.ClientID, Audience: claims.Audience,
			ExpiresAt: &claims.ExpiresAt, IssuedAt: &claims.IssuedAt}
	}
	sess, u, err := s.loadSession(ctx, claims.SessionID, claims.Subject)
	// As for the API: a token whose client, organization or role disagrees with its session (a
	// removal from the organization or a role change rewrote the session) is not active.
	if err != nil || !tokenAgreesWithSession(claims, sess) {
		return &Introspection{}
	}
	in := &Introspection{Active: true, TokenType: "access_token", Subject: u.ID, SessionID: sess.ID,
		Scope: claims.Scope, ClientID: claims.ClientID, Audience: claims.Audience,
		ExpiresAt: &claims.ExpiresAt, IssuedAt: &claims.IssuedAt, Act: claims.Act}
	if claims.ClientID == "" {
		in.Scope, in.Email, in.Role = strings.Join(sess.firstPartyScopes(u), " "), u.Email, u.Role
	} else if slices.Contains(strings.Fields(claims.Scope), ScopeEmail) {
		// An app's token tells only what the user let the app see.
		in.Email = u.Email
	}
	// The session's organization (an app's: the one its grant was given for; docs/oauth-server.md).
	in.OrgID = sess.OrgID
	return in
}
