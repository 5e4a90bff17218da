package web

import (
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"

	"github.com/gatehouse/gatehouse"
)

// The security page (/account/security): an authenticator app (TOTP) with its recovery codes.
// Secrets are shown on the answer to the POST that made them, never stored for a later page: the
// TOTP secret while the app is being set up, the recovery codes once, after the first code.

type securityData struct {
	Passkeys      []*gatehouse.Passkey
	PasskeysOn    bool
	Enabled       bool
	Pending       bool
	CodesLeft     int
	HasPassword   bool
	Secret        string       // an enrolment just started
	URI           template.URL // its otpauth:// URI (made here, so trusted as a link)
	QR            template.URL // the URI as a QR code: a data: URI of a PNG image
	RecoveryCodes []string     // just made: shown this once
}

func (s *server) securityView(r *http.Request, v *visit) (*view, error) {
	d := securityData{HasPassword: s.freshUser(r, v).HasPassword()}
	if s.MFA != nil {
		st, err := s.MFA.Status(r.Context(), v.p)
		if err != nil {
			return nil, err
		}
		d.Enabled, d.Pending, d.CodesLeft = st.TOTP, st.Pending, st.RecoveryCodesLeft
	}
	if s.Passkeys != nil {
		list, err := s.Passkeys.List(r.Context(), v.p)
		if err != nil {
			return nil, err
		}
		d.Passkeys, d.PasskeysOn = list, true
	}
	return &view{Title: "Two-step sign-in", Nav: "security", Data: d}, nil
}

func (s *server) securityPage(w http.ResponseWriter, r *http.Request, v *visit) {
	vw, err := s.securityView(r, v)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	s.render(w, r, v, http.StatusOK, "security", vw)
}

// securityAction is POST /users/me/mfa/totp (begin), .../confirm and DELETE .../totp.
func (s *server) securityAction(w http.ResponseWriter, r *http.Request, v *visit) {
	vw, err := s.securityView(r, v)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	if s.securityPasskeyAction(w, r, v, vw) {
		return
	}
	if s.MFA == nil {
		s.failForm(w, r, v, "security", vw, gatehouse.ErrMFAUnavailable)
		return
	}
	d := vw.Data.(securityData)
	switch r.PostFormValue("action") {
	case "begin":
		e, err := s.MFA.BeginTOTP(r.Context(), v.p)
		if err != nil {
			s.failForm(w, r, v, "security", vw, err)
			return
		}
		d.Pending, d.Secret, d.URI = true, e.Secret, template.URL(e.URI)
		// The image travels in the page, like the secret, never stored for a later request
		// (the Content-Security-Policy allows data: images).
		png, err := s.MFA.QRCode(e)
		if err != nil {
			s.fail(w, r, v, err)
			return
		}
		d.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
		vw.Data = d
		s.render(w, r, v, http.StatusOK, "security", vw)
	case "confirm":
		codes, err := s.MFA.ConfirmTOTP(r.Context(), v.p, r.PostFormValue("code"))
		if err != nil {
			s.failForm(w, r, v, "security", vw, codeField(err))
			return
		}
		d.Enabled, d.Pending, d.CodesLeft, d.RecoveryCodes = true, false, len(codes), codes
		vw.Data = d
		vw.Notice = "Two-step sign-in is on. Keep the recovery codes below somewhere safe: they are shown only now."
		s.render(w, r, v, http.StatusOK, "security", vw)
	case "renew":
		codes, err := s.MFA.RenewRecoveryCodes(r.Context(), v.p, r.PostFormValue("renew_code"))
		if err != nil {
			s.failForm(w, r, v, "security", vw, renameField(codeField(err), "code", "renew_code"))
			return
		}
		d.CodesLeft, d.RecoveryCodes = len(codes), codes
		vw.Data = d
		vw.Notice = "New recovery codes made; the old ones no longer work. Keep these somewhere safe: they are shown only now."
		s.render(w, r, v, http.StatusOK, "security", vw)
	case "disable":
		if err := s.MFA.DisableTOTP(r.Context(), v.p, r.PostFormValue("code"), r.PostFormValue("password")); err != nil {
			s.failForm(w, r, v, "security", vw, codeField(err))
			return
		}
		redirect(w, r, "/account/security?notice=mfa_disabled")
	default:
		s.failForm(w, r, v, "security", vw, gatehouse.Errorf(gatehouse.KindBadRequest, "unknown_action", "Unknown action."))
	}
}

// codeField puts a wrong code next to the code field.
func codeField(err error) error {
	if errors.Is(err, gatehouse.ErrMFAInvalidCode) {
		return &gatehouse.Error{Kind: gatehouse.KindInvalid, Code: gatehouse.ErrMFAInvalidCode.Code,
			Fields: []gatehouse.FieldError{{Field: "code", Message: gatehouse.ErrMFAInvalidCode.Message}}}
	}
	return err
}

// mfaForm is the second step of the dashboard's sign-in: the password (or a provider) was right
// and the account has an authenticator app or a passkey (factors).
func (s *server) mfaForm(w http.ResponseWriter, r *http.Request, v *visit, status int, token, next string, factors []string, err error) {
	vw := &view{Form: map[string]string{"next": safeNext(next), "mfa_token": token}}
	mfaFactorsForm(vw.Form, factors)
	vw.Title = mfaTitle(vw.Form)
	if err != nil {
		s.failForm(w, r, v, "login_mfa", vw, codeField(err))
		return
	}
	s.render(w, r, v, status, "login_mfa", vw)
}

func (s *server) loginMFA(w http.ResponseWriter, r *http.Request, v *visit) {
	next := r.PostFormValue("next")
	s.allowReturnTo(w, r, next)
	if s.MFA == nil {
		s.fail(w, r, v, gatehouse.ErrMFAUnavailable)
		return
	}
	token := r.PostFormValue("mfa_token")
	// The factors the page offered, carried by its forms.
	var factors []string
	if r.PostFormValue("totp") == "1" {
		factors = append(factors, gatehouse.FactorTOTP)
	}
	if r.PostFormValue("passkey") == "1" {
		factors = append(factors, gatehouse.FactorWebAuthn)
	}
	// The API's per-address sign-in limit counts this step too, as POST /auth/mfa/verify.
	vw := &view{Form: map[string]string{"next": safeNext(next), "mfa_token": token}}
	mfaFactorsForm(vw.Form, factors)
	vw.Title = mfaTitle(vw.Form)
	if !s.limitIP(w, r, v, s.Limits.LoginIP, "login_mfa", vw) {
		return
	}
	var ts *gatehouse.TokenSet
	var err error
	if credential := r.PostFormValue("credential"); credential != "" && s.Passkeys != nil {
		ts, err = s.Passkeys.VerifyMFA(r.Context(), token, []byte(credential), v.client)
	} else {
		ts, err = s.MFA.Verify(r.Context(), token, r.PostFormValue("code"), v.client)
	}
	if errors.Is(err, gatehouse.ErrMFAInvalidToken) {
		// Expired or used: the sign-in starts again.
		redirect(w, r, "/login?notice=mfa_expired")
		return
	}
	if err != nil {
		s.mfaForm(w, r, v, 0, token, next, factors, err)
		return
	}
	s.signedInAs(w, r, v, ts, next)
}

// renameField moves a field error to the input of the form that sent it (one page, two code fields).
func renameField(err error, from, to string) error {
	var ge *gatehouse.Error
	if !errors.As(err, &ge) || len(ge.Fields) == 0 {
		return err
	}
	out := *ge
	out.Fields = nil
	for _, f := range ge.Fields {
		if f.Field == from {
			f.Field = to
		}
		out.Fields = append(out.Fields, f)
	}
	return &out
}
