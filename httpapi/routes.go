package httpapi

import (
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// Route is one endpoint: the OpenAPI test walks the same list.
type Route struct {
	Method  string
	Path    string
	Handler http.Handler
}

// authPrefixes are where AINative clients look for the auth routes.
var authPrefixes = []string{"/api/v1/auth", "/v1/auth", "/api/v1/public/auth", "/v1/public/auth"}

// routes lists every endpoint of the API.
func routes(d Deps) []Route {
	a := &api{Deps: d}
	var rs []Route
	add := func(method, path string, h http.Handler) { rs = append(rs, Route{method, path, h}) }
	auth := func(method, path string, h http.Handler) {
		for _, prefix := range authPrefixes {
			add(method, prefix+path, h)
		}
	}

	auth("POST", "/register", a.limitIP(d.Limits.Register, a.handleRegister()))
	auth("POST", "/login", a.limitIP(d.Limits.LoginIP, a.handleLogin()))
	auth("POST", "/refresh", a.handleRefresh())
	auth("POST", "/logout", a.requireSession(enrolment{a.handleLogout()}))
	auth("GET", "/me", a.requireScope(gatehouse.ScopeProfileRead, enrolment{a.handleMe()}))
	auth("POST", "/introspect", a.requireKeyScope(gatehouse.ScopeTokensIntrospect, a.handleIntrospect()))
	// One wildcard serves every configured provider; unknown names get a 404 problem. Literal
	// three-segment routes such as /verify-email/resend match no common path with these patterns,
	// so the mux accepts both.
	auth("GET", "/{provider}/authorize", a.limitIP(d.Limits.OAuthIP, a.handleOAuthAuthorize()))
	auth("POST", "/{provider}/callback", a.limitIP(d.Limits.OAuthIP, a.handleOAuthCallback()))
	auth("POST", "/verify-email", a.handleVerifyEmail())
	auth("GET", "/verify-email", a.handleVerifyEmail())
	auth("POST", "/verify-email/resend", a.limitIP(d.Limits.ResendIP, a.requireSession(a.handleResendVerification())))
	auth("POST", "/mfa/verify", a.limitIP(d.Limits.LoginIP, a.handleMFAVerify()))
	auth("POST", "/mfa/webauthn/options", a.limitIP(d.Limits.LoginIP, a.handleMFAWebAuthnOptions()))
	auth("POST", "/passkey/options", a.limitIP(d.Limits.LoginIP, a.handlePasskeyLoginOptions()))
	auth("POST", "/passkey/login", a.limitIP(d.Limits.LoginIP, a.handlePasskeyLogin()))
	auth("POST", "/forgot-password", a.limitIP(d.Limits.ForgotIP, a.handleForgotPassword()))
	auth("POST", "/email/start", a.limitIP(d.Limits.EmailSignInIP, a.handleEmailSignInStart()))
	auth("POST", "/email/verify", a.limitIP(d.Limits.EmailCodeIP, a.handleEmailSignInVerify()))
	auth("POST", "/reset-password", a.limitIP(d.Limits.ResetIP, a.handleResetPassword()))

	add("GET", "/api/v1/users/me", a.requireScope(gatehouse.ScopeProfileRead, enrolment{a.handleMe()}))
	add("PATCH", "/api/v1/users/me", a.requireSession(a.handleUpdateMe()))
	add("POST", "/api/v1/users/me/password", a.requireSession(a.handleChangePassword()))
	add("GET", "/api/v1/users/me/sessions", a.requireSession(a.handleListSessions()))
	add("DELETE", "/api/v1/users/me/sessions/{id}", a.requireSession(a.handleRevokeSession()))
	add("GET", "/api/v1/users/me/mfa", a.requireSession(enrolment{a.handleMFAStatus()}))
	add("POST", "/api/v1/users/me/mfa/totp", a.requireSession(enrolment{a.handleBeginTOTP()}))
	add("POST", "/api/v1/users/me/mfa/totp/confirm", a.requireSession(enrolment{a.handleConfirmTOTP()}))
	add("DELETE", "/api/v1/users/me/mfa/totp", a.requireSession(a.handleDisableTOTP()))
	add("POST", "/api/v1/users/me/mfa/recovery-codes", a.requireSession(a.handleRenewRecoveryCodes()))
	add("GET", "/api/v1/users/me/passkeys", a.requireSession(enrolment{a.handleListPasskeys()}))
	add("POST", "/api/v1/users/me/passkeys/register/options", a.requireSession(enrolment{a.handlePasskeyRegisterOptions()}))
	add("POST", "/api/v1/users/me/passkeys/register", a.requireSession(enrolment{a.handlePasskeyRegister()}))
	add("PATCH", "/api/v1/users/me/passkeys/{id}", a.requireSession(a.handleRenamePasskey()))
	add("DELETE", "/api/v1/users/me/passkeys/{id}", a.requireSession(a.handleRemovePasskey()))
	add("GET", "/api/v1/users/me/identities", a.requireSession(a.handleListIdentities()))
	add("DELETE", "/api/v1/users/me/identities/{provider}", a.requireSession(a.handleUnlinkIdentity()))

	add("GET", "/api/v1/admin/users", a.requireAdmin(a.handleListUsers()))
	add("GET", "/api/v1/admin/audit", a.requireAdmin(a.handleAdminAudit()))
	add("GET", "/api/v1/users/me/audit", a.requireSession(a.handleMyAudit()))
	add("PATCH", "/api/v1/admin/users/{id}", a.requireAdmin(a.handleUpdateUser()))
	add("DELETE", "/api/v1/admin/users/{id}/mfa", a.requireAdmin(a.handleAdminResetMFA()))
	add("POST", "/api/v1/admin/users/{id}/credits", a.requireAdmin(a.handleGrantCredits()))
	add("POST", "/api/v1/admin/users/{id}/impersonate", a.requireAdmin(a.handleImpersonate()))

	for _, prefix := range []string{"/api/v1/api-keys", "/api/v1/public/api-keys"} {
		add("GET", prefix, a.requireScope(gatehouse.ScopeKeysRead, a.handleListAPIKeys()))
		add("POST", prefix, a.requireScope(gatehouse.ScopeKeysWrite, a.handleCreateAPIKey()))
		add("DELETE", prefix+"/{id}", a.requireScope(gatehouse.ScopeKeysWrite, a.handleRevokeAPIKey()))
	}
	add("POST", "/api/v1/public/api-keys/verify", a.requireKey(a.handleVerifyAPIKey()))
	add("GET", "/api/v1/public/credits/balance", a.requireScope(gatehouse.ScopeCreditsRead, a.handleCreditBalance()))
	add("POST", "/api/v1/public/credits/usage", a.requireScope(gatehouse.ScopeCreditsWrite, a.handleUseCredits()))

	// Organizations (httpapi/orgs.go, docs/organizations.md).
	add("POST", "/api/v1/orgs", a.requireSession(a.handleCreateOrg()))
	add("GET", "/api/v1/orgs", a.requireSession(a.handleListOrgs()))
	add("GET", "/api/v1/orgs/{id}", a.requireSession(a.handleGetOrg()))
	add("PATCH", "/api/v1/orgs/{id}", a.requireSession(a.handleUpdateOrg()))
	add("DELETE", "/api/v1/orgs/{id}", a.requireSession(a.handleDeleteOrg()))
	add("GET", "/api/v1/orgs/{id}/members", a.requireSession(a.handleListMembers()))
	add("PATCH", "/api/v1/orgs/{id}/members/{user_id}", a.requireSession(a.handleUpdateMember()))
	add("DELETE", "/api/v1/orgs/{id}/members/{user_id}", a.requireSession(a.handleRemoveMember()))
	add("GET", "/api/v1/orgs/{id}/roles", a.requireSession(a.handleListOrgRoles()))
	add("POST", "/api/v1/orgs/{id}/roles", a.requireSession(a.handleCreateOrgRole()))
	add("PATCH", "/api/v1/orgs/{id}/roles/{name}", a.requireSession(a.handleUpdateOrgRole()))
	add("DELETE", "/api/v1/orgs/{id}/roles/{name}", a.requireSession(a.handleDeleteOrgRole()))
	add("POST", "/api/v1/orgs/{id}/invitations", a.limitIP(d.Limits.OrgInviteIP, a.requireSession(a.handleCreateInvitation())))
	add("GET", "/api/v1/orgs/{id}/invitations", a.requireSession(a.handleListInvitations()))
	add("DELETE", "/api/v1/orgs/{id}/invitations/{invitation_id}", a.requireSession(a.handleRevokeInvitation()))
	add("POST", "/api/v1/invitations/accept", a.requireSession(a.handleAcceptInvitation()))
	add("POST", "/api/v1/users/me/active-org", a.requireSession(a.handleSwitchActiveOrg()))
	add("GET", "/api/v1/orgs/{id}/api-keys", a.requireSession(a.handleListOrgAPIKeys()))
	add("POST", "/api/v1/orgs/{id}/api-keys", a.requireSession(a.handleCreateOrgAPIKey()))
	add("DELETE", "/api/v1/orgs/{id}/api-keys/{key_id}", a.requireSession(a.handleRevokeOrgAPIKey()))
	add("GET", "/api/v1/orgs/{id}/credits/balance", a.requireSession(a.handleOrgCreditBalance()))
	add("GET", "/api/v1/orgs/{id}/audit", a.requireSession(a.handleOrgAudit()))
	add("GET", "/api/v1/admin/orgs", a.requireAdmin(a.handleAdminListOrgs()))
	add("POST", "/api/v1/admin/orgs/{id}/credits", a.requireAdmin(a.handleGrantOrgCredits()))
	add("PATCH", "/api/v1/admin/orgs/{id}", a.requireAdmin(a.handleAdminOrgAutoJoin()))

	add("GET", "/.well-known/jwks.json", a.handleJWKS())
	// The authorization server (Gatehouse as OAuth 2.1 / OpenID Connect provider). Its
	// authorization endpoint is the dashboard's (DashboardPaths).
	add("GET", "/.well-known/openid-configuration", a.handleAuthServerMetadata())
	add("GET", "/.well-known/oauth-authorization-server", a.handleAuthServerMetadata())
	for _, path := range []string{"/oauth2/token", "/token"} {
		add("POST", path, a.handleOAuthToken())
	}
	for _, path := range []string{"/oauth2/register", "/register"} {
		add("POST", path, a.limitIP(d.Limits.ClientRegisterIP, a.handleOAuthRegister()))
	}
	add("POST", "/oauth2/device_authorization", a.limitIP(d.Limits.DeviceAuthorizationIP, a.handleOAuthDeviceAuthorization()))
	add("POST", "/oauth2/revoke", a.handleOAuthRevoke())
	add("POST", "/oauth2/introspect", a.handleOAuthIntrospect())
	add("GET", "/oauth2/userinfo", a.handleOAuthUserInfo())
	add("POST", "/oauth2/userinfo", a.handleOAuthUserInfo())
	add("GET", "/api/v1/users/me/grants", a.requireSession(a.handleListGrants()))
	add("DELETE", "/api/v1/users/me/grants/{id}", a.requireSession(a.handleRevokeGrant()))
	add("GET", "/api/v1/admin/oauth/clients", a.requireAdmin(a.handleListClients()))
	add("POST", "/api/v1/admin/oauth/clients", a.requireAdmin(a.handleCreateClient()))
	add("DELETE", "/api/v1/admin/oauth/clients/{id}", a.requireAdmin(a.handleRevokeClient()))
	add("GET", "/api/v1/admin/oauth/resources", a.requireAdmin(a.handleListResources()))
	add("POST", "/api/v1/admin/oauth/resources", a.requireAdmin(a.handleAddResource()))
	add("DELETE", "/api/v1/admin/oauth/resources", a.requireAdmin(a.handleRemoveResource()))
	add("GET", "/api/v1/admin/oauth/grants", a.requireAdmin(a.handleAdminGrants()))
	add("DELETE", "/api/v1/admin/oauth/grants/{id}", a.requireAdmin(a.handleAdminRevokeGrant()))
	add("GET", "/openapi.json", handleOpenAPI())
	add("GET", "/healthz", handleHealthz())
	add("GET", "/readyz", a.handleReadyz())
	if d.MetricsHandler != nil {
		add("GET", "/metrics", d.MetricsHandler)
	}
	return rs
}

// Routes returns the method and path of every endpoint, for documentation tests.
func Routes() []Route { return routes(Deps{}) }

// apiRoots are the first path segments of the API's routes, /metrics included (it is the API's
// when metrics are served on the main listener, and nobody else's when they are not).
var apiRoots = func() map[string]bool {
	roots := map[string]bool{}
	for _, rt := range routes(Deps{MetricsHandler: http.NotFoundHandler()}) {
		root, _, _ := strings.Cut(strings.TrimPrefix(rt.Path, "/"), "/")
		roots[root] = true
	}
	return roots
}()

// OwnsPath reports whether path is the API's: it lies under the first segment of one of the
// API's routes (/api, /v1, /.well-known, /healthz, ...). A path the API owns but does not serve
// gets the API's 404 problem document, never a dashboard page.
func OwnsPath(path string) bool {
	if DashboardPaths[path] {
		return false
	}
	root, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	return apiRoots[root]
}

// DashboardPaths are the dashboard's pages under the API's roots: the authorization endpoint
// (the user signs in and consents there) and its root fallback (MCP 2025-03-26).
var DashboardPaths = map[string]bool{"/oauth2/authorize": true, "/authorize": true, "/oauth2/delegate": true}

// api carries the dependencies that handler makers close over.
type api struct {
	Deps
}
