package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
)

// The authorization endpoint of Gatehouse as an OAuth 2.1 / OpenID Connect provider: the user
// signs in on /login and consents on a page of the dashboard. The rules (which client, which
// redirect URI, PKCE, the resource, the scopes, whether consent is remembered) are the
// AuthorizationServer's; this file reads the request, shows the pages and writes the redirects.

// authorizePath is the authorization endpoint; /authorize (MCP 2025-03-26) redirects here.
const authorizePath = "/oauth2/authorize"

// authorizeParams are the request's parameters a consent form carries back, in this order.
var authorizeParams = []string{"client_id", "redirect_uri", "response_type", "response_mode", "state", "scope", "resource",
	"code_challenge", "code_challenge_method", "nonce", "prompt", "max_age", "login_hint", "request", "request_uri", "acr_values",
	"organization"}

// reauthMaxAge bounds how long a sign-in demanded by prompt=login or max_age may take.
const reauthMaxAge = 10 * time.Minute

// readAuthorizeRequest builds the domain's request from the query (or the consent form). Every
// parameter sent more than once is recorded, except resource, which may repeat (RFC 8707).
func readAuthorizeRequest(q url.Values) gatehouse.AuthorizeRequest {
	var dup []string
	for name, vals := range q {
		if len(vals) > 1 && name != "resource" {
			dup = append(dup, name)
		}
	}
	slices.Sort(dup)
	_, scope := q["scope"]
	return gatehouse.AuthorizeRequest{
		ClientID: q.Get("client_id"), RedirectURI: q.Get("redirect_uri"), ResponseType: q.Get("response_type"),
		ResponseMode: q.Get("response_mode"), State: q.Get("state"), Scope: q.Get("scope"), ScopeOmitted: !scope,
		Resources: q["resource"], CodeChallenge: q.Get("code_challenge"), CodeChallengeMethod: q.Get("code_challenge_method"),
		Nonce: q.Get("nonce"), Prompt: q.Get("prompt"), MaxAge: q.Get("max_age"), LoginHint: q.Get("login_hint"),
		Request: q.Get("request"), RequestURI: q.Get("request_uri"), Duplicated: dup, ACRValues: q.Get("acr_values"),
		Organization: q.Get("organization"),
	}
}

// authorizeHeaders: nothing of the flow is cached, and no page or redirect of it hands its URL
// (the state, the code) to anyone as a Referer.
func authorizeHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
}

// authorizeAlias is the root fallback of MCP 2025-03-26: the same request at the real endpoint.
func (s *server) authorizeAlias(w http.ResponseWriter, r *http.Request) {
	to := authorizePath
	if r.URL.RawQuery != "" {
		to += "?" + r.URL.RawQuery
	}
	authorizeHeaders(w)
	w.Header().Set("Location", to)
	w.WriteHeader(http.StatusFound)
}

// authorize is GET /oauth2/authorize.
func (s *server) authorize(w http.ResponseWriter, r *http.Request, v *visit) {
	authorizeHeaders(w)
	if s.AuthServer == nil {
		s.notFound(w, r, v)
		return
	}
	ctx := r.Context()
	q := r.URL.Query()
	req := readAuthorizeRequest(q)
	a, err := s.AuthServer.Authorize(ctx, req)
	if err != nil {
		s.authorizeFailed(w, r, v, req, err)
		return
	}
	p := v.p
	login := p == nil
	if p != nil {
		in, err := s.AuthServer.SignInOf(ctx, p)
		switch {
		case gatehouse.ErrorKindOf(err) == gatehouse.KindUnauthorized:
			login = true
		case err != nil:
			s.authorizeServerError(w, r, a, err)
			return
		case a.LoginRequired(in.AuthTime, time.Now()):
			// A sign-in this very request asked for satisfies it once; otherwise sign in again.
			login = !s.takeReauth(w, r, q, in.AuthTime)
		}
		if !login && a.RequiresAAL2 && in.AAL() != gatehouse.AAL2 {
			// The app asks for a second factor and this session's sign-in had none: sign in
			// again (the sign-in asks for the code), or first set up an authenticator app.
			if a.Prompted("none") {
				s.redirectToClient(w, a.RedirectURI, url.Values{"error": {gatehouse.OAuthLoginRequired},
					"error_description": {"The app asks for a sign-in with a second factor."}, "state": {req.State}})
				return
			}
			if !p.User.MFAEnabled {
				redirect(w, r, "/account/security?notice=mfa_acr")
				return
			}
			login = true
		}
	}
	if login {
		if a.Prompted("none") {
			s.redirectToClient(w, a.RedirectURI, url.Values{"error": {gatehouse.OAuthLoginRequired},
				"error_description": {"The user is not signed in."}, "state": {req.State}})
			return
		}
		s.sendToLogin(w, r, q, a, p != nil)
		return
	}
	if a.Request.Organization == "" && p.Claims != nil {
		// Without an organization parameter, the consent is for the dashboard's active
		// organization, if any (Approve checks the membership).
		a.Request.Organization = p.Claims.OrgID
	}
	need, err := s.AuthServer.NeedsConsent(ctx, p.User.ID, a)
	if err != nil {
		s.authorizeServerError(w, r, a, err)
		return
	}
	if need {
		if a.Prompted("none") {
			s.redirectToClient(w, a.RedirectURI, url.Values{"error": {gatehouse.OAuthConsentRequired},
				"error_description": {"The user has not consented to this app."}, "state": {req.State}})
			return
		}
		s.consentPage(w, r, v, a, q)
		return
	}
	s.approve(w, r, v, a, q, false)
}

// authorizeDecision is POST /oauth2/authorize: the consent form. The page wrapper has checked
// CSRF; the request is checked again from scratch, the hidden fields trusted no more than a URL.
func (s *server) authorizeDecision(w http.ResponseWriter, r *http.Request, v *visit) {
	authorizeHeaders(w)
	if s.AuthServer == nil {
		s.notFound(w, r, v)
		return
	}
	q := url.Values{}
	for _, name := range authorizeParams {
		if vals, ok := r.PostForm[name]; ok {
			q[name] = vals
		}
	}
	req := readAuthorizeRequest(q)
	a, err := s.AuthServer.Authorize(r.Context(), req)
	if err != nil {
		s.authorizeFailed(w, r, v, req, err)
		return
	}
	if v.p == nil {
		// The session ended while the page was open: sign in, then see the page again.
		s.sendToLogin(w, r, q, a, false)
		return
	}
	switch r.PostFormValue("decision") {
	case "allow":
		s.approve(w, r, v, a, q, true)
	case "deny":
		s.AuthServer.Deny(r.Context(), v.p, a)
		s.redirectToClient(w, a.RedirectURI, url.Values{"error": {gatehouse.OAuthAccessDenied},
			"error_description": {"The user denied the request."}, "state": {req.State}})
	default:
		s.authorizeErrorPage(w, r, v, http.StatusBadRequest, "Choose allow or deny on the consent page.")
	}
}

// approve issues the code and sends the browser back to the client with it.
func (s *server) approve(w http.ResponseWriter, r *http.Request, v *visit, a *gatehouse.AuthorizationRequest, q url.Values, consented bool) {
	code, err := s.AuthServer.Approve(r.Context(), v.p, a, consented)
	if err != nil {
		var ge *gatehouse.Error
		switch {
		case gatehouse.ErrorKindOf(err) == gatehouse.KindUnauthorized:
			// The session or the account ended meanwhile.
			s.sendToLogin(w, r, q, a, false)
		case errors.Is(err, gatehouse.ErrMFAEnrollmentRequired):
			redirect(w, r, enrolPage)
		case errors.Is(err, gatehouse.ErrAAL2Required):
			// A consent form whose request asks for a second factor this session lacks.
			s.sendToLogin(w, r, q, a, true)
		case asError(err, &ge) && ge.Code == gatehouse.OAuthConsentRequired:
			// The grant shrank between the check and the approval (revoked in another tab).
			s.consentPage(w, r, v, a, q)
		case errors.Is(err, gatehouse.ErrNotOrgMember):
			// An organization the user is not a member of (a forged form, a removal since the
			// page was shown): nothing is granted, and the client hears a refusal.
			s.redirectToClient(w, a.RedirectURI, url.Values{"error": {gatehouse.OAuthAccessDenied},
				"error_description": {"The user is not a member of this organization."}, "state": {a.Request.State}})
		case err == gatehouse.ErrImpersonationForbidden:
			// An admin's impersonation session never authorizes an app for the user (refused and
			// audited by Approve): the client hears a refusal, as if the user had denied.
			s.redirectToClient(w, a.RedirectURI, url.Values{"error": {gatehouse.OAuthAccessDenied},
				"error_description": {"An impersonation session cannot authorize apps for the user."}, "state": {a.Request.State}})
		default:
			s.authorizeServerError(w, r, a, err)
		}
		return
	}
	s.redirectToClient(w, a.RedirectURI, url.Values{"code": {code}, "state": {a.Request.State}})
}

// authorizeFailed answers a refused request: on a page of its own while the client or the
// redirect URI is in doubt (never a redirect, never a form), else at the client's redirect URI.
func (s *server) authorizeFailed(w http.ResponseWriter, r *http.Request, v *visit, req gatehouse.AuthorizeRequest, err error) {
	ae, ok := gatehouse.AsAuthorizeError(err)
	if !ok {
		status, msg, _ := s.explain(r, w, err)
		s.authorizeErrorPage(w, r, v, status, msg)
		return
	}
	if !ae.Redirect {
		s.authorizeErrorPage(w, r, v, http.StatusBadRequest, ae.Err.Message)
		return
	}
	s.redirectToClient(w, req.RedirectURI, url.Values{"error": {ae.Err.Code}, "error_description": {ae.Err.Message}, "state": {req.State}})
}

// authorizeServerError reports a failure on our side to the client (RFC 6749 §4.1.2.1), once the
// redirect URI is known to be the client's.
func (s *server) authorizeServerError(w http.ResponseWriter, r *http.Request, a *gatehouse.AuthorizationRequest, err error) {
	code := "server_error"
	if k := gatehouse.ErrorKindOf(err); k == gatehouse.KindUnavailable || k == gatehouse.KindRateLimited {
		code = "temporarily_unavailable"
	} else {
		s.Log.ErrorContext(r.Context(), "authorization request failed", "client_id", a.Client.ID, "error", err)
	}
	s.redirectToClient(w, a.RedirectURI, url.Values{"error": {code},
		"error_description": {"The server could not complete the request. Try again."}, "state": {a.Request.State}})
}

func asError(err error, target **gatehouse.Error) bool {
	e, ok := err.(*gatehouse.Error)
	if ok {
		*target = e
	}
	return ok
}

// authorizeErrorPage is the page of a request that cannot go back to its client. It offers no
// form and no link to the redirect URI; it is shown as to a signed-out visitor (no sign-out form
// either).
func (s *server) authorizeErrorPage(w http.ResponseWriter, r *http.Request, v *visit, status int, message string) {
	s.render(w, r, &visit{csrf: v.csrf, client: v.client}, status, "authorize_error",
		&view{Title: "This sign-in request cannot continue", Error: message, Data: status})
}

// redirectToClient sends the browser to the client's redirect URI with params and the issuer
// (RFC 9207) added to its query. The URI was matched against the client's registration: it has no
// fragment, and its own query is kept as it is.
func (s *server) redirectToClient(w http.ResponseWriter, redirectURI string, params url.Values) {
	if params.Get("state") == "" {
		params.Del("state")
	}
	params.Set("iss", s.AuthServer.Issuer())
	sep := "?"
	if strings.Contains(redirectURI, "?") {
		sep = "&"
		if strings.HasSuffix(redirectURI, "?") || strings.HasSuffix(redirectURI, "&") {
			sep = ""
		}
	}
	authorizeHeaders(w)
	w.Header().Set("Location", redirectURI+sep+params.Encode())
	w.WriteHeader(http.StatusFound)
}

// sendToLogin sends the visitor to the sign-in page, which brings them back to this request. When
// the client wants a fresh sign-in (prompt=login, max_age), the sign-in page shows its form even
// to a signed-in visitor, and a marker bound to this request lets the session it starts count
// as fresh, once.
func (s *server) sendToLogin(w http.ResponseWriter, r *http.Request, q url.Values, a *gatehouse.AuthorizationRequest, signedIn bool) {
	back := authorizePath + "?" + q.Encode()
	login := url.Values{"next": {back}}
	if a.Request.LoginHint != "" {
		login.Set("login_hint", a.Request.LoginHint)
	}
	if signedIn || a.Prompted("login") || a.Prompted("select_account") || a.MaxAge != nil {
		login.Set("prompt", "login")
		value := strconv.FormatInt(time.Now().UnixMicro(), 10) + "." + requestDigest(q)
		http.SetCookie(w, s.cookie(s.cookies.reauth, value, reauthMaxAge))
	}
	authorizeHeaders(w)
	w.Header().Set("Location", "/login?"+login.Encode())
	w.WriteHeader(http.StatusFound)
}

// takeReauth reports whether the session that signed in at authTime started after this very
// request sent the visitor to sign in, and spends the marker.
func (s *server) takeReauth(w http.ResponseWriter, r *http.Request, q url.Values, authTime time.Time) bool {
	c, err := r.Cookie(s.cookies.reauth)
	if err != nil || c.Value == "" {
		return false
	}
	at, digest, ok := strings.Cut(c.Value, ".")
	micros, err := strconv.ParseInt(at, 10, 64)
	if !ok || err != nil || subtle.ConstantTimeCompare([]byte(digest), []byte(requestDigest(q))) != 1 {
		return false
	}
	asked := time.UnixMicro(micros)
	if authTime.UnixMicro() < micros || time.Since(asked) > reauthMaxAge {
		return false
	}
	http.SetCookie(w, s.cookie(s.cookies.reauth, "", -1))
	return true
}

// requestDigest names an authorization request by its parameters.
func requestDigest(q url.Values) string {
	h := sha256.Sum256([]byte(q.Encode()))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// hiddenField is one parameter of the request, carried by the consent form.
type hiddenField struct{ Name, Value string }

// consentData is what the consent page shows.
type consentData struct {
	ClientName, ClientID, ClientHost string
	Kind                             string // registered, dynamic or metadata
	RedirectURI, RedirectHost        string
	LoopbackOnly                     bool
	Scopes                           []gatehouse.ScopeInfo
	ResourceName, ResourceURI        string
	Hidden                           []hiddenField
	// Orgs are the user's organizations, one of which the consent may be for; Org is the one
	// chosen in advance ("": personal).
	Orgs []*gatehouse.OrgMembership
	Org  string
}

// SelfRegistered: the client registered itself; nothing it says about itself was checked.
func (d consentData) SelfRegistered() bool { return d.Kind == gatehouse.ClientDynamic }

// Metadata: the client_id is the URL of its metadata document, so its host is who it is.
func (d consentData) Metadata() bool { return d.Kind == gatehouse.ClientMetadata }

// consentPage shows what the client asks for. It cannot be framed (the dashboard's CSP and
// X-Frame-Options), and its form may lead only here and, after the decision, to the client.
func (s *server) consentPage(w http.ResponseWriter, r *http.Request, v *visit, a *gatehouse.AuthorizationRequest, q url.Values) {
	d := consentData{ClientName: a.Client.Name, ClientID: a.Client.ID, ClientHost: a.Client.Host(), Kind: a.Client.Kind,
		RedirectURI: a.RedirectURI, RedirectHost: redirectHost(a.RedirectURI), LoopbackOnly: a.Client.LoopbackOnly(),
		Scopes: a.Scopes, ResourceName: a.Resource.Name, ResourceURI: a.Resource.URI}
	for _, name := range authorizeParams {
		if name == "organization" {
			continue // the form's select carries it
		}
		for _, val := range q[name] {
			d.Hidden = append(d.Hidden, hiddenField{Name: name, Value: val})
		}
	}
	if s.Orgs != nil {
		orgs, err := s.Orgs.ListOrgs(r.Context(), v.p)
		if err != nil {
			s.authorizeServerError(w, r, a, err)
			return
		}
		d.Orgs, d.Org = orgs, a.Request.Organization
	}
	w.Header().Set("Content-Security-Policy", consentPolicy(a.RedirectURI))
	s.render(w, r, v, http.StatusOK, "consent", &view{Title: "Allow " + a.Client.Name + "?", Focus: true, Wide: true, Data: d})
}

// redirectHost is what the user should recognise of a redirect URI: its host, or the scheme of
// an app on this device (cursor://..., com.example.app:).
func redirectHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	switch {
	case u.Scheme == "https" || u.Scheme == "http":
		return u.Host
	case u.Host != "":
		return u.Scheme + "://" + u.Host
	}
	return u.Scheme + ":"
}

var (
	cspHost   = regexp.MustCompile(`^[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$`)
	cspScheme = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.\-]*$`)
)

// consentPolicy is the dashboard's CSP with form-action widened to the redirect URI's origin
// (or an app's scheme): browsers check form-action on the redirect that follows the decision.
func consentPolicy(redirectURI string) string {
	src := ""
	if u, err := url.Parse(redirectURI); err == nil {
		switch {
		case (u.Scheme == "https" || u.Scheme == "http") && cspHost.MatchString(u.Host):
			src = u.Scheme + "://" + u.Host
		case u.Scheme != "https" && u.Scheme != "http" && cspScheme.MatchString(u.Scheme):
			src = u.Scheme + ":"
		}
	}
	if src == "" {
		return contentSecurityPolicy
	}
	return strings.Replace(contentSecurityPolicy, "form-action 'self'", "form-action 'self' "+src, 1)
}

// allowReturnTo lets the sign-in and sign-up forms lead back to an app. When next is an
// authorization request that passes the checks of the client and its redirect URI, the
// request's end after sign-in may be a redirect to that URI; browsers check form-action on every
// redirect that follows a form post, so the page's CSP names that origin. Any other next leaves
// the dashboard's policy as it is.
func (s *server) allowReturnTo(w http.ResponseWriter, r *http.Request, next string) {
	next = safeNext(next)
	if s.AuthServer == nil || !strings.HasPrefix(next, authorizePath+"?") {
		return
	}
	u, err := url.Parse(next)
	if err != nil || u.Path != authorizePath {
		return
	}
	a, err := s.AuthServer.Authorize(r.Context(), readAuthorizeRequest(u.Query()))
	if err != nil {
		// An error that goes to the client goes to a redirect URI that was checked.
		ae, ok := gatehouse.AsAuthorizeError(err)
		if !ok || !ae.Redirect {
			return
		}
		w.Header().Set("Content-Security-Policy", consentPolicy(u.Query().Get("redirect_uri")))
		return
	}
	w.Header().Set("Content-Security-Policy", consentPolicy(a.RedirectURI))
}
