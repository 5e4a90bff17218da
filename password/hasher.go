package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/gatehouse/gatehouse"
)

var _ gatehouse.PasswordHasher = (*Hasher)(nil)

// Hasher hashes and verifies passwords with argon2id, running at most a fixed number of
// computations at once. Each one holds Params.Memory KiB, so the bound is what keeps a burst of
// logins from exhausting memory and CPU.
//
// A call that finds every slot taken waits for one, in arrival order, at most maxWait (or until
// its context ends, if sooner). It is refused at once with gatehouse.ErrBusy when it could not get
// a slot in that time anyway: the queue is as long as the slots can serve within the wait, from
// the measured time of one computation (see queueAdmits). A burst the pool can serve in time is
// served; only what would miss its deadline is shed, and shed without waiting.
type Hasher struct {
	params   Params
	workers  int
	sem      chan struct{} // one token per running computation
	maxWait  time.Duration
	queueCap int64 // most calls waiting for a slot; < 0: no cap beyond the deadline rule
	waiting  atomic.Int64

	// hashTime is the estimated wall-clock time of one computation with params, in nanoseconds:
	// calibrated by NewHasher, then a running mean of the computations made (see observe).
	hashTime atomic.Int64
	estMu    sync.Mutex
	samples  int

	// VerifyDummy derives a key with the current params and compares it, in constant time, with
	// dummyKey, as Verify does with a stored key. The bytes compared cannot change how long the
	// comparison takes, so random ones do: the work that matters is the derivation, done in full.
	dummySalt []byte
	dummyKey  []byte

	// Optional return of the computations' memory to the OS once the pool has been idle.
	idleRelease time.Duration
	idleMu      sync.Mutex
	idleTimer   *time.Timer
	freeMemory  func() // debug.FreeOSMemory; replaced by tests

	// Unexported seams that let tests observe the pool without sleeping. Set before use only.
	testHookWaiting  func()       // called once a call has joined the queue
	testHookAcquired func()       // called once a call holds a slot, before it computes
	testHookDerive   func(Params) // called with the params of every computation
	fixedHashTime    time.Duration
	computed         atomic.Int64
}

// NewHasher returns a Hasher that runs at most workers computations at once (runtime.NumCPU()
// when workers <= 0) and lets a call wait at most maxWait for a slot (not at all when
// maxWait <= 0). It panics when p is invalid: that is a configuration bug, and Params.Validate
// lets callers check first.
//
// It computes no full hash: it times a few small ones (about 2 ms in all with DefaultParams) for a
// first estimate of the hash time, which the first real computations replace.
func NewHasher(p Params, workers int, maxWait time.Duration) *Hasher {
	if err := p.Validate(); err != nil {
		panic("password: NewHasher: invalid params: " + err.Error())
	}
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	h := &Hasher{
		params:     p,
		workers:    workers,
		sem:        make(chan struct{}, workers),
		maxWait:    maxWait,
		queueCap:   -1,
		dummySalt:  make([]byte, p.SaltLen),
		dummyKey:   make([]byte, p.KeyLen),
		freeMemory: debug.FreeOSMemory,
	}
	mustRandom(h.dummySalt)
	mustRandom(h.dummyKey)
	h.hashTime.Store(int64(calibrate(p)))
	return h
}

// calibrate estimates the time of one computation with p from the fastest of three with 1/32 of
// the memory, scaled up: argon2's work is proportional to its memory. The estimate errs low (small
// computations fit in the CPU's caches; here it is about 20 ms for a hash that takes 26–33 ms),
// which errs towards admitting callers; the first real computation replaces it.
func calibrate(p Params) time.Duration {
	small := p
	small.Memory = max(p.Memory/32, 8*uint32(p.Threads))
	pw, salt := []byte("calibration"), make([]byte, p.SaltLen)
	best := time.Duration(1<<63 - 1)
	for range 3 {
		start := time.Now()
		argon2.IDKey(pw, salt, small.Time, small.Memory, small.Threads, small.KeyLen)
		best = min(best, time.Since(start))
	}
	return max(time.Microsecond, best*time.Duration(p.Memory)/time.Duration(small.Memory))
}

// Params returns the parameters new hashes are made with.
func (h *Hasher) Params() Params { return h.params }

// Waiting returns how many calls are queued for a slot.
func (h *Hasher) Waiting() int { return int(h.waiting.Load()) }

// Running returns how many slots are held.
func (h *Hasher) Running() int { return len(h.sem) }

// HashTime returns the current estimate of one computation's wall-clock time.
func (h *Hasher) HashTime() time.Duration {
	if h.fixedHashTime > 0 {
		return h.fixedHashTime
	}
	return time.Duration(h.hashTime.Load())
}

// QueueLimit returns how many calls may wait for a slot now: as many as the slots can serve
// within the maximum wait at the current hash time, and at most the cap of WithQueueLimit.
func (h *Hasher) QueueLimit() int {
	if h.maxWait <= 0 {
		return 0
	}
	n := queueLength(h.workers, h.HashTime(), h.maxWait)
	if h.queueCap >= 0 {
		n = min(n, int(h.queueCap))
	}
	return n
}

// Saturated reports whether a call arriving now would be refused at once: every slot is taken
// and the queue is as long as the slots can serve within the maximum wait. The HTTP edge asks it
// before reading a request, so that a flood is refused before it costs anything.
func (h *Hasher) Saturated() bool {
	return len(h.sem) == cap(h.sem) && int(h.waiting.Load()) >= h.QueueLimit()
}

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
	if h.testHookDerive != nil {
		h.testHookDerive(p)
	}
	start := time.Now()
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	if p == h.params {
		h.observe(time.Since(start))
	}
	return key
}

// observe folds the time of one computation with the current params into the estimate: the
// mean of the computations so far, then a running mean weighting the last one 1/8, so that the
// estimate follows the machine's load within a few hashes without jumping at one slow one.
func (h *Hasher) observe(d time.Duration) {
	h.estMu.Lock()
	defer h.estMu.Unlock()
	h.samples++
	est := time.Duration(h.hashTime.Load())
	if h.samples == 1 {
		est = d // the first real computation replaces the calibration
	} else {
		est += (d - est) / time.Duration(min(h.samples, 8))
	}
	h.hashTime.Store(int64(max(est, time.Microsecond)))
}

// queueLength is how many calls can wait for one of workers slots and still get one within
// budget, when a computation takes hashTime: workers × ⌊budget / hashTime⌋ (see queueAdmits).
func queueLength(workers int, hashTime, budget time.Duration) int {
	if budget <= 0 || workers <= 0 {
		return 0
	}
	hashTime = max(hashTime, time.Nanosecond)
	return workers * int(min(budget/hashTime, 1<<30/time.Duration(workers)))
}

// queueAdmits reports whether the k-th call in line (k >= 1) for one of workers slots can count
// on a slot within budget. Slots are handed out in arrival order and each computation frees its
// slot within hashTime, so the k-th call gets one within ⌈k / workers⌉ × hashTime at the latest.
// The bound is the worst case, when every computation has just started; on average a slot comes
// half a hash sooner.
func queueAdmits(k, workers int, hashTime, budget time.Duration) bool {
	return k >= 1 && k <= queueLength(workers, hashTime, budget)
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
	budget := h.maxWait
	if deadline, ok := ctx.Deadline(); ok {
		budget = min(budget, time.Until(deadline))
	}
	k := h.waiting.Add(1)
	defer h.waiting.Add(-1)
	if (h.queueCap >= 0 && k > h.queueCap) || !queueAdmits(int(k), h.workers, h.HashTime(), budget) {
		return gatehouse.ErrBusy
	}
	if h.testHookWaiting != nil {
		h.testHookWaiting()
	}
	timer := time.NewTimer(budget)
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

func (h *Hasher) release() {
	<-h.sem
	if h.idleRelease > 0 && len(h.sem) == 0 && h.waiting.Load() == 0 {
		h.armIdleRelease()
	}
}

// WithIdleRelease makes h return the memory its computations used (Params.Memory KiB each) to the
// operating system once no computation has run for after, and returns h. The Go runtime would
// otherwise keep it until a garbage collection that an idle server may not run for minutes. It
// forces a collection (debug.FreeOSMemory), at most once per idle period. Call it before the
// Hasher is used.
func (h *Hasher) WithIdleRelease(after time.Duration) *Hasher {
	h.idleRelease = after
	return h
}

func (h *Hasher) armIdleRelease() {
	h.idleMu.Lock()
	defer h.idleMu.Unlock()
	if h.idleTimer == nil {
		h.idleTimer = time.AfterFunc(h.idleRelease, h.releaseIfIdle)
		return
	}
	h.idleTimer.Reset(h.idleRelease)
}

// releaseIfIdle frees memory unless the pool got busy again meanwhile; then the end of that
// burst re-arms the timer.
func (h *Hasher) releaseIfIdle() {
	if len(h.sem) > 0 || h.waiting.Load() > 0 {
		return
	}
	h.freeMemory()
}

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

// WithQueueLimit caps how many calls may wait for a slot, on top of the rule that a call waits
// only if it can get a slot within the maximum wait, and returns h. n < 0 means no cap (the
// default); 0 means calls never wait. Call it before the Hasher is used.
func (h *Hasher) WithQueueLimit(n int) *Hasher {
	h.queueCap = int64(max(n, -1))
	return h
}
