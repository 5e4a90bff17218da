package password

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

func TestHashVerifyRoundTrip(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(cheap, 2, time.Second)
	for _, pw := range []string{"correct horse battery staple", "pässwörd", "", "日本語のパスワード"} {
		enc, err := h.Hash(ctx, pw)
		if err != nil {
			t.Fatalf("Hash(%q): %v", pw, err)
		}
		ok, rehash, err := h.Verify(ctx, pw, enc)
		if !ok || rehash || err != nil {
			t.Fatalf("Verify(%q, own hash) = %v, %v, %v; want true, false, nil", pw, ok, rehash, err)
		}
		ok, rehash, err = h.Verify(ctx, pw+"x", enc)
		if ok || rehash || err != nil {
			t.Fatalf("Verify(wrong password) = %v, %v, %v; want false, false, nil", ok, rehash, err)
		}
	}
}

func TestHashSaltsDiffer(t *testing.T) {
	h := NewHasher(cheap, 1, time.Second)
	a, _ := h.Hash(context.Background(), "same")
	b, _ := h.Hash(context.Background(), "same")
	if a == b {
		t.Fatal("two hashes of the same password are identical; the salt is not random")
	}
}

func TestHashDefaultParams(t *testing.T) {
	h := NewHasher(DefaultParams, 1, time.Second)
	enc, err := h.Hash(context.Background(), "Tr0ub4dor&3")
	if err != nil {
		t.Fatal(err)
	}
	ok, rehash, err := h.Verify(context.Background(), "Tr0ub4dor&3", enc)
	if !ok || rehash || err != nil {
		t.Fatalf("Verify = %v, %v, %v", ok, rehash, err)
	}
	if err := h.VerifyDummy(context.Background(), "anything"); err != nil {
		t.Fatal(err)
	}
}

func TestNeedsRehash(t *testing.T) {
	ctx := context.Background()
	current := NewHasher(cheap, 1, time.Second)
	with := func(mod func(*Params)) string {
		p := cheap
		mod(&p)
		enc, err := NewHasher(p, 1, time.Second).Hash(ctx, "pw")
		if err != nil {
			t.Fatal(err)
		}
		return enc
	}
	tests := []struct {
		name string
		enc  string
		want bool
	}{
		{"same", with(func(*Params) {}), false},
		{"less memory", with(func(p *Params) { p.Memory = 32 }), true},
		{"shorter salt", with(func(p *Params) { p.SaltLen = 8 }), true},
		{"shorter key", with(func(p *Params) { p.KeyLen = 16 }), true},
		{"more memory", with(func(p *Params) { p.Memory = 128 }), false},
		{"more passes", with(func(p *Params) { p.Time = 2 }), false},
		{"more threads", with(func(p *Params) { p.Threads = 2 }), false},
	}
	stronger := cheap
	stronger.Time = 2
	strongerHasher := NewHasher(stronger, 1, time.Second)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := current.Verify(ctx, "pw", tt.enc)
			if !ok || err != nil || rehash != tt.want {
				t.Fatalf("Verify = %v, %v, %v; want true, %v, nil", ok, rehash, err, tt.want)
			}
			// A wrong password never asks for a rehash: there is nothing to rehash with.
			if _, rehash, _ := current.Verify(ctx, "wrong", tt.enc); rehash {
				t.Fatal("needsRehash true on a wrong password")
			}
		})
	}
	t.Run("fewer passes than current", func(t *testing.T) {
		ok, rehash, err := strongerHasher.Verify(ctx, "pw", tests[0].enc)
		if !ok || !rehash || err != nil {
			t.Fatalf("Verify = %v, %v, %v; want true, true, nil", ok, rehash, err)
		}
	})
}

// occupy takes every slot of h directly, as if that many hashes were running.
func occupy(h *Hasher) (release func()) {
	n := cap(h.sem)
	for range n {
		h.sem <- struct{}{}
	}
	return func() {
		for range n {
			<-h.sem
		}
	}
}

// waitQueued returns a channel that receives once per call that joins h's queue.
func waitQueued(h *Hasher, n int) <-chan struct{} {
	ch := make(chan struct{}, n)
	h.testHookWaiting = func() { ch <- struct{}{} }
	return ch
}

// recv guards against a hang turning into a 10-minute test timeout; it asserts nothing about
// how long anything takes.
func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(time.Minute):
		t.Fatal("gave up waiting: the call never returned")
		panic("unreachable")
	}
}

func isBusy(err error) bool { return errors.Is(err, gatehouse.ErrBusy) }

func TestPoolBusyWhileHashRuns(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(cheap, 1, time.Millisecond)
	inside, proceed := make(chan struct{}), make(chan struct{})
	var once sync.Once
	h.testHookAcquired = func() { once.Do(func() { close(inside); <-proceed }) }

	first := make(chan error, 1)
	go func() {
		_, err := h.Hash(ctx, "first")
		first <- err
	}()
	recv(t, inside)
	if got := h.Running(); got != 1 {
		t.Fatalf("Running() = %d while a hash runs, want 1", got)
	}

	if _, err := h.Hash(ctx, "second"); !isBusy(err) {
		t.Fatalf("Hash while the only worker is busy: %v, want ErrBusy", err)
	}
	if _, _, err := h.Verify(ctx, "second", "whatever"); !isBusy(err) {
		t.Fatalf("Verify while the only worker is busy: %v, want ErrBusy", err)
	}
	if err := h.VerifyDummy(ctx, "second"); !isBusy(err) {
		t.Fatalf("VerifyDummy while the only worker is busy: %v, want ErrBusy", err)
	}
	if gatehouse.ErrorKindOf(gatehouse.ErrBusy) != gatehouse.KindUnavailable {
		t.Fatal("ErrBusy is not KindUnavailable")
	}

	close(proceed)
	if err := recv(t, first); err != nil {
		t.Fatalf("first Hash: %v", err)
	}
	if got := h.Running(); got != 0 {
		t.Fatalf("Running() = %d after the hash finished, want 0", got)
	}
	if _, err := h.Hash(ctx, "third"); err != nil {
		t.Fatalf("Hash once the worker is free: %v", err)
	}
}

func TestPoolNoWaitWhenMaxWaitZero(t *testing.T) {
	h := NewHasher(cheap, 1, 0)
	h.testHookWaiting = func() { t.Error("a call queued although maxWait is 0") }
	defer occupy(h)()
	if _, err := h.Hash(context.Background(), "pw"); !isBusy(err) {
		t.Fatalf("Hash = %v, want ErrBusy", err)
	}
}

func TestPoolWaiterGetsFreedSlot(t *testing.T) {
	h := NewHasher(cheap, 1, time.Hour)
	queued := waitQueued(h, 1)
	release := occupy(h)
	done := make(chan error, 1)
	go func() {
		_, err := h.Hash(context.Background(), "pw")
		done <- err
	}()
	recv(t, queued)
	if got := h.Waiting(); got != 1 {
		t.Fatalf("Waiting() = %d, want 1", got)
	}
	release()
	if err := recv(t, done); err != nil {
		t.Fatalf("queued Hash after the slot was freed: %v", err)
	}
	if got := h.Waiting(); got != 0 {
		t.Fatalf("Waiting() = %d after the call finished, want 0", got)
	}
}

// fillQueue occupies every slot of h and queues n Hash calls on ctx; it returns their results.
func fillQueue(t *testing.T, h *Hasher, ctx context.Context, n int) (results <-chan error, release func()) {
	t.Helper()
	queued := waitQueued(h, n)
	release = occupy(h)
	out := make(chan error, n)
	for range n {
		go func() {
			_, err := h.Hash(ctx, "pw")
			out <- err
		}()
	}
	for range n {
		recv(t, queued)
	}
	if got := h.Waiting(); got != n {
		t.Fatalf("Waiting() = %d, want %d", got, n)
	}
	return out, release
}

// TestPoolQueueFromHashTime: the queue holds as many calls as the slots serve within the maximum
// wait, from the hash time; the next is refused at once, without waiting for maxWait or ctx.
func TestPoolQueueFromHashTime(t *testing.T) {
	const workers = 2
	h := NewHasher(cheap, workers, 10*time.Minute)
	h.fixedHashTime = time.Minute // the hash time is injected: nothing here depends on the clock
	want := workers * 10          // each slot serves 10 one-minute hashes within 10 minutes
	if got := h.QueueLimit(); got != want {
		t.Fatalf("QueueLimit() = %d, want %d", got, want)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	results, release := fillQueue(t, h, ctx, want)
	defer release()
	if !h.Saturated() {
		t.Fatal("Saturated() = false with every slot taken and a full queue")
	}
	if _, err := h.Hash(context.Background(), "pw"); !isBusy(err) || errors.Is(err, context.Canceled) {
		t.Fatalf("Hash with a full queue = %v, want plain ErrBusy", err)
	}
	if got := h.Waiting(); got != want {
		t.Fatalf("Waiting() = %d after a refused call, want %d", got, want)
	}

	// Slower hashes, shorter queue: those already waiting stay, newcomers are refused.
	h.fixedHashTime = 5 * time.Minute
	if got := h.QueueLimit(); got != workers*2 {
		t.Fatalf("QueueLimit() at 5 min a hash = %d, want %d", got, workers*2)
	}

	cancel()
	for range want {
		if err := recv(t, results); !isBusy(err) || !errors.Is(err, context.Canceled) {
			t.Fatalf("queued Hash after cancel = %v, want ErrBusy wrapping context.Canceled", err)
		}
	}
	if got := h.Waiting(); got != 0 {
		t.Fatalf("Waiting() = %d after every waiter left, want 0", got)
	}
	if h.Saturated() {
		t.Fatal("Saturated() = true with an empty queue")
	}
}

// TestPoolServesBurstThatFits is issue 13's burst: 20 sign-ups at once on 2 workers, a hash taking
// a fifteenth of the maximum wait (33 ms of 500 ms). Two compute, 18 wait, and all are served: a
// fixed 8 waiters per worker refused two of them.
func TestPoolServesBurstThatFits(t *testing.T) {
	const workers, burst = 2, 20
	h := NewHasher(cheap, workers, 15*time.Minute)
	h.fixedHashTime = time.Minute
	results, release := fillQueue(t, h, context.Background(), burst-workers)
	release() // the two "running" hashes finish; the waiters take their slots in turn
	for range burst - workers {
		if err := recv(t, results); err != nil {
			t.Fatalf("a call of the burst failed: %v", err)
		}
	}
}

// TestPoolQueueBoundedByContextDeadline: a caller whose context ends before it could get a slot
// is refused at once rather than left to wait in vain.
func TestPoolQueueBoundedByContextDeadline(t *testing.T) {
	h := NewHasher(cheap, 2, time.Hour)
	h.fixedHashTime = time.Minute
	short, cancel := context.WithTimeout(context.Background(), 150*time.Second) // room for 2 rounds
	defer cancel()
	results, release := fillQueue(t, h, short, 4)
	defer release()
	if _, err := h.Hash(short, "pw"); !isBusy(err) || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("fifth caller with 2.5 minutes left = %v, want plain ErrBusy", err)
	}
	// Without the short deadline the same queue still has room (an hour: 60 rounds).
	long, cancelLong := context.WithCancel(context.Background())
	queued := waitQueued(h, 1)
	done := make(chan error, 1)
	go func() { _, err := h.Hash(long, "pw"); done <- err }()
	recv(t, queued)
	cancelLong()
	if err := recv(t, done); !errors.Is(err, context.Canceled) {
		t.Fatalf("caller with time to wait = %v, want it to have waited until cancelled", err)
	}
	cancel()
	for range 4 {
		recv(t, results)
	}
}

func TestQueueAdmits(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		k, workers       int
		hashTime, budget time.Duration
		want             bool
	}{
		{1, 2, 33 * ms, 500 * ms, true},
		{18, 2, 33 * ms, 500 * ms, true}, // 20 sign-ups: 2 compute, 18 wait 9 rounds (297 ms)
		{30, 2, 33 * ms, 500 * ms, true}, // 15 rounds: 495 ms
		{31, 2, 33 * ms, 500 * ms, false},
		{1, 2, 600 * ms, 500 * ms, false}, // no one would get a slot in time
		{4, 1, 100 * ms, 400 * ms, true},  // exactly on the deadline
		{5, 1, 100 * ms, 400 * ms, false},
		{1, 4, time.Second, 0, false},
		{1, 4, time.Second, -time.Second, false},
		{0, 4, time.Second, time.Minute, false},
		{1000, 4, 0, time.Second, true}, // a zero estimate does not divide by zero
	}
	for _, tt := range tests {
		if got := queueAdmits(tt.k, tt.workers, tt.hashTime, tt.budget); got != tt.want {
			t.Errorf("queueAdmits(k=%d, workers=%d, hash %s, budget %s) = %v, want %v",
				tt.k, tt.workers, tt.hashTime, tt.budget, got, tt.want)
		}
	}
}

func TestQueueLimitCap(t *testing.T) {
	h := NewHasher(cheap, 2, time.Hour)
	h.fixedHashTime = time.Minute
	if got := h.QueueLimit(); got != 120 {
		t.Fatalf("QueueLimit() = %d, want 120", got)
	}
	if got := h.WithQueueLimit(7).QueueLimit(); got != 7 {
		t.Fatalf("QueueLimit() with a cap of 7 = %d", got)
	}
	results, release := fillQueue(t, h, context.Background(), 7)
	if _, err := h.Hash(context.Background(), "pw"); !isBusy(err) {
		t.Fatalf("eighth caller with a cap of 7 = %v, want ErrBusy", err)
	}
	release()
	for range 7 {
		if err := recv(t, results); err != nil {
			t.Fatal(err)
		}
	}
	if got := h.WithQueueLimit(-1).QueueLimit(); got != 120 {
		t.Fatalf("QueueLimit() after removing the cap = %d, want 120", got)
	}
}

// TestHashTimeEstimate: the first computation replaces the calibration; later ones move the
// estimate by their share, at most 1/8.
func TestHashTimeEstimate(t *testing.T) {
	h := NewHasher(cheap, 1, time.Second)
	if h.HashTime() <= 0 {
		t.Fatalf("calibrated HashTime() = %s, want > 0", h.HashTime())
	}
	ms := time.Millisecond
	for i, step := range []struct{ sample, want time.Duration }{
		{40 * ms, 40 * ms}, // replaces the calibration
		{20 * ms, 30 * ms}, // mean of two
		{60 * ms, 40 * ms}, // mean of three
		{40 * ms, 40 * ms},
		{40 * ms, 40 * ms},
		{40 * ms, 40 * ms},
		{40 * ms, 40 * ms},
		{120 * ms, 50 * ms}, // eighth sample: weight 1/8
		{130 * ms, 60 * ms}, // and stays 1/8
	} {
		h.observe(step.sample)
		if got := h.HashTime(); got != step.want {
			t.Fatalf("after sample %d (%s): HashTime() = %s, want %s", i+1, step.sample, got, step.want)
		}
	}

	// Only computations with the current params count: verifying an older, cheaper hash says
	// nothing about the time of a new one.
	old := cheap
	old.Memory = 32
	enc, _ := NewHasher(old, 1, time.Second).Hash(context.Background(), "pw")
	before := h.samples
	if _, _, err := h.Verify(context.Background(), "pw", enc); err != nil {
		t.Fatal(err)
	}
	if h.samples != before {
		t.Fatal("a computation with other params changed the estimate")
	}
	if _, err := h.Hash(context.Background(), "pw"); err != nil {
		t.Fatal(err)
	}
	if h.samples != before+1 {
		t.Fatal("a computation with the current params was not counted")
	}
}

func TestPoolContextCancelWhileWaiting(t *testing.T) {
	h := NewHasher(cheap, 1, time.Hour)
	queued := waitQueued(h, 3)
	defer occupy(h)()

	for _, call := range []struct {
		name string
		run  func(ctx context.Context) error
	}{
		{"Hash", func(ctx context.Context) error { _, err := h.Hash(ctx, "pw"); return err }},
		{"Verify", func(ctx context.Context) error {
			ok, rehash, err := h.Verify(ctx, "pw", "$argon2id$v=19$m=64,t=1,p=1$"+salt16+"$"+key32)
			if ok || rehash {
				return errors.New("ok or needsRehash set on a failed call")
			}
			return err
		}},
		{"VerifyDummy", func(ctx context.Context) error { return h.VerifyDummy(ctx, "pw") }},
	} {
		t.Run(call.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- call.run(ctx) }()
			recv(t, queued)
			cancel()
			err := recv(t, done)
			if !isBusy(err) || !errors.Is(err, context.Canceled) {
				t.Fatalf("%s after cancel = %v, want ErrBusy wrapping context.Canceled", call.name, err)
			}
		})
	}
}

func TestPoolContextAlreadyDone(t *testing.T) {
	h := NewHasher(cheap, 1, time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 0)
	defer cancel()
	<-ctx.Done()
	before := h.computed.Load()
	if _, err := h.Hash(ctx, "pw"); !isBusy(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Hash with an expired ctx = %v, want ErrBusy wrapping DeadlineExceeded", err)
	}
	if h.computed.Load() != before {
		t.Fatal("a hash was computed for an expired ctx")
	}
}

func TestPoolTimeoutIsBusy(t *testing.T) {
	h := NewHasher(cheap, 1, time.Millisecond)
	defer occupy(h)()
	_, err := h.Hash(context.Background(), "pw")
	if !isBusy(err) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Hash after maxWait = %v, want plain ErrBusy", err)
	}
}

func TestNewHasherDefaultWorkers(t *testing.T) {
	h := NewHasher(cheap, 0, 0)
	if cap(h.sem) != runtime.NumCPU() {
		t.Fatalf("workers = %d, want runtime.NumCPU() = %d", cap(h.sem), runtime.NumCPU())
	}
}

func TestVerifyDummyComputesOnce(t *testing.T) {
	h := NewHasher(cheap, 1, time.Second)
	before := h.computed.Load()
	if err := h.VerifyDummy(context.Background(), "pw"); err != nil {
		t.Fatal(err)
	}
	if n := h.computed.Load() - before; n != 1 {
		t.Fatalf("VerifyDummy ran %d computations, want 1", n)
	}
}

// TestVerifyDummyDoesVerifyWork: an unknown account's login derives with exactly the params a
// current hash is verified with, and compares as many bytes, so its timing is the same. The dummy
// key is random bytes, not a hash computed at start-up: NewHasher computes nothing at full cost.
func TestVerifyDummyDoesVerifyWork(t *testing.T) {
	h := NewHasher(cheap, 1, time.Second)
	if n := h.computed.Load(); n != 0 {
		t.Fatalf("NewHasher ran %d full computations, want none", n)
	}
	var got []Params
	h.testHookDerive = func(p Params) { got = append(got, p) }
	enc, err := h.Hash(context.Background(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.Verify(context.Background(), "wrong", enc); err != nil {
		t.Fatal(err)
	}
	if err := h.VerifyDummy(context.Background(), "wrong"); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[1] != cheap || got[2] != cheap {
		t.Fatalf("derived with %+v; want Verify and VerifyDummy both with %+v", got, cheap)
	}
	if len(h.dummyKey) != int(cheap.KeyLen) || len(h.dummySalt) != int(cheap.SaltLen) {
		t.Fatalf("dummy key %d bytes, salt %d; want %d and %d", len(h.dummyKey), len(h.dummySalt), cheap.KeyLen, cheap.SaltLen)
	}
	if other := NewHasher(cheap, 1, time.Second); string(other.dummyKey) == string(h.dummyKey) {
		t.Fatal("two hashers share a dummy key")
	}
}

// TestIdleReleaseFreesMemoryOnceIdle: once the last computation of a burst ends, the memory is
// handed back, and not while the pool is busy.
func TestIdleReleaseFreesMemoryOnceIdle(t *testing.T) {
	h := NewHasher(cheap, 1, time.Second).WithIdleRelease(time.Nanosecond)
	freed := make(chan struct{}, 8)
	h.freeMemory = func() { freed <- struct{}{} }
	if _, err := h.Hash(context.Background(), "pw"); err != nil {
		t.Fatal(err)
	}
	recv(t, freed)

	release := occupy(h)
	h.releaseIfIdle()
	release()
	select {
	case <-freed:
		t.Fatal("memory freed while a computation ran")
	default:
	}

	plain := NewHasher(cheap, 1, time.Second)
	plain.freeMemory = func() { t.Error("memory freed without WithIdleRelease") }
	if _, err := plain.Hash(context.Background(), "pw"); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkHash(b *testing.B) {
	h := NewHasher(DefaultParams, runtime.NumCPU(), time.Minute)
	ctx := context.Background()
	for b.Loop() {
		if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHashParallel computes as many hashes at once as there are cores, as the pool does
// under a login flood: its ns/op is the time per hash of the whole machine, so 1 s / ns/op is the
// parallel hash rate, and BenchmarkHash's ns/op over it × cores says how far the hashes slow
// each other down (a memory-hard hash shares the caches and the memory bandwidth).
func BenchmarkHashParallel(b *testing.B) {
	h := NewHasher(DefaultParams, runtime.NumCPU(), time.Minute)
	ctx := context.Background()
	b.SetParallelism(1) // GOMAXPROCS goroutines, one per core
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	h := NewHasher(DefaultParams, runtime.NumCPU(), time.Minute)
	ctx := context.Background()
	enc, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, _, err := h.Verify(ctx, "correct horse battery staple", enc); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

func BenchmarkVerifyDummy(b *testing.B) {
	h := NewHasher(DefaultParams, runtime.NumCPU(), time.Minute)
	ctx := context.Background()
	for b.Loop() {
		if err := h.VerifyDummy(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}
