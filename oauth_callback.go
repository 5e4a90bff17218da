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
		sess    *Session
		refresh string
		err     error
	)
	for attempt := 0; attempt < 2; attempt++ {
		now := o.auth.now()
		err = o.auth.tx(ctx, func(tx StoreTx) error {
			var err error
			if u, err = o.linkAccount(ctx, tx, providerName, pid, now); err != nil {
				return err
			}
			if !u.IsActive {
				return ErrAccountDisabled
			}
			if o.auth.cfg.RequireEmailVerification && !u.EmailVerified {
				return ErrEmailNotVerified
			}
			if sess, refresh, err = o.auth.startSession(ctx, tx, u, client, now); err != nil {
				return err
			}
			return o.auth.auditTx(WithClient(ctx, client), tx, EventLoginSucceeded, u.ID, OutcomeSuccess, "via "+providerName)
		})
		if !errors.Is(err, ErrEmailTaken) && !errors.Is(err, ErrIdentityTaken) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	return o.auth.issue(ctx, u, sess.ID, refresh)
}

// linkAccount finds or makes the local account of a provider account, inside tx:
//   - an identity already linked signs its user in, whatever the provider now says of the email;
//   - otherwise the provider must vouch for the email (ErrProviderEmailUnverified);
//   - a local account with that email is linked only if its own address is verified
//     (ErrAccountEmailUnverified otherwise, and nothing is linked);
//   - no local account: a new one is created, verified, without a password.
func (o *OAuthService) linkAccount(ctx context.Context, tx StoreTx, providerName string, pid *ProviderIdentity, now time.Time) (*User, error) {
	reported := providerEmail(pid.Email)
	id, err := tx.IdentityByProviderUserID(ctx, providerName, pid.Subject)
	if err == nil {
		if err := tx.TouchIdentity(ctx, providerName, pid.Subject, reported, now); err != nil {
			return nil, err
		}
		return tx.UserByID(ctx, id.UserID)
	} else if !isNotFound(err) {
		return nil, err
	}

	email := NormalizeEmail(pid.Email)
	if !pid.EmailVerified || ValidateEmail(email) != nil {
		return nil, ErrProviderEmailUnverified
	}
	u, err := tx.UserByEmail(ctx, email)
	switch {
	case err == nil:
		if !u.EmailVerified {
			return nil, ErrAccountEmailUnverified
		}
	case isNotFound(err):
		u = newProviderUser(email, pid, now)
		if err := tx.CreateUser(ctx, u); err != nil {
			return nil, err
		}
		if err := o.auth.auditTx(ctx, tx, EventRegistered, u.ID, OutcomeSuccess, "via "+providerName); err != nil {
			return nil, err
		}
	default:
		return nil, err
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
		return nil, err
	}
	if err := o.auth.auditTx(ctx, tx, EventOAuthLinked, u.ID, OutcomeSuccess, providerName); err != nil {
		return nil, err
	}
	o.auth.log.InfoContext(ctx, "identity linked", "user_id", u.ID, "provider", providerName)
	return u, nil
}

// newProviderUser is an account created by a provider sign-in: its email is verified (the provider
// vouched for it) and it has no password until the user sets one through a password reset.
func newProviderUser(email string, pid *ProviderIdentity, now time.Time) *User {
	u := &User{
		ID:            NewID(now),
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
		if r < 0x20 || r == 0x7f {
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
