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
		list, err := a.Passkeys.List(r.Context(), principalFrom(r.Context()))
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		out := make([]passkeyJSON, 0, len(list))
		for _, p := range list {
			out = append(out, toPasskeyJSON(p))
		}
		respond(w, http.StatusOK, out)
	})
}

func (a *api) handlePasskeyRegisterOptions() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.passkeysOff(w, r) {
			return
		}
		if _, err := decode[struct{}](r, true); err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		c, err := a.Passkeys.BeginRegistration(r.Context(), principalFrom(r.Context()))
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		respondCeremony(w, c)
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
		in, err := decode[request](r, false)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		p, err := a.Passkeys.FinishRegistration(r.Context(), principalFrom(r.Context()), in.CeremonyID, in.Name, in.Credential)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		respond(w, http.StatusCreated, toPasskeyJSON(p))
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
		in, err := decode[request](r, false)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		p, err := a.Passkeys.Rename(r.Context(), principalFrom(r.Context()), r.PathValue("id"), in.Name)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		respond(w, http.StatusOK, toPasskeyJSON(p))
	})
}

func (a *api) handleRemovePasskey() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.passkeysOff(w, r) {
			return
		}
		if err := a.Passkeys.Remove(r.Context(), principalFrom(r.Context()), r.PathValue("id")); err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		respond(w, http.StatusOK, messageJSON{Message: "The passkey was removed; other sessions were signed out."})
	})
}

func (a *api) handlePasskeyLoginOptions() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.passkeysOff(w, r) {
			return
		}
		if _, err := decode[struct{}](r, true); err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		c, err := a.Passkeys.BeginLogin(r.Context())
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		respondCeremony(w, c)
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
		in, err := decode[request](r, false)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		ts, err := a.Passkeys.Login(r.Context(), in.CeremonyID, in.Credential, a.client(r))
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		respondTokens(w, http.StatusOK, ts)
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
		in, err := decode[request](r, false)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		c, err := a.Passkeys.BeginMFA(r.Context(), in.MFAToken)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		respondCeremony(w, c)
	})
}
