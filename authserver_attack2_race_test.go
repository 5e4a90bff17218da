package gatehouse_test

import (
	"context"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse"
)

// txStartHookStore runs a hook once, just before the first transaction begins: for a token
// exchange, the moment after the client authenticated (outside any transaction) and before the
// transaction that creates the exchanged session.
type txStartHookStore struct {
	gatehouse.Store
	once *sync.Once
	hook func()
}

func (s txStartHookStore) Tx(ctx context.Context, fn func(gatehouse.StoreTx) error) error {
	s.once.Do(s.hook)
	return s.Store.Tx(ctx, fn)
}

// A token exchange authenticates its client before its transaction and never looks at the client
// again: an operator's "clients revoke" that commits in between (it revokes the client's sessions,
// then the exchange creates one more) leaves a live session of the revoked client, whose token
// works on Gatehouse's own API and reads active at introspection. docs/security.md §12: "revoking
// ... the client ... ends them on Gatehouse at once and refuses further exchanges at once".
// The code exchange and the device poll re-read the grant under lock, and client_credentials
// re-reads the client in its transaction ("The client may have been revoked since it
// authenticated"); an exchange from an API key or a first-party token has neither. Deterministic
// on SQLite: the revocation commits before the exchange's transaction starts.
func TestAttack2ClientRevocationRacingTokenExchangeLeavesLiveSession(t *testing.T) {
	ctx := context.Background()
	r := newAttackRig(t)
	_, victim := r.user("victim@example.com")
	key, secretKey, err := r.auth.CreateAPIKey(ctx, victim, gatehouse.NewAPIKeyInput{Name: "svc", Scopes: []string{gatehouse.ScopeProfileRead}})
	if err != nil || key == nil {
		t.Fatal(err)
	}
	svc, secret, err := r.as.CreateClient(ctx, gatehouse.Operator, gatehouse.NewClientInput{Name: "Key service",
		RedirectURIs: []string{attackRedirect}, AuthMethod: gatehouse.AuthMethodBasic,
		GrantTypes: []string{gatehouse.GrantAuthCode, gatehouse.GrantTokenExchange}})
	if err != nil {
		t.Fatal(err)
	}

	revoked := false
	_, hooked := r.newAS(txStartHookStore{r.store, &sync.Once{}, func() {
		if err := r.as.RevokeClient(ctx, gatehouse.Operator, svc.ID); err != nil {
			t.Errorf("revoke: %v", err)
		}
		revoked = true
	}})
	own := gatehouse.OwnAPIResource(attackIssuer)
	out, err := hooked.Token(ctx, gatehouse.TokenRequest{GrantType: gatehouse.GrantTokenExchange, Resources: []string{own},
		Credentials: creds(svc, secret),
		Exchange:    gatehouse.TokenExchangeParams{SubjectToken: secretKey, SubjectTokenType: gatehouse.TokenTypeAPIKey}}, gatehouse.Client{})
	if !revoked {
		t.Fatal("the hook did not run")
	}
	if err != nil {
		return // refused: sound
	}
	if _, err := r.as.Client(ctx, svc.ID); err == nil {
		t.Fatal("the client is not revoked")
	}
	if p, err := r.auth.Authenticate(ctx, out.AccessToken); err == nil {
		t.Fatalf("a token exchange by client %s, whose revocation committed before the exchange's transaction, issued a token "+
			"that works on Gatehouse's own API (user %s, scopes %v) after the revocation", svc.ID, p.User.ID, p.Scopes)
	}
	if in := r.auth.Introspect(ctx, out.AccessToken); in.Active {
		t.Fatalf("the revoked client's exchanged token is active at introspection: %+v", in)
	}
}
