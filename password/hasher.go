package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/gatehouse/gatehouse"
)

var _ gatehouse.PasswordHasher = (*Hasher)(nil)

// waitersPerWorker caps the queue: past it a caller would almost surely time out anyway, so
// refusing at once spares a goroutine and its request body per excess caller during a flood.
const waitersPerWorker = 8

// Hasher hashes and verifies passwords with argon2id, running at most a fixed number of
// computations at once. Each one holds Params.Memory KiB, so the bound is what keeps a burst of
// logins from exhausting memory and CPU; callers that cannot get a slot in time get
// gatehouse.ErrBusy.
type Hasher struct {
	params     Params
	sem        chan struct{} // one token per running computation
	maxWait    time.Duration
	maxWaiters int64
	waiting    atomic.Int64

	// A hash of a random secret with the current params, so VerifyDummy does the same work as a
	// real Verify.
	dummySalt []byte
	dummyKey  []byte

	// Unexported seams that let tests observe the pool without sleeping. Set before use only.
	testHookWaiting  func() // called once a call has joined the queue
	testHookAcquired func() // called once a call holds a slot, before it computes
	computed         atomic.Int64
}

// NewHasher returns a Hasher that runs at most workers computations at once (runtime.NumCPU()
// when workers <= 0) and lets a call wait at most maxWait for a slot (not at all when
// maxWait <= 0). It computes one hash before returning, for VerifyDummy. It panics when p is
// invalid: that is a configuration bug, and Params.Validate lets callers check first.
func NewHasher(p Params, workers int, maxWait time.Duration) *Hasher {
	if err := p.Validate(); err != nil {
		panic("password: NewHasher: invalid params: " + err.Error())
	}
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	h := &Hasher{
		params:     p,
		sem:        make(chan struct{}, workers),
		maxWait:    maxWait,
		maxWaiters: int64(workers) * waitersPerWorker,
	}
	secret := make([]byte, 32)
	h.dummySalt = make([]byte, p.SaltLen)
	mustRandom(secret)
	mustRandom(h.dummySalt)
	h.dummyKey = argon2.IDKey(secret, h.dummySalt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return h
}

// Params returns the parameters new hashes are made with.
func (h *Hasher) Params() Params { return h.params }

// Waiting returns how many calls are queued for a slot.
func (h *Hasher) Waiting() int { return int(h.waiting.Load()) }

// Running returns how many slots are held.
func (h *Hasher) Running() int { return len(h.sem) }

// Hash returns password hashed with the current params, as a PHC string.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	salt := make([]byte, h.params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: reading salt: %w", err)
	}
	key := h.derive(password, salt, h.params)
	return encodePHC(h.params, salt, key), nil
}

// Verify reports whether password matches encoded, comparing in constant time. needsRehash is
// true only on a match (a rehash needs the right plaintext) and when encoded was made with
// params weaker than the current ones. A malformed encoded gives ok=false and an error wrapping
// ErrMalformedHash, after the same amount of work as a real check, so a corrupt row cannot be
// told apart by timing.
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (ok, needsRehash bool, err error) {
	if err := h.acquire(ctx); err != nil {
		return false, false, err
	}
	defer h.release()
	p, salt, key, err := decodePHC(encoded)
	if err != nil {
		h.burnDummy(password)
		return false, false, err
	}
	got := h.derive(password, salt, p)
	ok = subtle.ConstantTimeCompare(got, key) == 1
	return ok, ok && p.weakerThan(h.params), nil
}

// VerifyDummy does the work of one Verify with the current params and discards the result, so
// a login for an unknown account takes as long as one for a known account.
func (h *Hasher) VerifyDummy(ctx context.Context, password string) error {
	if err := h.acquire(ctx); err != nil {
		return err
	}
	defer h.release()
	h.burnDummy(password)
	return nil
}

func (h *Hasher) burnDummy(password string) {
	got := h.derive(password, h.dummySalt, h.params)
	subtle.ConstantTimeCompare(got, h.dummyKey)
}

func (h *Hasher) derive(password string, salt []byte, p Params) []byte {
	h.computed.Add(1)
	return argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
}

// acquire takes a slot or fails with gatehouse.ErrBusy. When ctx ends first the error also
// wraps ctx's cause, so callers can tell a client that went away from an overloaded pool while
// the HTTP edge, which only knows *gatehouse.Error, still maps it to 503 and not to 500.
func (h *Hasher) acquire(ctx context.Context) error {
	if ctx.Err() != nil {
		return busyBecause(ctx)
	}
	select {
	case h.sem <- struct{}{}:
		h.acquired()
		return nil
	default:
	}
	if h.maxWait <= 0 {
		return gatehouse.ErrBusy
	}
	if h.waiting.Add(1) > h.maxWaiters {
		h.waiting.Add(-1)
		return gatehouse.ErrBusy
	}
	defer h.waiting.Add(-1)
	if h.testHookWaiting != nil {
		h.testHookWaiting()
	}
	timer := time.NewTimer(h.maxWait)
	defer timer.Stop()
	select {
	case h.sem <- struct{}{}:
		h.acquired()
		return nil
	case <-timer.C:
		return gatehouse.ErrBusy
	case <-ctx.Done():
		return busyBecause(ctx)
	}
}

func (h *Hasher) acquired() {
	if h.testHookAcquired != nil {
		h.testHookAcquired()
	}
}

func (h *Hasher) release() { <-h.sem }

func busyBecause(ctx context.Context) error {
	return fmt.Errorf("%w: %w", gatehouse.ErrBusy, context.Cause(ctx))
}

func mustRandom(b []byte) {
	if _, err := rand.Read(b); err != nil {
		// crypto/rand.Read does not fail on supported platforms since Go 1.24; if it ever does,
		// running without unpredictable secrets would be worse than not starting.
		panic("password: crypto/rand: " + err.Error())
	}
}

// WithQueueLimit sets how many calls may wait for a slot (workers × 8 by default) and returns h.
// Call it before the Hasher is used.
func (h *Hasher) WithQueueLimit(n int) *Hasher {
	if n >= 0 {
		h.maxWaiters = int64(n)
	}
	return h
}
