package gatehouse

import (
	"context"
	"crypto/rand"
	"errors"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Device authorization (RFC 8628): a device without a browser (a CLI, an agent in a container)
// asks /oauth2/device_authorization for a device code and a short user code; the user opens
// /device on any browser, signs in, enters the user code, sees the client, the resource and the
// scopes, and approves or denies; meanwhile the device polls the token endpoint with the device
// code. An approval records the grant as the consent page does, and the device's tokens are
// issued exactly as an authorization code's are: a grant session with a rotating refresh token,
// an access token bound to one resource, an ID token with openid.
//
// Gatehouse's own command line ("gatehouse login") is this flow's built-in client, CLIClientID.
// It alone may ask for an API key with its tokens: the user sees the key's name, scopes and
// lifetime on the approval page, and the key is minted in the transaction that issues the tokens
// and returned once, in the token response.

// GrantDeviceCode is the device flow's grant type at the token endpoint (RFC 8628 §3.4).
const GrantDeviceCode = "urn:ietf:params:oauth:grant-type:device_code"

// The device flow's own token-endpoint errors (RFC 8628 §3.5).
const (
	OAuthAuthorizationPending = "authorization_pending"
	OAuthSlowDown             = "slow_down"
	OAuthExpiredToken         = "expired_token"
)

// CLIClientID is the client_id of "gatehouse login": a public client allowed only the device
// grant, stored the first time it asks for a code (so that it is listed with the other clients,
// and an operator can turn command-line sign-in off with "gatehouse clients revoke gatehouse-cli").
const CLIClientID = "gatehouse-cli"

// CLIClientName is the name the approval page shows for CLIClientID.
const CLIClientName = "Gatehouse command line"

// Device flow defaults (RFC 8628 §3.2: expires_in, interval).
const (
	DefaultDeviceCodeTTL  = 10 * time.Minute
	DefaultDeviceInterval = 5 * time.Second
	// deviceSlowDown is what slow_down adds to a device code's interval (RFC 8628 §3.5).
	deviceSlowDown = 5 * time.Second
	// maxDeviceInterval bounds the interval a client can make the server ask for.
	maxDeviceInterval = time.Minute
	// deviceCodeKeep is how long an expired device code stays, answering expired_token rather
	// than invalid_grant, before it is swept.
	deviceCodeKeep = time.Hour
)

// Statuses of a device code.
const (
	DevicePending  = "pending"
	DeviceApproved = "approved"
	DeviceDenied   = "denied"
)

// Security events of the device flow (consent and token issue use the authorization events).
const (
	EventOAuthDeviceApproved = "oauth.device_approved"
	EventOAuthDeviceDenied   = "oauth.device_denied"
)

// userCodeAlphabet has no vowels (no words) and no look-alikes (0/O, 1/I/L, 2/Z, 5/S, 8/B are not
// all here; what is left is unambiguous in upper case): 20 letters, 8 of them are 34.6 bits.
const userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

const userCodeLength = 8

// DeviceCode is the stored form of a device authorization: hashes of both codes, what was asked,
// and where the user's decision and the poll stand.
type DeviceCode struct {
	Hash         []byte // SHA-256 of the device_code
	UserCodeHash []byte // SHA-256 of the normalised user_code
	ClientID     string
	Resource     string
	Scope        string
	UserInfo     bool // the tokens it issues may read /oauth2/userinfo
	// An API key asked for with the tokens (CLIClientID only): KeyName "" asks for none.
	KeyName   string
	KeyScopes []string
	KeyDays   int
	// Who asked, shown on the approval page so the user can tell their device from a stranger's.
	RequesterIP, RequesterAgent string
	Interval                    time.Duration
	CreatedAt, ExpiresAt        time.Time
	PolledAt                    *time.Time
	Status                      string
	UserID, GrantID, Approver   string // set by the approval
	AuthTime                    time.Time
	DecidedAt, UsedAt           *time.Time
	SessionID                   string // the session the code issued, once used
	KeyID                       string // the API key it minted, once used
}

// DeviceCodeReader reads device codes.
type DeviceCodeReader interface {
	// DeviceCodeByUserCode finds a device code by the hash of its user code.
	DeviceCodeByUserCode(ctx context.Context, userCodeHash []byte) (*DeviceCode, error)
}

// DeviceCodeWriter writes them.
type DeviceCodeWriter interface {
	// CreateDeviceCode inserts d; ErrDeviceCodeExists when its user code is taken.
	CreateDeviceCode(ctx context.Context, d *DeviceCode) error
	// LockDeviceCode reads a device code by the hash of the device code and locks it until the
	// transaction ends: two polls of one code take turns.
	LockDeviceCode(ctx context.Context, hash []byte) (*DeviceCode, error)
	// LockDeviceCodeByUserCode is LockDeviceCode by the hash of the user code.
	LockDeviceCodeByUserCode(ctx context.Context, userCodeHash []byte) (*DeviceCode, error)
	// UpdateDeviceCode writes what a poll or a decision changes: interval, polled_at, status,
	// user, grant, approver, auth_time, decided_at, used_at, session and key.
	UpdateDeviceCode(ctx context.Context, d *DeviceCode) error
	// DeleteExpiredDeviceCodes removes codes that expired before the given time.
	DeleteExpiredDeviceCodes(ctx context.Context, before time.Time) (int64, error)
}

// ErrDeviceCodeExists is a user code already taken (a collision: the caller draws another).
var ErrDeviceCodeExists = &Error{Kind: KindConflict, Code: "device_code_exists", Message: "This user code is taken."}

// DeviceAuthorizationRequest is a request to the device authorization endpoint (RFC 8628 §3.1).
type DeviceAuthorizationRequest struct {
	Scope        string
	ScopeOmitted bool
	Resources    []string
	Credentials  ClientCredentials
	// An API key to mint with the tokens (CLIClientID only): a name, its scopes and lifetime.
	APIKeyName  string
	APIKeyScope string
	APIKeyDays  string
	WantsAPIKey bool // any api_key_* parameter was sent
	Duplicated  []string
}

// DeviceAuthorization is the answer of the device authorization endpoint (RFC 8628 §3.2).
type DeviceAuthorization struct {
	DeviceCode string
	UserCode   string // XXXX-XXXX
	ExpiresIn  time.Duration
	Interval   time.Duration
}

// FormatUserCode writes a normalised user code as the user sees it: XXXX-XXXX.
func FormatUserCode(code string) string {
	if len(code) != userCodeLength {
		return code
	}
	return code[:4] + "-" + code[4:]
}

// NormalizeUserCode reads a user code as typed: case-insensitive, dashes and spaces ignored.
// ok is false for anything that cannot be a user code (no lookup is needed to refuse it).
func NormalizeUserCode(typed string) (string, bool) {
	if len(typed) > 64 {
		return "", false
	}
	var b strings.Builder
	for _, r := range strings.ToUpper(typed) {
		switch {
		case r == '-' || r == ' ' || r == '\t':
		case r < utf8.RuneSelf && strings.IndexByte(userCodeAlphabet, byte(r)) >= 0:
			b.WriteRune(r)
		default:
			return "", false
		}
	}
	if b.Len() != userCodeLength {
		return "", false
	}
	return b.String(), true
}

func newUserCode() string {
	max := big.NewInt(int64(len(userCodeAlphabet)))
	out := make([]byte, userCodeLength)
	for i := range out {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic("gatehouse: crypto/rand failed: " + err.Error())
		}
		out[i] = userCodeAlphabet[n.Int64()]
	}
	return string(out)
}

// deviceTTL and deviceInterval are the server's settings, or the defaults.
func (as *AuthorizationServer) deviceTTL() time.Duration {
	if as.cfg.DeviceCodeTTL > 0 {
		return as.cfg.DeviceCodeTTL
	}
	return DefaultDeviceCodeTTL
}

func (as *AuthorizationServer) deviceInterval() time.Duration {
	if as.cfg.DeviceInterval > 0 {
		return as.cfg.DeviceInterval
	}
	return DefaultDeviceInterval
}

// deviceClient authenticates the client of a device request: the built-in CLI client is stored
// on its first use; any other client must be allowed the device grant.
func (as *AuthorizationServer) deviceClient(ctx context.Context, cc ClientCredentials, client Client) (*OAuthClient, error) {
	if cc.ClientID == CLIClientID {
		if err := as.ensureCLIClient(ctx, client); err != nil {
			return nil, err
		}
	}
	c, err := as.authenticateClient(ctx, cc)
	if err != nil {
		return nil, err
	}
	if !c.Allows(GrantDeviceCode) {
		return nil, oauthError(OAuthUnauthorizedClient, "This client may not use the device authorization grant; register it with the grant type %s.", GrantDeviceCode)
	}
	return c, nil
}

// ensureCLIClient stores the built-in CLI client unless it is stored already (revoked included:
// a revoked CLI client stays revoked).
func (as *AuthorizationServer) ensureCLIClient(ctx context.Context, client Client) error {
	if _, err := as.store.OAuthClientByID(ctx, CLIClientID); err == nil {
		return nil
	} else if !isNotFound(err) {
		return err
	}
	c := cliClient(as.now())
	err := as.auth.tx(ctx, func(tx StoreTx) error {
		if err := tx.CreateOAuthClient(ctx, c); err != nil {
			return err
		}
		return as.auth.auditTx(ctx, tx, client, EventOAuthClientRegistered, "", OutcomeSuccess, "builtin client "+c.ID+" ("+c.Name+")")
	})
	if errors.Is(err, ErrClientExists) {
		return nil // stored meanwhile by another request
	}
	return err
}

// cliClient is the built-in client of "gatehouse login", as it is stored on first use.
func cliClient(now time.Time) *OAuthClient {
	return &OAuthClient{ID: CLIClientID, Kind: ClientRegistered, Name: CLIClientName, RedirectURIs: []string{},
		GrantTypes: []string{GrantDeviceCode}, AuthMethod: AuthMethodNone, CreatedBy: "builtin", CreatedAt: now}
}

// deviceOnly: grant types that name the device grant and not the authorization code grant.
func deviceOnly(grants []string) bool {
	return slices.Contains(grants, GrantDeviceCode) && !slices.Contains(grants, GrantAuthCode)
}

// keyRequest checks the API key a device request asks for.
func keyRequest(req DeviceAuthorizationRequest, c *OAuthClient) (name string, scopes []string, days int, err error) {
	if !req.WantsAPIKey {
		return "", nil, 0, nil
	}
	if c.ID != CLIClientID {
		return "", nil, 0, oauthError(OAuthInvalidRequest, "Only the Gatehouse command line may ask for an API key.")
	}
	name = strings.TrimSpace(req.APIKeyName)
	if name == "" || utf8.RuneCountInString(name) > 100 || !utf8.ValidString(name) || hasInvisible(name) {
		return "", nil, 0, oauthError(OAuthInvalidRequest, "api_key_name is required: at most 100 visible characters.")
	}
	scopes = DefaultKeyScopes
	if req.APIKeyScope != "" {
		scopes = nil
		for _, s := range strings.Fields(req.APIKeyScope) {
			// An admin key is made on purpose, on the keys page or with "gatehouse keys create".
			if !ValidScope(s) || s == ScopeAdmin {
				return "", nil, 0, oauthError(OAuthInvalidScope, "api_key_scope: %s is not a scope an API key can get this way (%s).",
					quoteShort(s), strings.Join(AllScopes[:len(AllScopes)-1], ", "))
			}
			if !slices.Contains(scopes, s) {
				scopes = append(scopes, s)
			}
		}
	}
	days = DefaultAPIKeyLifetimeDays
	if req.APIKeyDays != "" {
		n, perr := strconv.Atoi(req.APIKeyDays)
		if perr != nil || n < 1 || n > MaxAPIKeyLifetimeDays {
			return "", nil, 0, oauthError(OAuthInvalidRequest, "api_key_expires_in_days must be from 1 to %d.", MaxAPIKeyLifetimeDays)
		}
		days = n
	}
	return name, slices.Clone(scopes), days, nil
}

// AuthorizeDevice answers the device authorization endpoint (RFC 8628 §3.1, §3.2): it checks the
// client, the resource and the scopes as an authorization request would, and stores the hashes
// of a new device code and user code.
func (as *AuthorizationServer) AuthorizeDevice(ctx context.Context, req DeviceAuthorizationRequest, client Client) (*DeviceAuthorization, error) {
	if len(req.Duplicated) > 0 {
		return nil, oauthError(OAuthInvalidRequest, "The parameter %s appears more than once.", req.Duplicated[0])
	}
	c, err := as.deviceClient(ctx, req.Credentials, client)
	if err != nil {
		return nil, err
	}
	var r *Resource
	switch len(req.Resources) {
	case 0:
		r, err = as.defaultResource(ctx)
	case 1:
		r, err = as.resource(ctx, req.Resources[0])
	default:
		return nil, oauthError(OAuthInvalidTarget, "Ask for one resource per device authorization request.")
	}
	if err != nil {
		return nil, err
	}
	if len(req.Scope) > 4096 {
		return nil, oauthError(OAuthInvalidScope, "scope is too long.")
	}
	scopes := ScopeNames(grantableScopes(req.Scope, req.ScopeOmitted, r))
	keyName, keyScopes, keyDays, err := keyRequest(req, c)
	if err != nil {
		return nil, err
	}
	now := as.now()
	client = client.normalized()
	device := RandomToken(32)
	d := &DeviceCode{Hash: HashToken(device), ClientID: c.ID, Resource: r.URI, Scope: scopeString(scopes),
		UserInfo: slices.Contains(scopes, ScopeOpenID) && (len(req.Resources) == 0 || r.URI == as.OwnAPI()),
		KeyName:  keyName, KeyScopes: keyScopes, KeyDays: keyDays, RequesterIP: client.IP, RequesterAgent: client.UserAgent,
		Interval: as.deviceInterval(), CreatedAt: now, ExpiresAt: now.Add(as.deviceTTL()), Status: DevicePending}
	var user string
	for attempt := 0; ; attempt++ {
		user = newUserCode()
		d.UserCodeHash = HashToken(user)
		err = as.auth.tx(ctx, func(tx StoreTx) error {
			// Expired codes are kept a while (they answer expired_token), then swept here.
			if _, err := tx.DeleteExpiredDeviceCodes(ctx, now.Add(-deviceCodeKeep)); err != nil {
				return err
			}
			return tx.CreateDeviceCode(ctx, d)
		})
		if !errors.Is(err, ErrDeviceCodeExists) || attempt == 4 {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	return &DeviceAuthorization{DeviceCode: device, UserCode: FormatUserCode(user), ExpiresIn: as.deviceTTL(), Interval: d.Interval}, nil
}

// DeviceApproval is what the approval page shows of a pending device code.
type DeviceApproval struct {
	UserCode    string // XXXX-XXXX
	Client      *OAuthClient
	Resource    *Resource
	Scopes      []ScopeInfo
	RequesterIP string
	RequestedAt time.Time
	ExpiresAt   time.Time
	// The API key the device asks for, if any.
	KeyName   string
	KeyScopes []string
	KeyDays   int
}

// ErrBadUserCode is a user code that matches no pending device authorization: mistyped, expired,
// used or decided already. It says nothing more.
var ErrBadUserCode = &Error{Kind: KindBadRequest, Code: "invalid_user_code",
	Message: "That code is not valid. Check it against the one your device shows, or start again on your device: codes expire after a few minutes and work once."}

// firstParty: only a signed-in user's own session (the dashboard's) can approve a device.
func firstParty(p *Principal) bool {
	return p != nil && p.User != nil && p.SessionID != "" && p.ClientID == "" && p.APIKey == nil
}

// DeviceRequest looks up the pending device authorization of a user code for the approval page.
// Guesses are limited by the edge (per address and per user); a wrong code is ErrBadUserCode.
func (as *AuthorizationServer) DeviceRequest(ctx context.Context, p *Principal, userCode string) (*DeviceApproval, error) {
	if !firstParty(p) {
		return nil, ErrUnauthenticated
	}
	norm, ok := NormalizeUserCode(userCode)
	if !ok {
		return nil, ErrBadUserCode
	}
	d, err := as.store.DeviceCodeByUserCode(ctx, HashToken(norm))
	if isNotFound(err) {
		return nil, ErrBadUserCode
	} else if err != nil {
		return nil, err
	}
	if d.Status != DevicePending || !as.now().Before(d.ExpiresAt) {
		return nil, ErrBadUserCode
	}
	return as.deviceApproval(ctx, d, norm)
}

func (as *AuthorizationServer) deviceApproval(ctx context.Context, d *DeviceCode, norm string) (*DeviceApproval, error) {
	c, err := as.Client(ctx, d.ClientID)
	if err != nil {
		if ErrorKindOf(err) == KindUnavailable {
			return nil, err
		}
		return nil, ErrBadUserCode // the client was revoked meanwhile
	}
	r, err := as.resource(ctx, d.Resource)
	if err != nil {
		if ErrorCodeOf(err) == OAuthInvalidTarget {
			return nil, ErrBadUserCode // the resource was removed meanwhile
		}
		return nil, err
	}
	known := append(slices.Clone(oidcScopes), r.Scopes...)
	var scopes []ScopeInfo
	for _, name := range strings.Fields(d.Scope) {
		if i := slices.IndexFunc(known, func(s ScopeInfo) bool { return s.Name == name }); i >= 0 {
			scopes = append(scopes, known[i])
		}
	}
	return &DeviceApproval{UserCode: FormatUserCode(norm), Client: c, Resource: r, Scopes: scopes, RequesterIP: d.RequesterIP,
		RequestedAt: d.CreatedAt, ExpiresAt: d.ExpiresAt, KeyName: d.KeyName, KeyScopes: d.KeyScopes, KeyDays: d.KeyDays}, nil
}

// ApproveDevice records the user's approval of a device code: the grant is saved (or widened) as
// the consent page saves it, and the device's next poll gets the tokens. A device approval is
// always the user's explicit decision on the page: nothing is approved from a remembered consent.
func (as *AuthorizationServer) ApproveDevice(ctx context.Context, p *Principal, userCode string) (*DeviceApproval, error) {
	return as.decideDevice(ctx, p, userCode, true)
}

// DenyDevice records that the user refused the device: its polls get access_denied.
func (as *AuthorizationServer) DenyDevice(ctx context.Context, p *Principal, userCode string) (*DeviceApproval, error) {
	return as.decideDevice(ctx, p, userCode, false)
}

func (as *AuthorizationServer) decideDevice(ctx context.Context, p *Principal, userCode string, allow bool) (*DeviceApproval, error) {
	if !firstParty(p) {
		return nil, ErrUnauthenticated
	}
	if err := as.auth.forbidImpersonated(ctx, p, "device approval"); err != nil {
		return nil, err
	}
	norm, ok := NormalizeUserCode(userCode)
	if !ok {
		return nil, ErrBadUserCode
	}
	// What the user saw, checked again: the client and the resource must still stand.
	d, err := as.store.DeviceCodeByUserCode(ctx, HashToken(norm))
	if isNotFound(err) {
		return nil, ErrBadUserCode
	} else if err != nil {
		return nil, err
	}
	shown, err := as.deviceApproval(ctx, d, norm)
	if err != nil {
		return nil, err
	}
	err = as.auth.tx(ctx, func(tx StoreTx) error {
		u, err := as.auth.lockCaller(ctx, tx, p)
		if err != nil {
			return err
		}
		sess, err := tx.SessionByID(ctx, p.SessionID)
		if err != nil {
			return notFoundAsUnauthenticated(err)
		}
		d, err := tx.LockDeviceCodeByUserCode(ctx, HashToken(norm))
		if isNotFound(err) {
			return ErrBadUserCode
		} else if err != nil {
			return err
		}
		now := as.now()
		if d.Status != DevicePending || !now.Before(d.ExpiresAt) || d.ClientID != shown.Client.ID {
			return ErrBadUserCode
		}
		d.UserID, d.DecidedAt = u.ID, &now
		detail := "client " + d.ClientID + " resource " + d.Resource + " scope " + d.Scope
		if d.KeyName != "" {
			detail += " api key " + strconv.Quote(d.KeyName) + " scopes " + strings.Join(d.KeyScopes, " ")
		}
		if !allow {
			d.Status = DeviceDenied
			if err := tx.UpdateDeviceCode(ctx, d); err != nil {
				return err
			}
			return as.auth.auditTx(ctx, tx, p.Client, EventOAuthDeviceDenied, u.ID, OutcomeFailure, detail)
		}
		// A key never has more rights than its owner.
		for _, s := range d.KeyScopes {
			if !slices.Contains(scopesAllowedFor(u), s) {
				return errScopeNotAllowed
			}
		}
		g, err := as.recordConsent(ctx, tx, p, u, shown.Client, d.Resource, "", strings.Fields(d.Scope), now)
		if err != nil {
			return err
		}
		d.Status, d.GrantID, d.Approver, d.AuthTime = DeviceApproved, g.ID, sess.ID, sess.CreatedAt
		if err := tx.UpdateDeviceCode(ctx, d); err != nil {
			return err
		}
		return as.auth.auditTx(ctx, tx, p.Client, EventOAuthDeviceApproved, u.ID, OutcomeSuccess, detail)
	})
	if err != nil {
		return nil, err
	}
	return shown, nil
}

var (
	errBadDeviceCode = oauthError(OAuthInvalidGrant, "The device code is invalid, already used, or was issued to another client.")
	errDevicePending = oauthError(OAuthAuthorizationPending, "The user has not approved the request yet; keep polling at the interval.")
	errDeviceSlow    = oauthError(OAuthSlowDown, "Polling too fast: wait 5 seconds more between polls from now on.")
	errDeviceDenied  = oauthError(OAuthAccessDenied, "The user denied the request.")
	errDeviceExpired = oauthError(OAuthExpiredToken, "The device code has expired; start again.")
)

// deviceToken answers a poll of the token endpoint (RFC 8628 §3.4, §3.5). The code is locked
// while it is judged, so two polls take turns: one gets the tokens, the other invalid_grant.
func (as *AuthorizationServer) deviceToken(ctx context.Context, req TokenRequest, client Client) (*OAuthTokens, error) {
	c, err := as.authenticateClient(ctx, req.Credentials)
	if err != nil {
		return nil, err
	}
	if !c.Allows(GrantDeviceCode) {
		return nil, oauthError(OAuthUnauthorizedClient, "This client may not use the %s grant.", GrantDeviceCode)
	}
	if len(req.Resources) > 1 {
		return nil, oauthError(OAuthInvalidTarget, "Ask for one resource per token request.")
	}
	if req.DeviceCode == "" {
		return nil, oauthError(OAuthInvalidRequest, "device_code is required.")
	}
	if len(req.DeviceCode) > 256 {
		return nil, errBadDeviceCode
	}
	var (
		answer  error // a poll's answer that still commits (the poll time, a raised interval)
		d       *DeviceCode
		sess    *Session
		user    *User
		refresh string
		key     *APIKey
		secret  string
	)
	err = as.auth.tx(ctx, func(tx StoreTx) error {
		var err error
		d, err = tx.LockDeviceCode(ctx, HashToken(req.DeviceCode))
		if isNotFound(err) {
			return errBadDeviceCode
		} else if err != nil {
			return err
		}
		now := as.now()
		if d.ClientID != c.ID || d.UsedAt != nil {
			return errBadDeviceCode
		}
		if !now.Before(d.ExpiresAt) {
			return errDeviceExpired
		}
		if len(req.Resources) == 1 && req.Resources[0] != d.Resource {
			return oauthError(OAuthInvalidTarget, "The resource differs from the one of the device authorization request.")
		}
		switch d.Status {
		case DeviceDenied:
			return errDeviceDenied
		case DevicePending:
			last := d.PolledAt
			d.PolledAt = &now
			answer = errDevicePending
			if last != nil && now.Sub(*last) < d.Interval {
				d.Interval = min(d.Interval+deviceSlowDown, maxDeviceInterval)
				answer = errDeviceSlow
			}
			return tx.UpdateDeviceCode(ctx, d)
		}
		// Approved: issue as an authorization code would.
		user, err = tx.LockUser(ctx, d.UserID)
		if err != nil {
			return notFoundAs(err, errBadDeviceCode)
		}
		if !user.IsActive {
			return errBadDeviceCode
		}
		// The user must still be signed in where they approved: a logout, a password change or a
		// takeover since then voids the approval.
		approver, err := tx.SessionByID(ctx, d.Approver)
		if err != nil {
			return notFoundAs(err, errBadDeviceCode)
		}
		if !sessionUsable(approver, user, now) || !approver.FirstParty() {
			return errBadDeviceCode
		}
		g, err := tx.LockGrant(ctx, d.GrantID)
		if err != nil {
			return notFoundAs(err, errBadDeviceCode)
		}
		if g.UserID != user.ID || g.ClientID != c.ID {
			return errBadDeviceCode
		}
		sess, refresh, err = as.startGrantSession(ctx, tx, user, c, &AuthCode{GrantID: g.ID, Resource: d.Resource, Scope: d.Scope,
			AuthTime: d.AuthTime, UserInfo: d.UserInfo}, "", "", client, now)
		if err != nil {
			return err
		}
		d.UsedAt, d.SessionID = &now, sess.ID
		if d.KeyName != "" {
			if key, secret, err = as.mintDeviceKey(ctx, tx, user, d, client, now); err != nil {
				return err
			}
			d.KeyID = key.ID
		}
		if err := tx.UpdateDeviceCode(ctx, d); err != nil {
			return err
		}
		return as.auth.auditTx(ctx, tx, client, EventOAuthTokenIssued, user.ID, OutcomeSuccess,
			"client "+c.ID+" resource "+d.Resource+" scope "+d.Scope+" (device authorization)")
	})
	if err != nil {
		return nil, err
	}
	if answer != nil {
		return nil, answer
	}
	if !issuesRefresh(c, d.Scope) {
		refresh = ""
	}
	out, err := as.tokens(ctx, user, sess, c, d.Scope, refresh, "")
	if err != nil {
		return nil, err
	}
	if key != nil {
		as.log.InfoContext(ctx, "api key created", "user_id", key.UserID, "key_id", key.ID, "prefix", key.Prefix, "via", "device authorization")
		out.APIKey = &IssuedAPIKey{Key: key, Secret: secret}
	}
	return out, nil
}

// IssuedAPIKey is an API key minted with a device flow's tokens; Secret is shown only then.
type IssuedAPIKey struct {
	Key    *APIKey
	Secret string
}

// mintDeviceKey creates the API key the user approved on the device page, in the transaction
// that issues the device's tokens, with the scopes the owner still has.
func (as *AuthorizationServer) mintDeviceKey(ctx context.Context, tx StoreTx, u *User, d *DeviceCode, client Client, now time.Time) (*APIKey, string, error) {
	for _, s := range d.KeyScopes {
		if !slices.Contains(scopesAllowedFor(u), s) || s == ScopeAdmin {
			return nil, "", errBadDeviceCode
		}
	}
	secret := NewAPIKeySecret()
	exp := now.Add(time.Duration(d.KeyDays) * 24 * time.Hour)
	k := &APIKey{ID: NewID(), UserID: u.ID, Name: d.KeyName, Prefix: secret[:apiKeyDisplayLen], Hash: HashToken(secret),
		Scopes: slices.Clone(d.KeyScopes), CreatedAt: now, ExpiresAt: &exp}
	if k.Scopes == nil {
		k.Scopes = []string{}
	}
	if err := tx.CreateAPIKey(ctx, k); err != nil {
		return nil, "", err
	}
	if err := as.auth.auditTx(ctx, tx, client, EventAPIKeyCreated, u.ID, OutcomeSuccess,
		"key "+k.ID+" ("+k.Prefix+") scopes: "+strings.Join(k.Scopes, " ")+" via device authorization of client "+d.ClientID); err != nil {
		return nil, "", err
	}
	return k, secret, nil
}
