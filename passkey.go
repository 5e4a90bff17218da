package gatehouse

import (
	"context"
	"time"
)

// Passkeys (WebAuthn): the stored credentials, the ceremonies in progress, the store's interfaces
// and the edge that does the WebAuthn verification. The rules are PasskeyService's
// (passkey_service.go). A passkey is registered with user verification required, so one
// assertion proves possession of the key and the user's PIN or biometric: it signs in alone
// (amr hwk or swk, user, mfa: aal2), or serves as the second factor after a password.

// Authentication method references (RFC 8176) of a passkey assertion: a device-bound key (hwk),
// a key that may be synced between devices (swk, from the backup-eligible flag), and user
// verification (user).
const (
	AMRHardwareKey = "hwk"
	AMRSoftwareKey = "swk"
	AMRUser        = "user"
)

// FactorWebAuthn names passkeys in the factors of an mfa_required answer.
const FactorWebAuthn = "webauthn"

// Audit events of passkeys.
const (
	EventPasskeyAdded     = "passkey.added"
	EventPasskeyRenamed   = "passkey.renamed"
	EventPasskeyRemoved   = "passkey.removed"
	EventPasskeyFailed    = "passkey.failed"
	EventPasskeyCloned    = "passkey.sign_count_regressed"
	passkeyCeremonyTTL    = 5 * time.Minute
	passkeyCeremonyBytes  = 32
	maxPasskeysPerUser    = 20
	maxPasskeyNameLength  = 64
	maxPasskeyCredential  = 64 * 1024
	maxCeremonyIDLength   = 128
	passkeyMFACeremonyKey = "gatehouse passkey mfa ceremony v1\x00"
)

// Ceremony kinds.
const (
	CeremonyRegister = "register"
	CeremonyLogin    = "login"
	CeremonyMFA      = "mfa"
)

// Passkey is a registered WebAuthn credential. Record is the edge's own encoding of the
// credential (public key, flags, attestation format), opaque to the rules; SignCount and
// BackupState are kept beside it because every use updates them.
type Passkey struct {
	ID             string
	UserID         string
	CredentialID   []byte
	Name           string
	Record         []byte
	SignCount      uint32
	BackupEligible bool // the key may be synced to other devices (amr swk rather than hwk)
	BackupState    bool
	CreatedAt      time.Time
	LastUsedAt     *time.Time
}

// amr is the method reference of an assertion by this passkey.
func (p *Passkey) amr() string {
	if p.BackupEligible {
		return AMRSoftwareKey
	}
	return AMRHardwareKey
}

// PasskeyCeremony is a WebAuthn ceremony in progress: the challenge the server sent, kept
// server-side under the hash of a random id (registration, passwordless sign-in) or of the
// mfa_token it belongs to (second factor). State is the edge's encoding of the ceremony
// (challenge, user handle, allowed credentials, user verification). Single use: spending it
// deletes it.
type PasskeyCeremony struct {
	Hash      []byte
	Kind      string
	UserID    string // "" for a passwordless sign-in, which learns its user from the credential
	State     []byte
	CreatedAt time.Time
	ExpiresAt time.Time
}

// PasskeyReader reads passkeys.
type PasskeyReader interface {
	// PasskeysOf lists the user's passkeys, oldest first.
	PasskeysOf(ctx context.Context, userID string) ([]*Passkey, error)
	// PasskeyByCredentialID finds a passkey by its WebAuthn credential id; ErrNotFound when none.
	PasskeyByCredentialID(ctx context.Context, credentialID []byte) (*Passkey, error)
}

// PasskeyWriter writes passkeys. Callers hold the user's row lock (LockUser).
type PasskeyWriter interface {
	// CreatePasskey stores a new passkey; ErrConflict when its credential id is registered already.
	CreatePasskey(ctx context.Context, p *Passkey) error
	// RenamePasskey renames the user's passkey; ErrNotFound when the user has no such passkey.
	RenamePasskey(ctx context.Context, userID, id, name string) error
	// DeletePasskey removes the user's passkey; ErrNotFound when the user has no such passkey.
	DeletePasskey(ctx context.Context, userID, id string) error
	// DeletePasskeys removes every passkey of the user and reports how many there were.
	DeletePasskeys(ctx context.Context, userID string) (int, error)
	// UsePasskey records an accepted assertion: the new sign count, backup state and time of
	// use, in one conditional statement that succeeds only while the stored count is below
	// signCount (or both are 0: authenticators without a counter), so that of two assertions
	// with one count only one is accepted; ErrNotFound otherwise.
	UsePasskey(ctx context.Context, id string, signCount uint32, backupState bool, at time.Time) error
	// CreatePasskeyCeremony stores a ceremony, replacing one of the same hash, and drops expired ones.
	CreatePasskeyCeremony(ctx context.Context, c *PasskeyCeremony) error
	// SpendPasskeyCeremony deletes the unexpired ceremony of that hash and kind and returns it;
	// ErrNotFound when there is none (unknown, expired, or spent by a concurrent request).
	SpendPasskeyCeremony(ctx context.Context, hash []byte, kind string, now time.Time) (*PasskeyCeremony, error)
}

// PasskeyUser is the user as WebAuthn sees it: the user handle (the user id; never shown) and
// the names an authenticator shows in its account chooser.
type PasskeyUser struct {
	Handle      []byte
	Name        string
	DisplayName string
}

// PasskeyAssertion is what a verified assertion proved.
type PasskeyAssertion struct {
	Passkey      *Passkey // the stored passkey that signed
	SignCount    uint32
	BackupState  bool
	CloneWarning bool // the signature counter did not increase: the key may have been cloned
}

// PasskeyLookup finds the passkeys an assertion may be checked against, from the credential id
// and user handle the assertion claims (neither is trusted: the signature decides).
type PasskeyLookup func(ctx context.Context, credentialID, userHandle []byte) (PasskeyUser, []*Passkey, error)

// WebAuthn is the WebAuthn protocol (an edge package's): options as the browser's
// PublicKeyCredential.parseCreationOptionsFromJSON / parseRequestOptionsFromJSON take them,
// credentials as PublicKeyCredential.toJSON() gives them. User verification is always required.
type WebAuthn interface {
	// BeginRegistration returns creation options (a discoverable credential, excluding the
	// user's existing ones) and the ceremony state to keep.
	BeginRegistration(user PasskeyUser, existing []*Passkey) (options, state []byte, err error)
	// FinishRegistration verifies an attestation against the ceremony state and returns the new
	// passkey (CredentialID, Record, SignCount, BackupEligible, BackupState set). Any failure is
	// ErrPasskeyRejected.
	FinishRegistration(user PasskeyUser, state, credential []byte) (*Passkey, error)
	// BeginLogin returns request options and the ceremony state: for the user's passkeys, or for
	// any discoverable passkey when user is nil.
	BeginLogin(user *PasskeyUser, allowed []*Passkey) (options, state []byte, err error)
	// FinishLogin verifies an assertion against the ceremony state and the passkeys lookup
	// finds. A lookup error is returned as it is; any other failure is ErrPasskeyInvalid.
	FinishLogin(ctx context.Context, state, credential []byte, lookup PasskeyLookup) (*PasskeyAssertion, error)
}

// Passkey errors.
var (
	// ErrPasskeyInvalid is the one answer of every failed passkey sign-in: unknown credential,
	// wrong challenge, spent or expired ceremony, bad signature, no user verification.
	ErrPasskeyInvalid = &Error{Kind: KindUnauthorized, Code: "invalid_passkey",
		Message: "The passkey could not be verified; start again."}
	ErrPasskeyRejected = &Error{Kind: KindInvalid, Code: "passkey_rejected",
		Message: "The new passkey could not be verified; start again."}
	ErrPasskeyCeremony = &Error{Kind: KindBadRequest, Code: "invalid_ceremony",
		Message: "The ceremony is unknown, expired or already used; start again."}
	ErrPasskeyExists = &Error{Kind: KindConflict, Code: "passkey_exists",
		Message: "This passkey is registered already."}
	ErrPasskeyNotFound = &Error{Kind: KindNotFound, Code: "passkey_not_found",
		Message: "No such passkey."}
	ErrPasskeyLimit = &Error{Kind: KindConflict, Code: "passkey_limit",
		Message: "This account has the most passkeys it may have; remove one first."}
	ErrPasskeysUnavailable = &Error{Kind: KindUnavailable, Code: "passkeys_unavailable",
		Message: "Passkeys are not available on this server (see GATEHOUSE_WEBAUTHN_RP_ID).", RetryAfter: time.Hour}
)

// passkeyUserOf is u as WebAuthn sees it.
func passkeyUserOf(u *User) PasskeyUser {
	display := u.Name
	if display == "" {
		display = u.Email
	}
	return PasskeyUser{Handle: []byte(u.ID), Name: u.Email, DisplayName: display}
}

// mfaCeremonyHash is where the passkey ceremony of an mfa_token is kept: one per sign-in.
func mfaCeremonyHash(mfaToken string) []byte {
	return HashToken(passkeyMFACeremonyKey + mfaToken)
}
