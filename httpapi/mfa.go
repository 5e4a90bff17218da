package httpapi

import (
	"context"
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
		serve(a, w, r, func() (*gatehouse.MFAStatus, error) {
			return a.MFA.Status(r.Context(), principalFrom(r.Context()))
		}, answer(http.StatusOK, func(st *gatehouse.MFAStatus) response {
			return response{TOTP: st.TOTP, TOTPPending: st.Pending, RecoveryCodesLeft: st.RecoveryCodesLeft, Passkeys: st.Passkeys}
		}))
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
		serveNoBody(a, w, r, func() (*gatehouse.TOTPEnrolment, error) {
			return a.MFA.BeginTOTP(r.Context(), principalFrom(r.Context()))
		}, answerSecret(http.StatusCreated, func(e *gatehouse.TOTPEnrolment) response {
			return response{Secret: e.Secret, OTPAuthURL: e.URI}
		}))
	})
}

func (a *api) handleConfirmTOTP() http.Handler {
	return a.recoveryCodesFor((*gatehouse.MFAService).ConfirmTOTP)
}

// recoveryCodesFor serves a call that takes the caller's current code and issues new recovery
// codes (confirming an authenticator app, renewing the codes): {code} in, {recovery_codes} out.
func (a *api) recoveryCodesFor(issue func(m *gatehouse.MFAService, ctx context.Context, p *gatehouse.Principal, code string) ([]string, error)) http.Handler {
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
		serveBody(a, w, r, func(in request) ([]string, error) {
			return issue(a.MFA, r.Context(), principalFrom(r.Context()), in.Code)
		}, answerSecret(http.StatusOK, func(codes []string) response { return response{RecoveryCodes: codes} }))
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
		a.message(w, r, a.MFA.DisableTOTP(r.Context(), principalFrom(r.Context()), in.Code, in.Password),
			"The authenticator app was removed; other sessions were signed out.")
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
		serveBody(a, w, r, func(in request) (*gatehouse.TokenSet, error) {
			switch {
			case len(in.Credential) > 0 && in.Code != "":
				return nil, gatehouse.Invalid(gatehouse.FieldError{Field: "credential", Message: "Send a code or a passkey credential, not both."})
			case len(in.Credential) > 0 && a.Passkeys == nil:
				return nil, gatehouse.ErrPasskeysUnavailable
			case len(in.Credential) > 0:
				return a.Passkeys.VerifyMFA(r.Context(), in.MFAToken, in.Credential, a.client(r))
			default:
				return a.MFA.Verify(r.Context(), in.MFAToken, in.Code, a.client(r))
			}
		}, answerTokens)
	})
}

func (a *api) handleAdminResetMFA() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.mfaOff(w, r) {
			return
		}
		a.message(w, r, a.MFA.ResetFactors(r.Context(), principalFrom(r.Context()), r.PathValue("id")),
			"The user's second factors were removed and their sessions revoked.")
	})
}

func (a *api) handleRenewRecoveryCodes() http.Handler {
	return a.recoveryCodesFor((*gatehouse.MFAService).RenewRecoveryCodes)
}
