package gatehouse

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// Token exchange (RFC 8693) and delegation.
//
// A confidential client registered for the token-exchange grant trades a credential it holds (the
// subject token: an API key, or a user's access token issued by Gatehouse) for a short-lived
// access token for one resource, with scopes narrowed to what the subject holds now. With an actor
// token (the asking client's own access token) the exchange is a delegation: the new token's "sub"
// is still the user, and "act" names the agent (nested for chains); the user must have allowed that
// agent once, on the delegation page, and its scopes are at most what the user allowed it.
//
// Every token an exchange issues lives in a session of its own, like every other access token of
// Gatehouse: marked with the client, the resource and the scope, the delegation grant (when an
// actor was involved), and what it was exchanged from (the API key, or the session of the subject
// token). Revoking the key, the delegation, the client or the user, or ending the subject token's
// session, revokes it on Gatehouse's own API at once and at introspection.

// Grant types, token types and limits of token exchange.
const (
	GrantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	// TokenTypeAccessToken is an access token issued by Gatehouse (RFC 8693 §3).
	TokenTypeAccessToken = "urn:ietf:params:oauth:token-type:access_token"
	// TokenTypeJWT is a JWT; as an actor token, the agent's client assertion (RFC 7523).
	TokenTypeJWT = "urn:ietf:params:oauth:token-type:jwt"
	// TokenTypeAPIKey is a Gatehouse API key (ak_...).
	TokenTypeAPIKey = "urn:gatehouse:token-type:api_key"

	// MaxExchangeTTL is the longest an exchanged token lives.
	MaxExchangeTTL = 5 * time.Minute
	// MaxActorDepth is the longest actor chain ("act" nested in "act") a token may carry.
	MaxActorDepth = 3
	// maxExchangeHops bounds how many exchanges a token may be away from its first credential
	// (delegated or not), so the parent chain that authentication walks stays short.
	maxExchangeHops = 6
)

// Kinds of grants.
const (
	GrantAuthorization = "authorization" // consent given on the authorization endpoint's page
	GrantDelegation    = "delegation"    // an agent allowed to act for the user through token exchange
)

// Security events of token exchange.
const (
	EventOAuthTokenExchanged   = "oauth.token_exchanged"
	EventOAuthDelegated        = "oauth.delegation_granted"
	EventOAuthDelegationDenied = "oauth.delegation_denied"
)

// Actor is the "act" claim of a delegated token (RFC 8693 §4.1): who acts for the subject; Act is
// who acted for them in turn, earlier in the chain.
type Actor struct {
	Subject string `json:"sub"`
	Act     *Actor `json:"act,omitempty"`
}

// Depth is the number of actors in the chain.
func (a *Actor) Depth() int {
	n := 0
	for ; a != nil; a = a.Act {
		n++
	}
	return n
}

// Chain names the actors, the current one first: "agent-b, for agent-a".
func (a *Actor) Chain() string {
	var names []string
	for ; a != nil; a = a.Act {
		names = append(names, a.Subject)
	}
	return strings.Join(names, ", for ")
}

// MarshalActor is the JSON of an actor chain ("" for none), as sessions store it.
func MarshalActor(a *Actor) string {
	if a == nil {
		return ""
	}
	b, _ := json.Marshal(a)
	return string(b)
}

// UnmarshalActor reads what MarshalActor wrote.
func UnmarshalActor(s string) (*Actor, error) {
	if s == "" {
		return nil, nil
	}
	var a Actor
	if err := json.Unmarshal([]byte(s), &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// ExchangeReader reads what token exchange needs beyond the authorization server's reads.
type ExchangeReader interface {
	// DelegationFor is the user's delegation to the client (an agent) for the resource.
	DelegationFor(ctx context.Context, userID, clientID, resource string) (*Grant, error)
}

// ExchangeWriter writes it.
type ExchangeWriter interface {
	// RevokeKeySessions revokes the active sessions exchanged from an API key and returns their IDs.
	RevokeKeySessions(ctx context.Context, keyID string, at time.Time) ([]string, error)
}

// TokenExchangeParams are the parameters of a token exchange request (RFC 8693 §2.1).
type TokenExchangeParams struct {
	SubjectToken       string
	SubjectTokenType   string
	ActorToken         string
	ActorTokenType     string
	RequestedTokenType string
	Audience           string
}

const maxExchangeTokenLength = 8 << 10

func exchangeInvalid(format string, args ...any) *Error {
	return oauthError(OAuthInvalidRequest, format, args...)
}

var (
	errBadSubject = oauthError(OAuthInvalidGrant, "The subject_token is invalid, expired or revoked.")
	errBadActor   = oauthError(OAuthInvalidGrant, "The actor_token is invalid, expired or revoked.")
	errNotAllowed = oauthError(OAuthInvalidGrant, "The user has not allowed this agent to act for them on this resource (see /oauth2/delegate).")
)

// exchangeSubject is the credential a token exchange starts from.
type exchangeSubject struct {
	userID  string
	key     *APIKey       // an API key subject
	claims  *AccessClaims // an access-token subject
	session *Session      // its session
}

// exchange answers the token-exchange grant (RFC 8693 §2).
func (as *AuthorizationServer) exchange(ctx context.Context, req TokenRequest, client Client) (*OAuthTokens, error) {
	c, err := as.authenticateClient(ctx, req.Credentials)
	if err != nil {
		return nil, err
	}
	// A public client cannot prove who it is, so it cannot be the party a token is exchanged for,
	// nor an actor; only clients an operator registered for the grant may exchange.
	if c.Public() {
		return nil, oauthError(OAuthUnauthorizedClient, "A public client cannot exchange tokens.")
	}
	if !c.Allows(GrantTokenExchange) || c.Kind != ClientRegistered {
		// A metadata document or a registration of its own can name any grant and any key: only
		// an operator's registration makes a client one that may exchange tokens.
		return nil, oauthError(OAuthUnauthorizedClient, "This client may not use the token-exchange grant; an operator registers it with --grant %s.", GrantTokenExchange)
	}
	x := req.Exchange
	switch {
	case x.RequestedTokenType != "" && x.RequestedTokenType != TokenTypeAccessToken:
		return nil, exchangeInvalid("requested_token_type must be %s.", TokenTypeAccessToken)
	case x.SubjectToken == "":
		return nil, exchangeInvalid("subject_token is required.")
	case x.SubjectTokenType == "":
		return nil, exchangeInvalid("subject_token_type is required.")
	case x.SubjectTokenType != TokenTypeAPIKey && x.SubjectTokenType != TokenTypeAccessToken:
		return nil, exchangeInvalid("subject_token_type must be %s or %s.", TokenTypeAccessToken, TokenTypeAPIKey)
	case len(x.SubjectToken) > maxExchangeTokenLength || len(x.ActorToken) > maxExchangeTokenLength:
		return nil, exchangeInvalid("The token is too long.")
	case x.ActorToken != "" && x.ActorTokenType == "":
		return nil, exchangeInvalid("actor_token_type is required with actor_token.")
	case x.ActorToken == "" && x.ActorTokenType != "":
		return nil, exchangeInvalid("actor_token_type is sent without actor_token.")
	case x.ActorTokenType != "" && x.ActorTokenType != TokenTypeAccessToken && x.ActorTokenType != TokenTypeJWT:
		return nil, exchangeInvalid("actor_token_type must be %s or %s.", TokenTypeAccessToken, TokenTypeJWT)
	case len(req.Resources) > 1:
		return nil, oauthError(OAuthInvalidTarget, "Ask for one resource per token request.")
	}
	resources := req.Resources
	if x.Audience != "" {
		// RFC 8693's audience names the target too; here it must be a registered resource URI.
		if len(resources) == 1 && resources[0] != x.Audience {
			return nil, oauthError(OAuthInvalidTarget, "audience and resource name different targets.")
		}
		resources = []string{x.Audience}
	}
	var r *Resource
	if len(resources) == 1 {
		r, err = as.resource(ctx, resources[0])
	} else {
		r, err = as.defaultResource(ctx)
	}
	if err != nil {
		return nil, err
	}
	requested, err := requestedScopes(req.Scope)
	if err != nil {
		return nil, err
	}

	var actor string
	if x.ActorToken != "" {
		if actor, err = as.actorOf(ctx, c, x.ActorToken, x.ActorTokenType); err != nil {
			return nil, err
		}
	}
	subj, err := as.subjectOf(ctx, x.SubjectToken, x.SubjectTokenType)
	if err != nil {
		return nil, err
	}
	// Without an actor, a token issued to an app is exchanged only by that app: a resource server
	// that received a user's token cannot turn it into a token for another resource. (With an
	// actor, the user's delegation to that agent is what allows it.)
	if actor == "" && subj.session != nil && subj.session.ClientID != "" && subj.session.ClientID != c.ID {
		return nil, as.refuseExchange(ctx, client, subj, c, actor, r,
			oauthError(OAuthInvalidGrant, "The subject_token was issued to another client; only that client, or an agent the user allowed, may exchange it."))
	}

	now := as.now()
	ttl := min(MaxExchangeTTL, as.auth.cfg.AccessTokenTTL)
	var (
		sess    *Session
		granted []string
		detail  string
	)
	err = as.auth.tx(ctx, func(tx StoreTx) error {
		// The user's row is locked first, as a disable, a reset or a key revocation does, so an
		// exchange either sees their change or is seen by it.
		u, err := tx.LockUser(ctx, subj.userID)
		if err != nil {
			return notFoundAs(err, errBadSubject)
		}
		if !u.IsActive {
			return errBadSubject
		}
		held, expires, err := as.heldScopes(ctx, tx, subj, u, c, r, now)
		if err != nil {
			return err
		}
		var act *Actor
		if subj.session != nil {
			act = subj.session.Act
		}
		grantID := ""
		if actor != "" {
			d, err := tx.DelegationFor(ctx, u.ID, actor, r.URI)
			if isNotFound(err) {
				return errNotAllowed
			} else if err != nil {
				return err
			}
			// Locked until the session is created: a withdrawal waits, then revokes it too.
			if d, err = tx.LockGrant(ctx, d.ID); err != nil {
				return notFoundAs(err, errNotAllowed)
			}
			held = intersect(held, d.Scopes)
			grantID = d.ID
			act = &Actor{Subject: actor, Act: act}
			if act.Depth() > MaxActorDepth {
				return exchangeInvalid("The actor chain would be %d deep; at most %d actors may be nested.", act.Depth(), MaxActorDepth)
			}
		}
		granted = held
		if requested != nil {
			granted = intersect(held, requested)
		}
		if len(granted) == 0 {
			return oauthError(OAuthInvalidScope, "The subject holds none of the requested scopes for this resource.")
		}
		exp := now.Add(ttl)
		if !expires.IsZero() && expires.Before(exp) {
			exp = expires
		}
		if exp.Sub(now) < time.Second {
			return errBadSubject
		}
		// The client may have been revoked since it authenticated: its row stays locked until the
		// session is created, so a revocation either comes first (and is seen) or waits (and
		// then revokes this session with the client's others).
		if stored, err := tx.LockOAuthClient(ctx, c.ID); isNotFound(err) || err == nil && stored.RevokedAt != nil {
			return errUnknownClient
		} else if err != nil {
			return err
		}
		sess = &Session{ID: NewID(), UserID: u.ID, CreatedAt: now, LastUsedAt: now, ExpiresAt: exp,
			UserAgent: client.normalized().UserAgent, IP: client.normalized().IP,
			ClientID: c.ID, GrantID: grantID, Resource: r.URI, Scope: scopeString(granted), Act: act}
		if subj.key != nil {
			sess.SubjectKeyID = subj.key.ID
		} else {
			sess.ParentID = subj.session.ID
		}
		if err := tx.CreateSession(ctx, sess); err != nil {
			return err
		}
		detail = exchangeDetail(subj, c, act, r) + " scope " + sess.Scope + " session " + sess.ID
		return as.auth.auditTx(ctx, tx, client, EventOAuthTokenExchanged, u.ID, OutcomeSuccess, detail)
	})
	if err != nil {
		if e, ok := err.(*Error); ok && IsOAuthErrorCode(e.Code) {
			return nil, as.refuseExchange(ctx, client, subj, c, actor, r, e)
		}
		return nil, err
	}
	access, err := as.auth.tokens.Sign(ctx, AccessClaims{Subject: sess.UserID, SessionID: sess.ID, Audience: r.URI,
		ClientID: c.ID, Scope: sess.Scope, IssuedAt: now, ExpiresAt: sess.ExpiresAt, Act: sess.Act})
	if err != nil {
		return nil, err
	}
	as.log.InfoContext(ctx, "token exchanged", "client_id", c.ID, "user_id", sess.UserID, "actor", actor, "resource", r.URI, "session_id", sess.ID)
	return &OAuthTokens{AccessToken: access, Scope: sess.Scope, ExpiresIn: sess.ExpiresAt.Sub(now), IssuedTokenType: TokenTypeAccessToken}, nil
}

// refuseExchange audits a refused exchange whose subject is known, and returns err.
func (as *AuthorizationServer) refuseExchange(ctx context.Context, client Client, subj *exchangeSubject, c *OAuthClient, actor string, r *Resource, err *Error) error {
	var act *Actor
	if subj.session != nil {
		act = subj.session.Act
	}
	if actor != "" {
		act = &Actor{Subject: actor, Act: act}
	}
	as.auth.audit(ctx, client, EventOAuthTokenExchanged, subj.userID, OutcomeFailure, exchangeDetail(subj, c, act, r)+" refused: "+err.Code)
	return err
}

// exchangeDetail names both identities of an exchange for the audit log: the subject (the user,
// through a key or a token's session), the client that asked, and the actor chain.
func exchangeDetail(subj *exchangeSubject, c *OAuthClient, act *Actor, r *Resource) string {
	var b strings.Builder
	b.WriteString("subject user " + subj.userID)
	if subj.key != nil {
		b.WriteString(" via api_key " + subj.key.ID + " (" + subj.key.Prefix + ")")
	} else {
		b.WriteString(" via access_token of session " + subj.session.ID)
	}
	b.WriteString("; client " + c.ID)
	if act != nil {
		b.WriteString("; actor " + act.Chain())
	}
	b.WriteString("; resource " + r.URI + ";")
	return b.String()
}

// requestedScopes reads the scope parameter: nil when absent (everything the subject holds).
func requestedScopes(scope string) ([]string, error) {
	if scope == "" {
		return nil, nil
	}
	fields := strings.Fields(scope)
	for _, s := range fields {
		if !validScopeToken(s) || len(s) > maxScopeLength {
			return nil, oauthError(OAuthInvalidScope, "The scope parameter is malformed.")
		}
	}
	if len(fields) == 0 {
		return nil, nil
	}
	return fields, nil
}

// subjectOf identifies the subject token; it is checked again, under lock, in the transaction.
func (as *AuthorizationServer) subjectOf(ctx context.Context, token, typ string) (*exchangeSubject, error) {
	if typ == TokenTypeAPIKey {
		p, err := as.auth.AuthenticateAPIKey(ctx, token, true)
		if err != nil {
			if ErrorKindOf(err) == KindUnauthorized {
				return nil, errBadSubject
			}
			return nil, err
		}
		// An organization's key speaks for the organization, not for the member who made it: it
		// is never exchanged for a token of that member.
		if p.APIKey.OrgID != "" {
			return nil, errBadSubject
		}
		return &exchangeSubject{userID: p.User.ID, key: p.APIKey}, nil
	}
	claims, err := as.auth.tokens.VerifyAnyAudience(ctx, token)
	if err != nil {
		return nil, errBadSubject
	}
	sess, u, err := as.auth.loadSession(ctx, claims.SessionID, claims.Subject)
	if err != nil {
		if ErrorKindOf(err) == KindUnauthorized {
			return nil, errBadSubject
		}
		return nil, err
	}
	if !tokenAgreesWithSession(claims, sess) {
		return nil, errBadSubject
	}
	// A session that must first enrol a second factor (GATEHOUSE_MFA_REQUIRED_ROLES) may not
	// turn its token into one for a resource.
	if as.auth.mfaEnrollmentRequired(u) {
		return nil, errBadSubject
	}
	// An admin's impersonation session (impersonate.go) stays on Gatehouse: no app gets a token
	// from it.
	if sess.Impersonation() {
		return nil, errBadSubject
	}
	return &exchangeSubject{userID: u.ID, claims: claims, session: sess}, nil
}

// actorOf checks the actor token and returns the agent it names: the asking client itself. An
// access token is the client's own (issued to it by client credentials or the code flow), live,
// and not itself delegated.
func (as *AuthorizationServer) actorOf(ctx context.Context, c *OAuthClient, token, typ string) (string, error) {
	if typ == TokenTypeJWT {
		// The agent's client assertion (private_key_jwt, RFC 7523) is checked by the client
		// authentication that supports it; until then only access tokens act.
		return "", exchangeInvalid("actor_token_type %s needs private_key_jwt client authentication, which this server does not offer yet; send the agent's access token (%s).", TokenTypeJWT, TokenTypeAccessToken)
	}
	info, err := as.inspect(ctx, token)
	if err != nil {
		return "", err
	}
	if !info.Active || info.TokenType != "access_token" || info.ClientID == "" {
		return "", errBadActor
	}
	if info.Act != nil {
		return "", oauthError(OAuthInvalidGrant, "A delegated token cannot be an actor token; send the agent's own token.")
	}
	if info.ClientID != c.ID {
		return "", oauthError(OAuthInvalidGrant, "The actor_token was issued to another client: the actor is the client that asks.")
	}
	return c.ID, nil
}

// heldScopes is what the subject holds now for resource r, read in tx, and when the subject's
// own credential expires (zero: not before the exchanged token would):
//   - an API key: for Gatehouse's own API, its scopes that an app may hold; for another resource,
//     whose scopes no key can name, the key stands for its owner as a first-party credential:
//     every scope of the resource (narrow it with scope);
//   - a first-party access token (the user's own sign-in): the same, with its role's scopes;
//   - an app's token (the code flow): the scopes the user granted that app for r (and, for the
//     token's own resource, no more than the token carries);
//   - an exchanged token: its own scopes, for its own resource only.
func (as *AuthorizationServer) heldScopes(ctx context.Context, tx StoreTx, subj *exchangeSubject, u *User, c *OAuthClient, r *Resource, now time.Time) ([]string, time.Time, error) {
	own := r.URI == as.OwnAPI()
	resourceScopes := ScopeNames(r.Scopes)
	if subj.key != nil {
		k, err := tx.APIKeyByID(ctx, subj.key.ID)
		if err != nil {
			return nil, time.Time{}, notFoundAs(err, errBadSubject)
		}
		if !k.Usable(now) || k.UserID != u.ID {
			return nil, time.Time{}, errBadSubject
		}
		var expires time.Time
		if k.ExpiresAt != nil {
			expires = *k.ExpiresAt
		}
		if own {
			return intersect(resourceScopes, effectiveScopes(k, u)), expires, nil
		}
		return resourceScopes, expires, nil
	}
	sess, err := tx.SessionByID(ctx, subj.session.ID)
	if err != nil {
		return nil, time.Time{}, notFoundAs(err, errBadSubject)
	}
	hops, err := chainStands(ctx, tx, sess, u, now)
	if err != nil {
		return nil, time.Time{}, err
	}
	if hops >= maxExchangeHops {
		return nil, time.Time{}, exchangeInvalid("The subject_token is already %d exchanges away from a sign-in; exchange an earlier token.", hops)
	}
	expires := minTime(subj.claims.ExpiresAt, sess.ExpiresAt)
	switch {
	case sess.FirstParty():
		if own {
			return intersect(resourceScopes, scopesAllowedFor(u)), expires, nil
		}
		return resourceScopes, expires, nil
	case sess.ParentID != "" || sess.SubjectKeyID != "":
		if sess.Resource != r.URI {
			return nil, time.Time{}, oauthError(OAuthInvalidTarget, "An exchanged token is exchanged again only for its own resource.")
		}
		return intersect(resourceScopes, strings.Fields(sess.Scope)), expires, nil
	default:
		var g *Grant
		if sess.Resource == r.URI {
			g, err = tx.GrantByID(ctx, sess.GrantID)
		} else {
			g, err = tx.GrantFor(ctx, u.ID, sess.ClientID, r.URI, sess.OrgID)
		}
		if isNotFound(err) {
			return nil, time.Time{}, oauthError(OAuthInvalidGrant, "The user has not granted the subject token's app access to this resource.")
		} else if err != nil {
			return nil, time.Time{}, err
		}
		held := intersect(resourceScopes, g.Scopes)
		if sess.Resource == r.URI {
			held = intersect(held, strings.Fields(sess.Scope))
		}
		return held, expires, nil
	}
}

// chainStands checks that sess and every session it was exchanged from stand (not revoked, not
// expired, the same active user), and reports how many exchanges deep sess is.
func chainStands(ctx context.Context, r StoreReader, sess *Session, u *User, now time.Time) (int, error) {
	hops := 0
	for {
		if !sessionUsable(sess, u, now) {
			return hops, errBadSubject
		}
		if sess.ParentID == "" {
			if sess.SubjectKeyID != "" {
				hops++
			}
			return hops, nil
		}
		hops++
		if hops > maxExchangeHops {
			return hops, errBadSubject
		}
		next, err := r.SessionByID(ctx, sess.ParentID)
		if err != nil {
			return hops, notFoundAs(err, errBadSubject)
		}
		sess = next
	}
}

// parentsStand is chainStands for authentication, through the principal cache: a token
// exchanged from another stands only while the session it came from does.
func (s *AuthService) parentsStand(ctx context.Context, sess *Session, userID string) error {
	for i := 0; sess.ParentID != ""; i++ {
		if i >= maxExchangeHops {
			return ErrUnauthenticated
		}
		parent, _, err := s.loadOneSession(ctx, sess.ParentID, userID)
		if err != nil {
			return err
		}
		sess = parent
	}
	return nil
}

// intersect is the names of a that are also in b, in a's order, without repeats.
func intersect(a, b []string) []string {
	out := []string{}
	for _, s := range a {
		if slices.Contains(b, s) && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// checkExchangeClient: only an operator registers a client for token exchange, and only a
// confidential one. A self-registered client could otherwise turn any user token it comes by
// into tokens of its own.
func checkExchangeClient(kind, method string) *Error {
	if kind != ClientRegistered {
		return oauthError(OAuthInvalidClientMetadata, "The token-exchange grant is for clients an operator registers.")
	}
	if method == AuthMethodNone {
		return oauthError(OAuthInvalidClientMetadata, "The token-exchange grant is for confidential clients.")
	}
	return nil
}

// DelegationRequest is a request to allow an agent to act for the user (the delegation page).
type DelegationRequest struct {
	ClientID     string
	Resource     string
	Scope        string
	ScopeOmitted bool
}

// Delegation is a delegation request that passed every check: what the page shows and what
// allowing records.
type Delegation struct {
	Client   *OAuthClient
	Resource *Resource
	Scopes   []ScopeInfo
	// Existing is the delegation the user already gave this agent for the resource, if any.
	Existing *Grant
}

// ScopeNames lists the scopes' names.
func (d *Delegation) ScopeNames() []string { return ScopeNames(d.Scopes) }

// CheckDelegation checks a delegation request for the page: the agent must be a confidential
// client registered for token exchange, the resource registered (or the default rule), and the
// scopes the resource's (unknown ones are dropped; none asks for every scope of the resource).
func (as *AuthorizationServer) CheckDelegation(ctx context.Context, p *Principal, req DelegationRequest) (*Delegation, error) {
	c, err := as.Client(ctx, req.ClientID)
	if err != nil {
		return nil, err
	}
	if c.Public() || !c.Allows(GrantTokenExchange) || c.Kind != ClientRegistered {
		return nil, oauthError(OAuthUnauthorizedClient, "This app is not registered to act for users (token exchange).")
	}
	var r *Resource
	if req.Resource == "" {
		r, err = as.defaultResource(ctx)
	} else {
		r, err = as.resource(ctx, req.Resource)
	}
	if err != nil {
		return nil, err
	}
	var scopes []ScopeInfo
	for _, s := range grantableScopes(req.Scope, req.ScopeOmitted || strings.TrimSpace(req.Scope) == "", r) {
		if slices.ContainsFunc(r.Scopes, func(x ScopeInfo) bool { return x.Name == s.Name }) {
			scopes = append(scopes, s)
		}
	}
	if len(scopes) == 0 {
		return nil, oauthError(OAuthInvalidScope, "None of the requested scopes belongs to the resource.")
	}
	d := &Delegation{Client: c, Resource: r, Scopes: scopes}
	if p != nil && p.User != nil {
		g, err := as.store.DelegationFor(ctx, p.User.ID, c.ID, r.URI)
		if err == nil {
			d.Existing = g
		} else if !isNotFound(err) {
			return nil, err
		}
	}
	return d, nil
}

// AllowDelegation records that the user allows the agent to act for them on the resource with
// the scopes of d (added to what they allowed before). p is the user's first-party session.
func (as *AuthorizationServer) AllowDelegation(ctx context.Context, p *Principal, d *Delegation) (*Grant, error) {
	if p == nil || p.User == nil || p.SessionID == "" || p.ClientID != "" || p.APIKey != nil {
		return nil, ErrUnauthenticated
	}
	if err := as.auth.forbidImpersonated(ctx, p, "delegation to an agent"); err != nil {
		return nil, err
	}
	var g *Grant
	err := as.auth.tx(ctx, func(tx StoreTx) error {
		u, err := as.auth.lockCaller(ctx, tx, p)
		if err != nil {
			return err
		}
		now := as.now()
		g, err = tx.DelegationFor(ctx, u.ID, d.Client.ID, d.Resource.URI)
		if isNotFound(err) {
			g = &Grant{ID: NewID(), Kind: GrantDelegation, UserID: u.ID, ClientID: d.Client.ID, Resource: d.Resource.URI, CreatedAt: now}
		} else if err != nil {
			return err
		}
		g.Scopes = strings.Fields(scopeString(append(slices.Clone(g.Scopes), d.ScopeNames()...)))
		g.ClientName, g.UpdatedAt = d.Client.Name, now
		if err := tx.SaveGrant(ctx, g); err != nil {
			return err
		}
		return as.auth.auditTx(ctx, tx, p.Client, EventOAuthDelegated, u.ID, OutcomeSuccess,
			"agent "+d.Client.ID+" resource "+d.Resource.URI+" scope "+scopeString(d.ScopeNames()))
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

// DenyDelegation records that the user refused to let the agent act for them.
func (as *AuthorizationServer) DenyDelegation(ctx context.Context, p *Principal, d *Delegation) {
	as.auth.audit(ctx, p.Client, EventOAuthDelegationDenied, p.User.ID, OutcomeFailure, "agent "+d.Client.ID+" resource "+d.Resource.URI)
}
