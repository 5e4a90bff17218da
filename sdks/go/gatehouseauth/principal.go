package gatehouseauth

import (
	"context"
	"slices"
	"time"
)

// Token types of a [Principal].
const (
	TypeAccessToken = "access_token" // a JWT access token, verified locally
	TypeAPIKey      = "api_key"      // a Gatehouse API key, checked by introspection
)

// Principal is who a verified credential speaks for. Treat it as read-only: principals of
// cached tokens are shared between requests.
type Principal struct {
	// Subject is the "sub" claim: the user's id, or the client's for client_credentials.
	Subject string
	// ClientID is the OAuth client the token was issued to ("client_id"); empty for API keys.
	ClientID string
	// Scopes are the granted scopes, from the space-separated "scope" claim.
	Scopes []string
	// SessionID is the Gatehouse session ("sid"); empty for API keys.
	SessionID string
	// Email is the user's email when the token carries one.
	Email string
	// Act is the actor chain of a delegated token ("act", RFC 8693 §4.1): the agent acting for
	// the user named by Subject, with its own actor nested for a chain. Nil when nobody acts
	// for the subject (and always for API keys).
	Act *Actor
	// Org is the organization the user acts in: the "org_id", "org_role" and "org_permissions"
	// claims of a session with an active organization. Nil when the token names none. Its
	// permissions are the organization's, separate from Scopes (what the token was granted).
	Org *Org
	// KeyID is the id of the API key for TypeAPIKey principals; empty for access tokens.
	KeyID string
	// TokenType is TypeAccessToken or TypeAPIKey.
	TokenType string
	// ExpiresAt is when the credential stops being valid (zero for an API key without expiry).
	ExpiresAt time.Time
	// Claims are all the claims of the token (for an API key: the introspection answer).
	Claims map[string]any
}

// Actor is one link of an actor chain: who acts (Subject: an agent's client_id), and who acted
// for the subject before it (Act).
type Actor struct {
	Subject string `json:"sub"`
	Act     *Actor `json:"act,omitempty"`
}

// maxActorDepth is the deepest chain Gatehouse signs.
const maxActorDepth = 3

// Depth is the number of actors in the chain.
func (a *Actor) Depth() int {
	n := 0
	for ; a != nil; a = a.Act {
		n++
	}
	return n
}

func (a *Actor) valid() bool {
	for depth := 0; a != nil; a, depth = a.Act, depth+1 {
		if depth >= maxActorDepth || a.Subject == "" {
			return false
		}
	}
	return true
}

// Org is the organization a principal acts in, and the user's role and permissions there.
type Org struct {
	ID          string   // "org_id"
	Role        string   // "org_role": owner, admin, member or a custom role
	Permissions []string // "org_permissions"
}

// orgOf is the organization of a token's claims, or nil when it names none.
func orgOf(id, role string, permissions []string) *Org {
	if id == "" {
		return nil
	}
	return &Org{ID: id, Role: role, Permissions: permissions}
}

// OrgID is the id of the principal's active organization, or "".
func (p *Principal) OrgID() string {
	if p == nil || p.Org == nil {
		return ""
	}
	return p.Org.ID
}

// OrgRole is the principal's role in its active organization, or "".
func (p *Principal) OrgRole() string {
	if p == nil || p.Org == nil {
		return ""
	}
	return p.Org.Role
}

// HasPermission reports whether the principal holds permission in its active organization
// ("org_permissions"). Scopes do not count: a token's scopes say what it may do at all, the
// organization's permissions what the user may do in that organization.
func (p *Principal) HasPermission(permission string) bool {
	return p != nil && p.Org != nil && permission != "" && slices.Contains(p.Org.Permissions, permission)
}

// HasOrgRole reports whether the principal has role in its active organization.
func (p *Principal) HasOrgRole(role string) bool {
	return p != nil && p.Org != nil && role != "" && p.Org.Role == role
}

// Delegated reports whether an agent acts for the subject (the token carries "act").
func (p *Principal) Delegated() bool { return p != nil && p.Act != nil }

// HasScope reports whether the principal was granted scope.
func (p *Principal) HasScope(scope string) bool {
	return p != nil && slices.Contains(p.Scopes, scope)
}

// HasScopes reports whether the principal was granted every one of scopes.
func (p *Principal) HasScopes(scopes ...string) bool {
	for _, s := range scopes {
		if !p.HasScope(s) {
			return false
		}
	}
	return p != nil
}

// Scope is the granted scopes as the space-separated string of the "scope" claim.
func (p *Principal) Scope() string {
	if p == nil {
		return ""
	}
	out := ""
	for i, s := range p.Scopes {
		if i > 0 {
			out += " "
		}
		out += s
	}
	return out
}

// RequireScopes returns nil when p has every one of scopes, and otherwise an
// ErrInsufficientScope error naming all of them (RFC 6750 §3.1 wants the whole set the
// operation needs, not only the missing ones).
func RequireScopes(p *Principal, scopes ...string) error {
	if p.HasScopes(scopes...) {
		return nil
	}
	return insufficientScope(scopes)
}

type principalKey struct{}

// WithPrincipal returns a copy of ctx that carries p; [Verifier.Middleware] does this.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal that [Verifier.Middleware] stored in ctx.
func PrincipalFrom(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*Principal)
	return p, ok && p != nil
}
