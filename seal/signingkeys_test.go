package seal_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/seal"
	"github.com/gatehouse/gatehouse/sqlite"
)

func box(t *testing.T, b byte) *seal.Box {
	t.Helper()
	bx, err := seal.New(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return bx
}

func TestSigningKeysSealedAtRest(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "g.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	private := []byte("-----BEGIN PRIVATE KEY----- not really")
	key := gatehouse.SigningKey{ID: "k1", Algorithm: "ES256", Private: private, CreatedAt: time.Now()}
	if err := store.Tx(ctx, func(tx gatehouse.StoreTx) error { return tx.CreateSigningKey(ctx, key) }); err != nil {
		t.Fatal(err)
	}
	keys := seal.NewSigningKeys(store, box(t, 1), "the test key")
	if n, err := keys.SealExisting(ctx); err != nil || n != 1 {
		t.Fatalf("SealExisting = %d, %v; want 1 key sealed", n, err)
	}
	if n, err := keys.SealExisting(ctx); err != nil || n != 0 {
		t.Fatalf("a second SealExisting = %d, %v; want nothing left to seal", n, err)
	}
	stored, err := store.SigningKeys(ctx)
	if err != nil || len(stored) != 1 || bytes.Contains(stored[0].Private, private) {
		t.Fatalf("the store keeps %q (%v)", stored, err)
	}
	opened, err := keys.SigningKeys(ctx)
	if err != nil || len(opened) != 1 || !bytes.Equal(opened[0].Private, private) {
		t.Fatalf("opened %v, %v", opened, err)
	}
	// Another key cannot open it, and says which key it tried.
	_, err = seal.NewSigningKeys(store, box(t, 2), "another key").SigningKeys(ctx)
	if err == nil || !strings.Contains(err.Error(), "another key") || !strings.Contains(err.Error(), "GATEHOUSE_ENCRYPTION_KEY") {
		t.Fatalf("opening with another key: %v", err)
	}
}
