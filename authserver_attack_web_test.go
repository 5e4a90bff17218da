package gatehouse_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/web"
)

// The dashboard's session cookie is "v1.<refresh>.<access>", in clear, and the dashboard takes
// whatever access token it finds there to Authenticate, which accepts an OAuth client's token for
// Gatehouse's own API. An app the user connected (any scope: openid alone is enough, as an
// OpenID Connect relying party gets when no resource is registered) builds that cookie in its own
// HTTP client, fetches a form for its CSRF token, and acts as the user on every dashboard page:
// it lists the user's sessions and API keys, revokes keys and sessions, unlinks sign-in methods,
// renames the account. The API refuses all of that to OAuth tokens (requireSession: "an app's
// OAuth token cannot do it"); the dashboard does not. RFC 6750 §5.2 / RFC 8707: a token is used
// only where and for what it was issued; docs/oauth-server.md: a client's token acts only within its scopes.
func TestAttackOAuthTokenDrivesTheDashboard(t *testing.T) {
	r := newAttackRig(t)
	ctx := context.Background()
	_, victim := r.user("victim@example.com")
	key, _, err := r.auth.CreateAPIKey(ctx, victim, gatehouse.NewAPIKeyInput{Name: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	app, _ := r.dcr(gatehouse.AuthMethodNone, attackRedirect)
	code, pk := r.code(victim, app, attackRedirect, "", "openid")
	tok := r.mustExchange(app, "", code, attackRedirect, pk)

	h, err := web.New(web.Deps{Auth: r.auth, Config: web.Config{PublicURL: "http://gh.test"}})
	if err != nil {
		t.Fatal(err)
	}
	session := &http.Cookie{Name: "gatehouse_session", Value: "v1.x." + tok.AccessToken}

	get := httptest.NewRequest("GET", "http://gh.test/account/keys", nil)
	get.AddCookie(session)
	page := httptest.NewRecorder()
	h.ServeHTTP(page, get)
	body := page.Body.String()
	if page.Code != http.StatusOK || !strings.Contains(body, "victim@example.com") {
		return // the dashboard refused the app's token: sound
	}
	m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token on the keys page")
	}
	post := httptest.NewRequest("POST", "http://gh.test/account/keys",
		strings.NewReader(url.Values{"csrf_token": {m[1]}, "action": {"revoke"}, "id": {key.ID}}.Encode()))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	post.AddCookie(session)
	for _, c := range page.Result().Cookies() {
		post.AddCookie(c)
	}
	res := httptest.NewRecorder()
	h.ServeHTTP(res, post)
	keys, err := r.auth.ListAPIKeys(ctx, victim)
	if err != nil {
		t.Fatal(err)
	}
	revoked := true
	for _, k := range keys {
		if k.ID == key.ID && k.RevokedAt == nil {
			revoked = false
		}
	}
	t.Fatalf("an app holding an OAuth token with scope %q was shown the victim's API keys page as the victim (and revoked the key %s: %v); want the dashboard to treat it as signed out",
		tok.Scope, key.Prefix, revoked)
}
