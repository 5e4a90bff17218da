package token

import (
	"cmp"
	"crypto"
	"errors"
	"slices"
	"time"

	"github.com/gatehouse/gatehouse"
)

// ErrNoSigningKey means the store holds no usable key of the configured algorithm. The caller is
// expected to create one with GenerateKey, store it, and reload.
var ErrNoSigningKey = errors.New("token: no signing key for the configured algorithm")

const (
	// switchDelay bounds how long after a key is stored every instance has started signing with
	// it (instances reload every 5 s; 10 s leaves room for a slow reload).
	switchDelay = 10 * time.Second
	// retireLeeway covers clock skew between instances and the verifiers' own leeway.
	retireLeeway = time.Minute
)

// publishedKey is a key that verifiers must still accept.
type publishedKey struct {
	id        string
	createdAt time.Time
	signer    crypto.Signer
	public    crypto.PublicKey
	// retireAt is when the last token this key can have signed has expired; zero for the newest
	// key, which nothing has superseded yet.
	retireAt time.Time
}

func (k *publishedKey) publishedAt(now time.Time) bool {
	return k.retireAt.IsZero() || now.Before(k.retireAt)
}

// keyset is an immutable snapshot of the keys, swapped as a whole on reload so that Sign and
// Verify read it without locks.
type keyset struct {
	signer *publishedKey
	keys   []*publishedKey // newest first
	byID   map[string]*publishedKey
}

// skippedKey is a stored key that cannot be used: reported so that it is noticed, and otherwise
// treated as absent.
type skippedKey struct {
	id  string
	err error
}

// publish selects, among keys, those of alg that verifiers must accept at now, newest first.
//
// Ordering is by CreatedAt then ID, so that every instance elects the same signing key even when
// two keys share a timestamp. A superseded key is kept until its successor has been the signing
// key everywhere (switchDelay) for longer than a token lives, plus leeway. Keys that fail to parse
// are skipped as though they did not exist, so that one corrupt row does not end a successor's
// reign or block rotation.
func publish(keys []gatehouse.SigningKey, alg string, ttl time.Duration, now time.Time) ([]*publishedKey, []skippedKey, error) {
	ofAlg := make([]gatehouse.SigningKey, 0, len(keys))
	for _, k := range keys {
		if k.Algorithm == alg {
			ofAlg = append(ofAlg, k)
		}
	}
	slices.SortFunc(ofAlg, func(a, b gatehouse.SigningKey) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})

	var (
		out       []*publishedKey
		skipped   []skippedKey
		successor *publishedKey
	)
	for _, k := range ofAlg {
		var retireAt time.Time
		if successor != nil {
			retireAt = successor.createdAt.Add(switchDelay + ttl + retireLeeway)
			// Retirement times only grow with age, so once one key is retired all older ones
			// are too, and parsing them would be wasted work.
			if !now.Before(retireAt) {
				break
			}
		}
		signer, err := parsePrivate(k)
		if err != nil {
			skipped = append(skipped, skippedKey{id: k.ID, err: err})
			continue
		}
		pk := &publishedKey{id: k.ID, createdAt: k.CreatedAt, signer: signer, public: signer.Public(), retireAt: retireAt}
		out = append(out, pk)
		successor = pk
	}
	if len(out) == 0 {
		return nil, skipped, ErrNoSigningKey
	}
	return out, skipped, nil
}

func newKeyset(keys []*publishedKey) *keyset {
	ks := &keyset{signer: keys[0], keys: keys, byID: make(map[string]*publishedKey, len(keys))}
	for _, k := range keys {
		// A duplicate kid would be a store bug; the first (newest) wins so the signer is reachable.
		if _, dup := ks.byID[k.id]; !dup {
			ks.byID[k.id] = k
		}
	}
	return ks
}
