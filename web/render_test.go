package web

import (
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// parsedAPIRef is a loader that has already loaded ref.
func parsedAPIRef(ref *apiReference) *apiRefLoader {
	l := &apiRefLoader{ref: ref}
	l.once.Do(func() {})
	return l
}

func renderServer(t *testing.T) *server {
	t.Helper()
	p, err := loadPages()
	if err != nil {
		t.Fatal(err)
	}
	return &server{pages: p, Deps: Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Config: Config{ProductName: "Gatehouse", PasswordMinLength: 12, PublicURL: "https://auth.example.com"}}}
}

// TestEveryPageRenders executes each template with the data its handler gives it, signed in as an
// admin, so a template error shows here rather than as a 500 in production.
func TestEveryPageRenders(t *testing.T) {
	s := renderServer(t)
	now := time.Date(2026, 5, 14, 9, 30, 0, 0, time.UTC)
	later := now.Add(90 * 24 * time.Hour)
	avatar := "https://avatars.example/ada.png"
	admin := &gatehouse.User{ID: "0190-admin", Email: "ada@example.com", Name: "Ada <Lovelace>", Role: gatehouse.RoleAdmin,
		IsActive: true, CreatedAt: now, AvatarURL: &avatar}
	v := &visit{p: &gatehouse.Principal{User: admin, SessionID: "s1"}, csrf: "tok3n"}
	keys := keysPageData([]*gatehouse.APIKey{{ID: "k1", Name: "ci", Prefix: "ak_12345678", Scopes: []string{"profile:read"},
		CreatedAt: now, ExpiresAt: &later, LastUsedAt: &now, UseCount: 1200}, {ID: "k2", Name: "old", Prefix: "ak_abcdefgh",
		Scopes: []string{}, CreatedAt: now, ExpiresAt: &now}}, true, gatehouse.DefaultKeyScopes, 90, later)
	keys.Created = &newKey{Name: "ci", Secret: "ak_secret"}
	keys.Missed = true
	ref, err := parseAPIReference(apiDocument(t))
	if err != nil {
		t.Fatal(err)
	}
	pagesData := map[string]*view{
		"apiref":  {Title: "API reference", Nav: "api", Wide: true, Data: ref},
		"signup":  {Title: "Create your account", Form: map[string]string{"next": "/account/keys", "email": "a@b.c"}, Fields: map[string]string{"email": "taken"}, Data: authData{Providers: []providerButton{{Name: "github", Label: "GitHub", URL: "/login/github"}, {Name: "linkedin", Label: "LinkedIn", URL: "/login/linkedin"}}}},
		"login":   {Title: "Sign in", Form: map[string]string{}, Error: "Incorrect email or password", Data: authData{}},
		"logout":  {Title: "Sign out"},
		"forgot":  {Title: "Reset", Form: map[string]string{}, Data: forgotData{Sent: true}},
		"reset":   {Title: "Reset", Data: resetData{Token: "t0k"}},
		"verify":  {Title: "Verify", Data: verifyData{Verified: true}},
		"error":   {Title: "Admins only", Error: "Nope", Data: 403},
		"account": {Title: "Account", Nav: "account", Form: map[string]string{"name": "Ada", "avatar_url": avatar}},
		"impersonate": {Title: "Impersonate", Nav: "users", Form: map[string]string{"reason": "ticket"}, Fields: map[string]string{"reason": "Say why."},
			Data: &impersonateData{Target: &gatehouse.User{ID: "u2", Email: "bob@example.com", Role: "user", IsActive: true}, Minutes: 15}},
		"password":   {Title: "Password", Nav: "password", Data: passwordData{HasPassword: true}, Fields: map[string]string{"current_password": "wrong"}},
		"sessions":   {Title: "Sessions", Nav: "sessions", Data: sessionsData{Sessions: []sessionRow{{ID: "s1", Device: "Chrome on Linux", IP: "127.0.0.1", CreatedAt: now, LastUsedAt: now, Current: true}, {ID: "s2", Device: "curl", CreatedAt: now, LastUsedAt: now}}, Others: 1}},
		"keys":       {Title: "API keys", Nav: "keys", Form: map[string]string{}, Data: keys, Fields: map[string]string{"scopes": "Choose at least one scope."}},
		"security":   {Title: "Two-step sign-in", Nav: "security", Data: securityData{Pending: true, HasPassword: true, Secret: "JBSWY3DPEHPK3PXP", URI: "otpauth://totp/Gatehouse:ada@example.com?secret=JBSWY3DPEHPK3PXP", RecoveryCodes: []string{"abcd-efgh-ijkl-mnop"}}, Fields: map[string]string{"code": "wrong"}},
		"login_mfa":  {Title: "Enter your code", Form: map[string]string{"mfa_token": "t", "next": "/account"}, Fields: map[string]string{"code": "The code is incorrect or was already used."}},
		"identities": {Title: "Sign-in methods", Nav: "identities", Data: identitiesData{HasPassword: false, Identities: []identityRow{{Provider: "github", Email: "ada@users.example", CreatedAt: now, LastUsedAt: now}}}},
		"credits":    {Title: "Credits", Nav: "credits", Data: &gatehouse.CreditAccount{Plan: "pro", Total: 10000, Used: 2500, PeriodStart: now, PeriodEnd: later}},
		"users":      {Title: "Users", Nav: "users", Form: map[string]string{"q": "ada"}, Data: &usersData{Query: "ada", Users: []*gatehouse.User{admin, {ID: "u2", Email: "bob@example.com", Role: "user", CreatedAt: now}}, NextCursor: "u2", Partial: true, Scanned: 2000}},
		"audit":      {Title: "Audit log", Nav: "audit", Data: &auditData{Types: eventTypes(), Type: "login.failed", Events: []auditRow{{AuditEvent: &gatehouse.AuditEvent{ID: "e1", At: now, Type: "login.failed", UserID: "0190-admin", IP: "10.0.0.1", Outcome: "failure", Detail: "<b>x</b>"}, Email: "ada@example.com"}, {AuditEvent: &gatehouse.AuditEvent{ID: "e0", At: now, Type: "user.profile_updated", UserID: "u2", ActorID: "0190-admin", Outcome: "success"}, Email: "bob@example.com", ActorEmail: "ada@example.com"}}, NextURL: "/admin/audit?cursor=e1"}},
		"consent": {Title: "Allow", Focus: true, Wide: true, Data: consentData{ClientName: "Evil <Corp>", ClientID: "0190-client", ClientHost: "app.example",
			Kind: gatehouse.ClientDynamic, RedirectURI: "http://127.0.0.1:4000/cb", RedirectHost: "127.0.0.1:4000", LoopbackOnly: true,
			Scopes: []gatehouse.ScopeInfo{{Name: "mcp:tools", Description: "Use your tools"}}, ResourceName: "MCP", ResourceURI: "https://mcp.example/mcp",
			Hidden: []hiddenField{{Name: "client_id", Value: "0190-client"}, {Name: "state", Value: "<b>x</b>"}}}},
		"device": {Title: "Connect a device", Focus: true, Data: deviceFormData{UserCode: "<b>x</b>"}, Fields: map[string]string{"user_code": "That code is not valid."}},
		"device_approve": {Title: "Allow", Focus: true, Wide: true, Data: deviceApproveData{UserCode: "BCDF-GHJK", ClientName: "Evil <Corp>", ClientID: "0190-client",
			Kind: gatehouse.ClientDynamic, RequesterIP: "203.0.113.7", RequestedAt: now, Scopes: []gatehouse.ScopeInfo{{Name: "mcp:tools", Description: "Use your tools"}},
			ResourceName: "MCP", ResourceURI: "https://mcp.example/mcp", KeyName: "CI <key>", KeyScopes: []string{"profile:read"}, KeyDays: 30, KeyExpires: later}},
		"device_done": {Title: "Connect a device", Focus: true, Data: struct{ Approved bool }{true}},
		"delegate": {Title: "Let", Focus: true, Wide: true, Data: delegateData{ClientName: "Agent <Smith>", ClientID: "0190-agent", ClientHost: "agent.example",
			Scopes: []gatehouse.ScopeInfo{{Name: "mcp:tools", Description: "Use your tools"}}, ResourceName: "MCP", ResourceURI: "https://mcp.example/mcp",
			Existing: []string{"mcp:read"}, Hidden: []hiddenField{{Name: "client_id", Value: "0190-agent"}, {Name: "scope", Value: "<b>x</b>"}}}},
		"authorize_error": {Title: "This sign-in request cannot continue", Error: "The redirect_uri is not registered for this client.", Data: 400},
		"apps": {Title: "Connected apps", Nav: "apps", Data: appsData{Grants: []grantRow{{ID: "g1", ClientID: "c1", ClientName: "Claude",
			ResourceURI: "https://mcp.example/mcp", ResourceName: "MCP", Scopes: []string{"mcp:tools"}, CreatedAt: now, UpdatedAt: later},
			{ID: "g2", Kind: gatehouse.GrantDelegation, ClientID: "c2", ClientName: "Agent", ResourceURI: "https://mcp.example/mcp", Scopes: []string{"mcp:tools"}, CreatedAt: now}}}},
		"clients": {Title: "OAuth clients", Nav: "clients", Form: map[string]string{"name": "x"}, Fields: map[string]string{"redirect_uris": "bad"},
			Data: clientsData{Clients: []*gatehouse.OAuthClient{{ID: "c1", Kind: gatehouse.ClientRegistered, Name: "CLI", RedirectURIs: []string{"http://127.0.0.1/cb"},
				AuthMethod: gatehouse.AuthMethodNone, CreatedAt: now}}, Created: &newClientSecret{ClientID: "c2", Name: "Server", Secret: "ghs_x"}, Missed: true}},
		"resources": {Title: "Resources", Nav: "resources", Form: map[string]string{}, Fields: map[string]string{"uri": "taken"},
			Data: resourcesData{OwnAPI: "https://auth.example.com/api/v1", Resources: []*gatehouse.Resource{{URI: "https://mcp.example/mcp", Name: "MCP",
				Scopes: []gatehouse.ScopeInfo{{Name: "mcp:tools", Description: "Use"}}, CreatedAt: now}}}},
		"grants": {Title: "App grants", Nav: "grants", Form: map[string]string{"user": "u1"}, Data: adminGrantsData{UserID: "u1", Filtered: true,
			Grants: []grantRow{{ID: "g1", UserID: "u1", ClientID: "c1", ClientName: "Claude", ResourceURI: "https://x.example", Scopes: []string{"a"}, CreatedAt: now}}}},
		"accept_invitation": {Title: "Invitation", Focus: true, Data: acceptInvitationData{Token: "t0k", Mismatch: true,
			Preview: &gatehouse.InvitationPreview{OrgName: "Evil <Corp>", OrgSlug: "evil", Email: "bob@example.com", Role: "member"}}},
	}
	// The email sign-in pages, and the sign-in page that offers them.
	pagesData["login"].Data = authData{EmailSignIn: true}
	pagesData["email_signin"] = &view{Title: "Sign in with an email code", Form: map[string]string{"next": "/account/keys", "email": "a@b.c"}, Fields: map[string]string{"email": "bad"}}
	pagesData["email_code"] = &view{Title: "Enter your sign-in code", Form: map[string]string{"next": "/account", "email": "<a>@b.c"}, Notice: "sent", Fields: map[string]string{"code": "wrong"}}
	pagesData["email_link"] = &view{Title: "Sign in", Form: map[string]string{"next": "/account"}, Data: emailLinkData{Token: "t<0>k", Email: "ada@example.com", SignedInAs: "bob@example.com"}}
	// The organization pages, with every control shown.
	org := gatehouse.Org{ID: "o1", Name: "Evil <Corp>", Slug: "evil", CreatedAt: now, AutoJoinDomain: "example.com"}
	pagesData["orgs"] = &view{Title: "Organizations", Nav: "orgs", Form: map[string]string{"slug": "x"}, Fields: map[string]string{"slug": "taken"},
		Data: orgsData{Orgs: []*gatehouse.OrgMembership{{Org: org, Role: "owner"}}}}
	pagesData["org"] = &view{Title: "Evil", Nav: "orgs", Form: map[string]string{"role": "admin"}, Fields: map[string]string{"permissions": "bad", "scopes": "bad"},
		Data: orgData{Access: &gatehouse.OrgAccess{Org: &org, Role: "owner", Permissions: gatehouse.AllOrgPermissions},
			Members:     []orgMemberRow{{Membership: &gatehouse.Membership{UserID: "0190-admin", Email: "ada@example.com", Role: "owner", CreatedAt: now}, Self: true}, {Membership: &gatehouse.Membership{UserID: "u2", Email: "bob@example.com", Name: "<Bob>", Role: "ops", CreatedAt: now}}},
			Invitations: []*gatehouse.Invitation{{ID: "i1", Email: "eve@example.com", Role: "member", ExpiresAt: later}},
			Roles:       []orgRoleRow{{Name: "owner", Builtin: true, Permissions: gatehouse.AllOrgPermissions}, {Name: "ops", Permissions: []string{"org:read"}, Checks: permOptions([]string{"org:read"})}},
			RoleNames:   []string{"owner", "admin", "member", "ops"}, NewRole: permOptions(nil), Keys: keys.Keys, Expiry: keys.Expiry,
			KeyScopes: []scopeOption{{Name: "credits:read"}, {Name: "credits:write"}}, Created: &newKey{Name: "k", Secret: "ak_x"}, Missed: true,
			Credits: &gatehouse.CreditAccount{Total: 1000, Used: 10}, Audit: []*gatehouse.AuditEvent{{ID: "e1", At: now, Type: "org.created", Outcome: "success", Detail: "<b>x</b>"}},
			CanUpdate: true, CanMembers: true, CanInvite: true, CanRoles: true, CanKeysRead: true, CanKeys: true, CanCredits: true, CanAudit: true}}
	pagesData["admin_orgs"] = &view{Title: "Organizations", Nav: "admin_orgs", Form: map[string]string{"org_id": "o1"}, Fields: map[string]string{"amount": "bad"},
		Data: []*gatehouse.OrgSummary{{Org: gatehouse.Org{ID: "o1", Name: "Acme", Slug: "acme", AutoJoinDomain: "acme.example"}, Members: 3}}}
	if len(pagesData) != len(s.pages.files) {
		t.Fatalf("%d pages have sample data, %d templates exist", len(pagesData), len(s.pages.files))
	}
	times := 0
	for name, vw := range pagesData {
		rec := httptest.NewRecorder()
		s.render(rec, httptest.NewRequest("GET", "/x", nil), v, http.StatusOK, name, vw)
		body := rec.Body.String()
		if rec.Code != http.StatusOK || !strings.Contains(body, "</html>") {
			t.Errorf("%s: status %d: %s", name, rec.Code, body)
			continue
		}
		if rec.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("%s: pages must not be cached", name)
		}
		if strings.Contains(body, "<Lovelace>") || strings.Contains(body, "<b>x</b>") || strings.Contains(body, "<Corp>") {
			t.Errorf("%s: unescaped user text", name)
		}
		if !vw.Focus && name != "authorize_error" && !strings.Contains(body, `href="/admin/users"`) {
			t.Errorf("%s: an admin sees no admin navigation", name)
		}
		for field := range vw.Fields {
			if !strings.Contains(body, `id="f-`+field) {
				t.Errorf("%s: the error of %s has no field to stand next to", name, field)
			}
		}
		for _, m := range timeTag.FindAllStringSubmatch(body, -1) {
			times++
			at, err := time.Parse(time.RFC3339, m[1])
			if err != nil || m[3] != formatTime(at, m[2] != "") || !dateFormat.MatchString(m[3]) {
				t.Errorf("%s: %s is not in the dashboard's date format", name, m[0])
			}
		}
		if n := strings.Count(body, "<time"); n != len(timeTag.FindAllString(body, -1)) {
			t.Errorf("%s: a <time> element not written by timeElement", name)
		}
	}
	if times < 10 {
		t.Errorf("only %d dates on the sample pages", times)
	}
}

var (
	timeTag    = regexp.MustCompile(`<time datetime="([^"]+)"( data-local)?>([^<]*)</time>`)
	dateFormat = regexp.MustCompile(`^\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4}(, \d{2}:\d{2} UTC)?$`)
)

// TestOneDateFormat: dates are written one way, by one helper, and the templates call it rather
// than formatting a date themselves.
func TestOneDateFormat(t *testing.T) {
	at := time.Date(2026, 9, 3, 7, 5, 0, 0, time.FixedZone("CEST", 2*3600))
	if got := formatTime(at, false); got != "3 Sep 2026" {
		t.Errorf("date: %q", got)
	}
	if got := formatTime(at, true); got != "3 Sep 2026, 05:05 UTC" {
		t.Errorf("date and time: %q", got)
	}
	if got := string(timeElement(at, true)); got != `<time datetime="2026-09-03T05:05:00Z" data-local>3 Sep 2026, 05:05 UTC</time>` {
		t.Errorf("element: %s", got)
	}
	raw := regexp.MustCompile(`<time|\.Format\b|datetime=`)
	err := fs.WalkDir(templateFS, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := templateFS.ReadFile(path)
		if err != nil {
			return err
		}
		if m := raw.Find(data); m != nil {
			t.Errorf("%s: %q formats a date by hand; use date or dateTime", path, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestTemplatesNeedNoInlineCode: the Content-Security-Policy allows no inline script, inline style
// or event-handler attribute, so none may appear in a template.
func TestTemplatesNeedNoInlineCode(t *testing.T) {
	inline := regexp.MustCompile(`(?i)<script(?:\s[^>]*)?>\s*[^<\s]|<style|\sstyle=|\son[a-z]+=|javascript:`)
	err := fs.WalkDir(templateFS, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := templateFS.ReadFile(path)
		if err != nil {
			return err
		}
		if m := inline.Find(data); m != nil {
			t.Errorf("%s: inline code %q is forbidden by the CSP", path, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestStaticAssetsAreVersionedAndCached(t *testing.T) {
	h := staticHandler()
	mux := http.NewServeMux()
	mux.Handle("GET /static/{file}", h)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", assetURL("app.css"), nil))
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/css") ||
		!strings.Contains(rec.Header().Get("Cache-Control"), "immutable") {
		t.Fatalf("app.css: %d %v", rec.Code, rec.Header())
	}
	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/static/app.js?v=old", nil))
	if rec.Code != 200 || rec.Header().Get("Cache-Control") != "no-cache" {
		t.Fatalf("a stale version must not be cached for long: %d %v", rec.Code, rec.Header())
	}
	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/static/..%2fweb.go", nil))
	if rec.Code != 404 {
		t.Fatalf("a file outside the static set: %d", rec.Code)
	}
}
