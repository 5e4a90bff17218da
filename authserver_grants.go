package gatehouse

import "context"

// ListGrants returns the caller's grants: the apps connected to the account.
func (as *AuthorizationServer) ListGrants(ctx context.Context, p *Principal) ([]*Grant, error) {
	return as.store.ListGrants(ctx, GrantFilter{UserID: p.User.ID})
}

// ListGrantsOf returns the grants of a user or of a client, for admins and the operator.
func (as *AuthorizationServer) ListGrantsOf(ctx context.Context, f GrantFilter) ([]*Grant, error) {
	if f.UserID == "" && f.ClientID == "" {
		return nil, Errorf(KindBadRequest, "filter_required", "Name a user or a client.")
	}
	return as.store.ListGrants(ctx, f)
}

// RevokeGrant removes one of the caller's grants and revokes its sessions: the app's refresh
// tokens stop working at once, and so do its access tokens on this server. Another user's grant
// is reported as not found.
func (as *AuthorizationServer) RevokeGrant(ctx context.Context, p *Principal, grantID string) error {
	if err := as.auth.forbidImpersonated(ctx, p, "app grant revocation"); err != nil {
		return err
	}
	return as.revokeGrant(ctx, p, grantID, p.User.ID)
}

// RevokeGrantOf is RevokeGrant for an admin or the operator: any user's grant.
func (as *AuthorizationServer) RevokeGrantOf(ctx context.Context, p *Principal, grantID string) error {
	return as.revokeGrant(ctx, p, grantID, "")
}

func (as *AuthorizationServer) revokeGrant(ctx context.Context, p *Principal, grantID, ownerID string) error {
	var revoked []string
	err := as.auth.tx(ctx, func(tx StoreTx) error {
		if ownerID != "" {
			if _, err := as.auth.lockCaller(ctx, tx, p); err != nil {
				return err
			}
		}
		g, err := tx.GrantByID(ctx, grantID)
		if err != nil {
			return err
		}
		if ownerID != "" && g.UserID != ownerID {
			return ErrNotFound
		}
		if err := tx.DeleteGrant(ctx, g.ID); err != nil {
			return err
		}
		if revoked, err = tx.RevokeSessionsWhere(ctx, GrantFilter{GrantID: g.ID}, as.now()); err != nil {
			return err
		}
		return as.auth.auditTx(ctx, tx, p.Client, EventOAuthGrantRevoked, g.UserID, OutcomeSuccess,
			"grant "+g.ID+" client "+g.ClientID+p.actor())
	})
	if err != nil {
		return err
	}
	as.auth.cache.invalidateSessions(revoked...)
	return nil
}
