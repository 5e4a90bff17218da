package httpapi

import (
	"net/http"

	"github.com/gatehouse/gatehouse"
)

// The email endpoints answer with {message} only. None of them takes a URL from the request:
// links in emails are built from GATEHOUSE_APP_URL alone, so a forged Host or X-Forwarded-Host
// cannot redirect a reset link to an attacker.

func requiredToken(token string) error {
	if token == "" {
		return gatehouse.Invalid(gatehouse.FieldError{Field: "token", Message: "token is required."})
	}
	return nil
}

// handleVerifyEmail serves both POST {token} and GET ?token= (the link a user clicks may point
// straight at the API). The access log records the path only, never the query with its token.
func (a *api) handleVerifyEmail() http.Handler {
	type request struct {
		Token string `json:"token"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var token string
		if r.Method == http.MethodGet {
			token = r.URL.Query().Get("token")
		} else {
			in, err := decode[request](r, false)
			if err != nil {
				writeError(w, r, a.Log, err)
				return
			}
			token = in.Token
		}
		if err := requiredToken(token); err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		res, err := a.Auth.VerifyEmail(r.Context(), token, a.client(r))
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		msg := "Email address verified."
		if res.AlreadyVerified {
			msg = "Email address already verified."
		}
		respond(w, http.StatusOK, messageJSON{Message: msg})
	})
}

func (a *api) handleResendVerification() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.Auth.ResendVerification(r.Context(), principalFrom(r.Context())); err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		respond(w, http.StatusAccepted, messageJSON{Message: "A new verification email is on its way."})
	})
}

// forgotPasswordMessage is the one answer to every well-formed forgot-password request.
const forgotPasswordMessage = "If an account exists for this address, an email with a link to reset its password is on its way."

func (a *api) handleForgotPassword() http.Handler {
	type request struct {
		Email string `json:"email"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[request](r, false)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		if err := a.Auth.ForgotPassword(r.Context(), in.Email); err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		respond(w, http.StatusOK, messageJSON{Message: forgotPasswordMessage})
	})
}

func (a *api) handleResetPassword() http.Handler {
	type request struct {
		Token       string `json:"token"`
		NewPassword string `json:"new_password"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[request](r, false)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		if err := requiredToken(in.Token); err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		if err := a.Auth.ResetPassword(r.Context(), in.Token, in.NewPassword, a.client(r)); err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		respond(w, http.StatusOK, messageJSON{Message: "Password reset. Sign in with the new password; every session was signed out."})
	})
}
