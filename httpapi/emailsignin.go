package httpapi

import (
	"net/http"

	"github.com/gatehouse/gatehouse"
)

// The passwordless sign-in by email: start sends one email with a code and a link; verify takes
// either {email, code} or {token} (the link's) and answers like login.

// emailSignInMessage is the one answer to every well-formed start request.
const emailSignInMessage = "If an account exists for this address, an email with a sign-in code and link is on its way. They work once, for 10 minutes."

func (a *api) handleEmailSignInStart() http.Handler {
	type request struct {
		Email      string `json:"email"`
		RedirectTo string `json:"redirect_to"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[request](r, false)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		if err := a.SignIn.Start(r.Context(), in.Email, in.RedirectTo, a.client(r)); err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		respond(w, http.StatusAccepted, messageJSON{Message: emailSignInMessage})
	})
}

func (a *api) handleEmailSignInVerify() http.Handler {
	type request struct {
		Email string `json:"email"`
		Code  string `json:"code"`
		Token string `json:"token"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serveBody(a, w, r, func(in request) (*gatehouse.TokenSet, error) {
			switch {
			case in.Token != "" && (in.Email != "" || in.Code != ""):
				return nil, gatehouse.Invalid(gatehouse.FieldError{Field: "token", Message: "Send either {email, code} or {token}, not both."})
			case in.Token != "":
				return a.SignIn.VerifyLink(r.Context(), in.Token, a.client(r))
			default:
				return a.SignIn.VerifyCode(r.Context(), in.Email, in.Code, a.client(r))
			}
		}, answerTokens)
	})
}
