// Package web serves Gatehouse's dashboard: server-rendered pages to sign up and sign in, manage
// the account, its sessions, API keys and credits, and for admins the users and the audit log.
//
// It holds no rules of its own. Every action calls the domain method that the matching API
// endpoint calls, with a Principal built the same way (AuthService.Authenticate of the session's
// access token), so nothing a page does can bypass a check the API makes.
package web

import (
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/httpkit"
)

// Config is what the dashboard needs to know about its deployment.
type Config struct {
	// PublicURL is the server's own URL without a trailing slash; an https URL makes every cookie
	// Secure and __Host- prefixed.
	PublicURL      string
	TrustedProxies []netip.Prefix
	// SessionMaxAge is how long a browser keeps its session cookie: the refresh token's idle
	// lifetime, renewed at every refresh.
	SessionMaxAge     time.Duration
	PasswordMinLength int
	ProductName       string
}

// Deps are the services the dashboard drives.
type Deps struct {
	Auth *gatehouse.AuthService
	// MFA holds second factors: the security page and the sign-in's second step. nil turns
	// them off.
	MFA *gatehouse.MFAService
	// SignIn is the passwordless sign-in by email; nil hides "Email me a sign-in code".
	SignIn *gatehouse.EmailSignInService
	// Passkeys (WebAuthn): the security page's list, the sign-in page's button and autofill, and
	// the passkey as a second step. nil hides them.
	Passkeys *gatehouse.PasskeyService
	// OAuth signs in through providers; its allow-list must hold CallbackURL of each provider.
	// nil hides the provider buttons.
	OAuth *gatehouse.OAuthService
	// Impersonation lets admins open a dashboard session as a user; nil hides it.
	Impersonation *gatehouse.Impersonation
	// AuthServer is Gatehouse as an OAuth 2.1 / OpenID Connect provider: the authorization
	// endpoint, the consent page, connected apps and the admin pages of clients and resources.
	// nil turns those pages off.
	AuthServer *gatehouse.AuthorizationServer
	// Orgs is organizations: the page an invitation's link opens. nil turns it off.
	Orgs    *gatehouse.OrgService
	Limits  httpkit.RateLimits
	Log     *slog.Logger
	Metrics httpkit.RequestObserver // optional
	// OpenAPI is the API's OpenAPI document, the one served at /openapi.json; the dashboard renders
	// it as the API reference page. Optional: without it that page is a 404.
	OpenAPI []byte
	Config  Config
}

// server carries the dependencies that handlers close over.
type server struct {
	Deps
	pages   *pages
	cookies cookieNames
	secure  bool
	origin  *http.CrossOriginProtection
	reveals *reveals
	// secrets holds new OAuth clients' secrets for the page after "Create client", as reveals
	// holds new API keys.
	secrets *reveals
	apiRef  *apiRefLoader
}

// New returns the dashboard as one handler, with its own security headers.
func New(d Deps) (http.Handler, error) {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Config.ProductName == "" {
		d.Config.ProductName = "Gatehouse"
	}
	if d.Config.PasswordMinLength <= 0 {
		d.Config.PasswordMinLength = 8
	}
	if d.Config.SessionMaxAge <= 0 {
		d.Config.SessionMaxAge = gatehouse.DefaultAuthConfig.RefreshTokenTTL
	}
	p, err := loadPages()
	if err != nil {
		return nil, err
	}
	var apiRef *apiRefLoader
	if len(d.OpenAPI) > 0 {
		apiRef = &apiRefLoader{doc: d.OpenAPI}
	}
	secure := strings.HasPrefix(d.Config.PublicURL, "https://")
	s := &server{Deps: d, pages: p, cookies: newCookieNames(secure), secure: secure, origin: http.NewCrossOriginProtection(),
		reveals: newReveals(), secrets: newReveals(), apiRef: apiRef}
	mux := http.NewServeMux()
	s.routes(mux)
	var h http.Handler = mux
	h = limitForm(h)
	h = httpkit.SecurityHeaders(securityHeaders, secure, h)
	h = httpkit.AccessLog(d.Log, d.Metrics, "web", h)
	h = httpkit.Recover(d.Log, func(w http.ResponseWriter, r *http.Request) {
		s.errorPage(w, r, &visit{}, http.StatusInternalServerError, "Something went wrong", "Something went wrong on our side. Try again in a moment.")
	}, h)
	return h, nil
}

// CallbackURL is where a provider sends the browser back after a dashboard sign-in.
func CallbackURL(publicURL, provider string) string {
	return strings.TrimRight(publicURL, "/") + "/login/" + provider + "/callback"
}

func (s *server) routes(mux *http.ServeMux) {
	mux.Handle("GET /{$}", s.page(s.home))
	mux.Handle("GET /static/{file}", staticHandler())
	mux.Handle("GET /api-reference", s.page(s.apiReferencePage))

	mux.Handle("GET /signup", s.page(s.signupForm))
	mux.Handle("POST /signup", s.page(s.signup))
	mux.Handle("GET /login", s.page(s.loginForm))
	mux.Handle("POST /login", s.page(s.login))
	mux.Handle("POST /login/mfa", s.page(s.loginMFA))
	mux.Handle("POST /login/mfa/passkey/options", s.page(s.passkeyMFAOptions))
	mux.Handle("POST /login/passkey/options", s.page(s.passkeyLoginOptions))
	mux.Handle("POST /login/passkey", s.page(s.passkeyLogin))
	mux.Handle("GET /login/{provider}", s.page(s.oauthStart))
	mux.Handle("GET /login/{provider}/callback", s.page(s.oauthCallback))
	mux.Handle("GET /logout", s.page(s.logoutForm))
	mux.Handle("POST /logout", s.page(s.logout))
	mux.Handle("GET /forgot-password", s.page(s.forgotForm))
	mux.Handle("POST /forgot-password", s.page(s.forgot))
	mux.Handle("GET /reset-password", s.page(s.resetForm))
	mux.Handle("POST /reset-password", s.page(s.reset))
	mux.Handle("GET /verify-email", s.page(s.verifyEmail))
	mux.Handle("GET "+emailSignInPath, s.page(s.emailSignInForm))
	mux.Handle("POST "+emailSignInPath, s.page(s.emailSignInStart))
	mux.Handle("POST "+emailSignInPath+"/code", s.page(s.emailSignInCode))
	mux.Handle("GET "+gatehouse.SignInPath, s.page(s.emailLinkPage))
	mux.Handle("POST "+gatehouse.SignInPath, s.page(s.emailLinkSignIn))

	mux.Handle("GET /account", s.signedIn(s.accountPage))
	mux.Handle("POST /account", s.signedIn(s.updateProfile))
	mux.Handle("POST /account/verification", s.signedIn(s.resendVerification))
	mux.Handle("GET /account/password", s.signedIn(s.passwordForm))
	mux.Handle("POST /account/password", s.signedIn(s.changePassword))
	mux.Handle("GET /account/sessions", s.signedIn(s.sessionsPage))
	mux.Handle("POST /account/sessions", s.signedIn(s.sessionsAction))
	mux.Handle("GET /account/keys", s.signedIn(s.keysPage))
	mux.Handle("POST /account/keys", s.signedIn(s.keysAction))
	mux.Handle("GET /account/security", s.signedIn(s.securityPage))
	mux.Handle("POST /account/security", s.signedIn(s.securityAction))
	mux.Handle("POST /account/passkeys/options", s.signedIn(s.passkeyRegisterOptions))
	mux.Handle("GET /account/identities", s.signedIn(s.identitiesPage))
	mux.Handle("POST /account/identities", s.signedIn(s.identitiesAction))
	mux.Handle("GET /account/credits", s.signedIn(s.creditsPage))
	mux.Handle("GET /accept-invitation", s.signedIn(s.acceptInvitationPage))
	mux.Handle("POST /accept-invitation", s.signedIn(s.acceptInvitation))
	mux.Handle("GET /orgs", s.signedIn(s.orgsPage))
	mux.Handle("POST /orgs", s.signedIn(s.createOrg))
	mux.Handle("POST /orgs/switch", s.signedIn(s.switchOrg))
	mux.Handle("GET /orgs/{id}", s.signedIn(s.orgPage))
	mux.Handle("POST /orgs/{id}", s.signedIn(s.orgAction))
	mux.Handle("GET /admin/orgs", s.admin(s.adminOrgsPage))
	mux.Handle("POST /admin/orgs", s.admin(s.adminOrgsAction))

	mux.Handle("GET /admin/users", s.admin(s.usersPage))
	mux.Handle("POST /admin/users", s.admin(s.usersAction))
	mux.Handle("GET /admin/audit", s.admin(s.auditPage))
	mux.Handle("GET /admin/users/{id}/impersonate", s.admin(s.impersonateForm))
	mux.Handle("POST /admin/users/{id}/impersonate", s.admin(s.impersonate))
	mux.Handle("POST /impersonation/end", s.signedIn(s.endImpersonation))

	// Gatehouse as an OAuth 2.1 / OpenID Connect provider.
	mux.Handle("GET "+authorizePath, s.page(s.authorize))
	mux.Handle("POST "+authorizePath, s.page(s.authorizeDecision))
	mux.Handle("GET /authorize", http.HandlerFunc(s.authorizeAlias))
	mux.Handle("GET "+devicePath, s.signedIn(s.deviceForm))
	mux.Handle("POST "+devicePath, s.signedIn(s.deviceLookup))
	mux.Handle("GET "+devicePath+"/approve", s.signedIn(s.deviceApprovePage))
	mux.Handle("POST "+devicePath+"/approve", s.signedIn(s.deviceDecision))
	mux.Handle("GET "+devicePath+"/done", s.signedIn(s.deviceDone))
	mux.Handle("GET "+delegatePath, s.signedIn(s.delegate))
	mux.Handle("POST "+delegatePath, s.signedIn(s.delegateDecision))
	mux.Handle("GET /account/apps", s.signedIn(s.appsPage))
	mux.Handle("POST /account/apps", s.signedIn(s.appsAction))
	mux.Handle("GET /admin/oauth/clients", s.admin(s.clientsPage))
	mux.Handle("POST /admin/oauth/clients", s.admin(s.clientsAction))
	mux.Handle("GET /admin/oauth/resources", s.admin(s.resourcesPage))
	mux.Handle("POST /admin/oauth/resources", s.admin(s.resourcesAction))
	mux.Handle("GET /admin/oauth/grants", s.admin(s.grantsPage))
	mux.Handle("POST /admin/oauth/grants", s.admin(s.grantsAction))

	mux.Handle("/", s.page(s.notFound))
}

func (s *server) home(w http.ResponseWriter, r *http.Request, v *visit) {
	if v.p != nil {
		redirect(w, r, "/account")
		return
	}
	redirect(w, r, "/login")
}

func (s *server) notFound(w http.ResponseWriter, r *http.Request, v *visit) {
	s.errorPage(w, r, v, http.StatusNotFound, "Page not found", "There is no page at this address.")
}
