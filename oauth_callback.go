package gatehouse

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"
)

// OAuthCallback is what the client brings back from the provider.
type OAuthCallback struct {
	Code        string
	RedirectURI string
	State       string // may be empty only when OAuthConfig.RequireState is false
}

// Callback finishes a sign-in at a provider: it spends the state, redeems the code with the PKCE
// verifier, and signs in the linked account, linking or creating one by the rules of linkAccount.
func (o *OAuthService) Callback(ctx context.Context, providerName string, in OAuthCallback, client Client) (*TokenSet, error) {
	p, err := o.provider(providerName)
	if err != nil {
		return nil, err
	}
	if !o.redirectAllowed(in.RedirectURI) {
		return nil, ErrRedirectURINotAllowed
	}
	if in.Code == "" || len(in.Code) > maxOAuthParam {
		return nil, ErrInvalidOAuthCode
	}
	var verifier, nonce string
	switch {
	case in.State != "":
		if verifier, nonce, err = o.spendState(ctx, providerName, in); err != nil {
			return nil, err
		}
	case o.cfg.RequireState:
		return nil, ErrOAuthStateRequired
	}
	pid, err := p.Exchange(ctx, CodeExchange{Code: in.Code, CodeVerifier: verifier, Nonce: nonce, RedirectURI: in.RedirectURI})
	if err != nil {
		o.logProviderFailure(ctx, providerName, err)
		return nil, err
	}
	if pid.Subject == "" || len(pid.Subject) > 255 || !utf8.ValidString(pid.Subject) {
		err := ProviderError(providerName, errors.New("the provider returned no usable user id"))
		o.logProviderFailure(ctx, providerName, err)
		return nil, err
	}
	return o.signIn(ctx, providerName, pid, client)
}

// spendState marks the state used and returns the secrets derived from it. The state is spent
// before its binding is checked, so a state presented with the wrong provider or redirect URI is
// burned rather than left for another try.
func (o *OAuthService) spendState(ctx context.Context, providerName string, in OAuthCallback) (verifier, nonce string, err error) {
	if len(in.State) > maxOAuthParam {
		return "", "", ErrOAuthStateInvalid
	}
	hash := HashToken(in.State)
	now := o.auth.now()
	var st *OAuthState
	err = o.auth.tx(ctx, func(tx StoreTx) error {
		var err error
		st, err = tx.OAuthStateByHash(ctx, hash)
		if isNotFound(err) {
			return ErrOAuthStateInvalid
		} else if err != nil {
			return err
		}
		if st.UsedAt != nil {
			return ErrOAuthStateUsed
		}
		// Conditional on used_at IS NULL: of concurrent callbacks with one state, exactly one wins.
		if err := tx.UseOAuthState(ctx, hash, now); isNotFound(err) {
			return ErrOAuthStateUsed
		} else if err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return "", "", err
	}
	if !now.Before(st.ExpiresAt) {
		return "", "", ErrOAuthStateExpired
	}
	if st.Provider != providerName || st.RedirectURI != in.RedirectURI {
		return "", "", ErrOAuthStateInvalid
	}
	verifier, nonce = oauthSecrets(in.State, st.Salt)
	return verifier, nonce, nil
}

// signIn starts a session for the provider account, in one transaction with any account it
// creates or links. Two first sign-ins of one provider account can race to create it; the loser
// retries once and finds the winner's link.
func (o *OAuthService) signIn(ctx context.Context, providerName string, pid *ProviderIdentity, client Client) (*TokenSet, error) {
	var (
		u       *User
		taken   *takeover
		sess    *Session
		refresh string
		mfaReq  *MFARequiredError
		err     error
	)
	for attempt := 0; attempt < 2; attempt++ {
		now := o.auth.now()
		err = o.auth.tx(ctx, func(tx StoreTx) error {
			var err error
			if u, taken, err = o.linkAccount(ctx, tx, client, providerName, pid, now); err != nil {
				return err
			}
			if !u.IsActive {
				return ErrAccountDisabled
			}
			if o.auth.cfg.RequireEmailVerification && !u.EmailVerified {
				return ErrEmailNotVerified
			}
			// A second factor enrolled: the provider vouched for the first; the sign-in waits for a
			// code (a takeover or link this transaction made still commits).
			if mfaReq, err = o.auth.mfaChallengeTx(ctx, tx, u, "", client, now); err != nil || mfaReq != nil {
				return err
			}
			if sess, refresh, err = o.auth.startSession(ctx, tx, u, client, now, nil); err != nil {
				return err
			}
			return o.auth.auditTx(ctx, tx, client, EventLoginSucceeded, u.ID, OutcomeSuccess, "via "+providerName)
		})
		if !errors.Is(err, ErrEmailTaken) && !errors.Is(err, ErrIdentityTaken) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	if taken != nil {
		taken.invalidate(o.auth)
		o.auth.cache.invalidateUser(u.ID)
	}
	if o.auth.email != nil {
		o.auth.email.wake() // a link to an existing account queued a notice
	}
	if mfaReq != nil {
		return nil, mfaReq
	}
	return o.auth.issue(ctx, u, sess, refresh)
}

// linkAccount finds or makes the local account of a provider account, inside tx:
//   - an identity already linked signs its user in, whatever the provider now says of the email;
//   - otherwise the provider must vouch for the email (ErrProviderEmailUnverified), and the local
//     account must have exactly that address: addresses are compared byte for byte after ASCII
//     lower-casing, never by Unicode case folding (a KELVIN SIGN is not a K);
//   - a local account with that email is linked only if its own address is verified
//     (ErrAccountEmailUnverified otherwise, and nothing is linked), and the link takes the account
//     over: see linkExisting. The owner is emailed about every link to an existing account;
//   - no local account: a new one is created, verified, without a password.
//
// It returns what a takeover revoked, nil when none was needed.
func (o *OAuthService) linkAccount(ctx context.Context, tx StoreTx, client Client, providerName string, pid *ProviderIdentity, now time.Time) (*User, *takeover, error) {
	reported := providerEmail(pid.Email)
	id, err := tx.IdentityByProviderUserID(ctx, providerName, pid.Subject)
	if err == nil {
		// Locked: a disable that commits now must not be followed by a session. The user row is
		// locked before the identity row is written, the order every link takes (the user, then
		// its identities), so that concurrent sign-ins of one account cannot deadlock.
		u, err := tx.LockUser(ctx, id.UserID)
		if err != nil {
			return nil, nil, err
		}
		if err := tx.TouchIdentity(ctx, providerName, pid.Subject, reported, now); err != nil {
			return nil, nil, err
		}
		return u, nil, nil
	} else if !isNotFound(err) {
		return nil, nil, err
	}

	email := NormalizeEmail(pid.Email)
	if !pid.EmailVerified || ValidateEmail(email) != nil {
		return nil, nil, ErrProviderEmailUnverified
	}
	var taken *takeover
	u, err := tx.UserByEmail(ctx, email)
	switch {
	case err == nil:
		// Read again under the row's lock: the link writes the row back, and must neither undo
		// nor miss a change committed since the lookup (a disable, a new password).
		if u, err = tx.LockUser(ctx, u.ID); err != nil {
			return nil, nil, err
		}
		if !u.EmailVerified {
			return nil, nil, ErrAccountEmailUnverified
		}
		if taken, err = o.linkExisting(ctx, tx, client, u, providerName, now); err != nil {
			return nil, nil, err
		}
	case isNotFound(err):
		u = newProviderUser(email, pid, now)
		if err := tx.CreateUser(ctx, u); err != nil {
			return nil, nil, err
		}
		if err := o.auth.auditTx(ctx, tx, client, EventRegistered, u.ID, OutcomeSuccess, "via "+providerName); err != nil {
			return nil, nil, err
		}
		if err := o.auth.auditTx(ctx, tx, client, EventOAuthLinked, u.ID, OutcomeSuccess, providerName); err != nil {
			return nil, nil, err
		}
	default:
		return nil, nil, err
	}
	err = tx.CreateIdentity(ctx, &Identity{
		Provider:       providerName,
		ProviderUserID: pid.Subject,
		UserID:         u.ID,
		Email:          reported,
		CreatedAt:      now,
		LastUsedAt:     now,
	})
	if err != nil {
		return nil, nil, err
	}
	o.auth.log.InfoContext(ctx, "identity linked", "user_id", u.ID, "provider", providerName)
	return u, taken, nil
}

// takeover is what taking an account back from credentials nobody vouched for revoked: linking
// a provider to an existing account with a password, or the first email sign-in to an account
// whose address was unverified.
type takeover struct {
	sessions []string // ids of the revoked sessions
	keys     int      // API keys revoked
}

func (t *takeover) String() string {
	return "password removed, " + CountNoun(len(t.sessions), "session") + " and " + CountNoun(t.keys, "API key") + " revoked"
}

// dropCredentialsTx removes, inside tx, every credential of u that someone other than the owner
// of its address may have set up: the password, every session and API key, and the apps' grants
// (connected while someone else may have held the account). u is locked and written back. The
// caller invalidates the caches after the commit (takeover.invalidate).
func (s *AuthService) dropCredentialsTx(ctx context.Context, tx StoreTx, u *User, now time.Time) (*takeover, error) {
	revoked, err := tx.RevokeUserSessions(ctx, u.ID, "", now)
	if err != nil {
		return nil, err
	}
	keys, err := tx.RevokeUserAPIKeys(ctx, u.ID, now)
	if err != nil {
		return nil, err
	}
	if _, err := tx.DeleteGrants(ctx, GrantFilter{UserID: u.ID}); err != nil {
		return nil, err
	}
	u.PasswordHash = ""
	u.UpdatedAt = now
	if err := tx.UpdateUser(ctx, u); err != nil {
		return nil, err
	}
	return &takeover{sessions: revoked, keys: keys}, nil
}

// invalidate drops what the caches hold of the revoked sessions and keys; t may be nil.
func (t *takeover) invalidate(s *AuthService) {
	if t != nil {
		s.cache.invalidateSessions(t.sessions...)
		s.cache.invalidateKeys()
	}
}

// linkExisting prepares an existing account u for a link to providerName, inside tx, and tells its
// owner. A provider sign-in must never share an account with credentials the provider did not
// vouch for: anyone can register someone else's address with a password, and a mail scanner that
// opens the verification link makes the address "verified". So when the account has a password,
// the link removes it and revokes every session and API key of the account; the owner can set a
// new password through the mailbox. An account without a password got every credential it has
// from provider sign-ins (or was already taken over by one), so it keeps them. It returns what
// was revoked, nil when nothing was.
func (o *OAuthService) linkExisting(ctx context.Context, tx StoreTx, client Client, u *User, providerName string, now time.Time) (*takeover, error) {
	detail := providerName
	var taken *takeover
	if u.HasPassword() {
		var err error
		if taken, err = o.auth.dropCredentialsTx(ctx, tx, u, now); err != nil {
			return nil, err
		}
		detail += "; " + taken.String()
	}
	if err := o.auth.auditTx(ctx, tx, client, EventOAuthLinked, u.ID, OutcomeSuccess, detail); err != nil {
		return nil, err
	}
	if o.auth.email != nil {
		data := EmailData{Email: u.Email, Provider: ProviderLabel(providerName), CredentialsRevoked: taken != nil}
		if err := o.auth.queueEmail(ctx, tx, EmailIdentityLinked, data, "", now); err != nil {
			return nil, err
		}
	}
	return taken, nil
}

// newProviderUser is an account created by a provider sign-in: its email is verified (the provider
// vouched for it) and it has no password until the user sets one through a password reset.
func newProviderUser(email string, pid *ProviderIdentity, now time.Time) *User {
	u := &User{
		ID:            NewID(),
		Email:         email,
		Name:          cleanName(pid.Name),
		EmailVerified: true,
		Role:          RoleUser,
		IsActive:      true,
		CreatedAt:     now,
		UpdatedAt:     now,
	}
	if pid.AvatarURL != "" && validateAvatarURL(pid.AvatarURL) == nil {
		avatar := pid.AvatarURL
		u.AvatarURL = &avatar
	}
	return u
}

// cleanName makes a provider's display name acceptable to ValidateName rather than refusing the
// sign-in over it: control characters go, and the name is cut to MaxNameLength.
func cleanName(name string) string {
	name = strings.ToValidUTF8(name, "")
	name = strings.Map(func(r rune) rune {
		if invisible(r) {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if utf8.RuneCountInString(name) > MaxNameLength {
		name = string([]rune(name)[:MaxNameLength])
	}
	return name
}

// providerEmail is the reported address as stored on an identity: normalised and bounded.
func providerEmail(email string) string {
	email = NormalizeEmail(email)
	if len(email) > 320 || !utf8.ValidString(email) {
		return ""
	}
	return email
}
