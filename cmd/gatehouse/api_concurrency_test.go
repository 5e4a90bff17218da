package main

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

func TestConcurrentRegistrationsOfOneEmail(t *testing.T) {
	s := startServer(t, "GATEHOUSE_HASH_MAX_WAIT=60s", "GATEHOUSE_HASH_QUEUE=1000")
	const n = 20
	count := statusCounts(concurrently(n, func(i int) *response {
		email := "Race@Example.com"
		if i%2 == 1 {
			email = strings.ToUpper(email)
		} else if i%3 == 0 {
			email = " race@example.COM "
		}
		return s.do(t, "POST", "/api/v1/auth/register", map[string]string{"email": email, "password": "race condition pw"})
	}))
	if count[http.StatusCreated] != 1 || count[http.StatusConflict] != n-1 {
		t.Fatalf("statuses %v, want one 201 and %d 409", count, n-1)
	}
}

func TestConcurrentDistinctRegistrations(t *testing.T) {
	s := startServer(t, "GATEHOUSE_HASH_MAX_WAIT=60s", "GATEHOUSE_HASH_QUEUE=1000")
	const n = 64
	results := concurrently(n, func(i int) *response {
		return s.do(t, "POST", "/api/v1/auth/register", map[string]string{"email": fmt.Sprintf("many%d@example.com", i), "password": "many users password"})
	})
	for i, r := range results {
		if r.Status != http.StatusCreated {
			t.Fatalf("registration %d: status %d", i, r.Status)
		}
	}
	admin := s.admin(t)
	r := s.do(t, "GET", "/api/v1/admin/users?limit=200", nil, bearer(admin.Access))
	if items := r.json(t)["items"].([]any); len(items) != n+1 {
		t.Fatalf("%d users stored, want %d", len(items), n+1)
	}
}

// TestBurstOfRegistrationsIsServed: 20 sign-ups at once, on the default pool (one worker per CPU,
// two here), all succeed. Two hash while the rest wait, and the queue is as long as the pool can
// serve within GATEHOUSE_HASH_MAX_WAIT: a fixed 8 waiters per worker refused two of them with 503.
// The wait is 5 s rather than the default 500 ms so that the outcome does not hang on how fast
// this machine hashes while other tests share it (20 hashes need 330 ms on two idle cores here).
func TestBurstOfRegistrationsIsServed(t *testing.T) {
	s := startServer(t, "GATEHOUSE_HASH_MAX_WAIT=5s")
	const n = 20
	results := concurrently(n, func(i int) *response {
		return s.do(t, "POST", "/api/v1/auth/register", map[string]string{"email": fmt.Sprintf("burst%d@example.com", i), "password": "burst of sign-ups"})
	})
	if count := statusCounts(results); count[http.StatusCreated] != n {
		t.Fatalf("statuses %v, want %d x 201", count, n)
	}
}

// TestHashPoolShedsLoad checks that a login flood beyond the hash pool gets 503 with Retry-After
// instead of queueing without bound, while token-authenticated endpoints keep answering.
func TestHashPoolShedsLoad(t *testing.T) {
	s := startServer(t, "GATEHOUSE_HASH_WORKERS=1", "GATEHOUSE_HASH_QUEUE=0", "GATEHOUSE_HASH_MAX_WAIT=0s")
	a := s.register(t)
	const n = 16
	statuses := make([]*response, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			statuses[i] = s.do(t, "POST", "/api/v1/auth/login", map[string]string{"email": a.Email, "password": a.Password})
		}()
	}
	close(start)
	expectStatus(t, s.do(t, "GET", "/api/v1/users/me", nil, bearer(a.Access)), http.StatusOK)
	wg.Wait()
	ok, shed := 0, 0
	for _, r := range statuses {
		switch r.Status {
		case http.StatusOK:
			ok++
		case http.StatusServiceUnavailable:
			shed++
			expectProblem(t, r, http.StatusServiceUnavailable, "server_busy")
			if r.Header.Get("Retry-After") == "" {
				t.Fatal("503 without Retry-After")
			}
		default:
			t.Fatalf("status %d: %s", r.Status, r.Body)
		}
	}
	if ok == 0 || shed == 0 {
		t.Fatalf("%d ok, %d shed: want some of each with one worker and no queue", ok, shed)
	}
}
