package gatehouse_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/password"
	"github.com/gatehouse/gatehouse/token"
)

// The set-up the domain's test rigs share: an access-token issuer with a signing key of its own,
// a password hasher that costs next to nothing, and an AuthService over them.

// newTestIssuer stores a fresh ES256 signing key in store and returns an issuer of access tokens
// for iss (also their audience, with audiences beside it) that signs with it.
func newTestIssuer(tb testing.TB, store gatehouse.Store, iss string, audiences ...string) *token.Issuer {
	tb.Helper()
	ctx := context.Background()
	key, err := token.GenerateKey("ES256", time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	if err := store.Tx(ctx, func(tx gatehouse.StoreTx) error { return tx.CreateSigningKey(ctx, key) }); err != nil {
		tb.Fatal(err)
	}
	tokens := token.NewIssuer(token.Config{Issuer: iss, Audience: iss, Audiences: audiences, Algorithm: "ES256",
		TTL: gatehouse.DefaultAuthConfig.AccessTokenTTL}, store)
	if err := tokens.Reload(ctx); err != nil {
		tb.Fatal(err)
	}
	return tokens
}

// cheapHasher hashes passwords with the smallest Argon2id parameters: for tests of what a
// password guards, not of the hash.
func cheapHasher() *password.Hasher {
	return password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 2, time.Second)
}

// newTestAuth is an AuthService over store with the default configuration and no password policy.
func newTestAuth(store gatehouse.Store, h gatehouse.PasswordHasher, tokens *token.Issuer) *gatehouse.AuthService {
	return gatehouse.NewAuthService(gatehouse.AuthDeps{Store: store, Hasher: h, Policy: password.Policy{}, Tokens: tokens, Config: gatehouse.DefaultAuthConfig})
}
