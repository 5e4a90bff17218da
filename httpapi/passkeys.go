package httpapi

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse"
)

// Passkeys (WebAuthn): the caller's own (register, list, rename, remove), passwordless sign-in,
// and the options of the passkey step of a sign-in that answered mfa_required. Options are sent
// under "publicKey" as the browser's parseCreationOptionsFromJSON / parseRequestOptionsFromJSON
// take them; "credential" is what PublicKeyCredential.toJSON() gives.

func (a *api) passkeysOff(w http.ResponseWriter, r *http.Request) bool {
	if a.Passkeys == nil {
		writeError(w, r, a.Log, gatehouse.ErrPasskeysUnavailable)
		return true
	}
	return false
}

type passkeyJSON struct {
	ID         string  `json:"id"`
	Name       string  `json:"name"`
	CreatedAt  string  `json:"created_at"`
	LastUsedAt *string `json:"last_used_at"`
	// Synced: the key may be copied to the user's other devices (backup eligible).
	Synced bool `json:"synced"`
}

func toPasskeyJSON(p *gatehouse.Passkey) passkeyJSON {
	out := passkeyJSON{ID: p.ID, Name: p.Name, CreatedAt: p.CreatedAt.UTC().Format(time.RFC3339), Synced: p.BackupEligible}
	if p.LastUsedAt != nil {
		s := p.LastUsedAt.UTC().Format(time.RFC3339)
		out.LastUsedAt = &s
	}
	return out
}

type ceremonyJSON struct {
	CeremonyID string          `json:"ceremony_id,omitempty"`
	PublicKey  json.RawMessage `json:"publicKey"`
}

func respondCeremony(w http.ResponseWriter, c *gatehouse.Ceremony) {
	w.Header().Set("Cache-Control", "no-store")
	respond(w, http.StatusOK, ceremonyJSON{CeremonyID: c.ID, PublicKey: c.Options})
}

func (a *api) handleListPasskeys() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.passkeysOff(w, r) {
			return
		}
		serve(a, w, r, func() ([]*gatehouse.Passkey, error) {
			return a.Passkeys.List(r.Context(), principalFrom(r.Context()))
		}, answer(http.StatusOK, listOf(toPasskeyJSON)))
	})
}

func (a *api) handlePasskeyRegisterOptions() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.passkeysOff(w, r) {
			return
		}
		serveNoBody(a, w, r, func() (*gatehouse.Ceremony, error) {
			return a.Passkeys.BeginRegistration(r.Context(), principalFrom(r.Context()))
		}, respondCeremony)
	})
}

func (a *api) handlePasskeyRegister() http.Handler {
	type request struct {
		CeremonyID string          `json:"ceremony_id"`
		Name       string          `json:"name"`
		Credential json.RawMessage `json:"credential"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.passkeysOff(w, r) {
			return
		}
		serveBody(a, w, r, func(in request) (*gatehouse.Passkey, error) {
			return a.Passkeys.FinishRegistration(r.Context(), principalFrom(r.Context()), in.CeremonyID, in.Name, in.Credential)
		}, answer(http.StatusCreated, toPasskeyJSON))
	})
}

func (a *api) handleRenamePasskey() http.Handler {
	type request struct {
		Name string `json:"name"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.passkeysOff(w, r) {
			return
		}
		serveBody(a, w, r, func(in request) (*gatehouse.Passkey, error) {
			return a.Passkeys.Rename(r.Context(), principalFrom(r.Context()), r.PathValue("id"), in.Name)
		}, answer(http.StatusOK, toPasskeyJSON))
	})
}

func (a *api) handleRemovePasskey() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.passkeysOff(w, r) {
			return
		}
		a.message(w, r, a.Passkeys.Remove(r.Context(), principalFrom(r.Context()), r.PathValue("id")),
			"The passkey was removed; other sessions were signed out.")
	})
}

func (a *api) handlePasskeyLoginOptions() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.passkeysOff(w, r) {
			return
		}
		serveNoBody(a, w, r, func() (*gatehouse.Ceremony, error) {
			return a.Passkeys.BeginLogin(r.Context())
		}, respondCeremony)
	})
}

func (a *api) handlePasskeyLogin() http.Handler {
	type request struct {
		CeremonyID string          `json:"ceremony_id"`
		Credential json.RawMessage `json:"credential"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.passkeysOff(w, r) {
			return
		}
		serveBody(a, w, r, func(in request) (*gatehouse.TokenSet, error) {
			return a.Passkeys.Login(r.Context(), in.CeremonyID, in.Credential, a.client(r))
		}, answerTokens)
	})
}

func (a *api) handleMFAWebAuthnOptions() http.Handler {
	type request struct {
		MFAToken string `json:"mfa_token"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.passkeysOff(w, r) {
			return
		}
		serveBody(a, w, r, func(in request) (*gatehouse.Ceremony, error) {
			return a.Passkeys.BeginMFA(r.Context(), in.MFAToken)
		}, respondCeremony)
	})
}
