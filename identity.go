package gatehouse

import (
	"context"
	"time"
)

// Identity links an account at an external sign-in provider to a local user. It is keyed by the
// provider's own stable user id, never by email, so that an address changed at the provider
// neither forks one person into two accounts nor merges two people into one.
type Identity struct {
	Provider       string // the configured provider name: github, linkedin, or an OIDC provider's name
	ProviderUserID string // the provider's stable id: GitHub's numeric id, the OIDC "sub" claim
	UserID         string
	Email          string // the address the provider reported at the last sign-in; for display only
	CreatedAt      time.Time
	LastUsedAt     time.Time
}

// OAuthState is the server's half of one authorization request. The client holds the plain state;
// the server keeps its hash and a salt from which, together with the plain state, the PKCE verifier
// and the OIDC nonce are derived. Neither a database dump alone nor a leaked state alone yields the
// verifier.
type OAuthState struct {
	Hash        []byte // HashToken of the state
	Provider    string
	RedirectURI string
	Salt        []byte // wiped when the state is used
	CreatedAt   time.Time
	ExpiresAt   time.Time
	UsedAt      *time.Time
}

// OAuthReader reads linked identities and OAuth states.
type OAuthReader interface {
	IdentityByProviderUserID(ctx context.Context, provider, providerUserID string) (*Identity, error)
	// ListIdentities returns the user's identities ordered by provider.
	ListIdentities(ctx context.Context, userID string) ([]*Identity, error)
	OAuthStateByHash(ctx context.Context, hash []byte) (*OAuthState, error)
}

// OAuthWriter writes linked identities and OAuth states.
type OAuthWriter interface {
	// CreateIdentity inserts id; ErrIdentityTaken when that provider account is already linked, or
	// the user already has an identity at that provider.
	CreateIdentity(ctx context.Context, id *Identity) error
	// TouchIdentity records a sign-in and the email address the provider reported with it.
	TouchIdentity(ctx context.Context, provider, providerUserID, email string, at time.Time) error
	// LockIdentities returns the user's identities and locks them until the transaction ends, so
	// that two concurrent unlinks cannot together remove the user's last way to sign in.
	LockIdentities(ctx context.Context, userID string) ([]*Identity, error)
	// DeleteIdentity unlinks the user's identity at provider; ErrNotFound when there is none.
	DeleteIdentity(ctx context.Context, userID, provider string) error
	CreateOAuthState(ctx context.Context, s *OAuthState) error
	// UseOAuthState marks an unused state used and wipes its salt, in one conditional update;
	// ErrNotFound when it is missing or already used, also by a concurrent transaction.
	UseOAuthState(ctx context.Context, hash []byte, at time.Time) error
	// DeleteExpiredOAuthStates removes the states that expired before the given time.
	DeleteExpiredOAuthStates(ctx context.Context, before time.Time) error
}

// Identities returns the provider accounts linked to the caller's account.
func (o *OAuthService) Identities(ctx context.Context, p *Principal) ([]*Identity, error) {
	return o.auth.store.ListIdentities(ctx, p.User.ID)
}

// Unlink removes the caller's identity at a provider. It refuses to remove the last way to sign
// in: an account without a password keeps at least one identity of a configured provider.
func (o *OAuthService) Unlink(ctx context.Context, p *Principal, providerName string) error {
	if err := o.auth.forbidImpersonated(ctx, p, "unlinking a sign-in provider"); err != nil {
		return err
	}
	return o.auth.tx(ctx, func(tx StoreTx) error {
		u, err := o.auth.lockCaller(ctx, tx, p)
		if err != nil {
			return err
		}
		ids, err := tx.LockIdentities(ctx, p.User.ID)
		if err != nil {
			return err
		}
		found, others := false, 0
		for _, id := range ids {
			switch {
			case id.Provider == providerName:
				found = true
			case o.providers[id.Provider] != nil:
				// An identity of a provider no longer configured cannot sign anyone in.
				others++
			}
		}
		if !found {
			return ErrIdentityNotFound
		}
		if !u.HasPassword() && others == 0 {
			return ErrLastSignInMethod
		}
		if err := tx.DeleteIdentity(ctx, p.User.ID, providerName); err != nil {
			return err
		}
		o.auth.log.InfoContext(ctx, "identity unlinked", "user_id", p.User.ID, "provider", providerName)
		return o.auth.auditTx(ctx, tx, p.Client, EventOAuthUnlinked, p.User.ID, OutcomeSuccess, providerName)
	})
}
