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

func TestPoolWaiterCap(t *testing.T) {
	const workers = 2
	h := NewHasher(cheap, workers, time.Hour)
	maxWaiters := workers * waitersPerWorker
	queued := waitQueued(h, maxWaiters)
	defer occupy(h)()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	results := make(chan error, maxWaiters)
	for range maxWaiters {
		go func() {
			_, err := h.Hash(ctx, "pw")
			results <- err
		}()
	}
	for range maxWaiters {
		recv(t, queued)
	}
	if got := h.Waiting(); got != maxWaiters {
		t.Fatalf("Waiting() = %d, want %d", got, maxWaiters)
	}

	// With the queue full, one more caller is refused at once, without waiting for maxWait
	// (an hour) or for ctx.
	if _, err := h.Hash(context.Background(), "pw"); !isBusy(err) || errors.Is(err, context.Canceled) {
		t.Fatalf("Hash with a full queue = %v, want plain ErrBusy", err)
	}
	if got := h.Waiting(); got != maxWaiters {
		t.Fatalf("Waiting() = %d after a refused call, want %d", got, maxWaiters)
	}

	cancel()
	for range maxWaiters {
		if err := recv(t, results); !isBusy(err) || !errors.Is(err, context.Canceled) {
			t.Fatalf("queued Hash after cancel = %v, want ErrBusy wrapping context.Canceled", err)
		}
	}
	if got := h.Waiting(); got != 0 {
		t.Fatalf("Waiting() = %d after every waiter left, want 0", got)
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

func BenchmarkHash(b *testing.B) {
	h := NewHasher(DefaultParams, runtime.NumCPU(), time.Minute)
	ctx := context.Background()
	for b.Loop() {
		if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
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
