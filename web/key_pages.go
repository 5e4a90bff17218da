package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
)

// scopeHelp says what each scope lets a key do, in the words of the contract.
var scopeHelp = map[string]string{
	gatehouse.ScopeProfileRead:      "Read your profile (GET /users/me).",
	gatehouse.ScopeCreditsRead:      "Read your credit balance.",
	gatehouse.ScopeCreditsWrite:     "Record credit usage against your balance.",
	gatehouse.ScopeKeysRead:         "List your API keys.",
	gatehouse.ScopeKeysWrite:        "Create and revoke API keys, never with more scopes than it has.",
	gatehouse.ScopeTokensIntrospect: "Check access tokens and keys for your servers (introspection).",
	gatehouse.ScopeAdmin:            "Act as an admin, for as long as you are one.",
}

type scopeOption struct {
	Name, Help string
	Checked    bool
}

type expiryOption struct {
	Days     int
	Label    string
	Selected bool
}

type keyRow struct {
	ID, Name, Prefix      string
	Scopes                []string
	CreatedAt             time.Time
	LastUsedAt, ExpiresAt *time.Time
	UseCount              int64
	Expired               bool
}

// newKey is a key just created; its secret is on this one page and nowhere else.
type newKey struct {
	Name, Secret string
}

type keysData struct {
	Keys    []keyRow
	Scopes  []scopeOption
	Expiry  []expiryOption
	Created *newKey
	// Missed: the browser came for a new key that can no longer be shown (shown already, expired,
	// or kept by another instance or before a restart).
	Missed bool
}

// keysView lists the caller's keys and builds the form, checked as the visitor left it (or with
// the API's default scopes and lifetime).
func (s *server) keysView(r *http.Request, v *visit, checked []string, days int) (*view, error) {
	keys, err := s.Auth.ListAPIKeys(r.Context(), v.p)
	if err != nil {
		return nil, err
	}
	d := keysPageData(keys, v.p.Allows(gatehouse.ScopeAdmin), checked, days, time.Now())
	return &view{Title: "API keys", Nav: "keys", Data: d, Form: map[string]string{}}, nil
}

func keysPageData(keys []*gatehouse.APIKey, admin bool, checked []string, days int, now time.Time) keysData {
	d := keysData{}
	for _, k := range keys {
		d.Keys = append(d.Keys, keyRow{ID: k.ID, Name: k.Name, Prefix: k.Prefix, Scopes: k.Scopes, CreatedAt: k.CreatedAt,
			LastUsedAt: k.LastUsedAt, ExpiresAt: k.ExpiresAt, UseCount: k.UseCount, Expired: k.ExpiresAt != nil && !now.Before(*k.ExpiresAt)})
	}
	for _, sc := range gatehouse.AllScopes {
		// Offering a scope the API would refuse would only produce an error.
		if sc == gatehouse.ScopeAdmin && !admin {
			continue
		}
		d.Scopes = append(d.Scopes, scopeOption{Name: sc, Help: scopeHelp[sc], Checked: slices.Contains(checked, sc)})
	}
	for _, o := range []expiryOption{{Days: 7, Label: "7 days"}, {Days: 30, Label: "30 days"},
		{Days: gatehouse.DefaultAPIKeyLifetimeDays, Label: "90 days"}, {Days: 365, Label: "1 year"}} {
		o.Selected = o.Days == days
		d.Expiry = append(d.Expiry, o)
	}
	if admin {
		d.Expiry = append(d.Expiry, expiryOption{Days: 0, Label: "Never (admins only)", Selected: days == 0})
	}
	return d
}

// keysPage lists the keys; right after "Create key" it also shows the new one, once.
func (s *server) keysPage(w http.ResponseWriter, r *http.Request, v *visit) {
	vw, err := s.keysView(r, v, gatehouse.DefaultKeyScopes, gatehouse.DefaultAPIKeyLifetimeDays)
	if err != nil {
		// The new key, if one waits, stays in its slot for the page that works.
		s.fail(w, r, v, err)
		return
	}
	created, missed := s.takeNewKey(w, r, v)
	d := vw.Data.(keysData)
	d.Created, d.Missed = created, missed
	vw.Data = d
	s.render(w, r, v, http.StatusOK, "keys", vw)
}

// takeNewKey takes the key waiting in this browser's one-time slot, if any, and clears the
// slot's cookie: whatever happens, the key is not shown again. missed reports a slot that was
// named but could not be opened.
func (s *server) takeNewKey(w http.ResponseWriter, r *http.Request, v *visit) (created *newKey, missed bool) {
	c, err := r.Cookie(s.cookies.newKey)
	if err != nil || c.Value == "" {
		return nil, false
	}
	http.SetCookie(w, s.cookie(s.cookies.newKey, "", -1))
	name, secret, ok := s.reveals.take(c.Value, v.p.User.ID, v.p.SessionID)
	if !ok {
		return nil, true
	}
	return &newKey{Name: name, Secret: secret}, false
}

// discardNewKey forgets a key still waiting to be shown in this browser: it is signing out.
func (s *server) discardNewKey(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(s.cookies.newKey); err == nil && c.Value != "" {
		s.reveals.forget(c.Value)
		http.SetCookie(w, s.cookie(s.cookies.newKey, "", -1))
	}
}

func (s *server) keysAction(w http.ResponseWriter, r *http.Request, v *visit) {
	switch r.PostFormValue("action") {
	case "create":
		s.createKey(w, r, v)
	case "revoke":
		if err := s.Auth.RevokeAPIKey(r.Context(), v.p, r.PostFormValue("id")); err != nil {
			if gatehouse.ErrorKindOf(err) == gatehouse.KindNotFound {
				err = gatehouse.Errorf(gatehouse.KindNotFound, "not_found", "That key does not exist or was already revoked.")
			}
			s.keysFailed(w, r, v, gatehouse.DefaultKeyScopes, gatehouse.DefaultAPIKeyLifetimeDays, nil, err)
			return
		}
		redirect(w, r, "/account/keys?notice=key_revoked")
	default:
		s.keysFailed(w, r, v, gatehouse.DefaultKeyScopes, gatehouse.DefaultAPIKeyLifetimeDays, nil,
			gatehouse.Errorf(gatehouse.KindBadRequest, "unknown_action", "Unknown action."))
	}
}

// createKey is POST /api-keys. It answers with a redirect to the keys page (post/redirect/get),
// so reloading that page creates nothing; the new key waits for it in a one-time slot that only
// this browser's session can open, once (see reveals).
func (s *server) createKey(w http.ResponseWriter, r *http.Request, v *visit) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, v, gatehouse.Errorf(gatehouse.KindBadRequest, "malformed_form", "The form could not be read."))
		return
	}
	name := r.PostForm.Get("name")
	scopes := r.PostForm["scopes"]
	if scopes == nil {
		scopes = []string{}
	}
	days, err := strconv.Atoi(strings.TrimSpace(r.PostForm.Get("expires_in_days")))
	if err != nil {
		s.keysFailed(w, r, v, scopes, gatehouse.DefaultAPIKeyLifetimeDays, map[string]string{"name": name},
			invalid("expires_in_days", "Choose how long the key works."))
		return
	}
	if len(scopes) == 0 {
		// The API would make a key that can do nothing; on a form that is a slip, not a wish.
		s.keysFailed(w, r, v, scopes, days, map[string]string{"name": name}, invalid("scopes", "Choose at least one scope."))
		return
	}
	k, secret, err := s.Auth.CreateAPIKey(r.Context(), v.p, gatehouse.NewAPIKeyInput{Name: name, Scopes: scopes, ExpiresInDays: &days})
	if err != nil {
		s.keysFailed(w, r, v, scopes, days, map[string]string{"name": name}, err)
		return
	}
	id := s.reveals.put(v.p.User.ID, v.p.SessionID, k.Name, secret)
	http.SetCookie(w, s.cookie(s.cookies.newKey, id, revealTTL))
	redirect(w, r, "/account/keys")
}

func (s *server) keysFailed(w http.ResponseWriter, r *http.Request, v *visit, scopes []string, days int, form map[string]string, err error) {
	vw, lerr := s.keysView(r, v, scopes, days)
	if lerr != nil {
		s.fail(w, r, v, lerr)
		return
	}
	for k, val := range form {
		vw.Form[k] = val
	}
	s.failForm(w, r, v, "keys", vw, err)
}
