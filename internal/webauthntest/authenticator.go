// Package webauthntest is a software WebAuthn authenticator for tests: ES256 keys
// (crypto/ecdsa), attestation "none" (CBOR), discoverable credentials, and a client that writes
// what a browser's PublicKeyCredential.toJSON() writes. Its knobs make the answers a hostile or
// broken client would send: another origin, another RP ID hash, no user verification, a counter
// that went back.
package webauthntest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

var b64 = base64.RawURLEncoding

// Credential is a key the authenticator holds.
type Credential struct {
	ID         []byte
	RPID       string
	UserHandle []byte
	Key        *ecdsa.PrivateKey
	Counter    uint32
}

// Authenticator holds discoverable credentials and answers ceremonies as the browser would on
// Origin. BackupEligible marks its credentials as synced passkeys.
type Authenticator struct {
	Origin         string
	BackupEligible bool
	// CountStep is added to a credential's counter at every assertion (0: a counter-less
	// authenticator, whose counter stays 0).
	CountStep   uint32
	Credentials []*Credential
}

// New is an authenticator on origin whose counters go up by one per assertion.
func New(origin string) *Authenticator { return &Authenticator{Origin: origin, CountStep: 1} }

// Tamper changes one answer.
type Tamper struct {
	Origin   string // clientDataJSON's origin instead of the authenticator's
	RPID     string // the RP ID whose hash authenticatorData carries, instead of the options'
	NoUV     bool   // the user-verified flag is not set
	Counter  *uint32
	Use      *Credential // assert with this credential, whatever the options allow
	WrongSig bool
}

const (
	flagUP = 0x01
	flagUV = 0x04
	flagBE = 0x08
	flagBS = 0x10
	flagAT = 0x40
)

type creationOptions struct {
	Challenge string `json:"challenge"`
	RP        struct {
		ID string `json:"id"`
	} `json:"rp"`
	User struct {
		ID string `json:"id"`
	} `json:"user"`
	ExcludeCredentials []struct {
		ID string `json:"id"`
	} `json:"excludeCredentials"`
	AuthenticatorSelection struct {
		ResidentKey      string `json:"residentKey"`
		UserVerification string `json:"userVerification"`
	} `json:"authenticatorSelection"`
}

// Create answers creation options (the publicKey member) with a new credential, as
// PublicKeyCredential.toJSON() writes it.
func (a *Authenticator) Create(options []byte, t Tamper) ([]byte, *Credential, error) {
	var o creationOptions
	if err := json.Unmarshal(options, &o); err != nil {
		return nil, nil, err
	}
	handle, err := b64.DecodeString(o.User.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("user.id: %w", err)
	}
	for _, ex := range o.ExcludeCredentials {
		for _, c := range a.Credentials {
			if b64.EncodeToString(c.ID) == ex.ID {
				return nil, nil, errors.New("InvalidStateError: a credential of excludeCredentials is on this authenticator")
			}
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	id := make([]byte, 32)
	_, _ = rand.Read(id)
	c := &Credential{ID: id, RPID: o.RP.ID, UserHandle: handle, Key: key}
	clientData, err := a.clientData("webauthn.create", o.Challenge, t)
	if err != nil {
		return nil, nil, err
	}
	x, y := make([]byte, 32), make([]byte, 32)
	key.PublicKey.X.FillBytes(x)
	key.PublicKey.Y.FillBytes(y)
	cose, err := cbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: x, -3: y})
	if err != nil {
		return nil, nil, err
	}
	auth := a.authData(rpIDOf(o.RP.ID, t), t, flagAT, 0)
	auth = append(auth, make([]byte, 16)...) // AAGUID: none
	auth = binary.BigEndian.AppendUint16(auth, uint16(len(id)))
	auth = append(auth, id...)
	auth = append(auth, cose...)
	att, err := cbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": auth})
	if err != nil {
		return nil, nil, err
	}
	out, err := json.Marshal(map[string]any{
		"id": b64.EncodeToString(id), "rawId": b64.EncodeToString(id), "type": "public-key",
		"authenticatorAttachment": "platform", "clientExtensionResults": map[string]any{},
		"response": map[string]any{
			"clientDataJSON": b64.EncodeToString(clientData), "attestationObject": b64.EncodeToString(att),
			"transports": []string{"internal"},
		},
	})
	if err != nil {
		return nil, nil, err
	}
	a.Credentials = append(a.Credentials, c)
	return out, c, nil
}

func rpIDOf(rpID string, t Tamper) string {
	if t.RPID != "" {
		return t.RPID
	}
	return rpID
}

func (a *Authenticator) clientData(typ, challenge string, t Tamper) ([]byte, error) {
	origin := a.Origin
	if t.Origin != "" {
		origin = t.Origin
	}
	return json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": origin, "crossOrigin": false})
}

func (a *Authenticator) authData(rpID string, t Tamper, extra byte, counter uint32) []byte {
	h := sha256.Sum256([]byte(rpID))
	flags := byte(flagUP|flagUV) | extra
	if t.NoUV {
		flags &^= flagUV
	}
	if a.BackupEligible {
		flags |= flagBE | flagBS
	}
	out := append([]byte{}, h[:]...)
	out = append(out, flags)
	return binary.BigEndian.AppendUint32(out, counter)
}

type requestOptions struct {
	Challenge        string `json:"challenge"`
	RPID             string `json:"rpId"`
	UserVerification string `json:"userVerification"`
	AllowCredentials []struct {
		ID string `json:"id"`
	} `json:"allowCredentials"`
}

// Get answers request options (the publicKey member) with an assertion of the first credential
// for the options' RP ID that the options allow (any, when they list none), as
// PublicKeyCredential.toJSON() writes it.
func (a *Authenticator) Get(options []byte, t Tamper) ([]byte, error) {
	var o requestOptions
	if err := json.Unmarshal(options, &o); err != nil {
		return nil, err
	}
	c := t.Use
	if c == nil {
		c = a.pick(o)
	}
	if c == nil {
		return nil, errors.New("NotAllowedError: no credential of this authenticator fits")
	}
	clientData, err := a.clientData("webauthn.get", o.Challenge, t)
	if err != nil {
		return nil, err
	}
	if t.Counter != nil {
		c.Counter = *t.Counter
	} else {
		c.Counter += a.CountStep
	}
	auth := a.authData(rpIDOf(o.RPID, t), t, 0, c.Counter)
	cdh := sha256.Sum256(clientData)
	digest := sha256.Sum256(append(append([]byte{}, auth...), cdh[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, c.Key, digest[:])
	if err != nil {
		return nil, err
	}
	if t.WrongSig {
		sig[len(sig)-1] ^= 1
	}
	return json.Marshal(map[string]any{
		"id": b64.EncodeToString(c.ID), "rawId": b64.EncodeToString(c.ID), "type": "public-key",
		"authenticatorAttachment": "platform", "clientExtensionResults": map[string]any{},
		"response": map[string]any{
			"clientDataJSON": b64.EncodeToString(clientData), "authenticatorData": b64.EncodeToString(auth),
			"signature": b64.EncodeToString(sig), "userHandle": b64.EncodeToString(c.UserHandle),
		},
	})
}

func (a *Authenticator) pick(o requestOptions) *Credential {
	for _, c := range a.Credentials {
		if c.RPID != o.RPID {
			continue
		}
		if len(o.AllowCredentials) == 0 {
			return c
		}
		for _, ac := range o.AllowCredentials {
			if ac.ID == b64.EncodeToString(c.ID) {
				return c
			}
		}
	}
	return nil
}
