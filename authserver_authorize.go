package gatehouse

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
)

// AuthorizeRequest is an authorization request (RFC 6749 §4.1.1, RFC 7636, RFC 8707, OIDC Core
// §3.1.2.1) as the edge read it. Duplicated carries the names of parameters that appeared more
// than once (RFC 6749 §3.1 forbids it); Resources may legitimately repeat and is a list.
type AuthorizeRequest struct {
	ClientID            string
	RedirectURI         string
	ResponseType        string
	ResponseMode        string
	State               string
	Scope               string
	ScopeOmitted        bool
	Resources           []string
	CodeChallenge       string
	CodeChallengeMethod string
	Nonce               string
	Prompt              string
	MaxAge              string
	LoginHint           string
	ACRValues           string // OIDC Core §3.1.2.1: requested acr values, in order of preference
	// Organization is the organization the user consents for: the consent form's choice, or
	// the request's organization parameter (a preselection). Empty: for the user themselves.
	// Approve checks the user's membership; nothing here is trusted.
	Organization string
	Request      string // a request object (RFC 9101): not supported
	RequestURI   string // a pushed or referenced request object: not supported
	Duplicated   []string
}

// AuthorizationRequest is an authorization request that passed every check: what the consent page
// shows and what an approval issues.
type AuthorizationRequest struct {
	Request     AuthorizeRequest
	Client      *OAuthClient
	RedirectURI string
	Resource    *Resource
	Scopes      []ScopeInfo // granted if the user approves: OpenID Connect's and the resource's
	// Prompts are the prompt values: none, login, consent, select_account.
	Prompts []string
	// MaxAge is the longest time since the user signed in that the client accepts; nil: any.
	MaxAge *time.Duration
	// RequiresAAL2: the client asked for a sign-in with a second factor (acr_values names
	// ACRAAL2 and not ACRAAL1): a session without one must complete one before the code is issued.
	RequiresAAL2 bool
}

// Authentication context class references (OIDC Core §2 acr, §3.1.2.1 acr_values): the
// assurance level of the sign-in, as AAL says it. The ID token's acr is always one of them.
const (
	ACRAAL1 = "urn:gatehouse:aal1" // a password, or a provider's sign-in
	ACRAAL2 = "urn:gatehouse:aal2" // and a second factor
)

// ACRValuesSupported is what discovery advertises.
var ACRValuesSupported = []string{ACRAAL1, ACRAAL2}

// ACR is the acr of a sign-in whose methods were amr.
func ACR(amr []string) string {
	if AAL(amr) == AAL2 {
		return ACRAAL2
	}
	return ACRAAL1
}

// ErrAAL2Required refuses to issue a code for a request that asked for a second factor to a
// session signed in without one (the dashboard asks for it first; this holds if it did not).
var ErrAAL2Required = &Error{Kind: KindForbidden, Code: "aal2_required",
	Message: "This app asks for a sign-in with a second factor: sign in again with your authenticator app."}

// ScopeNames lists the granted scopes' names.
func (a *AuthorizationRequest) ScopeNames() []string { return ScopeNames(a.Scopes) }

// userInfo: the tokens of an openid flow that named no resource, or named Gatehouse's own API,
// may read /oauth2/userinfo; a token for another resource stays with that resource.
func (a *AuthorizationRequest) userInfo(ownAPI string) bool {
	return slices.Contains(a.ScopeNames(), ScopeOpenID) && (len(a.Request.Resources) == 0 || a.Resource.URI == ownAPI)
}

// Prompted reports whether the request carries the prompt value.
func (a *AuthorizationRequest) Prompted(value string) bool { return slices.Contains(a.Prompts, value) }

// LoginRequired reports whether a user who signed in at authTime must sign in again first.
func (a *AuthorizationRequest) LoginRequired(authTime, now time.Time) bool {
	if a.Prompted("login") || a.Prompted("select_account") {
		return true
	}
	return a.MaxAge != nil && now.Sub(authTime) > *a.MaxAge
}

const (
	maxStateLength = 2048
	maxNonceLength = 512
)

// Authorize checks an authorization request. The client and the redirect URI come first: until
// both are known to be good, an error is shown to the user and never sent to the redirect URI
// (RFC 6749 §4.1.2.1, OAuth 2.1 §4.1.2.1). Every later error goes to the redirect URI.
func (as *AuthorizationServer) Authorize(ctx context.Context, req AuthorizeRequest) (*AuthorizationRequest, error) {
	for _, name := range req.Duplicated {
		if name == "client_id" || name == "redirect_uri" {
			return nil, pageError("The parameter %s appears more than once.", name)
		}
	}
	if req.ClientID == "" {
		return nil, pageError("The request has no client_id.")
	}
	c, err := as.Client(ctx, req.ClientID)
	if err != nil {
		if ErrorKindOf(err) == KindUnavailable {
			return nil, err
		}
		return nil, &AuthorizeError{Err: oauthError(OAuthInvalidClient, "%s", messageOf(err))}
	}
	if req.RedirectURI == "" {
		return nil, pageError("The request has no redirect_uri.")
	}
	if !c.redirectMatches(req.RedirectURI) {
		return nil, pageError("The redirect_uri is not registered for this client.")
	}
	a := &AuthorizationRequest{Request: req, Client: c, RedirectURI: req.RedirectURI}

	// From here on, errors go back to the client.
	switch {
	case len(req.Duplicated) > 0:
		return nil, redirectError(OAuthInvalidRequest, "The parameter %s appears more than once.", req.Duplicated[0])
	case req.Request != "":
		return nil, redirectError(OAuthRequestNotSupported, "Request objects are not supported.")
	case req.RequestURI != "":
		return nil, redirectError(OAuthRequestURINotSupported, "request_uri is not supported.")
	case req.ResponseType == "":
		return nil, redirectError(OAuthInvalidRequest, "response_type is required.")
	case req.ResponseType != "code":
		return nil, redirectError(OAuthUnsupportedResponseType, "Only response_type=code is supported.")
	case req.ResponseMode != "" && req.ResponseMode != "query":
		return nil, redirectError(OAuthInvalidRequest, "Only response_mode=query is supported.")
	case !c.Allows(GrantAuthCode):
		return nil, redirectError(OAuthUnauthorizedClient, "This client may not use the authorization code grant.")
	case req.CodeChallenge == "":
		return nil, redirectError(OAuthInvalidRequest, "PKCE is required: send code_challenge with code_challenge_method=S256.")
	case req.CodeChallengeMethod != "S256":
		// A missing method means "plain" (RFC 7636 §4.3), which is refused like "plain" itself.
		return nil, redirectError(OAuthInvalidRequest, "code_challenge_method must be S256; plain is not accepted.")
	case !validChallenge(req.CodeChallenge):
		return nil, redirectError(OAuthInvalidRequest, "code_challenge must be the 43-character base64url SHA-256 of the verifier.")
	case len(req.State) > maxStateLength:
		return nil, redirectError(OAuthInvalidRequest, "state is too long.")
	case len(req.Nonce) > maxNonceLength:
		return nil, redirectError(OAuthInvalidRequest, "nonce is too long.")
	case req.Organization != "" && validOrgIDInput(req.Organization) != nil:
		return nil, redirectError(OAuthInvalidRequest, "organization is not an organization id.")
	}

	prompts := strings.Fields(req.Prompt)
	if slices.Contains(prompts, "none") && len(prompts) > 1 {
		return nil, redirectError(OAuthInvalidRequest, "prompt=none cannot be combined with other values.")
	}
	a.Prompts = prompts
	if req.MaxAge != "" {
		n, err := strconv.ParseUint(req.MaxAge, 10, 31)
		if err != nil {
			return nil, redirectError(OAuthInvalidRequest, "max_age must be a non-negative number of seconds.")
		}
		d := time.Duration(n) * time.Second
		a.MaxAge = &d
	}
	// Values are voluntary (OIDC Core §5.5.1.1): unknown ones are ignored, and aal1 among them
	// means a sign-in without a second factor will do.
	acrs := strings.Fields(req.ACRValues)
	a.RequiresAAL2 = slices.Contains(acrs, ACRAAL2) && !slices.Contains(acrs, ACRAAL1)

	switch len(req.Resources) {
	case 0:
		a.Resource, err = as.defaultResource(ctx)
	case 1:
		a.Resource, err = as.resource(ctx, req.Resources[0])
	default:
		return nil, redirectError(OAuthInvalidTarget, "Ask for one resource per authorization request.")
	}
	if err != nil {
		if e, ok := err.(*Error); ok && e.Code == OAuthInvalidTarget {
			return nil, &AuthorizeError{Err: e, Redirect: true}
		}
		return nil, err
	}
	a.Scopes = grantableScopes(req.Scope, req.ScopeOmitted, a.Resource)
	return a, nil
}

func messageOf(err error) string {
	if e, ok := err.(*Error); ok {
		return e.Message
	}
	return "The client is unknown."
}

// validChallenge: an S256 challenge is the base64url encoding, without padding, of 32 bytes.
func validChallenge(s string) bool {
	if len(s) != 43 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isBase64URLChar(s[i]) {
			return false
		}
	}
	return true
}

func isBase64URLChar(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// NeedsConsent reports whether the user must see the consent page for a: always for a client
// that registered itself (MCP's confused-deputy rule: anyone can register a client with any name
// and a redirect URI of their own), for a public client redirecting to the user's machine, and
// when the client prompts for it; otherwise when the user has not yet granted this client every
// requested scope for this resource.
func (as *AuthorizationServer) NeedsConsent(ctx context.Context, userID string, a *AuthorizationRequest) (bool, error) {
	if a.Client.Kind == ClientDynamic || a.Prompted("consent") {
		return true, nil
	}
	// A public client whose code goes to the user's own machine (a loopback port, a private-use
	// scheme) cannot prove who it is: any program there can use its client_id (RFC 8252 §8.6).
	// Only an https redirect lets a remembered consent stand in for the user.
	if a.Client.Public() && !strings.HasPrefix(a.RedirectURI, "https://") {
		return true, nil
	}
	g, err := as.store.GrantFor(ctx, userID, a.Client.ID, a.Resource.URI, a.Request.Organization)
	if isNotFound(err) {
		return true, nil
	} else if err != nil {
		return false, err
	}
	for _, s := range a.ScopeNames() {
		if !slices.Contains(g.Scopes, s) {
			return true, nil
		}
	}
	return false, nil
}

// Approve records the user's consent (a new or widened grant) and issues an authorization code
// for a. p is the user's first-party session (the dashboard's); consented says whether the user
// has just approved on the consent page, rather than the consent being remembered.
func (as *AuthorizationServer) Approve(ctx context.Context, p *Principal, a *AuthorizationRequest, consented bool) (string, error) {
	if p == nil || p.User == nil || p.SessionID == "" || p.ClientID != "" || p.APIKey != nil {
		return "", ErrUnauthenticated
	}
	if p.MFAEnrollmentRequired {
		return "", ErrMFAEnrollmentRequired
	}
	if err := as.auth.forbidImpersonated(ctx, p, "consent to an app"); err != nil {
		return "", err
	}
	code := RandomToken(32)
	err := as.auth.tx(ctx, func(tx StoreTx) error {
		u, err := as.auth.lockCaller(ctx, tx, p)
		if err != nil {
			return err
		}
		sess, err := tx.SessionByID(ctx, p.SessionID)
		if err != nil {
			return notFoundAsUnauthenticated(err)
		}
		if a.RequiresAAL2 && AAL(sess.AMR) != AAL2 {
			return ErrAAL2Required
		}
		orgID := a.Request.Organization
		if orgID != "" {
			// Consent for an organization is the user's only while they are a member of it.
			if _, err := tx.MembershipOf(ctx, orgID, u.ID); isNotFound(err) {
				return ErrNotOrgMember
			} else if err != nil {
				return err
			}
		}
		now := as.now()
		g, err := tx.GrantFor(ctx, u.ID, a.Client.ID, a.Resource.URI, orgID)
		if isNotFound(err) {
			g = &Grant{ID: NewID(), UserID: u.ID, ClientID: a.Client.ID, Resource: a.Resource.URI, OrgID: orgID, CreatedAt: now}
		} else if err != nil {
			return err
		}
		if !consented {
			for _, s := range a.ScopeNames() {
				if !slices.Contains(g.Scopes, s) {
					return oauthError(OAuthConsentRequired, "The user has not consented to these scopes.")
				}
			}
		}
		if consented {
			if g, err = as.recordConsent(ctx, tx, p, u, a.Client, a.Resource.URI, orgID, a.ScopeNames(), now); err != nil {
				return err
			}
		}
		// Codes live a minute; sweeping the expired ones here keeps the table small.
		if _, err := tx.DeleteExpiredAuthCodes(ctx, now.Add(-time.Minute)); err != nil {
			return err
		}
		if err := tx.CreateAuthCode(ctx, &AuthCode{
			Hash: HashToken(code), GrantID: g.ID, ClientID: a.Client.ID, UserID: u.ID, RedirectURI: a.RedirectURI,
			Challenge: a.Request.CodeChallenge, Resource: a.Resource.URI, Scope: scopeString(a.ScopeNames()),
			Nonce: a.Request.Nonce, AuthTime: sessionAuthTime(sess), CreatedAt: now, ExpiresAt: now.Add(as.cfg.CodeTTL),
			Approver: sess.ID, UserInfo: a.userInfo(as.OwnAPI()), AMR: sess.AMR,
		}); err != nil {
			return err
		}
		return as.auth.auditTx(ctx, tx, p.Client, EventOAuthCodeIssued, u.ID, OutcomeSuccess, "client "+a.Client.ID)
	})
	if err != nil {
		return "", err
	}
	return code, nil
}

// recordConsent saves what the user has just approved on a consent page (or a device's approval
// page): the user's grant to the client for the resource and the organization orgID (checked by
// the caller; "": personal), created or widened to the scopes, and audited, in the caller's
// transaction.
func (as *AuthorizationServer) recordConsent(ctx context.Context, tx StoreTx, p *Principal, u *User, c *OAuthClient, resource, orgID string, scopes []string, now time.Time) (*Grant, error) {
	g, err := tx.GrantFor(ctx, u.ID, c.ID, resource, orgID)
	if isNotFound(err) {
		g = &Grant{ID: NewID(), UserID: u.ID, ClientID: c.ID, Resource: resource, OrgID: orgID, CreatedAt: now}
	} else if err != nil {
		return nil, err
	}
	merged := append(slices.Clone(g.Scopes), scopes...)
	g.Scopes = strings.Fields(scopeString(merged))
	g.ClientName, g.UpdatedAt = c.Name, now
	if err := tx.SaveGrant(ctx, g); err != nil {
		return nil, err
	}
	if err := as.auth.auditTx(ctx, tx, p.Client, EventOAuthConsented, u.ID, OutcomeSuccess,
		"client "+c.ID+" resource "+resource+orgNote(orgID)+" scope "+scopeString(scopes)); err != nil {
		return nil, err
	}
	return g, nil
}

// Deny records that the user refused the client.
func (as *AuthorizationServer) Deny(ctx context.Context, p *Principal, a *AuthorizationRequest) {
	as.auth.audit(ctx, p.Client, EventOAuthDenied, p.User.ID, OutcomeFailure, "client "+a.Client.ID+" resource "+a.Resource.URI)
}

// SignIn is how and when the user of a first-party session signed in.
type SignIn struct {
	// AuthTime is the latest full authentication (the session's start: a sign-in with a second
	// factor starts its session once the factor is given), which LoginRequired compares with
	// prompt and max_age and the ID token reports as auth_time.
	AuthTime time.Time
	AMR      []string // the methods used (RFC 8176), whose AAL RequiresAAL2 compares
}

// AAL is the sign-in's assurance level.
func (s *SignIn) AAL() string { return AAL(s.AMR) }

// SignInOf is how and when the user of a first-party session (the dashboard's) signed in.
func (as *AuthorizationServer) SignInOf(ctx context.Context, p *Principal) (*SignIn, error) {
	if p == nil || p.User == nil || p.SessionID == "" || p.ClientID != "" || p.APIKey != nil {
		return nil, ErrUnauthenticated
	}
	sess, err := as.store.SessionByID(ctx, p.SessionID)
	if err != nil {
		return nil, notFoundAsUnauthenticated(err)
	}
	return &SignIn{AuthTime: sessionAuthTime(sess), AMR: sess.AMR}, nil
}

// orgNote names the organization of a consent in an audit detail.
func orgNote(orgID string) string {
	if orgID == "" {
		return ""
	}
	return " org " + orgID
}
