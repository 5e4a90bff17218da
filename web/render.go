package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse"
)

//go:embed templates/*.html
var templateFS embed.FS

// pages holds one template set per page (the layout, the shared partials and the page), parsed
// on the page's first render: a server that only answers the API never parses them, and a start
// does not wait for them. Every page is parsed and executed by TestEveryPageRenders.
type pages struct {
	files map[string]func() (*template.Template, error) // page name → its set, parsed once
}

var templateFuncs = template.FuncMap{
	"asset":    assetURL,
	"date":     func(t time.Time) template.HTML { return timeElement(t, false) },
	"dateTime": func(t time.Time) template.HTML { return timeElement(t, true) },
	"join":     strings.Join,
	"provider": gatehouse.ProviderLabel,
	"number":   formatNumber,
	"count":    func(n any, noun string, plural ...string) string { return countNoun(countArg(n), noun, plural...) },
	"percent":  func(f float64) string { return fmt.Sprintf("%.0f", f) },
	"event":    eventLabel,
	"initials": initials,
	"fieldTable": func(caption string, fields []apiField) fieldTable {
		return fieldTable{Caption: caption, Fields: fields}
	},
}

// fieldTable is what the API reference's table of fields receives.
type fieldTable struct {
	Caption string
	Fields  []apiField
}

// loadPages lists the pages; each is parsed by its first get.
func loadPages() (*pages, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	p := &pages{files: map[string]func() (*template.Template, error){}}
	for _, file := range names {
		base := strings.TrimSuffix(path.Base(file), ".html")
		if base == "layout" || strings.HasPrefix(base, "_") {
			continue
		}
		p.files[base] = sync.OnceValues(func() (*template.Template, error) {
			t, err := template.New(base).Funcs(templateFuncs).ParseFS(templateFS, "templates/layout.html", "templates/_*.html", file)
			if err != nil {
				return nil, fmt.Errorf("web: template %s: %w", base, err)
			}
			return t, nil
		})
	}
	return p, nil
}

// get returns the parsed template set of the page name, parsing it the first time; pages
// rendered at once wait for no lock but the first parse of their own page.
func (p *pages) get(name string) (*template.Template, error) {
	parse, ok := p.files[name]
	if !ok {
		return nil, fmt.Errorf("web: no template %s", name)
	}
	return parse()
}

// render writes a page. Pages are never cached: they carry CSRF tokens and personal data.
func (s *server) render(w http.ResponseWriter, r *http.Request, v *visit, status int, name string, vw *view) {
	t, err := s.pages.get(name)
	if err != nil {
		panic(err) // a page that is not embedded, or does not parse: a bug the tests catch
	}
	vw.Product = s.Config.ProductName
	vw.Origin = s.Config.PublicURL
	vw.CSRF = v.csrf
	vw.MinPassword = s.Config.PasswordMinLength
	if v.p != nil {
		vw.User = v.p.User
		vw.IsAdmin = v.p.Allows(gatehouse.ScopeAdmin)
		vw.ImpersonatedBy = s.impersonatorLabel(r, v.p)
		vw.CanImpersonate = vw.IsAdmin && s.Impersonation != nil
		if !vw.Focus {
			vw.Switcher = s.switcher(r, v.p)
		}
		vw.Path = r.URL.Path
	}
	if vw.Notice == "" {
		vw.Notice = notices[r.URL.Query().Get("notice")]
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", vw); err != nil {
		s.Log.ErrorContext(r.Context(), "dashboard template failed", "page", name, "error", err)
		http.Error(w, "Something went wrong on our side.", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// errorPage answers with a page that only explains what went wrong.
func (s *server) errorPage(w http.ResponseWriter, r *http.Request, v *visit, status int, title, message string) {
	s.render(w, r, v, status, "error", &view{Title: title, Error: message, Data: status})
}

// notices are the confirmations a redirect can ask for with ?notice=; only these fixed texts can
// appear, so the parameter cannot put words on the page.
var notices = map[string]string{
	"signed_out":            "You are signed out.",
	"welcome":               "Welcome! Your account is ready. We sent you an email to verify your address.",
	"password_reset":        "Your password was reset. Sign in with the new password.",
	"profile_saved":         "Your profile was saved.",
	"verification_sent":     "A new verification email is on its way.",
	"already_verified":      "Your email address is already verified.",
	"password_changed":      "Your password was changed. Your other sessions were signed out.",
	"password_breached":     "Your password has appeared in a data breach elsewhere. It still works, but anyone may try it: choose a new one now.",
	"session_revoked":       "The session was signed out.",
	"others_revoked":        "Every other session was signed out.",
	"key_revoked":           "The API key was revoked. It no longer works.",
	"identity_unlinked":     "The sign-in method was removed.",
	"mfa_disabled":          "Two-step sign-in is off; your other devices were signed out.",
	"mfa_enrol":             "Your role requires two-step sign-in: set up an authenticator app to continue.",
	"mfa_acr":               "The app you came from asks for two-step sign-in. Set up an authenticator app here, then go back to the app and sign in again.",
	"passkey_added":         "The passkey was added. You can sign in with it now.",
	"passkey_renamed":       "The passkey was renamed.",
	"passkey_removed":       "The passkey was removed; your other devices were signed out.",
	"mfa_expired":           "That sign-in took too long or was already finished. Sign in again.",
	"user_updated":          "The user was updated.",
	"app_revoked":           "The app's access was revoked. It can no longer act for you.",
	"delegation_allowed":    "The agent may now act for you, within the scopes you allowed. Withdraw it here at any time.",
	"delegation_denied":     "The agent was not allowed to act for you.",
	"client_created":        "The client was created.",
	"client_revoked":        "The client was revoked. Its tokens no longer work.",
	"resource_added":        "The resource was added.",
	"resource_removed":      "The resource was removed, with every grant for it.",
	"grant_revoked":         "The grant was revoked. The app's tokens no longer work.",
	"impersonation_started": "You are now signed in as this user. Password, second factors, API keys and app grants stay out of reach; every action is audited under both names.",
	"impersonation_ended":   "The impersonation session has ended.",
	"org_created":           "The organization was created. You are its owner.",
	"org_switched":          "The active organization was changed.",
	"org_left":              "You left the organization.",
	"member_updated":        "The member's role was changed.",
	"member_removed":        "The member was removed from the organization.",
	"invitation_sent":       "The invitation was sent by email.",
	"invitation_revoked":    "The invitation was revoked. Its link no longer works.",
	"role_saved":            "The role was saved.",
	"role_deleted":          "The role was deleted.",
}
