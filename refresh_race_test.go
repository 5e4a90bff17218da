package gatehouse_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/password"
	"github.com/gatehouse/gatehouse/sqlite"
	"github.com/gatehouse/gatehouse/token"
)

// racingStore is a real SQLite store on which a refresh loses both its races with a change to its
// user: the unlocked rotation is refused, and the user changes between the locked read and the write.
type racingStore struct{ gatehouse.Store }

func (s racingStore) CommitRotation(context.Context, gatehouse.Rotation) error {
	return gatehouse.ErrNotFound
}

func (s racingStore) Tx(ctx context.Context, fn func(gatehouse.StoreTx) error) error {
	return s.Store.Tx(ctx, func(tx gatehouse.StoreTx) error { return fn(userChangingTx{tx}) })
}

type userChangingTx struct{ gatehouse.StoreTx }

func (t userChangingTx) LockRefreshToken(ctx context.Context, hash []byte) (*gatehouse.RefreshToken, *gatehouse.Session, *gatehouse.User, error) {
	rt, sess, u, err := t.StoreTx.LockRefreshToken(ctx, hash)
	if err == nil {
		changed := *u
		changed.Name, changed.UpdatedAt = "Renamed", u.UpdatedAt.Add(time.Second)
		err = t.StoreTx.UpdateUser(ctx, &changed)
	}
	return rt, sess, u, err
}

// A refresh that raced a change to its user (its access token would carry a stale role or email)
// is answered with a retryable 503 and spends nothing: the same token then works.
func TestRefreshRacingAUserChangeIsRetryable(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "g.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	key, err := token.GenerateKey("ES256", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Tx(ctx, func(tx gatehouse.StoreTx) error { return tx.CreateSigningKey(ctx, key) }); err != nil {
		t.Fatal(err)
	}
	service := func(s gatehouse.Store) *gatehouse.AuthService {
		tokens := token.NewIssuer(token.Config{Issuer: "https://x", Audience: "https://x", Algorithm: "ES256", TTL: gatehouse.DefaultAuthConfig.AccessTokenTTL}, s)
		if err := tokens.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		return gatehouse.NewAuthService(gatehouse.AuthDeps{Store: s, Hasher: password.NewHasher(password.DefaultParams, 1, 0), Policy: password.Policy{}, Tokens: tokens, Config: gatehouse.DefaultAuthConfig})
	}
	plain, racing := service(store), service(racingStore{store})
	ts, err := plain.Register(ctx, gatehouse.RegisterInput{Email: "race@example.com", Password: "correct horse battery staple", Name: "R"}, gatehouse.Client{})
	if err != nil {
		t.Fatal(err)
	}

	_, err = racing.Refresh(ctx, ts.RefreshToken, gatehouse.Client{})
	var ge *gatehouse.Error
	if !errors.As(err, &ge) || ge.Kind != gatehouse.KindUnavailable || ge.Code != "refresh_conflict" || ge.RetryAfter <= 0 {
		t.Fatalf("refresh that raced a user change: %v, want a retryable refresh_conflict", err)
	}
	if u, err := store.UserByEmail(ctx, "race@example.com"); err != nil || u.Name != "R" {
		t.Fatalf("the racing change is part of the refused refresh's transaction and must be gone: %+v %v", u, err)
	}
	if _, err := plain.Refresh(ctx, ts.RefreshToken, gatehouse.Client{}); err != nil {
		t.Fatalf("the same token after the conflict: %v; nothing should have been spent", err)
	}
}
