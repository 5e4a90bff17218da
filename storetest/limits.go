package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// takeRate runs one TakeRateEvent in its own transaction.
func takeRate(t *testing.T, s gatehouse.Store, key, id string, at time.Time, window time.Duration, limit int) (bool, time.Time) {
	t.Helper()
	var ok bool
	var oldest time.Time
	mustTx(t, s, func(tx gatehouse.StoreTx) error {
		var err error
		ok, oldest, err = tx.TakeRateEvent(context.Background(), key, id, at, at.Add(-window), limit)
		return err
	})
	return ok, oldest
}

func testRateEvents(t *testing.T, s gatehouse.Store) {
	ctx := context.Background()
	const window = time.Minute
	for i := 0; i < 3; i++ {
		if ok, _ := takeRate(t, s, "login_ip:a", fmt.Sprint("e", i), t0.Add(time.Duration(i)*time.Second), window, 3); !ok {
			t.Fatalf("event %d refused under the limit", i)
		}
	}
	ok, oldest := takeRate(t, s, "login_ip:a", "e3", t0.Add(3*time.Second), window, 3)
	if ok || !oldest.Equal(t0) {
		t.Fatalf("over the limit: ok=%v oldest=%v, want refused with the oldest event at %v", ok, oldest, t0)
	}
	// Keys do not share counts.
	if ok, _ := takeRate(t, s, "login_ip:b", "b0", t0.Add(3*time.Second), window, 3); !ok {
		t.Fatal("another key was limited")
	}
	// The window slides: once the oldest event is older than the window, one more fits.
	if ok, _ := takeRate(t, s, "login_ip:a", "e4", t0.Add(window+time.Second/2), window, 3); !ok {
		t.Fatal("the window did not slide")
	}
	if ok, _ := takeRate(t, s, "login_ip:a", "e5", t0.Add(window+time.Second/2), window, 3); ok {
		t.Fatal("more than the limit inside the window")
	}
	// A refunded event frees its place; a cleared key starts again.
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.DeleteRateEvent(ctx, "login_ip:a", "e4") })
	if ok, _ := takeRate(t, s, "login_ip:a", "e6", t0.Add(window+time.Second/2), window, 3); !ok {
		t.Fatal("a refunded event still counts")
	}
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.ClearRateEvents(ctx, "login_ip:a") })
	for i := 0; i < 3; i++ {
		if ok, _ := takeRate(t, s, "login_ip:a", fmt.Sprint("c", i), t0.Add(window+time.Second), window, 3); !ok {
			t.Fatal("a cleared key still counts")
		}
	}
	// Pruning forgets old events only.
	mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.PruneRateEvents(ctx, t0.Add(10*time.Second)) })
	if ok, _ := takeRate(t, s, "login_ip:b", "b1", t0.Add(20*time.Second), time.Hour, 1); !ok {
		t.Fatal("pruning left an old event behind")
	}
	if ok, _ := takeRate(t, s, "login_ip:a", "c3", t0.Add(window+time.Second), window, 3); ok {
		t.Fatal("pruning removed recent events")
	}
}

// testRateEventsConcurrent: concurrent takes on one key never pass the limit together.
func testRateEventsConcurrent(t *testing.T, s gatehouse.Store) {
	const n, limit = 16, 5
	var wg sync.WaitGroup
	var mu sync.Mutex
	granted := 0
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ok bool
			err := s.Tx(context.Background(), func(tx gatehouse.StoreTx) error {
				var err error
				ok, _, err = tx.TakeRateEvent(context.Background(), "register_ip:x", fmt.Sprint("r", i), t0, t0.Add(-time.Hour), limit)
				return err
			})
			if err != nil {
				t.Error(err)
				return
			}
			if ok {
				mu.Lock()
				granted++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if granted != limit {
		t.Fatalf("%d of %d concurrent takes granted, want exactly %d", granted, n, limit)
	}
}

func testAuditLog(t *testing.T, s gatehouse.Store) {
	ctx := context.Background()
	var ids []string
	for i, typ := range []string{gatehouse.EventRegistered, gatehouse.EventLoginFailed, gatehouse.EventLoginSucceeded, gatehouse.EventLoginFailed} {
		at := t0.Add(time.Duration(i) * time.Millisecond)
		e := &gatehouse.AuditEvent{ID: gatehouse.NewID(), At: at, Type: typ, UserID: fmt.Sprint("user-", i%2),
			IP: "192.0.2.1", UserAgent: "test/1", Outcome: gatehouse.OutcomeSuccess, Detail: fmt.Sprint("detail ", i)}
		if i == 0 {
			e.ActorID = "admin-1" // written in an impersonation session
		}
		mustTx(t, s, func(tx gatehouse.StoreTx) error { return tx.AppendAuditEvent(ctx, e) })
		ids = append(ids, e.ID)
	}
	list := func(f gatehouse.AuditFilter) []string {
		t.Helper()
		events, err := s.ListAuditEvents(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range events {
			out = append(out, e.ID)
		}
		return out
	}
	same := func(got []string, want ...string) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	same(list(gatehouse.AuditFilter{Limit: 10}), ids[3], ids[2], ids[1], ids[0])
	same(list(gatehouse.AuditFilter{Limit: 2}), ids[3], ids[2])
	same(list(gatehouse.AuditFilter{Limit: 10, BeforeID: ids[2]}), ids[1], ids[0])
	same(list(gatehouse.AuditFilter{Limit: 10, UserID: "user-1"}), ids[3], ids[1])
	same(list(gatehouse.AuditFilter{Limit: 10, Type: gatehouse.EventLoginFailed}), ids[3], ids[1])
	same(list(gatehouse.AuditFilter{Limit: 10, Type: gatehouse.EventLoginFailed, UserID: "user-0"}))

	events, err := s.ListAuditEvents(ctx, gatehouse.AuditFilter{Limit: 1, BeforeID: ids[1]})
	if err != nil || len(events) != 1 {
		t.Fatalf("%v %v", events, err)
	}
	if e := events[0]; e.Type != gatehouse.EventRegistered || !e.At.Equal(t0) || e.UserID != "user-0" || e.IP != "192.0.2.1" ||
		e.UserAgent != "test/1" || e.Outcome != gatehouse.OutcomeSuccess || e.Detail != "detail 0" || e.ActorID != "admin-1" {
		t.Fatalf("round trip: %+v", e)
	}
	if events, err := s.ListAuditEvents(ctx, gatehouse.AuditFilter{Limit: 1, BeforeID: ids[2]}); err != nil || len(events) != 1 || events[0].ActorID != "" {
		t.Fatalf("an event without an actor: %+v %v", events, err)
	}
}
