package gatehouse

import "context"

// Identities returns the provider accounts linked to the caller's account.
func (o *OAuthService) Identities(ctx context.Context, p *Principal) ([]*Identity, error) {
	return o.auth.store.ListIdentities(ctx, p.User.ID)
}

// Unlink removes the caller's identity at a provider. It refuses to remove the last way to sign
// in: an account without a password keeps at least one identity of a configured provider.
func (o *OAuthService) Unlink(ctx context.Context, p *Principal, providerName string) error {
	return o.auth.tx(ctx, func(tx StoreTx) error {
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
		u, err := tx.UserByID(ctx, p.User.ID)
		if err != nil {
			return err
		}
		if !u.HasPassword() && others == 0 {
			return ErrLastSignInMethod
		}
		if err := tx.DeleteIdentity(ctx, p.User.ID, providerName); err != nil {
			return err
		}
		o.auth.log.InfoContext(ctx, "identity unlinked", "user_id", p.User.ID, "provider", providerName)
		return o.auth.auditTx(ctx, tx, EventOAuthUnlinked, p.User.ID, OutcomeSuccess, providerName)
	})
}
