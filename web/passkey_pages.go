package web

import (
	"encoding/json"
	"net/http"
	"slices"

	"github.com/gatehouse/gatehouse"
)

// Passkeys on the dashboard: the list on /account/security (add, rename, remove), "Sign in with
// a passkey" and the autofill (conditional UI) on the sign-in page, and the passkey as the
// second step of a sign-in. The browser's part is web/static/passkey.js: it asks one of the
// JSON endpoints below for the ceremony's options, lets the browser make the credential, and
// posts it with an ordinary form, whose answer is a page like any other.

// passkeyOptionsJSON is what passkey.js receives: the options for navigator.credentials, or the
// words to show.
type passkeyOptionsJSON struct {
	CeremonyID string          `json:"ceremony_id,omitempty"`
	PublicKey  json.RawMessage `json:"publicKey,omitempty"`
	Error      string          `json:"error,omitempty"`
}

func (s *server) passkeyOptions(w http.ResponseWriter, r *http.Request, c *gatehouse.Ceremony, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if err != nil {
		status, msg, _ := s.explain(r, w, err)
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(passkeyOptionsJSON{Error: msg})
		return
	}
	_ = json.NewEncoder(w).Encode(passkeyOptionsJSON{CeremonyID: c.ID, PublicKey: c.Options})
}

func (s *server) passkeysOn() error {
	if s.Passkeys == nil {
		return gatehouse.ErrPasskeysUnavailable
	}
	return nil
}

// POST /account/passkeys/options: creation options for the signed-in user.
func (s *server) passkeyRegisterOptions(w http.ResponseWriter, r *http.Request, v *visit) {
	if err := s.passkeysOn(); err != nil {
		s.passkeyOptions(w, r, nil, err)
		return
	}
	c, err := s.Passkeys.BeginRegistration(r.Context(), v.p)
	s.passkeyOptions(w, r, c, err)
}

// POST /login/passkey/options: request options for any passkey of this site, under the sign-in
// limit per address as the API's.
func (s *server) passkeyLoginOptions(w http.ResponseWriter, r *http.Request, v *visit) {
	if err := s.passkeysOn(); err != nil {
		s.passkeyOptions(w, r, nil, err)
		return
	}
	if err := s.Limits.TakeIP(r.Context(), s.Limits.LoginIP, v.client.IP); err != nil {
		s.passkeyOptions(w, r, nil, err)
		return
	}
	c, err := s.Passkeys.BeginLogin(r.Context())
	s.passkeyOptions(w, r, c, err)
}

// POST /login/mfa/passkey/options: request options for the passkeys of the sign-in's user.
func (s *server) passkeyMFAOptions(w http.ResponseWriter, r *http.Request, v *visit) {
	if err := s.passkeysOn(); err != nil {
		s.passkeyOptions(w, r, nil, err)
		return
	}
	if err := s.Limits.TakeIP(r.Context(), s.Limits.LoginIP, v.client.IP); err != nil {
		s.passkeyOptions(w, r, nil, err)
		return
	}
	c, err := s.Passkeys.BeginMFA(r.Context(), r.PostFormValue("mfa_token"))
	s.passkeyOptions(w, r, c, err)
}

// POST /login/passkey: the browser's assertion for a passwordless sign-in.
func (s *server) passkeyLogin(w http.ResponseWriter, r *http.Request, v *visit) {
	next := r.PostFormValue("next")
	s.allowReturnTo(w, r, next)
	vw := s.loginView(next)
	if err := s.passkeysOn(); err != nil {
		s.failForm(w, r, v, "login", vw, err)
		return
	}
	if !s.limitIP(w, r, v, s.Limits.LoginIP, "login", vw) {
		return
	}
	ts, err := s.Passkeys.Login(r.Context(), r.PostFormValue("ceremony_id"), []byte(r.PostFormValue("credential")), v.client)
	if err != nil {
		s.failForm(w, r, v, "login", vw, err)
		return
	}
	s.signedInAs(w, r, v, ts, next)
}

// loginView is the sign-in page's view, with the passkey button and autofill when passkeys are on.
func (s *server) loginView(next string) *view {
	vw := s.authView("Sign in", next)
	vw.Form["autocomplete"] = "username"
	if s.Passkeys != nil {
		vw.Form["passkeys"] = "1"
		vw.Form["autocomplete"] = "username webauthn"
	}
	return vw
}

// mfaFactorsForm records in the second step's form which factors the sign-in can use, so the
// page shows the code field, the passkey button, or both.
func mfaFactorsForm(form map[string]string, factors []string) {
	if slices.Contains(factors, gatehouse.FactorTOTP) {
		form["totp"] = "1"
	}
	if slices.Contains(factors, gatehouse.FactorWebAuthn) {
		form["passkey"] = "1"
	}
}

// mfaTitle names the second step's page by what it asks for.
func mfaTitle(form map[string]string) string {
	if form["passkey"] == "1" && form["totp"] != "1" {
		return "Use your passkey"
	}
	return "Enter your code"
}

// securityPasskeyAction handles the passkey forms of /account/security; false when the action
// is none of them.
func (s *server) securityPasskeyAction(w http.ResponseWriter, r *http.Request, v *visit, vw *view) bool {
	action := r.PostFormValue("action")
	if action != "passkey_add" && action != "passkey_rename" && action != "passkey_remove" {
		return false
	}
	if err := s.passkeysOn(); err != nil {
		s.failForm(w, r, v, "security", vw, err)
		return true
	}
	var err error
	notice := ""
	switch action {
	case "passkey_add":
		if r.PostFormValue("credential") == "" {
			err = gatehouse.Invalid(gatehouse.FieldError{Field: "passkey_name", Message: "Adding a passkey needs JavaScript in this browser, and a browser that supports passkeys."})
			break
		}
		_, err = s.Passkeys.FinishRegistration(r.Context(), v.p, r.PostFormValue("ceremony_id"), r.PostFormValue("passkey_name"), []byte(r.PostFormValue("credential")))
		notice = "passkey_added"
		err = renameField(err, "name", "passkey_name")
	case "passkey_rename":
		_, err = s.Passkeys.Rename(r.Context(), v.p, r.PostFormValue("id"), r.PostFormValue("name"))
		notice = "passkey_renamed"
		err = renameField(err, "name", "passkey_rename")
	case "passkey_remove":
		err = s.Passkeys.Remove(r.Context(), v.p, r.PostFormValue("id"))
		notice = "passkey_removed"
	}
	if err != nil {
		s.failForm(w, r, v, "security", vw, err)
		return true
	}
	redirect(w, r, "/account/security?notice="+notice)
	return true
}
