package web

import (
	"errors"
	"net/http"

	"github.com/gatehouse/gatehouse"
)

// Passwordless sign-in by email: "Email me a sign-in code" on the sign-in page asks for the
// address (/email-sign-in), then the code page takes the 8 digits of the email. The email's link
// lands on /email-sign-in/link, which only shows a button: mail scanners and link previews open
// links, so the GET never spends the token; the button's POST does. The page names the account
// the link signs in to, and the browser's own when it is another.

const emailSignInPath = "/email-sign-in"

// emailSignInMessage is the API's one answer: the page tells no more than the endpoint.
const emailSignInMessage = "If an account exists for this address, an email with a sign-in code is on its way. The code works once, for 10 minutes."

type emailLinkData struct {
	Token string
	Dead  bool // the link was refused: no button, a way to ask for a new one
	// Email is the address of the account the link signs in to, and SignedInAs the browser's
	// account when it is another one: a stranger's link must not swap accounts unnoticed.
	Email, SignedInAs string
}

func (s *server) emailSignInView(next string) *view {
	return &view{Title: "Sign in with an email code", Form: map[string]string{"next": safeNext(next)}}
}

// emailSignInForm asks for the address to send a code to.
func (s *server) emailSignInForm(w http.ResponseWriter, r *http.Request, v *visit) {
	next := r.URL.Query().Get("next")
	s.allowReturnTo(w, r, next)
	if s.SignIn == nil {
		s.notFound(w, r, v)
		return
	}
	if v.p != nil {
		redirect(w, r, afterSignIn(next))
		return
	}
	vw := s.emailSignInView(next)
	vw.Form["email"] = r.URL.Query().Get("email")
	s.render(w, r, v, http.StatusOK, "email_signin", vw)
}

// emailSignInStart sends the email and shows the code page, whatever the address.
func (s *server) emailSignInStart(w http.ResponseWriter, r *http.Request, v *visit) {
	next := r.PostFormValue("next")
	s.allowReturnTo(w, r, next)
	if s.SignIn == nil {
		s.notFound(w, r, v)
		return
	}
	vw := s.emailSignInView(next)
	vw.Form["email"] = r.PostFormValue("email")
	if !s.limitIP(w, r, v, s.Limits.EmailSignInIP, "email_signin", vw) {
		return
	}
	if err := s.SignIn.Start(r.Context(), r.PostFormValue("email"), safeNext(next), v.client); err != nil {
		s.failForm(w, r, v, "email_signin", vw, err)
		return
	}
	vw.Title = "Enter your sign-in code"
	vw.Form["email"] = gatehouse.NormalizeEmail(vw.Form["email"])
	vw.Notice = emailSignInMessage
	s.render(w, r, v, http.StatusOK, "email_code", vw)
}

// emailSignInCode signs in with the address and the code.
func (s *server) emailSignInCode(w http.ResponseWriter, r *http.Request, v *visit) {
	next := r.PostFormValue("next")
	s.allowReturnTo(w, r, next)
	if s.SignIn == nil {
		s.notFound(w, r, v)
		return
	}
	vw := s.emailSignInView(next)
	vw.Title = "Enter your sign-in code"
	vw.Form["email"] = r.PostFormValue("email")
	if !s.limitIP(w, r, v, s.Limits.EmailCodeIP, "email_code", vw) {
		return
	}
	ts, err := s.SignIn.VerifyCode(r.Context(), r.PostFormValue("email"), r.PostFormValue("code"), v.client)
	if err != nil && !isMFARequired(err) {
		if errors.Is(err, gatehouse.ErrEmailSignInInvalid) {
			err = &gatehouse.Error{Kind: gatehouse.KindInvalid, Code: gatehouse.ErrEmailSignInInvalid.Code,
				Fields: []gatehouse.FieldError{{Field: "code", Message: gatehouse.ErrEmailSignInInvalid.Message}}}
		}
		s.failForm(w, r, v, "email_code", vw, err)
		return
	}
	s.finishEmailSignIn(w, r, v, ts, err, next)
}

// emailLinkPage is where the email's link lands: a button, nothing spent.
func (s *server) emailLinkPage(w http.ResponseWriter, r *http.Request, v *visit) {
	next := r.URL.Query().Get("next")
	s.allowReturnTo(w, r, next)
	if s.SignIn == nil {
		s.notFound(w, r, v)
		return
	}
	token := r.URL.Query().Get("token")
	vw := s.emailSignInView(next)
	vw.Title = "Sign in"
	vw.Data = emailLinkData{Token: token}
	if token == "" {
		vw.Data = emailLinkData{Dead: true}
		s.failForm(w, r, v, "email_link", vw, errMissingToken)
		return
	}
	email, err := s.SignIn.LinkAddress(r.Context(), token)
	if err != nil {
		if errors.Is(err, gatehouse.ErrEmailSignInInvalid) {
			vw.Data = emailLinkData{Dead: true}
		}
		s.failForm(w, r, v, "email_link", vw, err)
		return
	}
	data := emailLinkData{Token: token, Email: email}
	if v.p != nil && v.p.User.Email != email {
		data.SignedInAs = v.p.User.Email
	}
	vw.Data = data
	s.render(w, r, v, http.StatusOK, "email_link", vw)
}

// emailLinkSignIn spends the link's token and signs in.
func (s *server) emailLinkSignIn(w http.ResponseWriter, r *http.Request, v *visit) {
	next := r.PostFormValue("next")
	s.allowReturnTo(w, r, next)
	if s.SignIn == nil {
		s.notFound(w, r, v)
		return
	}
	token := r.PostFormValue("token")
	vw := s.emailSignInView(next)
	vw.Title = "Sign in"
	vw.Data = emailLinkData{Token: token}
	if !s.limitIP(w, r, v, s.Limits.EmailCodeIP, "email_link", vw) {
		return
	}
	ts, err := s.SignIn.VerifyLink(r.Context(), token, v.client)
	if err != nil && !isMFARequired(err) {
		if errors.Is(err, gatehouse.ErrEmailSignInInvalid) || gatehouse.ErrorKindOf(err) == gatehouse.KindInvalid {
			vw.Data = emailLinkData{Dead: true}
			err = gatehouse.ErrEmailSignInInvalid
		}
		s.failForm(w, r, v, "email_link", vw, err)
		return
	}
	s.finishEmailSignIn(w, r, v, ts, err, next)
}

func isMFARequired(err error) bool {
	var mfa *gatehouse.MFARequiredError
	return errors.As(err, &mfa)
}

// finishEmailSignIn is the end of both ways in: the second step when the account has one, or
// the browser's new session (replacing one it had) and the page asked for.
func (s *server) finishEmailSignIn(w http.ResponseWriter, r *http.Request, v *visit, ts *gatehouse.TokenSet, err error, next string) {
	var mfa *gatehouse.MFARequiredError
	if errors.As(err, &mfa) {
		s.mfaForm(w, r, v, http.StatusOK, mfa.Token, next, mfa.Factors, nil)
		return
	}
	s.signedInAs(w, r, v, ts, next)
}
