package web

import (
	"net/http"

	"github.com/gatehouse/gatehouse"
)

// forgotMessage is the API's one answer to every well-formed request, so the page tells no more
// than the endpoint about which addresses have accounts.
const forgotMessage = "If an account exists for this address, an email with a link to reset its password is on its way. The link works for a limited time."

type forgotData struct {
	Sent bool
}

func (s *server) forgotForm(w http.ResponseWriter, r *http.Request, v *visit) {
	s.render(w, r, v, http.StatusOK, "forgot", &view{Title: "Reset your password", Form: map[string]string{}, Data: forgotData{}})
}

func (s *server) forgot(w http.ResponseWriter, r *http.Request, v *visit) {
	vw := &view{Title: "Reset your password", Form: map[string]string{"email": r.PostFormValue("email")}, Data: forgotData{}}
	if !s.limitIP(w, r, v, s.Limits.ForgotIP, "forgot", vw) {
		return
	}
	if err := s.Auth.ForgotPassword(r.Context(), r.PostFormValue("email")); err != nil {
		s.failForm(w, r, v, "forgot", vw, err)
		return
	}
	vw.Notice = forgotMessage
	vw.Data = forgotData{Sent: true}
	s.render(w, r, v, http.StatusOK, "forgot", vw)
}

type resetData struct {
	Token string
}

var errMissingToken = &gatehouse.Error{Kind: gatehouse.KindBadRequest, Code: "invalid_token",
	Message: "This link is incomplete. Open the link from the email again, or ask for a new one."}

// resetForm is where the reset email's link lands. The token stays in the page (a hidden field),
// never in a cookie: it is worth one password change and dies with it.
func (s *server) resetForm(w http.ResponseWriter, r *http.Request, v *visit) {
	token := r.URL.Query().Get("token")
	vw := &view{Title: "Choose a new password", Data: resetData{Token: token}}
	if token == "" {
		s.failForm(w, r, v, "reset", vw, errMissingToken)
		return
	}
	s.render(w, r, v, http.StatusOK, "reset", vw)
}

func (s *server) reset(w http.ResponseWriter, r *http.Request, v *visit) {
	token := r.PostFormValue("token")
	vw := &view{Title: "Choose a new password", Data: resetData{Token: token}}
	if !s.limitIP(w, r, v, s.Limits.ResetIP, "reset", vw) {
		return
	}
	if token == "" {
		s.failForm(w, r, v, "reset", vw, errMissingToken)
		return
	}
	password := r.PostFormValue("new_password")
	if password != r.PostFormValue("confirm_password") {
		s.failForm(w, r, v, "reset", vw, invalid("confirm_password", "The two passwords are not the same."))
		return
	}
	if err := s.Auth.ResetPassword(r.Context(), token, password, v.client); err != nil {
		s.failForm(w, r, v, "reset", vw, err)
		return
	}
	// Every session of the account was just revoked, this browser's too if it had one.
	s.clearSession(w)
	redirect(w, r, "/login?notice=password_reset")
}

type verifyData struct {
	Verified, Already bool
}

// verifyEmail is where the verification email's link lands. Following the link is the
// confirmation, as with the API's GET: mail scanners that open it first do no harm, since the
// domain answers a repeated use of a redeemed token with success.
func (s *server) verifyEmail(w http.ResponseWriter, r *http.Request, v *visit) {
	token := r.URL.Query().Get("token")
	vw := &view{Title: "Verify your email address", Data: verifyData{}}
	if token == "" {
		s.failForm(w, r, v, "verify", vw, errMissingToken)
		return
	}
	res, err := s.Auth.VerifyEmail(r.Context(), token, v.client)
	if err != nil {
		s.failForm(w, r, v, "verify", vw, err)
		return
	}
	if v.p != nil {
		// The page shows the account's state; the principal was read before the change.
		if u, err := s.Auth.User(r.Context(), v.p.User.ID); err == nil {
			v.p.User = u
		}
	}
	vw.Data = verifyData{Verified: true, Already: res.AlreadyVerified}
	s.render(w, r, v, http.StatusOK, "verify", vw)
}
