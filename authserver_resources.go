package gatehouse

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Resource is a protected resource (RFC 8707) whose tokens Gatehouse issues: an API or an MCP
// server. Its URI is the exact "aud" of those tokens.
type Resource struct {
	URI       string
	Name      string
	Scopes    []ScopeInfo
	CreatedAt time.Time
}

// ScopeInfo is a scope and the description the consent page shows beside it.
type ScopeInfo struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// ScopeNames lists the names of scopes.
func ScopeNames(scopes []ScopeInfo) []string {
	out := make([]string, len(scopes))
	for i, s := range scopes {
		out[i] = s.Name
	}
	return out
}

// OpenID Connect scopes, accepted with every resource.
const (
	ScopeOpenID        = "openid"
	ScopeProfile       = "profile"
	ScopeEmail         = "email"
	ScopeOfflineAccess = "offline_access"
)

var oidcScopes = []ScopeInfo{
	{ScopeOpenID, "Sign you in with your Gatehouse account"},
	{ScopeProfile, "See your name and picture"},
	{ScopeEmail, "See your email address"},
	{ScopeOfflineAccess, "Stay connected when you are away"},
}

// ownAPIScopes are what an app may be granted on Gatehouse's own API. Not keys:write, not admin:
// an app never mints the user's long-lived keys or acts as an administrator.
var ownAPIScopes = []ScopeInfo{
	{ScopeProfileRead, "See your profile"},
	{ScopeKeysRead, "See your API keys (not their secrets)"},
	{ScopeCreditsRead, "See your credit balance"},
	{ScopeCreditsWrite, "Spend your credits"},
}

// ownAPI is Gatehouse's own API as a resource.
func (as *AuthorizationServer) ownAPI() *Resource {
	return &Resource{URI: as.OwnAPI(), Name: "Gatehouse API", Scopes: ownAPIScopes}
}

// OIDCScopes lists the OpenID Connect scopes.
func OIDCScopes() []ScopeInfo { return slices.Clone(oidcScopes) }

// NewResourceInput registers a resource. A scope is "name" or "name=description".
type NewResourceInput struct {
	URI    string
	Name   string
	Scopes []string
}

const (
	maxResourceScopes = 50
	maxScopeLength    = 100
)

// AddResource registers a resource.
func (as *AuthorizationServer) AddResource(ctx context.Context, p *Principal, in NewResourceInput) (*Resource, error) {
	r, err := as.newResource(in)
	if err != nil {
		return nil, err
	}
	r.CreatedAt = as.now()
	err = as.auth.tx(ctx, func(tx StoreTx) error {
		if err := tx.CreateResource(ctx, r); err != nil {
			return err
		}
		return as.auth.auditTx(ctx, tx, p.Client, EventOAuthResourceAdded, "", OutcomeSuccess, "resource "+r.URI+p.actor())
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (as *AuthorizationServer) newResource(in NewResourceInput) (*Resource, error) {
	var fields []FieldError
	if msg := checkResourceURI(in.URI); msg != "" {
		fields = append(fields, FieldError{Field: "uri", Message: msg})
	} else if u := strings.TrimSuffix(in.URI, "/"); u == as.cfg.Issuer || u == as.OwnAPI() {
		fields = append(fields, FieldError{Field: "uri", Message: "The public URL and Gatehouse's own API are not resources to register."})
	}
	name := cleanText(in.Name, 100)
	if name == "" {
		fields = append(fields, FieldError{Field: "name", Message: "A name is required."})
	}
	if len(in.Scopes) > maxResourceScopes {
		fields = append(fields, FieldError{Field: "scopes", Message: "At most 50 scopes."})
	}
	var scopes []ScopeInfo
	for _, raw := range in.Scopes {
		n, desc, _ := strings.Cut(raw, "=")
		n = strings.TrimSpace(n)
		if !validScopeToken(n) || len(n) > maxScopeLength {
			fields = append(fields, FieldError{Field: "scopes", Message: "A scope is printable ASCII without spaces, quotes or backslashes, at most 100 characters."})
			break
		}
		if slices.ContainsFunc(oidcScopes, func(s ScopeInfo) bool { return s.Name == n }) || slices.ContainsFunc(scopes, func(s ScopeInfo) bool { return s.Name == n }) {
			continue
		}
		desc = cleanText(desc, 200)
		if desc == "" {
			desc = "Use " + name + " (" + n + ")"
		}
		scopes = append(scopes, ScopeInfo{Name: n, Description: desc})
	}
	if len(fields) > 0 {
		return nil, Invalid(fields...)
	}
	return &Resource{URI: in.URI, Name: name, Scopes: scopes}, nil
}

// checkResourceURI: an absolute URI without a fragment (RFC 8707 §2); https, or http on a
// loopback host for development.
func checkResourceURI(raw string) string {
	if raw == "" || len(raw) > 2000 {
		return "A resource URI is required (at most 2000 characters)."
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return "A resource URI is an absolute URL."
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return "A resource URI has no fragment."
	}
	if u.User != nil {
		return "A resource URI carries no credentials."
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return "A resource URI is an https URL (http for development), the scheme in lower case."
	}
	// Tokens carry the URI byte for byte, and clients send it as the resource's metadata
	// announces it: only the canonical spelling is registered (RFC 3986 §6.2.2, §6.2.3), so one
	// resource cannot be registered twice under two spellings.
	if u.Host != strings.ToLower(u.Host) || u.Port() == "443" && u.Scheme == "https" || u.Port() == "80" && u.Scheme == "http" {
		return "Write the resource URI in its canonical form: the host in lower case, without the default port."
	}
	return ""
}

// validScopeToken is a scope-token of RFC 6749 §3.3: %x21 / %x23-5B / %x5D-7E.
func validScopeToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// RemoveResource removes a resource and every grant for it; sessions for it are revoked.
func (as *AuthorizationServer) RemoveResource(ctx context.Context, p *Principal, uri string) error {
	var revoked []string
	err := as.auth.tx(ctx, func(tx StoreTx) error {
		if err := tx.DeleteResource(ctx, uri); err != nil {
			return err
		}
		now := as.now()
		ids, err := tx.DeleteGrants(ctx, GrantFilter{Resource: uri})
		if err != nil {
			return err
		}
		for _, id := range ids {
			r, err := tx.RevokeSessionsWhere(ctx, GrantFilter{GrantID: id}, now)
			if err != nil {
				return err
			}
			revoked = append(revoked, r...)
		}
		// Tokens for the resource that no grant stands behind: those exchanged from API keys,
		// and client_credentials tokens.
		r, err := tx.RevokeSessionsWhere(ctx, GrantFilter{Resource: uri}, now)
		if err != nil {
			return err
		}
		revoked = append(revoked, r...)
		if err := tx.RevokeResourceMachineSessions(ctx, uri, now); err != nil {
			return err
		}
		return as.auth.auditTx(ctx, tx, p.Client, EventOAuthResourceRemoved, "", OutcomeSuccess, "resource "+uri+p.actor())
	})
	if err != nil {
		return err
	}
	as.auth.cache.invalidateSessions(revoked...)
	return nil
}

// ListResources returns the registered resources (Gatehouse's own API not included).
func (as *AuthorizationServer) ListResources(ctx context.Context) ([]*Resource, error) {
	return as.store.ListResources(ctx)
}

// resource finds the resource a request names, Gatehouse's own API included.
func (as *AuthorizationServer) resource(ctx context.Context, uri string) (*Resource, error) {
	if uri == as.OwnAPI() {
		return as.ownAPI(), nil
	}
	r, err := as.store.ResourceByURI(ctx, uri)
	if isNotFound(err) {
		return nil, oauthError(OAuthInvalidTarget, "The resource %q is not registered on this server.", cleanText(uri, 200))
	}
	return r, err
}

// defaultResource is the resource of a request that names none: the one registered resource
// when there is exactly one, else Gatehouse's own API.
func (as *AuthorizationServer) defaultResource(ctx context.Context) (*Resource, error) {
	list, err := as.store.ListResources(ctx)
	if err != nil {
		return nil, err
	}
	if len(list) == 1 {
		return list[0], nil
	}
	return as.ownAPI(), nil
}

// ScopesSupported lists every scope the server knows: OpenID Connect's, its own API's and those
// of every registered resource.
func (as *AuthorizationServer) ScopesSupported(ctx context.Context) ([]string, error) {
	list, err := as.store.ListResources(ctx)
	if err != nil {
		return nil, err
	}
	names := ScopeNames(oidcScopes)
	names = append(names, ScopeNames(ownAPIScopes)...)
	for _, r := range list {
		names = append(names, ScopeNames(r.Scopes)...)
	}
	slices.Sort(names[len(oidcScopes):])
	return slices.Compact(names), nil
}

// grantableScopes narrows a requested scope string to what the resource and OpenID Connect
// offer: unknown scopes are dropped, not fatal. An omitted scope asks for every scope of the
// resource.
func grantableScopes(requested string, omitted bool, r *Resource) []ScopeInfo {
	known := append(slices.Clone(oidcScopes), r.Scopes...)
	if omitted {
		return slices.Clone(r.Scopes)
	}
	var out []ScopeInfo
	for _, name := range strings.Fields(requested) {
		i := slices.IndexFunc(known, func(s ScopeInfo) bool { return s.Name == name })
		if i >= 0 && !slices.ContainsFunc(out, func(s ScopeInfo) bool { return s.Name == name }) {
			out = append(out, known[i])
		}
	}
	return out
}

// scopeString is the canonical form of a scope set: sorted, space-separated.
func scopeString(names []string) string {
	names = slices.Clone(names)
	slices.Sort(names)
	return strings.Join(slices.Compact(names), " ")
}
