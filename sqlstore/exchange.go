package sqlstore

import (
	"context"
	"time"

	"github.com/gatehouse/gatehouse"
)

// Token exchange and delegation (migration 0009).

func (r reader) DelegationFor(ctx context.Context, userID, clientID, resource string) (*gatehouse.Grant, error) {
	g, err := scanGrant(r.queryRow(ctx, `SELECT `+grantColumns+` FROM oauth_grants WHERE user_id = ? AND client_id = ? AND resource = ? AND kind = ?`,
		userID, clientID, resource, gatehouse.GrantDelegation))
	return g, r.s.mapErr(err)
}

func (t *tx) RevokeKeySessions(ctx context.Context, keyID string, at time.Time) ([]string, error) {
	if keyID == "" {
		return nil, nil
	}
	ids, err := t.queryIDs(ctx, `SELECT id FROM sessions WHERE subject_key_id = ? AND revoked_at IS NULL`+t.s.dialect.ForUpdate, keyID)
	if err != nil {
		return nil, err
	}
	if _, err := t.exec(ctx, `UPDATE sessions SET revoked_at = ? WHERE subject_key_id = ? AND revoked_at IS NULL`, micros(at), keyID); err != nil {
		return nil, err
	}
	return ids, nil
}
