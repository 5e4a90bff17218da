package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/gatehouse/gatehouse"
)

// Second factors: enrolment and removal of an authenticator app (the caller's own), the second
// step of a sign-in, and an admin's reset.

func (a *api) mfaOff(w http.ResponseWriter, r *http.Request) bool {
	if a.MFA == nil {
		writeError(w, r, a.Log, gatehouse.ErrMFAUnavailable)
		return true
	}
	return false
}

func (a *api) handleMFAStatus() http.Handler {
	type response struct {
		TOTP              bool `json:"totp"`
		TOTPPending       bool `json:"totp_pending"`
		RecoveryCodesLeft int  `json:"recovery_codes_left"`
		Passkeys          int  `json:"passkeys"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.mfaOff(w, r) {
			return
		}
		st, err := a.MFA.Status(r.Context(), principalFrom(r.Context()))
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		respond(w, http.StatusOK, response{TOTP: st.TOTP, TOTPPending: st.Pending, RecoveryCodesLeft: st.RecoveryCodesLeft, Passkeys: st.Passkeys})
	})
}

func (a *api) handleBeginTOTP() http.Handler {
	type response struct {
		Secret     string `json:"secret"`
		OTPAuthURL string `json:"otpauth_url"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.mfaOff(w, r) {
			return
		}
		if _, err := decode[struct{}](r, true); err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		e, err := a.MFA.BeginTOTP(r.Context(), principalFrom(r.Context()))
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		respond(w, http.StatusCreated, response{Secret: e.Secret, OTPAuthURL: e.URI})
	})
}

func (a *api) handleConfirmTOTP() http.Handler {
	type request struct {
		Code string `json:"code"`
	}
	type response struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.mfaOff(w, r) {
			return
		}
		in, err := decode[request](r, false)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		codes, err := a.MFA.ConfirmTOTP(r.Context(), principalFrom(r.Context()), in.Code)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		respond(w, http.StatusOK, response{RecoveryCodes: codes})
	})
}

func (a *api) handleDisableTOTP() http.Handler {
	type request struct {
		Code     string `json:"code"`
		Password string `json:"password"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.mfaOff(w, r) {
			return
		}
		in, err := decode[request](r, false)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		if err := a.MFA.DisableTOTP(r.Context(), principalFrom(r.Context()), in.Code, in.Password); err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		respond(w, http.StatusOK, messageJSON{Message: "The authenticator app was removed; other sessions were signed out."})
	})
}

func (a *api) handleMFAVerify() http.Handler {
	type request struct {
		MFAToken string `json:"mfa_token"`
		Code     string `json:"code"`
		// Credential is a passkey assertion (PublicKeyCredential.toJSON()) in place of a code.
		Credential json.RawMessage `json:"credential"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.mfaOff(w, r) {
			return
		}
		in, err := decode[request](r, false)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		var ts *gatehouse.TokenSet
		switch {
		case len(in.Credential) > 0 && in.Code != "":
			err = gatehouse.Invalid(gatehouse.FieldError{Field: "credential", Message: "Send a code or a passkey credential, not both."})
		case len(in.Credential) > 0 && a.Passkeys == nil:
			err = gatehouse.ErrPasskeysUnavailable
		case len(in.Credential) > 0:
			ts, err = a.Passkeys.VerifyMFA(r.Context(), in.MFAToken, in.Credential, a.client(r))
		default:
			ts, err = a.MFA.Verify(r.Context(), in.MFAToken, in.Code, a.client(r))
		}
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		respondTokens(w, http.StatusOK, ts)
	})
}

func (a *api) handleAdminResetMFA() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.mfaOff(w, r) {
			return
		}
		if err := a.MFA.ResetFactors(r.Context(), principalFrom(r.Context()), r.PathValue("id")); err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		respond(w, http.StatusOK, messageJSON{Message: "The user's second factors were removed and their sessions revoked."})
	})
}

func (a *api) handleRenewRecoveryCodes() http.Handler {
	type request struct {
		Code string `json:"code"`
	}
	type response struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.mfaOff(w, r) {
			return
		}
		in, err := decode[request](r, false)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		codes, err := a.MFA.RenewRecoveryCodes(r.Context(), principalFrom(r.Context()), in.Code)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		respond(w, http.StatusOK, response{RecoveryCodes: codes})
	})
}
