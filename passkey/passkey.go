// Package passkey is the WebAuthn edge of Gatehouse: it implements gatehouse.WebAuthn with
// github.com/go-webauthn/webauthn. Options are written as the browser's
// PublicKeyCredential.parseCreationOptionsFromJSON / parseRequestOptionsFromJSON take them (the
// "publicKey" member of go-webauthn's answer, base64url), credentials are read as
// PublicKeyCredential.toJSON() writes them. User verification is required in every ceremony,
// registration asks for a discoverable credential (resident key required) and no attestation.
package passkey

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/gatehouse/gatehouse"
)

// Config is the relying party: its id (a domain), the origins its pages are served from, and
// the name authenticators show.
type Config struct {
	RPID    string
	Origins []string
	RPName  string
}

// Validate checks that the RP ID is a domain (not an IP address) and that every origin is an
// http(s) origin on it or a subdomain of it, as browsers require.
func (c Config) Validate() error {
	if c.RPID == "" {
		return errors.New("the RP ID is empty")
	}
	if net.ParseIP(c.RPID) != nil {
		return fmt.Errorf("the RP ID %q is an IP address; browsers accept only a domain name (such as localhost or example.com)", c.RPID)
	}
	if err := protocol.ValidateRPID(c.RPID); err != nil || strings.ContainsAny(c.RPID, ":/") {
		return fmt.Errorf("the RP ID %q is not a domain name", c.RPID)
	}
	if len(c.Origins) == 0 {
		return errors.New("no origin")
	}
	for _, o := range c.Origins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			return fmt.Errorf("the origin %q is not an origin such as https://example.com", o)
		}
		host := strings.ToLower(u.Hostname())
		rp := strings.ToLower(c.RPID)
		if host != rp && !strings.HasSuffix(host, "."+rp) {
			return fmt.Errorf("the RP ID %q is not %s's host nor a suffix of it", c.RPID, o)
		}
		if u.Scheme == "http" && host != "localhost" && !strings.HasSuffix(host, ".localhost") {
			return fmt.Errorf("the origin %q is plain http: browsers allow passkeys over http only on localhost", o)
		}
	}
	return nil
}

// RP is the relying party: a gatehouse.WebAuthn.
type RP struct {
	w *webauthn.WebAuthn
}

// New builds the relying party from a validated configuration.
func New(c Config) (*RP, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	name := c.RPName
	if name == "" {
		name = "Gatehouse"
	}
	origins := make([]string, len(c.Origins))
	for i, o := range c.Origins {
		origins[i] = strings.TrimRight(o, "/")
	}
	w, err := webauthn.New(&webauthn.Config{
		RPID:                  c.RPID,
		RPDisplayName:         name,
		RPOrigins:             origins,
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			RequireResidentKey: protocol.ResidentKeyRequired(),
			ResidentKey:        protocol.ResidentKeyRequirementRequired,
			UserVerification:   protocol.VerificationRequired,
		},
	})
	if err != nil {
		return nil, err
	}
	return &RP{w: w}, nil
}

var _ gatehouse.WebAuthn = (*RP)(nil)

// user is a gatehouse user with its passkeys, as go-webauthn sees it.
type user struct {
	u     gatehouse.PasskeyUser
	creds []webauthn.Credential
}

func (u *user) WebAuthnID() []byte                         { return u.u.Handle }
func (u *user) WebAuthnName() string                       { return u.u.Name }
func (u *user) WebAuthnDisplayName() string                { return u.u.DisplayName }
func (u *user) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// credential rebuilds go-webauthn's credential from a stored passkey: the record, with the
// counter and backup state as last stored.
func credential(p *gatehouse.Passkey) (webauthn.Credential, error) {
	var c webauthn.Credential
	if err := json.Unmarshal(p.Record, &c); err != nil {
		return c, fmt.Errorf("passkey %s: unreadable record: %w", p.ID, err)
	}
	c.ID = p.CredentialID
	c.Authenticator.SignCount = p.SignCount
	c.Flags.BackupEligible = p.BackupEligible
	c.Flags.BackupState = p.BackupState
	return c, nil
}

func newUser(pu gatehouse.PasskeyUser, passkeys []*gatehouse.Passkey) (*user, error) {
	u := &user{u: pu}
	for _, p := range passkeys {
		c, err := credential(p)
		if err != nil {
			return nil, err
		}
		u.creds = append(u.creds, c)
	}
	return u, nil
}

// BeginRegistration implements gatehouse.WebAuthn.
func (rp *RP) BeginRegistration(pu gatehouse.PasskeyUser, existing []*gatehouse.Passkey) (options, state []byte, err error) {
	u, err := newUser(pu, existing)
	if err != nil {
		return nil, nil, err
	}
	creation, session, err := rp.w.BeginRegistration(u,
		webauthn.WithExclusions(webauthn.Credentials(u.creds).CredentialDescriptors()),
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired))
	if err != nil {
		return nil, nil, err
	}
	return marshalPair(creation.Response, session)
}

func marshalPair(options any, session *webauthn.SessionData) ([]byte, []byte, error) {
	o, err := json.Marshal(options)
	if err != nil {
		return nil, nil, err
	}
	s, err := json.Marshal(session)
	if err != nil {
		return nil, nil, err
	}
	return o, s, nil
}

// FinishRegistration implements gatehouse.WebAuthn.
func (rp *RP) FinishRegistration(pu gatehouse.PasskeyUser, state, cred []byte) (*gatehouse.Passkey, error) {
	var session webauthn.SessionData
	if err := json.Unmarshal(state, &session); err != nil {
		return nil, fmt.Errorf("passkey ceremony state: %w", err)
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(cred)
	if err != nil {
		return nil, rejected(gatehouse.ErrPasskeyRejected, err)
	}
	c, err := rp.w.CreateCredential(&user{u: pu}, session, parsed)
	if err != nil {
		return nil, rejected(gatehouse.ErrPasskeyRejected, err)
	}
	if !c.Flags.UserVerified {
		return nil, rejected(gatehouse.ErrPasskeyRejected, errors.New("no user verification"))
	}
	// The attestation object is of no further use (attestation "none"); the record keeps what
	// verifying assertions needs.
	c.Attestation = webauthn.CredentialAttestation{}
	record, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	return &gatehouse.Passkey{CredentialID: c.ID, Record: record, SignCount: c.Authenticator.SignCount,
		BackupEligible: c.Flags.BackupEligible, BackupState: c.Flags.BackupState}, nil
}

// rejected is the domain's answer with go-webauthn's reason kept as the cause, for the logs.
func rejected(e *gatehouse.Error, cause error) error {
	detail := cause.Error()
	var perr *protocol.Error
	if errors.As(cause, &perr) && perr.DevInfo != "" {
		detail = perr.Details + ": " + perr.DevInfo
	}
	out := *e
	out.Err = errors.New(detail)
	return &out
}

// BeginLogin implements gatehouse.WebAuthn.
func (rp *RP) BeginLogin(pu *gatehouse.PasskeyUser, allowed []*gatehouse.Passkey) (options, state []byte, err error) {
	uv := webauthn.WithUserVerification(protocol.VerificationRequired)
	if pu == nil {
		assertion, session, err := rp.w.BeginDiscoverableLogin(uv)
		if err != nil {
			return nil, nil, err
		}
		return marshalPair(assertion.Response, session)
	}
	u, err := newUser(*pu, allowed)
	if err != nil {
		return nil, nil, err
	}
	assertion, session, err := rp.w.BeginLogin(u, uv)
	if err != nil {
		return nil, nil, err
	}
	return marshalPair(assertion.Response, session)
}

// FinishLogin implements gatehouse.WebAuthn.
func (rp *RP) FinishLogin(ctx context.Context, state, cred []byte, lookup gatehouse.PasskeyLookup) (*gatehouse.PasskeyAssertion, error) {
	var session webauthn.SessionData
	if err := json.Unmarshal(state, &session); err != nil {
		return nil, fmt.Errorf("passkey ceremony state: %w", err)
	}
	// User verification is required whatever the stored state says.
	session.UserVerification = protocol.VerificationRequired
	parsed, err := protocol.ParseCredentialRequestResponseBytes(cred)
	if err != nil {
		return nil, rejected(gatehouse.ErrPasskeyInvalid, err)
	}
	var (
		lookupErr error
		passkeys  []*gatehouse.Passkey
	)
	find := func(rawID, userHandle []byte) (*user, error) {
		var pu gatehouse.PasskeyUser
		pu, passkeys, lookupErr = lookup(ctx, rawID, userHandle)
		if lookupErr != nil {
			return nil, lookupErr
		}
		return newUser(pu, passkeys)
	}
	var c *webauthn.Credential
	if len(session.UserID) == 0 {
		c, err = rp.w.ValidateDiscoverableLogin(func(rawID, userHandle []byte) (webauthn.User, error) {
			return find(rawID, userHandle)
		}, session, parsed)
	} else {
		var u *user
		if u, err = find(parsed.RawID, parsed.Response.UserHandle); err == nil {
			c, err = rp.w.ValidateLogin(u, session, parsed)
		}
	}
	if lookupErr != nil {
		return nil, lookupErr
	}
	if err != nil {
		return nil, rejected(gatehouse.ErrPasskeyInvalid, err)
	}
	if !parsed.Response.AuthenticatorData.Flags.HasUserVerified() {
		return nil, rejected(gatehouse.ErrPasskeyInvalid, errors.New("no user verification"))
	}
	for _, p := range passkeys {
		if string(p.CredentialID) == string(c.ID) {
			return &gatehouse.PasskeyAssertion{Passkey: p, SignCount: parsed.Response.AuthenticatorData.Counter,
				BackupState: c.Flags.BackupState, CloneWarning: c.Authenticator.CloneWarning}, nil
		}
	}
	return nil, rejected(gatehouse.ErrPasskeyInvalid, errors.New("the credential is none of the user's"))
}
