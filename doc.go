// Package gatehouse is the domain of the Gatehouse authentication server: what an account, a
// session, an API key and a linked sign-in are, and the rules that create, use and end them. It
// knows no HTTP, SQL, SMTP or crypto library: its services take their dependencies as interfaces
// (Store, PasswordHasher, AccessTokens, Provider, Mailer, SecretSealer), and every edge package
// (httpapi, web, sqlstore, token, oauth, smtp, ...) maps its errors (Error, ErrorKind) to its own
// vocabulary. cmd/gatehouse wires them.
//
// A map of the files, by area:
//
//   - The shared core: auth.go (AuthService, its config, token issuance and session start that the
//     other services use), errors.go (Error, kinds, sentinels), store.go (Store, StoreTx and the
//     per-area reader and writer interfaces), random.go (ids, tokens, hashing), text.go (client
//     text made safe to store), audit.go (audit events, the rate rules the domain enforces).
//   - Accounts: user.go (User, address and name rules), register.go, login.go, account.go
//     (profile and password change), breach.go (BreachChecker: breached passwords refused when
//     set, flagged at login), admin.go (listing, role, disable), credits.go.
//   - Sessions and tokens: session.go (Session, RefreshToken, listing and revoking sessions),
//     refresh.go (rotation, retry window, reuse detection), authenticate.go (bearer tokens and API
//     keys to a Principal), principalcache.go (the hot path's cache), introspect.go (RFC 7662).
//   - API keys: apikey.go (APIKey, format, scopes, create, list, revoke), keyusage.go (last-use
//     batching).
//   - Email: email.go (email tokens, kinds, config), emailqueue.go (the transactional outbox
//     write), verify.go, reset.go, outbox.go and outboxworker.go (delivery with retries and leases).
//   - Passwordless sign-in by email (EmailSignInService): emailsignin.go (a code and a link in one
//     email, attempts, the sign-in itself; LocalPath, the rule of every return path).
//   - Sign-in with providers: provider.go (the Provider interface), identity.go (linked identities,
//     OAuth states, listing and unlinking), oauth.go (OAuthService), oauth_authorize.go,
//     oauth_callback.go (state, code exchange, linking rules).
//   - Abuse resistance: ratelimit.go (sliding-window limits over the store).
//   - Second factors (MFAService): mfa.go (factors, challenges, store interfaces, the OTP
//     interface, the mfa_required answer and the challenge every sign-in asks for, step-up, the
//     second factor required by role),
//     mfa_service.go (TOTP enrolment and removal, recovery codes, the verify step, admin reset).
//   - Passkeys (PasskeyService): passkey.go (passkeys, ceremonies, store interfaces, the WebAuthn
//     interface the passkey package implements, amr values), passkey_service.go (registration,
//     rename, removal, passwordless sign-in, the passkey as second factor, counter checks).
//   - Impersonation (Impersonation): impersonate.go (an admin's refresh-less session as a user,
//     marked with the admin as its actor; what it may not do; the actor in every audit event).
//   - Gatehouse as an OAuth 2.1 authorization server and OpenID provider (AuthorizationServer):
//     authserver.go (the service, OAuth error codes, store interfaces, grants and codes),
//     authserver_clients.go (metadata-document, dynamically registered and pre-registered clients,
//     redirect rules, client authentication), authserver_resources.go (resources and scopes),
//     authserver_authorize.go (the authorization request, consent, codes), authserver_token.go
//     (code exchange, refresh grant, revocation, introspection, userinfo), authserver_grants.go
//     (connected apps), authserver_device.go (device authorization), authserver_exchange.go (token
//     exchange and delegation), authserver_machine.go (client credentials and private_key_jwt).
//     Its tokens live in sessions marked with client, grant, resource and scope.
//   - Organizations (OrgService, docs/organizations.md): org.go (organizations, permissions,
//     built-in roles, store interfaces, create/update/delete), membership.go (members, custom
//     roles, the last-owner rule, the session's active organization, login and refresh into one,
//     verified-domain auto-join), invitation.go, orgkeys.go (keys owned by an organization),
//     orgcredits.go (its credits and audit log).
//
// New capabilities arrive as their own file group and service (like OAuthService and
// AuthorizationServer), sharing the core of auth.go rather than adding methods to AuthService.
package gatehouse
