package gatehouse_test

import (
	"context"
	"testing"

	"github.com/gatehouse/gatehouse"
)

const (
	attackRedirect = "https://app.example/cb"
	attackMCP      = "https://mcp.example/mcp"
)

// An operator who finds a Client ID Metadata Document client abusing users must be able to cut it
// off: "Revoking a grant, disabling the user or revoking the client kills its refresh tokens at
// once" (issue 16), and "a dead or revoked client_id answers 401 invalid_client". A URL client_id
// is not stored, so RevokeClient reports it as not found, and the client's refresh tokens and
// its access tokens on Gatehouse's own API go on working; the client can sign in more users.
func TestAttackMetadataDocumentClientCannotBeRevoked(t *testing.T) {
	r := newAttackRig(t)
	ctx := context.Background()
	const id = "https://evil.example/client.json"
	r.docs[id] = &gatehouse.ClientMetadataDocument{ClientName: "Evil", RedirectURIs: []string{attackRedirect}}
	_, victim := r.user("victim@example.com")
	c, err := r.as.Client(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	code, pk := r.code(victim, c, attackRedirect, "", "profile:read")
	tok := r.mustExchange(c, "", code, attackRedirect, pk)

	revokeErr := r.as.RevokeClient(ctx, r.admin(), id)
	_, refreshErr := r.refresh(c, "", tok.RefreshToken)
	_, apiErr := r.auth.Authenticate(ctx, tok.AccessToken)
	_, clientErr := r.as.Client(ctx, id)
	if revokeErr != nil || refreshErr == nil || apiErr == nil || clientErr == nil {
		t.Fatalf("revoking metadata-document client %s: revoke=%v; afterwards refresh err=%v, own-API access err=%v, client lookup err=%v; "+
			"want the revocation to succeed and every one of the client's tokens (and the client_id) to stop working", id, revokeErr, refreshErr, apiErr, clientErr)
	}
}

// RFC 7662 §2.1/§4: the introspection endpoint answers protected resources about the tokens meant
// for them, and must not be a token-scanning oracle. Here anyone can get a confidential client by
// dynamic registration (no operator involved) and then learn, for any first-party access token
// (Gatehouse's own dashboard/API session), that it is live, whose it is (sub) and its session ID.
// The refresh-token branch of the same endpoint already refuses first-party tokens; the access
// token branch does not.
func TestAttackSelfRegisteredClientIntrospectsFirstPartyTokens(t *testing.T) {
	r := newAttackRig(t)
	ctx := context.Background()
	ts, _ := r.user("victim@example.com")
	spy, secret := r.dcr(gatehouse.AuthMethodBasic, attackRedirect)
	info, err := r.as.Introspect(ctx, creds(spy, secret), ts.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if info.Active {
		t.Fatalf("a dynamically registered client introspected a first-party access token: active, sub=%s sid=%s; want active=false",
			info.Subject, info.SessionID)
	}
}

// The same oracle for another client's tokens: a self-registered confidential client learns that a
// refresh token stolen from another app is live (and for whom, for which resource and scope)
// without spending it, so the owner's next refresh does not trip reuse detection. RFC 7662 §4
// ("the authorization server MUST determine whether the token can be used by the protected
// resource/client making the request"); RFC 6819 §5.1.5.2 (a refresh token is for its client only).
func TestAttackSelfRegisteredClientIntrospectsAnotherClientsRefreshToken(t *testing.T) {
	r := newAttackRig(t)
	ctx := context.Background()
	_, victim := r.user("victim@example.com")
	app, _ := r.dcr(gatehouse.AuthMethodNone, attackRedirect)
	code, pk := r.code(victim, app, attackRedirect, "", "profile:read")
	tok := r.mustExchange(app, "", code, attackRedirect, pk)

	spy, secret := r.dcr(gatehouse.AuthMethodBasic, "https://spy.example/cb")
	info, err := r.as.Introspect(ctx, creds(spy, secret), tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if info.Active {
		t.Fatalf("client %s introspected client %s's refresh token: active, sub=%s aud=%s scope=%q; want active=false",
			spy.ID, info.ClientID, info.Subject, info.Audience, info.Scope)
	}
}

// Consent bypass through first-party introspection: the user let an app use an MCP server
// (scope mcp:tools), not see their email. Any Gatehouse user may hold an API key with
// tokens:introspect, so the app's operator signs up, makes such a key and introspects the
// token the app holds at /api/v1/auth/introspect: the answer carries the user's email (and
// role), which the "email" scope exists to gate (OIDC Core §5.4).
func TestAttackFirstPartyIntrospectionRevealsEmailWithoutEmailScope(t *testing.T) {
	r := newAttackRig(t)
	ctx := context.Background()
	r.resource(attackMCP, "mcp:tools")
	_, victim := r.user("victim@example.com")
	app, _ := r.dcr(gatehouse.AuthMethodNone, attackRedirect)
	code, pk := r.code(victim, app, attackRedirect, attackMCP, "mcp:tools")
	tok := r.mustExchange(app, "", code, attackRedirect, pk)
	if tok.Scope != "mcp:tools" {
		t.Fatalf("granted scope %q", tok.Scope)
	}

	// The app's operator, an ordinary user with an introspection key.
	_, op := r.user("operator@evil.example")
	_, key, err := r.auth.CreateAPIKey(ctx, op, gatehouse.NewAPIKeyInput{Name: "introspect", Scopes: []string{gatehouse.ScopeTokensIntrospect}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.auth.AuthenticateAPIKey(ctx, key, false); err != nil {
		t.Fatal(err)
	}
	in := r.auth.Introspect(ctx, tok.AccessToken)
	if in.Active && in.Email != "" {
		t.Fatalf("introspecting an OAuth token without the email scope revealed email %q (role %q); want no email unless the grant has the email scope",
			in.Email, in.Role)
	}
}

// RFC 8707 §2 / RFC 9068 §4 / MCP authorization "Token Audience Binding": a token is accepted
// only by the resource it was issued for; docs/oauth-server.md has userinfo accept "the access token of an
// openid flow that named no resource". A token the client asked for the MCP server (resource
// named) is accepted by /oauth2/userinfo, a different resource: the MCP server, which receives
// every such token, can replay it at Gatehouse (token passthrough) and read the user's profile.
func TestAttackUserInfoAcceptsTokenIssuedForAnotherResource(t *testing.T) {
	r := newAttackRig(t)
	ctx := context.Background()
	r.resource(attackMCP, "mcp:tools")
	r.resource("https://other.example/api", "x")
	_, victim := r.user("victim@example.com")
	app, _ := r.dcr(gatehouse.AuthMethodNone, attackRedirect)
	code, pk := r.code(victim, app, attackRedirect, attackMCP, "openid email mcp:tools")
	tok := r.mustExchange(app, "", code, attackRedirect, pk)

	info, err := r.as.UserInfo(ctx, tok.AccessToken)
	if err == nil {
		t.Fatalf("userinfo accepted a token whose aud is %s: sub=%s email=%s; want invalid_token", attackMCP, info.Subject, info.Email)
	}
}

// An authorization code outlives the sign-in it was issued from. The holder of a stolen dashboard
// session approves a code for their own app; the victim notices and changes the password, which
// signs out every other session (the stolen one included) and every app's session. The code,
// still inside its minute, is then exchanged: the attacker's app gets a fresh session (refresh
// token, own-API access) that the password change was meant to end. RFC 6749 §10.5 / §4.1.2
// (a code is bound to the authorization it represents), OAuth 2.1 §7.
func TestAttackCodeIssuedBeforePasswordChangeStillExchanges(t *testing.T) {
	r := newAttackRig(t)
	ctx := context.Background()
	ts, victim := r.user("victim@example.com")
	// The attacker's copy of the victim's session.
	stolen, err := r.auth.Refresh(ctx, ts.RefreshToken, gatehouse.Client{})
	if err != nil {
		t.Fatal(err)
	}
	thief, err := r.auth.Authenticate(ctx, stolen.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	app, _ := r.dcr(gatehouse.AuthMethodNone, attackRedirect)
	code, pk := r.code(thief, app, attackRedirect, "", "profile:read")

	// The victim signs in afresh and changes the password: every other session is revoked.
	fresh, err := r.auth.Login(ctx, "victim@example.com", "correct horse battery staple", gatehouse.Client{})
	if err != nil {
		t.Fatal(err)
	}
	vp, err := r.auth.Authenticate(ctx, fresh.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.auth.ChangePassword(ctx, vp, "correct horse battery staple", "a brand new passphrase 2"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.auth.Authenticate(ctx, stolen.AccessToken); err == nil {
		t.Fatal("the stolen session survived the password change")
	}
	_ = victim

	tok, err := r.exchange(app, "", code, attackRedirect, pk)
	if err == nil {
		_, apiErr := r.auth.Authenticate(ctx, tok.AccessToken)
		t.Fatalf("a code approved from a session that the password change revoked was exchanged afterwards (refresh token issued: %v, own-API access err=%v); want invalid_grant",
			tok.RefreshToken != "", apiErr)
	}
}

// RFC 8252 §8.6 (client impersonation) and RFC 6749 §10.2: an authorization server "SHOULD NOT
// process authorization requests automatically without user consent or interaction, except when
// the identity of the client can be assured. This includes the case where the user has previously
// approved an authorization request for a given client ID". A public client whose redirect URIs
// are loopback (any port, RFC 8252 §7.3) or a private-use scheme cannot be told from any other
// program on the device: once the user has approved it, any local program (or a second user of
// the machine) sends the browser to the authorization endpoint with that client_id, its own
// PKCE and redirect_uri=http://127.0.0.1:<its port>/..., and gets a code without the user seeing
// anything, since NeedsConsent says no. The consent page's own loopback warning shows the rule
// is known; remembered consent skips it. Public metadata-document clients (VS Code, Claude Code
// use loopback) and operator-registered public CLI clients are both affected.
func TestAttackRememberedConsentSkipsPromptForLoopbackPublicClient(t *testing.T) {
	r := newAttackRig(t)
	ctx := context.Background()
	const id = "https://cli.example/client.json"
	r.docs[id] = &gatehouse.ClientMetadataDocument{ClientName: "Trusted CLI", RedirectURIs: []string{"http://127.0.0.1/callback"}}
	registered, _, err := r.as.CreateClient(ctx, gatehouse.Operator, gatehouse.NewClientInput{Name: "Desktop", RedirectURIs: []string{"http://127.0.0.1/callback", "com.example.desktop:/cb"},
		AuthMethod: gatehouse.AuthMethodNone})
	if err != nil {
		t.Fatal(err)
	}
	_, victim := r.user("victim@example.com")
	cimdClient, err := r.as.Client(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		c        *gatehouse.OAuthClient
		first    string
		attacker string
	}{
		{cimdClient, "http://127.0.0.1:50001/callback", "http://127.0.0.1:6666/callback"},
		{registered, "http://127.0.0.1:50001/callback", "com.example.desktop:/cb"},
	} {
		// The user approves the real app once.
		r.code(victim, tc.c, tc.first, "", "profile:read")
		// Later, a program on the device asks for the same client.
		pk := newPKCE("z")
		a, err := r.as.Authorize(ctx, gatehouse.AuthorizeRequest{ClientID: tc.c.ID, RedirectURI: tc.attacker, ResponseType: "code",
			Scope: "profile:read", CodeChallenge: pk.challenge, CodeChallengeMethod: "S256"})
		if err != nil {
			t.Fatal(err)
		}
		need, err := r.as.NeedsConsent(ctx, victim.User.ID, a)
		if err != nil {
			t.Fatal(err)
		}
		if !need {
			code, err := r.as.Approve(ctx, victim, a, false)
			t.Errorf("public %s client %s (redirect %s): remembered consent issued a code with no user interaction (code issued: %v, err %v); want the consent page every time",
				tc.c.Kind, tc.c.ID, tc.attacker, code != "", err)
		}
	}
}

// A provider sign-in that takes over an account registered by someone else with the owner's
// address revokes "every session and API key of the account" (linkExisting) because the squatter
// must keep nothing. The squatter's consents are kept: the squatter, while holding the account,
// connected an app of their own (a metadata-document client: anyone can publish one, and unlike
// a self-registered client it is never forced through the consent page). After the takeover the
// real owner uses the account; any page the owner visits redirects the browser to
// /oauth2/authorize for that app, and since the squatter's grant covers the scopes, a code for the
// owner's account goes to the squatter's redirect URI without a consent page. Consent must come
// from the resource owner (RFC 6749 §4.1, §10.2); a takeover must leave the previous holder nothing.
func TestAttackSquatterConsentSurvivesTakeover(t *testing.T) {
	r := newAttackRig(t)
	ctx := context.Background()
	const appID = "https://squatter.example/app.json"
	const appRedirect = "https://squatter.example/cb"
	r.docs[appID] = &gatehouse.ClientMetadataDocument{ClientName: "Helpful App", RedirectURIs: []string{appRedirect}}
	app, err := r.as.Client(ctx, appID)
	if err != nil {
		t.Fatal(err)
	}
	// The squatter registers the owner's address (a mail scanner verified it) and connects the app.
	if _, err := r.auth.CreateUser(ctx, gatehouse.RegisterInput{Email: raceVictim, Password: raceAttackPW, Name: "Victim"}, gatehouse.RoleUser, true); err != nil {
		t.Fatal(err)
	}
	sq, err := r.auth.Login(ctx, raceVictim, raceAttackPW, gatehouse.Client{})
	if err != nil {
		t.Fatal(err)
	}
	squatter, err := r.auth.Authenticate(ctx, sq.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	const everything = "profile:read keys:read credits:read credits:write"
	r.code(squatter, app, appRedirect, "", everything)

	// The owner signs in with GitHub: the account is taken back.
	oauth := gatehouse.NewOAuthService(r.auth, map[string]gatehouse.Provider{
		"github": staticProvider{gatehouse.ProviderIdentity{Subject: "victim-gh", Email: raceVictim, EmailVerified: true, Name: "Victim"}},
	}, gatehouse.OAuthConfig{RedirectURIs: []string{raceCallback}, RequireState: false})
	ts, err := oauth.Callback(ctx, "github", gatehouse.OAuthCallback{Code: "c", RedirectURI: raceCallback}, gatehouse.Client{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.auth.Authenticate(ctx, sq.AccessToken); err == nil {
		t.Fatal("the squatter's session survived the takeover")
	}
	owner, err := r.auth.Authenticate(ctx, ts.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	grants, _ := r.as.ListGrants(ctx, owner)

	// A page the owner visits sends the browser to the app's authorization request.
	pk := newPKCE("q")
	a, err := r.as.Authorize(ctx, gatehouse.AuthorizeRequest{ClientID: appID, RedirectURI: appRedirect, ResponseType: "code",
		Scope: everything, CodeChallenge: pk.challenge, CodeChallengeMethod: "S256"})
	if err != nil {
		t.Fatal(err)
	}
	need, err := r.as.NeedsConsent(ctx, owner.User.ID, a)
	if err != nil {
		t.Fatal(err)
	}
	if !need {
		code, _ := r.as.Approve(ctx, owner, a, false)
		tok, err := r.exchange(app, "", code, appRedirect, pk)
		t.Fatalf("after the takeover the squatter's %d grant(s) stand and the owner's browser is given a code with no consent page; "+
			"the squatter's app exchanged it: scope %q, err %v", len(grants), tok.Scope, err)
	}
}
