package web

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/gatehouse/gatehouse"
)

// limitIP counts the request against rule for the client's address through the API's own
// counting (one subject per client on both edges: an IPv6 client by its /64); it reports false
// once the answer (the form with a 429) is written.
func (s *server) limitIP(w http.ResponseWriter, r *http.Request, v *visit, rule gatehouse.RateRule, name string, vw *view) bool {
	if err := s.Limits.TakeIP(r.Context(), rule, v.client.IP); err != nil {
		s.failForm(w, r, v, name, vw, err)
		return false
	}
	return true
}

// providerButton is a "continue with" link of the sign-in and sign-up pages.
type providerButton struct {
	Name, Label, URL string
}

func (s *server) providerButtons(next string) []providerButton {
	if s.OAuth == nil {
		return nil
	}
	var out []providerButton
	for _, name := range providerOrder(s.OAuth.Providers()) {
		u := "/login/" + name
		if n := safeNext(next); n != "" {
			u += "?next=" + url.QueryEscape(n)
		}
		out = append(out, providerButton{Name: name, Label: gatehouse.ProviderLabel(name), URL: u})
	}
	return out
}

// providerOrder puts the providers people know by name first, then the OpenID Connect ones.
func providerOrder(names []string) []string {
	var known, others []string
	for _, n := range names {
		if n == "github" || n == "linkedin" {
			known = append(known, n)
		} else {
			others = append(others, n)
		}
	}
	return append(known, others...)
}

type authData struct {
	Providers []providerButton
	// EmailSignIn offers "Email me a sign-in code" (the passwordless sign-in is on).
	EmailSignIn bool
}

func (s *server) authView(title, next string) *view {
	return &view{Title: title, Form: map[string]string{"next": safeNext(next)},
		Data: authData{Providers: s.providerButtons(next), EmailSignIn: s.SignIn != nil}}
}

func (s *server) signupForm(w http.ResponseWriter, r *http.Request, v *visit) {
	next := r.URL.Query().Get("next")
	s.allowReturnTo(w, r, next)
	if v.p != nil {
		redirect(w, r, afterSignIn(next))
		return
	}
	s.render(w, r, v, http.StatusOK, "signup", s.authView("Create your account", next))
}

func (s *server) signup(w http.ResponseWriter, r *http.Request, v *visit) {
	next := r.PostFormValue("next")
	s.allowReturnTo(w, r, next)
	vw := s.authView("Create your account", next)
	vw.Form["name"] = r.PostFormValue("name")
	vw.Form["email"] = r.PostFormValue("email")
	if !s.limitIP(w, r, v, s.Limits.Register, "signup", vw) {
		return
	}
	in := gatehouse.RegisterInput{Email: r.PostFormValue("email"), Password: r.PostFormValue("password"), Name: r.PostFormValue("name")}
	ts, err := s.Auth.Register(r.Context(), in, v.client)
	if err != nil {
		if gatehouse.ErrorKindOf(err) == gatehouse.KindConflict {
			err = &gatehouse.Error{Kind: gatehouse.KindConflict, Code: gatehouse.ErrEmailTaken.Code, Fields: []gatehouse.FieldError{
				{Field: "email", Message: "An account with this email address already exists. Sign in, or reset its password."}}}
		}
		s.failForm(w, r, v, "signup", vw, err)
		return
	}
	s.startSession(w, ts)
	if n := safeNext(next); n != "" {
		redirect(w, r, n)
		return
	}
	redirect(w, r, "/account?notice=welcome")
}

// loginForm is the sign-in page. An app's authorization request can ask for a fresh sign-in
// (prompt=login, or a max_age the session is older than): then the form is shown to a signed-in
// visitor too. login_hint (the app's guess of the account) fills the email field.
func (s *server) loginForm(w http.ResponseWriter, r *http.Request, v *visit) {
	q := r.URL.Query()
	next := q.Get("next")
	s.allowReturnTo(w, r, next)
	again := q.Get("prompt") == "login"
	if v.p != nil && !again {
		redirect(w, r, afterSignIn(next))
		return
	}
	vw := s.loginView(next)
	vw.Form["email"] = q.Get("login_hint")
	if again {
		vw.Form["prompt"] = "login"
	}
	s.render(w, r, v, http.StatusOK, "login", vw)
}

func (s *server) login(w http.ResponseWriter, r *http.Request, v *visit) {
	next := r.PostFormValue("next")
	s.allowReturnTo(w, r, next)
	vw := s.loginView(next)
	vw.Form["email"] = r.PostFormValue("email")
	if r.PostFormValue("prompt") == "login" {
		vw.Form["prompt"] = "login"
	}
	if !s.limitIP(w, r, v, s.Limits.LoginIP, "login", vw) {
		return
	}
	// Login carries the per-account failure limit itself, exactly as for the API.
	ts, err := s.Auth.Login(r.Context(), r.PostFormValue("email"), r.PostFormValue("password"), v.client)
	var mfa *gatehouse.MFARequiredError
	if errors.As(err, &mfa) {
		// The password was right; the account has an authenticator app.
		s.mfaForm(w, r, v, http.StatusOK, mfa.Token, next, mfa.Factors, nil)
		return
	}
	if err != nil {
		if gatehouse.ErrorKindOf(err) == gatehouse.KindUnauthorized {
			// The API's words, not a field error: which of the two was wrong is not to be told.
			err = gatehouse.ErrInvalidCredentials
		}
		s.failForm(w, r, v, "login", vw, err)
		return
	}
	s.replaceSession(w, r, v, ts)
	if ts.PasswordBreached && safeNext(next) == "" {
		redirect(w, r, "/account/password?notice=password_breached")
		return
	}
	redirect(w, r, afterSignIn(next))
}

// logoutForm lets a link to /logout end in a sign-out button rather than a dead end.
func (s *server) logoutForm(w http.ResponseWriter, r *http.Request, v *visit) {
	if v.p == nil {
		redirect(w, r, "/login")
		return
	}
	s.render(w, r, v, http.StatusOK, "logout", &view{Title: "Sign out"})
}

// logout revokes the browser's session, its refresh token and at once its access tokens, as the
// API's logout does.
func (s *server) logout(w http.ResponseWriter, r *http.Request, v *visit) {
	if v.p != nil {
		if err := s.Auth.Logout(r.Context(), v.p, false); err != nil && gatehouse.ErrorKindOf(err) != gatehouse.KindUnauthorized {
			s.fail(w, r, v, err)
			return
		}
	}
	s.clearSession(w)
	s.discardNewKey(w, r)
	s.discardNewSecret(w, r)
	s.newCSRFSecret(w)
	redirect(w, r, "/login?notice=signed_out")
}
