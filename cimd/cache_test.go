package cimd

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// checkLifetime fetches a document served with headers, checks its lifetime is want, and that the
// cached copy is used until just before it expires and refetched at expiry.
func checkLifetime(t *testing.T, headers map[string]string, want time.Duration) {
	t.Helper()
	h, requests := counting(serveDoc(nil, headers))
	srv := newServer(t, h)
	clock := newClock()
	f := newTestFetcher(srv, Options{Now: clock.Now})
	id := srv.URL + "/client.json"

	doc := mustFetch(t, f, id)
	if got := doc.Expires.Sub(doc.FetchedAt); got != want {
		t.Fatalf("lifetime = %v, want %v", got, want)
	}
	if !doc.FetchedAt.Equal(clock.Now()) {
		t.Fatalf("FetchedAt = %v, want the injected clock's %v", doc.FetchedAt, clock.Now())
	}
	clock.Advance(want - time.Second)
	mustFetch(t, f, id)
	if n := requests.Load(); n != 1 {
		t.Fatalf("%d requests before expiry, want 1", n)
	}
	clock.Advance(time.Second)
	mustFetch(t, f, id)
	if n := requests.Load(); n != 2 {
		t.Fatalf("%d requests at expiry, want 2", n)
	}
}

func TestCacheMaxAgeBelowMinimumClampedTo5Minutes(t *testing.T) {
	checkLifetime(t, map[string]string{"Cache-Control": "max-age=10"}, 5*time.Minute)
}

func TestCacheMaxAgeAboveMaximumClampedTo24Hours(t *testing.T) {
	checkLifetime(t, map[string]string{"Cache-Control": "public, max-age=864000"}, 24*time.Hour)
}

func TestCacheMaxAgeWithinBoundsHonoured(t *testing.T) {
	checkLifetime(t, map[string]string{"Cache-Control": "max-age=3600"}, time.Hour)
}

func TestCacheAgeSubtracted(t *testing.T) {
	checkLifetime(t, map[string]string{"Cache-Control": "max-age=7200", "Age": "1800"}, 90*time.Minute)
}

func TestCacheNoStoreUsesMinimum(t *testing.T) {
	checkLifetime(t, map[string]string{"Cache-Control": "no-store, max-age=3600"}, MinCacheTTL)
}

func TestCacheNoCacheUsesMinimum(t *testing.T) {
	checkLifetime(t, map[string]string{"Cache-Control": "max-age=3600, No-Cache"}, MinCacheTTL)
}

func TestCacheExpiresHeaderHonoured(t *testing.T) {
	date := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC) // the server's clock need not be ours
	checkLifetime(t, map[string]string{
		"Date":    date.Format(http.TimeFormat),
		"Expires": date.Add(2 * time.Hour).Format(http.TimeFormat),
	}, 2*time.Hour)
}

func TestCacheNoHeadersUsesMinimum(t *testing.T) {
	checkLifetime(t, nil, MinCacheTTL)
}

func TestCacheTTL(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		headers map[string]string
		want    time.Duration
	}{
		{nil, MinCacheTTL},
		{map[string]string{"Cache-Control": "max-age=10"}, MinCacheTTL},
		{map[string]string{"Cache-Control": "max-age=600"}, 10 * time.Minute},
		{map[string]string{"Cache-Control": `max-age="600"`}, 10 * time.Minute},
		{map[string]string{"Cache-Control": "max-age=864000"}, MaxCacheTTL},
		{map[string]string{"Cache-Control": "max-age=99999999999999999999999"}, MaxCacheTTL},
		{map[string]string{"Cache-Control": "max-age=-1"}, MinCacheTTL},
		{map[string]string{"Cache-Control": "max-age=abc"}, MinCacheTTL},
		{map[string]string{"Cache-Control": "max-age=600, max-age=7200"}, 10 * time.Minute},
		{map[string]string{"Cache-Control": "no-store"}, MinCacheTTL},
		{map[string]string{"Cache-Control": "no-cache"}, MinCacheTTL},
		{map[string]string{"Cache-Control": "private, max-age=1200"}, 20 * time.Minute},
		{map[string]string{"Cache-Control": "max-age=600", "Expires": now.Add(5 * time.Hour).Format(http.TimeFormat)}, 10 * time.Minute},
		{map[string]string{"Expires": now.Add(3 * time.Hour).Format(http.TimeFormat)}, 3 * time.Hour},
		{map[string]string{"Expires": now.Add(30 * time.Hour).Format(http.TimeFormat)}, MaxCacheTTL},
		{map[string]string{"Expires": now.Add(-time.Hour).Format(http.TimeFormat)}, MinCacheTTL},
		{map[string]string{"Expires": "0"}, MinCacheTTL},
	} {
		h := http.Header{}
		for k, v := range c.headers {
			h.Set(k, v)
		}
		if got := cacheTTL(h, now); got != c.want {
			t.Errorf("cacheTTL(%v) = %v, want %v", c.headers, got, c.want)
		}
	}
}

func TestCacheBoundedEvictsOldest(t *testing.T) {
	var mu sync.Mutex
	perPath := map[string]int{}
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		perPath[r.URL.Path]++
		mu.Unlock()
		serveDoc(nil, nil)(w, r)
	}))
	f := newTestFetcher(srv, Options{CacheSize: 2})
	a, b, c := srv.URL+"/a.json", srv.URL+"/b.json", srv.URL+"/c.json"
	for _, id := range []string{a, b, c, b, c, a} {
		mustFetch(t, f, id)
	}
	mu.Lock()
	defer mu.Unlock()
	// a, b cached; c evicts a; b and c come from the cache; a is fetched again.
	want := map[string]int{"/a.json": 2, "/b.json": 1, "/c.json": 1}
	if fmt.Sprint(perPath) != fmt.Sprint(want) {
		t.Errorf("requests per path = %v, want %v", perPath, want)
	}
	if n := len(f.cache.entries); n != 2 {
		t.Errorf("cache holds %d entries, want 2", n)
	}
}

func TestSingleFlight(t *testing.T) {
	const n = 20
	gate := make(chan struct{})
	arrived := make(chan struct{}, n)
	h, requests := counting(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-gate
		serveDoc(nil, nil)(w, r)
	}))
	srv := newServer(t, h)
	f := newTestFetcher(srv, Options{})
	var joined sync.WaitGroup
	joined.Add(n - 1)
	f.testHookJoin = joined.Done
	id := srv.URL + "/client.json"

	docs := make([]*Document, n)
	errs := make([]error, n)
	var done sync.WaitGroup
	for i := range n {
		done.Go(func() { docs[i], errs[i] = f.Fetch(context.Background(), id) })
	}
	<-arrived     // the one request reached the server and is held there
	joined.Wait() // every other caller joined it
	close(gate)
	done.Wait()

	for i := range n {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if docs[i].ClientID != id {
			t.Fatalf("caller %d: client_id %q", i, docs[i].ClientID)
		}
	}
	if got := requests.Load(); got != 1 {
		t.Errorf("%d concurrent Fetch calls made %d requests, want 1", n, got)
	}
	if docs[0] == docs[1] {
		t.Error("callers share one *Document")
	}
}

func TestSingleFlightCallerGivingUpDoesNotFailOthers(t *testing.T) {
	gate := make(chan struct{})
	arrived := make(chan struct{}, 1)
	h, requests := counting(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-gate
		serveDoc(nil, nil)(w, r)
	}))
	srv := newServer(t, h)
	f := newTestFetcher(srv, Options{})
	joined := make(chan struct{}, 1)
	f.testHookJoin = func() { joined <- struct{}{} }
	id := srv.URL + "/client.json"

	ctx, cancel := context.WithCancel(context.Background())
	leaderErr := make(chan error, 1)
	go func() { _, err := f.Fetch(ctx, id); leaderErr <- err }()
	<-arrived
	followerErr := make(chan error, 1)
	go func() { _, err := f.Fetch(context.Background(), id); followerErr <- err }()
	<-joined

	cancel()
	mustFail(t, <-leaderErr, "cancelled")
	close(gate)
	if err := <-followerErr; err != nil {
		t.Fatalf("the other caller failed: %v", err)
	}
	mustFetch(t, f, id) // and the result was cached
	if got := requests.Load(); got != 1 {
		t.Errorf("%d requests, want 1", got)
	}
}

func TestNegativeCaching(t *testing.T) {
	var broken atomic.Bool
	broken.Store(true)
	h, requests := counting(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if broken.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		serveDoc(nil, nil)(w, r)
	}))
	srv := newServer(t, h)
	clock := newClock()
	f := newTestFetcher(srv, Options{Now: clock.Now})
	id := srv.URL + "/client.json"

	_, err := fetch(t, f, id)
	first := mustFail(t, err, "HTTP 503")
	broken.Store(false)
	for range 10 { // a flood of retries inside the negative TTL
		_, err := fetch(t, f, id)
		if e := mustFail(t, err, "HTTP 503"); e != first {
			t.Fatal("a remembered failure was not served from the cache")
		}
	}
	clock.Advance(DefaultNegativeTTL - time.Second)
	_, err = fetch(t, f, id)
	mustFail(t, err, "HTTP 503")
	if n := requests.Load(); n != 1 {
		t.Fatalf("%d requests inside the negative TTL, want 1", n)
	}
	clock.Advance(time.Second)
	mustFetch(t, f, id)
	if n := requests.Load(); n != 2 {
		t.Fatalf("%d requests after the negative TTL, want 2", n)
	}
}

func TestNegativeCachingCoversInvalidDocuments(t *testing.T) {
	h, requests := counting(serveDoc(map[string]any{"client_secret": "x"}, nil))
	srv := newServer(t, h)
	clock := newClock()
	f := newTestFetcher(srv, Options{Now: clock.Now, NegativeTTL: 10 * time.Second})
	id := srv.URL + "/client.json"
	for range 3 {
		_, err := fetch(t, f, id)
		mustFail(t, err, "client_secret")
	}
	if n := requests.Load(); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
	clock.Advance(10 * time.Second)
	_, err := fetch(t, f, id)
	mustFail(t, err, "client_secret")
	if n := requests.Load(); n != 2 {
		t.Fatalf("%d requests after the negative TTL, want 2", n)
	}
}

func TestNegativeCachingDisabled(t *testing.T) {
	h, requests := counting(http.NotFoundHandler())
	srv := newServer(t, h)
	f := newTestFetcher(srv, Options{NegativeTTL: -1})
	for range 3 {
		_, err := fetch(t, f, srv.URL+"/client.json")
		mustFail(t, err, "HTTP 404")
	}
	if n := requests.Load(); n != 3 {
		t.Fatalf("%d requests, want 3", n)
	}
}
